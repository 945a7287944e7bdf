"""Validate a BMS firmware against the twin: ``twin validate`` as a library.

    >>> from twin.validate import validate
    >>> report = validate("my_bms.so", "suite/", "limits.toml", baseline="my_bms_old.so")
    >>> report.passed, report.failures()

Each scenario runs in a process of its own (forked where the platform allows), so a firmware that
crashes, aborts or hangs fails its scenario and the suite goes on: the parent reads the scenario
time of the last control period from shared memory and kills a child whose firmware has not
returned for ``watchdog`` seconds. With a baseline, the old firmware runs the same suite and every
check and figure is set side by side; a regression (a check that passed and now fails, or a figure
worse than the baseline by more than the limits file's [regression] tolerance) fails the run.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import time as _time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TwinError
from .firmware import Firmware, parse_firmware
from .validate_checks import CheckResult
from .validate_limits import Limits
from .validate_protection import fmt_duration
from .validate_run import FIRMWARE_CHECK, ScenarioRun, crash_text, firmware_failure, run_scenario
from .validate_scenarios import load_suite

DEFAULT_WATCHDOG = 30.0  # s of wall time a firmware may stay in one control period


@dataclass
class Regression:
    scenario: str
    what: str          # check id or figure name
    baseline: object
    new: object
    text: str


@dataclass
class Validation:
    """The outcome of a suite: runs of the firmware (and of the baseline), regressions."""

    firmware: str
    limits: str
    scenarios: str
    runs: list = field(default_factory=list)
    baseline: str | None = None
    baseline_runs: list = field(default_factory=list)
    regressions: list = field(default_factory=list)
    mode: str = "firmware"   # or "logs"

    @property
    def passed(self) -> bool:
        return all(r.status == "pass" for r in self.runs) and not self.regressions

    def failures(self) -> list:
        return [(r.scenario, c) for r in self.runs for c in r.results if c.status == "fail"]

    def counts(self) -> dict:
        out = {"pass": 0, "fail": 0, "skip": 0}
        for r in self.runs:
            for c in r.results:
                out[c.status] += 1
        out["regressions"] = len(self.regressions)
        return out

    def to_dict(self) -> dict:
        return {"format": "twin-validate-1", "mode": self.mode, "firmware": self.firmware, "baseline": self.baseline,
                "limits": self.limits, "scenarios": self.scenarios, "passed": self.passed, "counts": self.counts(),
                "runs": [r.to_dict() for r in self.runs], "baseline_runs": [r.to_dict() for r in self.baseline_runs],
                "regressions": [r.__dict__ for r in self.regressions]}


# --- one scenario in a child process ------------------------------------------------------------------

def _child(conn, firmware, scenario, limits, period, progress):
    import ctypes
    import faulthandler

    faulthandler.disable()  # a firmware's crash is reported by the parent, not dumped here

    try:
        run = run_scenario(firmware, scenario, limits, period, ctypes.addressof(progress))
        run.plot = _plain(run.plot)
        conn.send(("ok", run))
    except TwinError as e:
        conn.send(("error", e))
    except BaseException:  # a bug of twin: keep its traceback
        conn.send(("bug", traceback.format_exc()))
    finally:
        conn.close()


def _plain(plot):
    """Plot data as NumPy arrays and lists only (pickled back to the parent)."""
    return plot


class _Child:
    def __init__(self, ctx, firmware, scenario, limits, period, watchdog):
        self.scenario, self.firmware, self.watchdog = scenario, firmware, watchdog
        self.progress = ctx.RawValue("d", -1.0)
        self.recv, send = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_child, args=(send, firmware, scenario, limits, period, self.progress),
                                   daemon=True)
        self.started = _time.perf_counter()
        self.process.start()
        send.close()
        self.last_progress, self.last_change = self.progress.value, _time.monotonic()
        self.limits = limits
        self.outcome = None

    def poll(self):
        """None while running, else ScenarioRun (or raises the child's TwinError)."""
        if self.recv.poll() or not self.process.is_alive():
            try:
                kind, payload = self.recv.recv() if self.recv.poll(0.1) else ("dead", None)
            except (EOFError, OSError):  # the child died without a word
                kind, payload = "dead", None
            self.process.join()
            if kind == "error":
                raise payload
            if kind == "bug":
                raise RuntimeError(f"twin failed while running scenario {self.scenario.name!r}:\n{payload}")
            if kind == "dead":
                return self._failed(crash_text(self.process.exitcode, self.progress.value))
            return payload
        value = self.progress.value
        if value != self.last_progress:
            self.last_progress, self.last_change = value, _time.monotonic()
        elif _time.monotonic() - self.last_change > self.watchdog:
            self.process.kill()
            self.process.join()
            at = value if value >= 0 else None
            where = f"at {_fmt(at)}" if at is not None else "before its first control period"
            return self._failed(f"the firmware did not return from a control period within {self.watchdog:g} s of "
                                f"wall time {where}: it hangs (an endless loop, a wait on hardware that is not there?)")
        return None

    def _failed(self, text: str) -> ScenarioRun:
        from .validate_checks import Monitor
        from .validate_run import context_for
        from .pack import Pack

        at = self.progress.value if self.progress.value >= 0 else 0.0
        pack = Pack(self.scenario.loop_params())
        monitor = Monitor(self.limits, context_for(self.scenario, pack, self.scenario.step))
        run = ScenarioRun(self.scenario.name, self.scenario.description, self.firmware.text, self.firmware.label,
                          self.scenario.step)
        run.results = monitor.results(firmware_failure(text, at))
        run.wall_s = _time.perf_counter() - self.started
        return run


def _fmt(t):
    from .validate_protection import fmt_time

    return fmt_time(t)


def run_suite(firmware: Firmware, scenarios, limits, period=None, isolate=True, jobs=1, watchdog=DEFAULT_WATCHDOG,
              progress=None) -> list:
    """ScenarioRuns of one firmware over scenarios, in order. progress(name, run) after each."""
    if not isolate:
        out = []
        for s in scenarios:
            run = run_scenario(firmware, s, limits, period)
            out.append(run)
            if progress:
                progress(s.name, run)
        return out
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    pending, running, done = list(enumerate(scenarios)), [], {}
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs):
                k, s = pending.pop(0)
                running.append((k, _Child(ctx, firmware, s, limits, period, watchdog)))
            still = []
            for k, child in running:
                run = child.poll()
                if run is None:
                    still.append((k, child))
                    continue
                done[k] = run
                if progress:
                    progress(child.scenario.name, run)
            running = still
            if running:
                _time.sleep(0.05)
    finally:
        for _, child in running:
            child.process.kill()
    return [done[k] for k in range(len(scenarios))]


# --- the whole validation ---------------------------------------------------------------------------------

def validate(firmware, scenarios, limits, baseline=None, period=None, isolate=True, jobs=1,
             watchdog=DEFAULT_WATCHDOG, progress=None, build_dir=None) -> Validation:
    """Run the suite with the firmware (and the baseline), check against the limits, compare."""
    fw = _firmware(firmware, build_dir)
    base = _firmware(baseline, build_dir) if baseline is not None else None
    lim = limits if isinstance(limits, Limits) else Limits.from_file(limits)
    suite = scenarios if isinstance(scenarios, list) else load_suite(scenarios)
    if fw.kind == "fmu" or (base is not None and base.kind == "fmu"):
        from .firmware_fmu import prepare_fmu_suite

        prepare_fmu_suite([f for f in (fw, base) if f is not None], suite, build_dir)
    out = Validation(fw.text, lim.source, str(scenarios if not isinstance(scenarios, list) else "(scenarios)"),
                     baseline=base.text if base else None)
    wrap = (lambda who: (lambda name, run: progress(who, name, run))) if progress else (lambda who: None)
    out.runs = run_suite(fw, suite, lim, period, isolate, jobs, watchdog, wrap("firmware"))
    if base is not None:
        out.baseline_runs = run_suite(base, suite, lim, period, isolate, jobs, watchdog, wrap("baseline"))
        out.regressions = compare(out.baseline_runs, out.runs, lim)
    return out


def _firmware(what, build_dir) -> Firmware:
    if isinstance(what, Firmware):
        return what
    if isinstance(what, (str, Path)):
        return parse_firmware(str(what), build_dir)
    return Firmware.from_callable(what)


# figure -> (check id holding it, or None for run.figures key; tolerance key; higher is worse?)
COMPARED = (
    ("top-of-charge spread", "balancing.top_of_charge_spread", None, "top_of_charge_spread", 1, 1e3, "mV"),
    ("time to balance", "balancing.time_to_balance", None, "time_to_balance", 1, 1.0, "s"),
    ("energy dissipated per day", None, "energy_dissipated_wh", "energy_dissipated_per_day", 1, 1.0, "Wh/day"),
    ("thermal rise", None, "thermal_rise_k", "thermal_rise", 1, 1.0, "K"),
    ("highest cell voltage", None, "max_cell_voltage_v", "max_cell_voltage", 1, 1.0, "V"),
    ("lowest cell voltage", None, "min_cell_voltage_v", "min_cell_voltage", -1, 1.0, "V"),
)


def _figure(run: ScenarioRun, check_id, key):
    if check_id is not None:
        for c in run.results:
            if c.id == check_id:
                return c.value, c.status
        return None, None
    value = run.figures.get(key)
    if key == "energy_dissipated_wh" and value is not None:
        days = max(run.figures.get("duration_s", 0.0) / 86400.0, 1e-9)
        value = value / max(days, 1.0)
    return value, None


def compare(baseline_runs, runs, limits) -> list:
    """Regressions of runs against baseline_runs, scenario by scenario."""
    tol = limits.regression
    out = []
    for base, new in zip(baseline_runs, runs):
        base_status = {c.id: c.status for c in base.results}
        for c in new.results:
            if c.status == "fail" and base_status.get(c.id) == "pass":
                out.append(Regression(new.scenario, c.id, "pass", "fail",
                                      f"{c.title}: passed with the baseline, fails now: {c.message}"))
        for name, check_id, key, tol_key, sign, _scale, unit in COMPARED:
            b, _ = _figure(base, check_id, key)
            v, _ = _figure(new, check_id, key)
            t = tol.get(tol_key)
            if t is None:
                continue
            if check_id == "balancing.time_to_balance" and b is not None and v is None \
                    and any(c.id == check_id and c.status == "fail" for c in new.results):
                out.append(Regression(new.scenario, name, b, None, f"{name}: {fmt_duration(b)} with the baseline, "
                                                                  "not balanced now"))
                continue
            if b is None or v is None or not (math.isfinite(b) and math.isfinite(v)):
                continue
            worse = sign * (v - b)
            limit = abs(b) * t / 100.0 + 1e-9 if tol_key == "energy_dissipated_per_day" else t * (1e3 if unit == "mV" else 1.0)
            if worse > limit + 1e-12:
                shown = (lambda x: fmt_duration(x)) if unit == "s" else (lambda x: f"{x:.4g} {unit}")
                allowed = f"{t:g} %" if tol_key == "energy_dissipated_per_day" else shown(limit)
                out.append(Regression(new.scenario, name, b, v, f"{name}: {shown(b)} with the baseline, {shown(v)} now "
                                                              f"(worse by more than {allowed})"))
    return out


def firmware_check_title() -> str:
    return FIRMWARE_CHECK[1]


__all__ = ["validate", "Validation", "Regression", "run_suite", "compare", "CheckResult", "Path"]
