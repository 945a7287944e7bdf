"""The checks of ``twin validate``: a Monitor fed the loop's records chunk by chunk.

Every check reads per-step records (see ``FAST``): the readings the BMS took, the twin's true
cell states, the firmware's decisions in force over the step. It keeps what it needs between
chunks, so a month at 1 s costs no more memory than a day. Each check ends as a ``CheckResult``:
pass, fail (with one sentence saying what happened, where, when and against which limit) or skip
(with why it could not be measured). docs/validation.md describes each check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .validate_limits import Current
from .validate_protection import ProtectionChecks, fmt_duration, fmt_time, run_starts

DAY = 86400.0
# per-step records: name -> what the loop records it from (a spec id, monitor.*, fw.*)
FAST = {
    "request": "monitor.request", "current": "pack.applied_current", "current_measured": "pack.current_measured",
    "pack_voltage": "pack.voltage", "ambient": "pack.ambient_temperature",
    "read_vmax": "pack.max_cell_voltage", "read_vmin": "pack.min_cell_voltage",
    "read_vmax_cell": "monitor.read_vmax_cell", "read_vmin_cell": "monitor.read_vmin_cell",
    "read_tmax": "pack.max_temperature", "read_tmin": "pack.min_temperature",
    "read_tmax_cell": "monitor.read_tmax_cell", "read_tmin_cell": "monitor.read_tmin_cell",
    "vmax": "monitor.vmax", "vmax_cell": "monitor.vmax_cell", "vmin": "monitor.vmin", "vmin_cell": "monitor.vmin_cell",
    "tmax": "monitor.tmax", "tmax_cell": "monitor.tmax_cell", "tmin": "monitor.tmin",
    "bleed_max": "monitor.bleed_max", "bleed_max_cell": "monitor.bleed_max_cell",
    "transfer_max": "monitor.transfer_max", "commanded": "monitor.commanded", "adjacent": "monitor.adjacent",
    "charge_enable": "fw.charge_enable", "discharge_enable": "fw.discharge_enable",
    "cvl": "fw.cvl", "ccl": "fw.ccl", "dcl": "fw.dcl", "energy": "balancer.energy_dissipated",
    "soc_spread": "pack.soc_spread", "ambient_cell": "monitor.ambient_cell",
}
# decimated per-cell records for the report
SLOW = {"cell_voltage": "cell.voltage", "cell_voltage_measured": "cell.voltage_measured", "soc": "cell.soc",
        "temperature": "cell.temperature", "balance": "fw.balance"}
PLOT_FAST = ("request", "current", "read_vmax", "read_vmin", "vmax", "vmin", "tmax", "ambient", "ambient_cell",
             "charge_enable",
             "discharge_enable", "cvl", "ccl", "dcl", "energy", "soc_spread", "commanded")


@dataclass
class Context:
    """What the checks need to know about the run."""

    n_cells: int
    capacity_ah: float
    dt: float
    period: float
    sensor_delay: float = 0.0
    start_time: float = 0.0
    voltage_margin: float = 0.001
    temperature_margin: float = 0.1
    current_margin: float = 0.1
    expect_full_charge: bool = False
    skip: tuple = ()             # check ids or groups not judged in this scenario
    source: str = "simulation"   # or "log"
    missing: frozenset = frozenset()  # records a log does not hold (their checks are skipped)


@dataclass
class CheckResult:
    id: str
    title: str
    status: str               # pass, fail, skip
    message: str
    value: float | None = None
    unit: str = ""
    time: float | None = None  # when it first failed (s from the start)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "status": self.status, "message": self.message,
                "value": self.value, "unit": self.unit, "time": self.time}


def _cell(x) -> str:
    return f"cell {int(x)}" if x is not None and np.isfinite(x) and x >= 0 else "a cell"


class Excursions:
    """A value staying past a bound for longer than allowed (the cells' window)."""

    def __init__(self, id_, title, key, cell_key, bound, direction, allowed, unit, digits):
        self.id, self.title, self.key, self.cell_key = id_, title, key, cell_key
        self.bound, self.d, self.allowed, self.unit, self.digits = bound, direction, allowed, unit, digits
        self.run_start, self.violation, self.extreme, self.extreme_at = None, None, -math.inf, None

    def feed(self, c, dt):
        x = c[self.key]
        if not len(x):
            return
        xd = self.d * x
        k = int(np.nanargmax(xd)) if np.isfinite(xd).any() else None
        if k is not None and xd[k] > self.extreme:
            self.extreme, self.extreme_at = float(xd[k]), (float(c["time"][k]), c[self.cell_key][k] if self.cell_key else None)
        out = xd > self.d * self.bound
        starts = run_starts(c["time"], out, self.run_start)
        self.run_start = float(starts[-1]) if out[-1] else None
        if self.violation is None:
            with np.errstate(invalid="ignore"):
                long = out & (c["time"] - starts + dt > self.allowed * (1 + 1e-9))
            if long.any():
                k = int(np.argmax(long))
                cell = _cell(c[self.cell_key][k]) if self.cell_key else "the pack"
                way = "above" if self.d > 0 else "below"
                self.violation = (float(c["time"][k]), f"{cell} was {way} {self.bound:.{self.digits}f} {self.unit} from "
                                  f"{fmt_time(starts[k])} for more than {fmt_duration(self.allowed)} (true value "
                                  f"{x[k]:.{self.digits}f} {self.unit} at {fmt_time(c['time'][k])})")

    def results(self, elapsed):
        return [self._result()]

    def _result(self):
        extreme = self.d * self.extreme if math.isfinite(self.extreme) else None
        if self.violation is not None:
            t, text = self.violation
            text += f"; extreme {extreme:.{self.digits}f} {self.unit} at {fmt_time(self.extreme_at[0])}"
            return CheckResult(self.id, self.title, "fail", text, extreme, self.unit, t)
        if extreme is None:
            return CheckResult(self.id, self.title, "skip", "no value was recorded", None, self.unit)
        return CheckResult(self.id, self.title, "pass", f"extreme {extreme:.{self.digits}f} {self.unit} "
                           f"({_cell(self.extreme_at[1]) if self.cell_key else 'pack'} at {fmt_time(self.extreme_at[0])})",
                           extreme, self.unit)


class Maximum:
    """The largest value of an expression over the run against a limit."""

    def __init__(self, id_, title, expr, cell_key, limit, unit, describe, scale=1.0, digits=3):
        self.id, self.title, self.expr, self.cell_key, self.limit = id_, title, expr, cell_key, limit
        self.unit, self.describe, self.scale, self.digits = unit, describe, scale, digits
        self.peak, self.peak_at, self.first = -math.inf, None, None

    def feed(self, c, dt):
        x = self.expr(c)
        if not len(x) or not np.isfinite(x).any():
            return
        k = int(np.nanargmax(x))
        if x[k] > self.peak:
            self.peak, self.peak_at = float(x[k]), (float(c["time"][k]), c[self.cell_key][k] if self.cell_key else None)
        if self.first is None and self.limit is not None:
            over = x > self.limit * (1 + 1e-9) + 1e-12
            if over.any():
                k = int(np.argmax(over))
                self.first = (float(c["time"][k]), float(x[k]), c[self.cell_key][k] if self.cell_key else None)

    def _v(self, x):
        return f"{x * self.scale:.{self.digits}g} {self.unit}"

    def results(self, elapsed):
        return [self._result()]

    def _result(self):
        value = self.peak * self.scale if math.isfinite(self.peak) else None
        if self.first is not None:
            t, x, cell = self.first
            text = (f"{self.describe.format(who=_cell(cell), value=self._v(x))} at {fmt_time(t)} (limit "
                    f"{self._v(self.limit)}); peak {self._v(self.peak)} at {fmt_time(self.peak_at[0])}")
            return CheckResult(self.id, self.title, "fail", text, value, self.unit, t)
        if value is None:
            return CheckResult(self.id, self.title, "skip", "no value was recorded", None, self.unit)
        return CheckResult(self.id, self.title, "pass", f"peak {self._v(self.peak)} at {fmt_time(self.peak_at[0])}",
                           value, self.unit)


class Forbidden:
    """A condition that must never hold (held for longer than `allowed`, when given)."""

    def __init__(self, id_, title, cond, describe, allowed=0.0):
        self.id, self.title, self.cond, self.describe, self.allowed = id_, title, cond, describe, allowed
        self.first, self.seconds, self.run_start = None, 0.0, None

    def feed(self, c, dt):
        bad = self.cond(c)
        starts = run_starts(c["time"], bad, self.run_start)
        self.run_start = float(starts[-1]) if len(bad) and bad[-1] else None
        with np.errstate(invalid="ignore"):
            bad = bad & (c["time"] - starts + dt > self.allowed * (1 + 1e-9))
        self.seconds += float(bad.sum()) * dt
        if self.first is None and bad.any():
            k = int(np.argmax(bad))
            self.first = (float(c["time"][k]), self.describe(c, k, starts[k]))

    def results(self, elapsed):
        return [self._result()]

    def _result(self):
        if self.first is not None:
            t, text = self.first
            return CheckResult(self.id, self.title, "fail", f"{text} ({fmt_duration(self.seconds)} in all)",
                               self.seconds, "s", t)
        return CheckResult(self.id, self.title, "pass", "never", 0.0, "s")


class EnergyPerDay:
    """Energy burned by balancing per day (Wh), and in all."""

    def __init__(self, ctx, per_day, total):
        self.per_day, self.total, self.t0 = per_day, total, ctx.start_time
        self.day_start_energy, self.day, self.days, self.last = 0.0, 0, [], 0.0

    def feed(self, c, dt):
        t, e = c["time"], c["energy"]
        if not len(t):
            return
        day = np.floor((t - self.t0 - 1e-9) / DAY).astype(int)
        for d in np.unique(day):
            if d != self.day:
                self.days.append(self.last - self.day_start_energy)
                self.day_start_energy, self.day = self.last, int(d)
            self.last = float(e[day == d][-1])

    def daily(self):
        return [*self.days, self.last - self.day_start_energy]

    def results(self, elapsed):
        daily = self.daily()
        full = daily if elapsed < DAY else daily[:int(elapsed // DAY)] or daily
        out = []
        if self.per_day is not None:
            worst = max(full)
            day = full.index(worst)
            if worst > self.per_day:
                text = (f"balancing burned {worst:.3g} Wh on day {day + 1} (limit {self.per_day:g} Wh per day); "
                        f"{self.last:.3g} Wh in all")
                out.append(CheckResult("balancing.energy_per_day", f"energy dissipated at most {self.per_day:g} Wh/day",
                                       "fail", text, worst, "Wh", (day + 1) * DAY))
            else:
                out.append(CheckResult("balancing.energy_per_day", f"energy dissipated at most {self.per_day:g} Wh/day",
                                       "pass", f"at most {worst:.3g} Wh on a day (day {day + 1}); {self.last:.3g} Wh "
                                       "in all", worst, "Wh"))
        if self.total is not None:
            status = "fail" if self.last > self.total else "pass"
            out.append(CheckResult("balancing.energy_total", f"energy dissipated at most {self.total:g} Wh", status,
                                   f"balancing burned {self.last:.3g} Wh in all (limit {self.total:g} Wh)", self.last, "Wh"))
        return out


class TopOfCharge:
    """Per day, the reading spread at the moment the highest cell peaks, when it reaches the top."""

    def __init__(self, ctx, top_voltage, max_spread, time_to_balance):
        self.ctx, self.top, self.max_spread, self.ttb = ctx, top_voltage, max_spread, time_to_balance
        self.best = {}  # day -> (vmax, time, spread, cell of the highest)
        self.highest = -math.inf

    def feed(self, c, dt):
        t, vmax, vmin = c["time"], c["read_vmax"], c["read_vmin"]
        if not len(t):
            return
        self.highest = max(self.highest, float(np.nanmax(vmax)))
        day = np.floor((t - self.ctx.start_time - 1e-9) / DAY).astype(int)
        for d in np.unique(day):
            sel = np.flatnonzero(day == d)
            k = sel[int(np.nanargmax(vmax[sel]))]
            if vmax[k] >= self.top and (d not in self.best or vmax[k] > self.best[d][0]):
                self.best[int(d)] = (float(vmax[k]), float(t[k]), float(vmax[k] - vmin[k]), c["read_vmax_cell"][k])

    def tops(self):
        return [(d, *self.best[d]) for d in sorted(self.best)]

    def results(self, elapsed):
        tops = self.tops()
        title = f"top-of-charge spread at most {self.max_spread * 1e3:g} mV"
        ttb_title = f"balanced within {fmt_duration(self.ttb)}" if self.ttb is not None else None
        if not tops:
            why = (f"the pack never topped out: the highest cell read at most {self.highest:.3f} V (top of charge: "
                   f"{self.top:.3f} V)")
            status = "fail" if self.ctx.expect_full_charge else "skip"
            out = [CheckResult("balancing.top_of_charge_spread", title, status, why, None, "mV")]
            if ttb_title:
                out.append(CheckResult("balancing.time_to_balance", ttb_title, status, why, None, "s"))
            return out
        spreads = np.array([s for _, _, _, s, _ in tops])
        last_day, _, last_t, last_spread, _ = tops[-1]
        ok = spreads <= self.max_spread + 1e-9
        # balanced from the first top after which every top is within the spread
        tail_ok = np.flip(np.logical_and.accumulate(np.flip(ok)))
        balanced_at = tops[int(np.argmax(tail_ok))][2] - self.ctx.start_time if tail_ok.any() else None
        history = ", ".join(f"day {d + 1}: {s * 1e3:.0f} mV" for d, _, _, s, _ in tops[-5:])
        out = []
        if ok[-1]:
            out.append(CheckResult("balancing.top_of_charge_spread", title, "pass",
                                   f"{last_spread * 1e3:.1f} mV at the last top of charge ({fmt_time(last_t)}); {history}",
                                   last_spread * 1e3, "mV"))
        else:
            out.append(CheckResult("balancing.top_of_charge_spread", title, "fail",
                                   f"the cell readings were {last_spread * 1e3:.1f} mV apart at the last top of charge "
                                   f"({fmt_time(last_t)}, highest {_cell(tops[-1][4])}; limit "
                                   f"{self.max_spread * 1e3:g} mV); {history}", last_spread * 1e3, "mV", last_t))
        if ttb_title:
            if balanced_at is not None and balanced_at <= self.ttb + 1e-9:
                out.append(CheckResult("balancing.time_to_balance", ttb_title, "pass",
                                       f"balanced from the top of charge at {fmt_time(balanced_at)} on", balanced_at, "s"))
            elif balanced_at is not None:
                out.append(CheckResult("balancing.time_to_balance", ttb_title, "fail",
                                       f"balanced only from {fmt_time(balanced_at)} ({fmt_duration(balanced_at)}; "
                                       f"limit {fmt_duration(self.ttb)}); {history}", balanced_at, "s", balanced_at))
            elif elapsed < self.ttb:
                out.append(CheckResult("balancing.time_to_balance", ttb_title, "skip",
                                       f"not balanced yet after {fmt_duration(elapsed)}, and the scenario ends before "
                                       f"the {fmt_duration(self.ttb)} allowed", None, "s"))
            else:
                out.append(CheckResult("balancing.time_to_balance", ttb_title, "fail",
                                       f"not balanced: {last_spread * 1e3:.1f} mV at the last top of charge "
                                       f"({fmt_time(last_t)}; limit {self.max_spread * 1e3:g} mV); {history}", None, "s",
                                       last_t))
        return out


def _amps(q, ctx):
    return q.at(ctx.capacity_ah) if isinstance(q, Current) else q


def build_checks(limits, ctx) -> list:
    checks = []
    cells = limits.cells
    allowed = cells.get("max_time_outside", 0.0)
    if "max_voltage" in cells:
        checks.append(Excursions("cells.max_voltage", f"cells at most {cells['max_voltage']:.3f} V", "vmax", "vmax_cell",
                                 cells["max_voltage"], 1, allowed, "V", 3))
    if "min_voltage" in cells:
        checks.append(Excursions("cells.min_voltage", f"cells at least {cells['min_voltage']:.3f} V", "vmin", "vmin_cell",
                                 cells["min_voltage"], -1, allowed, "V", 3))
    if "max_temperature" in cells:
        checks.append(Excursions("cells.max_temperature", f"cells at most {cells['max_temperature']:g} degC", "tmax",
                                 "tmax_cell", cells["max_temperature"], 1, allowed, "degC", 1))
    if "min_temperature" in cells:
        checks.append(Excursions("cells.min_temperature", f"cells at least {cells['min_temperature']:g} degC", "tmin",
                                 None, cells["min_temperature"], -1, allowed, "degC", 1))
    b = limits.balancing
    if "max_top_of_charge_spread" in b:
        checks.append(TopOfCharge(ctx, b["top_of_charge_voltage"], b["max_top_of_charge_spread"], b.get("time_to_balance")))
    if "max_balancing_current" in b:
        lim = _amps(b["max_balancing_current"], ctx)
        checks.append(Maximum("balancing.current", f"balancing current at most {lim:g} A",
                              lambda c: np.fmax(c["bleed_max"], c["transfer_max"]), "bleed_max_cell", lim, "A",
                              "{who} carried {value} of balancing current"))
    if "max_balancing_cells" in b:
        lim = b["max_balancing_cells"]
        checks.append(Maximum("balancing.cells", f"at most {lim} cells balancing at once", lambda c: c["commanded"], None,
                              lim, "cells", "the firmware balanced {value} at once", digits=3))
    if b.get("no_adjacent"):
        checks.append(Forbidden("balancing.no_adjacent", "never two adjacent cells bleeding", lambda c: c["adjacent"] >= 0,
                                lambda c, k, s: (f"cells {int(c['adjacent'][k])} and {int(c['adjacent'][k]) + 1} were "
                                                 f"commanded to bleed together at {fmt_time(c['time'][k])} (adjacent "
                                                 "bleed switches must never be on together: no_adjacent)")))
    if b.get("balance_while_discharging") is False:
        idle = _amps(b.get("idle_current", Current(0.1)), ctx)
        checks.append(Forbidden("balancing.while_discharging", "no balancing while discharging",
                                lambda c: (c["commanded"] > 0) & (c["current_measured"] < -idle),
                                lambda c, k, s: (f"{int(c['commanded'][k])} cells were bleeding from {fmt_time(s)} "
                                                 f"while the pack discharged at {-c['current_measured'][k]:.1f} A: "
                                                 "bleeding then only burns charge the load needs"),
                                allowed=ctx.period + ctx.sensor_delay + ctx.dt))  # until the firmware can know
    if "max_thermal_rise" in b:
        checks.append(Maximum("balancing.thermal_rise", f"cells at most {b['max_thermal_rise']:g} K over ambient",
                              lambda c: c["tmax"] - c["ambient_cell"], "tmax_cell", b["max_thermal_rise"], "K",
                              "{who} was {value} warmer than the ambient alone would make it", digits=3))
    if "max_energy_dissipated_per_day" in b or "max_energy_dissipated" in b:
        checks.append(EnergyPerDay(ctx, b.get("max_energy_dissipated_per_day"), b.get("max_energy_dissipated")))
    if limits.protection:
        checks.append(ProtectionChecks(limits, ctx))
    checks.extend(charge_limit_checks(limits.charge_limits, ctx))
    return checks


def needs(check_id: str) -> set:
    """The records a check reads beyond the readings (what a recorded log may lack)."""
    from .validate_limits import CHANNELS

    group, _, name = check_id.partition(".")
    if group == "protection":
        side = name.split("_")[0] if name.endswith("_spurious") else CHANNELS.get(name, (0, 0, 0, "charge"))[3]
        return {f"{side}_enable"}
    if group == "charge_limits":
        out = {k for k in ("cvl", "ccl", "dcl") if k in name}
        if "when_disabled" in name:
            out.add("charge_enable" if "ccl" in name else "discharge_enable")
        if name == "min_cvl":
            out.add("charge_enable")
        return out
    return {"balancing.current": {"bleed_max"}, "balancing.cells": {"commanded"}, "balancing.no_adjacent": {"adjacent"},
            "balancing.while_discharging": {"commanded"}, "balancing.energy_per_day": {"energy"},
            "balancing.energy_total": {"energy"}}.get(check_id, set())


def charge_limit_checks(cl: dict, ctx) -> list:
    if not cl:
        return []
    n = ctx.n_cells
    tol = cl.get("tolerance", ctx.period + ctx.sensor_delay + ctx.dt)
    zero = _amps(cl.get("zero_current", Current(0.05)), ctx)
    out = []
    if "max_cvl_per_cell" in cl:
        v = cl["max_cvl_per_cell"]
        out.append(Forbidden("charge_limits.max_cvl", f"CVL at most {v:.3f} V per cell",
                             lambda c: c["cvl"] > n * v + 1e-6,
                             lambda c, k, s: f"CVL was {c['cvl'][k]:.2f} V at {fmt_time(c['time'][k])}, above {n} x "
                                             f"{v:.3f} V = {n * v:.2f} V"))
    if "min_cvl_per_cell" in cl:
        v = cl["min_cvl_per_cell"]
        out.append(Forbidden("charge_limits.min_cvl", f"CVL at least {v:.3f} V per cell while charging is allowed",
                             lambda c: (c["cvl"] < n * v - 1e-6) & (c["charge_enable"] == 1.0),
                             lambda c, k, s: f"CVL was {c['cvl'][k]:.2f} V at {fmt_time(c['time'][k])}, below {n} x "
                                             f"{v:.3f} V = {n * v:.2f} V with charging enabled", tol))
    for key, name, field_ in (("max_ccl", "CCL", "ccl"), ("max_dcl", "DCL", "dcl")):
        if key in cl:
            a = _amps(cl[key], ctx)
            out.append(Forbidden(f"charge_limits.{key}", f"{name} at most {a:g} A",
                                 lambda c, a=a, f=field_: c[f] > a + 1e-9,
                                 lambda c, k, s, a=a, f=field_, nm=name: f"{nm} was {c[f][k]:.1f} A at "
                                                                        f"{fmt_time(c['time'][k])} (limit {a:g} A)"))
    rules = (("ccl_zero_above", "ccl", "CCL", "read_vmax", 1, "the highest cell", "read_vmax_cell", "V"),
             ("dcl_zero_below", "dcl", "DCL", "read_vmin", -1, "the lowest cell", "read_vmin_cell", "V"),
             ("ccl_zero_below_temperature", "ccl", "CCL", "read_tmin", -1, "the coldest sensor", "read_tmin_cell", "degC"),
             ("ccl_zero_above_temperature", "ccl", "CCL", "read_tmax", 1, "the hottest sensor", "read_tmax_cell", "degC"),
             ("dcl_zero_below_temperature", "dcl", "DCL", "read_tmin", -1, "the coldest sensor", "read_tmin_cell", "degC"),
             ("dcl_zero_above_temperature", "dcl", "DCL", "read_tmax", 1, "the hottest sensor", "read_tmax_cell", "degC"))
    for key, f, nm, reading, d, who, cell_key, unit in rules:
        if key not in cl:
            continue
        bound = cl[key]
        way = "above" if d > 0 else "below"
        fmt = (lambda x: f"{x:.3f} V") if unit == "V" else (lambda x: f"{x:.1f} degC")
        out.append(Forbidden(
            f"charge_limits.{key}", f"{nm} zero {way} {fmt(bound)}",
            lambda c, f=f, r=reading, d=d, b=bound: (d * c[r] > d * b) & (c[f] > zero),
            lambda c, k, s, f=f, nm=nm, r=reading, who=who, ck=cell_key, way=way, b=bound, fmt=fmt:
                (f"{nm} was {c[f][k]:.1f} A at {fmt_time(c['time'][k])} while {who} ({_cell(c[ck][k])}) read "
                 f"{fmt(c[r][k])}, {way} {fmt(b)} since {fmt_time(s)} ({nm} must be 0 there)"), tol))
    if cl.get("zero_when_disabled", True):
        for f, nm, en, word in (("ccl", "CCL", "charge_enable", "charging"), ("dcl", "DCL", "discharge_enable", "discharging")):
            out.append(Forbidden(
                f"charge_limits.{f}_zero_when_disabled", f"{nm} zero while {word} is disabled",
                lambda c, f=f, en=en: (c[en] == 0.0) & (c[f] > zero),
                lambda c, k, s, f=f, nm=nm, word=word: (f"{nm} was {c[f][k]:.1f} A at {fmt_time(c['time'][k])} while "
                                                        f"the firmware had {word} disabled (since {fmt_time(s)})"),
                tol))
    return out


@dataclass
class Monitor:
    """Feeds every check; keeps the plot series (decimated) and the run's figures."""

    limits: object
    ctx: Context
    plot_points: int = 2000
    checks: list = field(default_factory=list)
    series: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)
    elapsed: float = 0.0
    figures: dict = field(default_factory=dict)

    def __post_init__(self):
        self.checks = build_checks(self.limits, self.ctx)
        self.series = {k: [] for k in ("time", *PLOT_FAST)}
        self.cells = {k: [] for k in ("time", *SLOW)}
        self._extreme = {"max_cell_voltage": -math.inf, "min_cell_voltage": math.inf, "max_cell_temperature": -math.inf,
                         "thermal_rise": -math.inf, "energy": 0.0, "soc_spread_end": math.nan}
        self._every = 1

    def plan(self, total_steps: int) -> int:
        """Decimation of the plot series for a run of total_steps."""
        self._every = max(1, total_steps // self.plot_points)
        return self._every

    def feed(self, c: dict) -> None:
        dt = self.ctx.dt
        t = c["time"]
        if not len(t):
            return
        for check in self.checks:
            check.feed(c, dt)
        self.elapsed = float(t[-1] - self.ctx.start_time)
        e = self._extreme
        with np.errstate(invalid="ignore"):
            e["max_cell_voltage"] = max(e["max_cell_voltage"], float(np.nanmax(c["vmax"])))
            e["min_cell_voltage"] = min(e["min_cell_voltage"], float(np.nanmin(c["vmin"])))
            e["max_cell_temperature"] = max(e["max_cell_temperature"], float(np.nanmax(c["tmax"])))
            e["thermal_rise"] = max(e["thermal_rise"], float(np.nanmax(c["tmax"] - c["ambient_cell"])))
        e["energy"] = float(c["energy"][-1])
        e["soc_spread_end"] = float(c["soc_spread"][-1])
        steps = np.rint((t - self.ctx.start_time) / dt).astype(np.int64)
        keep = steps % self._every == 0
        self.series["time"].append(t[keep])
        for k in PLOT_FAST:
            self.series[k].append(np.asarray(c[k])[keep])

    def feed_cells(self, time, data: dict) -> None:
        self.cells["time"].append(np.asarray(time))
        for k in SLOW:
            if k in data:
                self.cells[k].append(np.asarray(data[k]))

    def results(self, ended: CheckResult | None = None) -> list:
        """Every check's result; `ended`: the firmware's failure (the run stopped early), else None."""
        out = []
        for check in self.checks:
            out.extend(check.results(self.elapsed))
        skip = self.ctx.skip
        out = [CheckResult(r.id, r.title, "skip", "not judged in this scenario (its skip list)", r.value, r.unit)
               if any(r.id == s or r.id.startswith(s + ".") for s in skip) else r for r in out]
        if self.ctx.missing:
            out = [self._unmeasurable(r) for r in out]
        if ended is not None:
            note = f"not measured: the run ended at {fmt_time(ended.time)} ({ended.title.lower()})"
            out = [r if r.status == "fail" else CheckResult(r.id, r.title, "skip", note, r.value, r.unit) for r in out]
            out.insert(0, ended)
        return out

    def _unmeasurable(self, r: CheckResult) -> CheckResult:
        lacking = sorted(needs(r.id) & self.ctx.missing)
        if not lacking:
            return r
        return CheckResult(r.id, r.title, "skip", f"not measurable: the log holds no {', '.join(lacking)}", None, r.unit)

    def figures_dict(self) -> dict:
        e = self._extreme
        fin = lambda x: x if isinstance(x, float) and math.isfinite(x) else None  # noqa: E731
        return {"duration_s": self.elapsed, "max_cell_voltage_v": fin(e["max_cell_voltage"]),
                "min_cell_voltage_v": fin(e["min_cell_voltage"]), "max_cell_temperature_degc": fin(e["max_cell_temperature"]),
                "thermal_rise_k": fin(e["thermal_rise"]), "energy_dissipated_wh": fin(e["energy"]),
                "soc_spread_end": fin(e["soc_spread_end"])}

    def plot_data(self) -> dict:
        out = {k: np.concatenate(v) if v else np.zeros(0) for k, v in self.series.items()}
        cells = {k: np.concatenate(v) if v else np.zeros((0, self.ctx.n_cells)) for k, v in self.cells.items()}
        out["cells"] = cells
        tops = next((c for c in self.checks if isinstance(c, TopOfCharge)), None)
        out["tops"] = tops.tops() if tops else []
        return out


__all__ = ["Monitor", "Context", "CheckResult", "FAST", "SLOW", "build_checks"]
