"""Identify one cell's parameter set from lab tests (``twin fit cell``).

1. Capacity: the charge of a discharge that runs from the upper to the lower voltage limit; without
   one, the nominal capacity (said so in the findings).
2. SOC of each record: as stated (``--initial-soc``); a capacity test starts full; otherwise the
   fullest point of a low-rate test is taken as full, and other records are placed by their rests
   against the OCV (all said in the notes).
3. Starting values: R0 from the voltage step at every current step, the OCV from the low-rate
   segments corrected by R0, the hysteresis and RC pairs from typical LFP values.
4. scipy.optimize.least_squares with the kernel replaying every record at every evaluation
   (twin.fit_cell_model): absolute residuals for records that carry the OCV, residuals relative to
   the voltage before each pulse for pulse tests.
5. The result is checked by building the parameter set the usual way and replaying every record
   once more; those are the residuals reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .errors import FitError
from .fit_cell_model import R0_KNOTS, RELATIVE_WEIGHT, CellModel, interp_ext, slope_shape
from .fit_checks import LOW_RATE, REST_C_RATE, cell_findings, find_features, status
from .fit_temperature import fit_over_temperatures, record_temperature, temperature_groups
from .fit_thermal import fit_thermal
from .fit_model import SOC_GRID, Estimate, FitOutcome, Replay, bench_pack, max_mv, require_scipy, rms_mv, uncertainties
from .fit_placement import place_windows, replay_segments
from .params import ParameterSet

DECIMATE_S = 10.0  # low-rate records are replayed in steps of this (charge kept exactly)
WINDOW_REST_S = 3600.0  # longest rest kept in a pulse window
DEFAULT_LIMITS = (2.5, 3.65)  # V; LFP cut-offs (DOMAIN.md), used to recognize a capacity test


@dataclass
class Prepared:
    """A record as the fit replays it."""

    name: str
    role: str  # "absolute" or "relative"
    current: np.ndarray
    voltage: np.ndarray
    dt: float
    soc0: float
    h0: float = 0.0
    weight: float = 1.0
    fit_mask: np.ndarray = None
    ocv_mask: np.ndarray = None
    window_ref: np.ndarray = None
    time: np.ndarray = None
    notes: list = field(default_factory=list)
    soc: np.ndarray = None  # coulomb-counted SOC at the samples (for starting values and placement)
    unplaced: bool = False
    ambient: float | None = None  # degC, the record's mean temperature
    segments: list = None  # [(first, last sample, SOC)]: replayed in pieces placed by their rests (twin.fit_placement)
    kept: np.ndarray = None  # samples the fit may use (windows whose placing rest is trusted)

    def set_soc0(self, soc0: float, q: float) -> None:
        self.soc0 = float(soc0)
        self.soc = self.soc0 + np.r_[0.0, np.cumsum(self.current[1:])] * self.dt / 3600.0 / q


def fit_cell(records, base: ParameterSet, capacity_ah: float | None = None, rc_pairs: int = 2,
             voltage_limits=DEFAULT_LIMITS, validation=(), max_evaluations: int = 400) -> FitOutcome:
    """Cell parameters from single-cell records (twin.fit_data.Record); base supplies everything else.
    validation: records predicted with the result (not fitted), e.g. a drive cycle."""
    require_scipy()
    from scipy.optimize import least_squares

    started = time.perf_counter()
    if not records:
        raise FitError("no data files given")
    for r in records:
        if r.cells != 1:
            raise FitError(f"{r.path} holds {r.cells} cells; pick one with --cell, or use 'twin fit pack' for a pack log")
    groups = temperature_groups(records)
    if len(groups) > 1:
        return fit_over_temperatures(fit_cell, groups, base, validation, capacity_ah=capacity_ah, rc_pairs=rc_pairs,
                                     voltage_limits=voltage_limits, max_evaluations=max_evaluations)
    q, q_source, q_anchor = identify_capacity(records, capacity_ah, voltage_limits)
    findings, feats = cell_findings(records, q, q_source)
    notes = []
    ocv_status, r0_status, rc_status = (status(findings, p) for p in ("OCV branches", "R0", "RC pairs"))
    if ocv_status == "not identified" and r0_status == "not identified":
        raise FitError("nothing to identify in " + ", ".join(r.name for r in records) + ": "
                       + "; ".join(f.line() for f in findings if f.status == "not identified"))
    n_rc = rc_pairs if rc_status != "not identified" else 0

    base = _scaled_base(base, q, notes)
    roles = _roles(records, feats)
    soc0 = _initial_socs(records, feats, roles, q, q_anchor, notes)
    temperature = _mean_temperature(records)
    prepared = [_prepare(r, feats[r.name], roles[r.name], soc0[r.name], q) for r in records]
    by_name = {r.name: r for r in records}

    # starting values and what stays fixed
    r0_socs, r0_values = _edge_resistances(records, feats, prepared, q)
    fixed_r0 = _base_table(base, "cell.r0", temperature) if r0_status == "not identified" else None
    r0_guess = fixed_r0 if fixed_r0 is not None else np.full(len(SOC_GRID), float(np.median(r0_values)))
    fixed_ocv = None
    if ocv_status == "not identified":
        oc, od = _base_table(base, "cell.ocv_charge", temperature), _base_table(base, "cell.ocv_discharge", temperature)
        fixed_ocv = ((oc + od) / 2, np.maximum(oc - od, 0.0))
        notes.append("OCV branches taken from the base parameter set (no low-rate segments or long rests in the data)")
        mean0 = fixed_ocv[0]
        band0 = (od, oc)
    else:
        mean0, band0 = _initial_ocv(prepared, r0_guess)
    for p in prepared:
        rec = by_name[p.name]
        if p.unplaced:
            p.set_soc0(_place(rec, mean0, r0_guess, q), q)
            p.notes.append(f"initial SOC not stated; placed at {p.soc0:.3f} by its rests against the OCV "
                           f"(give --initial-soc {p.name}=VALUE to set it)")
        else:
            _check_rests(p, rec, mean0, q)
    span = _ocv_span(prepared)
    for p in prepared:
        if p.role == "relative":
            _place_windows(p, mean0, band0, q, span)
    if fixed_r0 is not None:
        notes.append("R0 taken from the base parameter set (no current steps in the data)")
        r0_free, knots0 = np.zeros(len(R0_KNOTS), bool), np.zeros(0)
    else:
        r0_socs, r0_values = _edge_resistances(records, feats, prepared, q)
        lo, hi = r0_socs.min() - 0.05, r0_socs.max() + 0.05
        r0_free = (R0_KNOTS >= lo) & (R0_KNOTS <= hi)
        if r0_free.sum() == 0:
            r0_free[np.argmin(np.abs(R0_KNOTS - np.median(r0_socs)))] = True
        knots0 = _knot_values(r0_socs, r0_values, R0_KNOTS[r0_free])
    slope = slope_shape(mean0)
    model = CellModel(base, q, temperature, n_rc, r0_free, slope, prepared, fixed_r0=fixed_r0, fixed_ocv=fixed_ocv)
    model.mean = mean0

    r_scale = float(np.median(r0_values)) if len(r0_values) else float(np.median(r0_guess))
    x0, lb, ub, xs = _start_and_bounds(knots0, r_scale, n_rc, min(p.dt for p in prepared))
    result = least_squares(model.residuals, x0, bounds=(lb, ub), x_scale=xs,
                           max_nfev=max_evaluations, ftol=1e-6, xtol=1e-6)
    model.residuals(result.x)  # leaves the OCV solved for the best point

    values = dict(base.values)
    for key in ("cell.r1", "cell.tau1", "cell.r2", "cell.tau2", "cell.r3", "cell.tau3"):
        values.pop(key, None)
    values.update(model.tables(result.x))
    if n_rc == 0:
        values.update({"cell.r1": 0.0, "cell.tau1": 10.0})
        notes.append("no RC pairs identified: a zero pair is written (the kernel's table format)")
    values.update({"cell.table_soc": SOC_GRID.tolist(), "cell.table_temperature": [temperature], "cell.capacity": q,
                   "cell.initial_hysteresis": 0.0, "cell.hysteresis_instantaneous": 0.0, "cell.coulombic_efficiency": 1.0})
    if status(findings, "hysteresis") == "not identified":
        values["cell.hysteresis_rate"] = float(base.get("cell.hysteresis_rate", 20.0))
    pset = ParameterSet(values, "twin fit cell", ())
    thermal, finding, thermal_estimates = fit_thermal(pset, records, [p.soc0 for p in prepared])
    findings.append(finding)
    pset = pset.updated(thermal) if thermal else pset
    outcome = FitOutcome(pset, findings=findings, notes=notes, kind="cell")
    _estimates(outcome, model, result, q, q_source, n_rc)
    outcome.estimates.update(thermal_estimates)
    _report_residuals(outcome, pset, prepared, q)
    outcome.tables = {"OCV charge branch [V]": (SOC_GRID, np.array(values["cell.ocv_charge"])),
                      "OCV discharge branch [V]": (SOC_GRID, np.array(values["cell.ocv_discharge"])),
                      "R0 [mOhm]": (SOC_GRID, 1000 * np.array(values["cell.r0"])),
                      "R0 from current steps [mOhm]": (r0_socs, 1000 * r0_values)}
    for k in range(1, n_rc + 1):
        outcome.tables[f"R{k} [mOhm]"] = (SOC_GRID, 1000 * np.array(values[f"cell.r{k}"]))
    outcome.ocv_mean = model.mean
    for rec in validation:
        validate(outcome, rec, model.mean, q)
    for p in prepared:
        outcome.notes += [f"{p.name}: {n}" for n in p.notes]
    outcome.seconds = time.perf_counter() - started
    return outcome


# --- results --------------------------------------------------------------------------------------------

def _estimates(outcome, model, result, q, q_source, n_rc) -> None:
    sig = uncertainties(result, model.names(), len(result.fun))
    est = outcome.estimates
    est["capacity"] = Estimate(q, float("nan"), "Ah", q_source.split(":")[0])
    knots, rc, gamma = model.split(result.x)
    free = R0_KNOTS[model.r0_free]
    for s, val in zip(free, knots):
        name = f"R0 at SOC {s:.1f}"
        est[name] = Estimate(1000 * val, 1000 * sig[name], "mOhm")
    for k, (b, lag, tau) in enumerate(rc, start=1):
        est[f"R{k} series part b{k}"] = Estimate(1000 * b, 1000 * sig[f"b{k}"], "mOhm")
        est[f"R{k} slope lag l{k}"] = Estimate(lag, sig[f"l{k}"], "s", "R = b + l/(3600 Q) |dOCV/dSOC|")
        est[f"tau{k}"] = Estimate(tau, sig[f"tau{k}"], "s")
    est["hysteresis rate gamma"] = Estimate(gamma, sig["gamma"], "1", "weakly identified" if gamma < 999 else "at its bound")
    plateau = (SOC_GRID >= 0.2) & (SOC_GRID <= 0.9)
    est["hysteresis gap, mean over 20-90 % SOC"] = Estimate(1000 * float(np.mean(model.gap[plateau])), float("nan"), "mV")


def _replay_prepared(pset, p: Prepared):
    return replay_segments(Replay(bench_pack(pset)), p, ambient=p.ambient)["cell.voltage"][:, 0]


def _report_residuals(outcome, pset, prepared, q) -> None:
    for p in prepared:
        pred = _replay_prepared(pset, p)
        absolute = (pred - p.voltage)[1:]
        entry = {"role": "fitted, " + ("absolute" if p.role == "absolute" else "relative to the voltage before each pulse"),
                 "rmse_mv": rms_mv(absolute), "max_mv": max_mv(absolute), "initial_soc": p.soc0}
        if p.role == "relative":
            rel = CellModel.record_residual(p, pred)
            entry.update(rmse_mv=rms_mv(rel), max_mv=max_mv(rel), absolute_rmse_mv=rms_mv(absolute),
                         absolute_max_mv=max_mv(absolute))
        outcome.residuals[p.name] = entry
        outcome.traces[p.name] = {"time": p.time, "measured": p.voltage, "fitted": pred}


def validate(outcome, rec, mean, q) -> None:
    """Predict a record the fit did not see, from its stated (or placed) initial SOC."""
    soc0 = rec.initial_soc
    how = "stated"
    if soc0 is None:
        soc0 = _place(rec, mean, np.asarray(outcome.params["cell.r0"], float), q)
        how = "placed by its rests against the fitted OCV"
    p = Prepared(rec.name, "absolute", np.asarray(rec.current, float), np.asarray(rec.voltage[:, 0], float), rec.dt, soc0,
                 time=np.asarray(rec.time, float) - rec.time[0], ambient=record_temperature(rec))
    pred = _replay_prepared(outcome.params, p)
    e = (pred - p.voltage)[1:]
    soc = (soc0 + np.cumsum(p.current[1:]) * p.dt / 3600.0 / q)
    bands = {}
    for lo, hi in ((0.0, 0.2), (0.2, 0.5), (0.5, 1.01)):
        m = (soc >= lo) & (soc < hi)
        if m.sum() > 10:
            bands[f"SOC {lo:.1f}-{min(hi, 1.0):.1f}"] = round(rms_mv(e[m]), 2)
    outcome.residuals[rec.name] = {"role": "predicted, not fitted", "rmse_mv": rms_mv(e), "max_mv": max_mv(e),
                                   "initial_soc": float(soc0), "initial_soc_from": how, "rmse_mv_by_soc": bands}
    outcome.traces[rec.name] = {"time": p.time, "measured": p.voltage, "fitted": pred}


def _start_and_bounds(knots0, r_scale: float, n_rc: int, dt: float):
    """Starting vector, bounds and scales: R0 knots, then (b, l, tau) per RC pair, then gamma. The fast
    pair's time constant stays above three sample periods (faster is R0 at this sampling)."""
    x0, lb, ub, xs = list(knots0), [0.0] * len(knots0), [50 * r_scale + 0.1] * len(knots0), [r_scale] * len(knots0)
    for k in range(n_rc):
        tau0 = 10.0 * 30.0 ** k
        x0 += [0.05 * r_scale, 0.3 * tau0, tau0]
        lb += [0.0, 0.0, 3.0 * dt if k == 0 else 20.0]
        ub += [20 * r_scale + 0.1, 20 * tau0 + 1000.0, 600.0 if k == 0 else 30000.0]
        xs += [r_scale, tau0, tau0]
    x0, lb, ub, xs = (np.array(a, float) for a in (x0 + [30.0], lb + [0.5], ub + [1000.0], xs + [30.0]))
    return np.clip(x0, lb + 1e-12, ub - 1e-12), lb, ub, xs


# --- capacity and SOC -------------------------------------------------------------------------------

def identify_capacity(records, nominal, limits):
    """(capacity Ah, how it was found, (record name, sample) where the cell was full or None)."""
    lower, upper = limits
    best = None
    for r in records:
        i, v = r.current, r.voltage[:, 0]
        cap = nominal or r.capacity_ah or 1.0
        dis = (i < -REST_C_RATE * cap) & (i > -1.05 * cap)
        d = np.diff(np.r_[0, dis.astype(np.int8), 0])
        for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
            if (b - a) * r.dt < 1800.0 or v[b - 1] > lower + 0.05:
                continue
            before = v[max(0, a - int(3600 / r.dt)):a + 1]
            if before.max() < upper - 0.05 and v[a] < upper - 0.15:
                continue
            ah = -float(np.sum(i[a:b])) * r.dt / 3600.0
            if best is None or ah > best[0]:
                best = (ah, r.name, a)
    if best is not None:
        ah, name, a = best
        return ah, (f"measured: {ah:.4g} Ah discharged in {name} from the upper to the lower voltage limit "
                    f"({upper:g} / {lower:g} V)"), (name, a)
    q = nominal or next((r.capacity_ah for r in records if r.capacity_ah), None)
    if q is None:
        raise FitError("the capacity is unknown: no discharge runs between the voltage limits "
                       f"({upper:g} / {lower:g} V) and no nominal capacity is given; pass --capacity AH")
    how = "given with --capacity" if nominal else "the nominal capacity in the data file"
    return float(q), (f"{q:g} Ah, {how}: no discharge runs from the upper to the lower voltage limit "
                      f"({upper:g} / {lower:g} V); a C/3 or slower discharge from full to the lower limit identifies it"), None


def _roles(records, feats) -> dict:
    has_low = {r.name: bool(feats[r.name].low_rate) for r in records}
    any_low = any(has_low.values())
    roles = {}
    for r in records:
        f = feats[r.name]
        if has_low[r.name] or (not any_low and f.long_rests):
            roles[r.name] = "absolute"
        elif len(f.steps):
            roles[r.name] = "relative"
        else:
            roles[r.name] = "absolute"
    return roles


def _initial_socs(records, feats, roles, q, anchor, notes) -> dict:
    out = {}
    for r in records:
        charge = np.r_[0.0, np.cumsum(r.current[1:])] * r.dt / 3600.0 / q
        if r.initial_soc is not None:
            out[r.name] = float(r.initial_soc)
        elif anchor is not None and anchor[0] == r.name:
            out[r.name] = float(np.clip(1.0 - charge[anchor[1]], 0.0, 1.0))
            notes.append(f"{r.name}: full (SOC 1) at the start of its capacity discharge")
        elif roles[r.name] == "absolute" and feats[r.name].low_rate:
            out[r.name] = float(np.clip(1.0 - charge.max(), 0.0, 1.0))
            notes.append(f"{r.name}: initial SOC not stated; its fullest point is taken as full (SOC 1). "
                         f"Give --initial-soc {r.name}=VALUE if the test started elsewhere")
    for r in records:
        if r.name not in out:
            out[r.name] = None  # placed against the OCV once it is known (_place)
    return out


def _place(rec, mean, r0, q) -> float:
    """Initial SOC of a record from its rests (>= 10 min) against the mean OCV."""
    charge = np.r_[0.0, np.cumsum(rec.current[1:])] * rec.dt / 3600.0 / q
    f = find_features(rec.current, rec.dt, q)
    ends = [b - 1 for a, b, d in f.rests if d >= 600.0]
    mono = np.maximum.accumulate(mean)
    if ends:
        s_end = np.interp(rec.voltage[ends, 0], mono, SOC_GRID)
        return float(np.clip(np.median(s_end - charge[ends]), 0.0, 1.0))
    v0 = rec.voltage[0, 0] - np.interp(0.5, SOC_GRID, r0) * rec.current[0]
    return float(np.clip(np.interp(v0, mono, SOC_GRID), 0.0, 1.0))


# --- preparing records --------------------------------------------------------------------------------

def _prepare(rec, feat, role, soc0, q) -> Prepared:
    i, v, dt = np.asarray(rec.current, float), np.asarray(rec.voltage[:, 0], float), rec.dt
    k = int(round(DECIMATE_S / dt))
    if role == "absolute" and k > 1 and np.max(np.abs(i)) <= 2 * LOW_RATE * q:
        nb = (len(i) - 1) // k
        blocks = i[1:1 + nb * k].reshape(nb, k).mean(axis=1)
        i, v, dt = np.r_[i[0], blocks], v[0:1 + nb * k:k], dt * k
    n = len(i)
    p = Prepared(rec.name, role, i, v, dt, 0.5, time=np.arange(n) * dt, unplaced=soc0 is None,
                 ambient=record_temperature(rec))
    p.set_soc0(0.5 if soc0 is None else soc0, q)
    p.fit_mask = np.ones(n, bool)
    p.fit_mask[0] = False
    if role == "absolute":
        p.ocv_mask = p.fit_mask.copy()
        p.weight = 1.0 / np.sqrt(p.fit_mask.sum())
        return p
    # pulse windows: from the sample before a step out of rest to the end of the rest that follows
    rest = np.abs(i) < REST_C_RATE * q
    ref = np.full(n, -1)
    steps = find_features(i, dt, q).steps
    k_max = int(WINDOW_REST_S / dt)
    pos = 0
    for s in steps:
        if s <= pos or not rest[s - 1]:
            continue
        j = s
        while j < n:
            while j < n and not rest[j]:
                j += 1
            r_end = j
            while r_end < n and rest[r_end] and r_end - j < k_max:
                r_end += 1
            if (r_end - j) * dt >= 60.0 or r_end >= n:
                break
            j = r_end
        ref[s - 1:r_end] = s - 1
        pos = r_end
    p.window_ref = np.maximum(ref, 0)
    # every sample near a step, every tenth in long rests: the slow relaxation needs no more
    near = np.zeros(n, bool)
    for s in steps:
        near[s:s + int(120.0 / dt)] = True
    p.fit_mask = (ref >= 0) & (near | (np.arange(n) % max(1, int(round(DECIMATE_S / dt))) == 0))
    p.fit_mask[0] = False
    if not p.fit_mask.any():
        raise FitError(f"{rec.path}: no current pulse starts from rest, so it cannot be fitted relative to the voltage "
                       f"before the pulse; give it a stated --initial-soc and a low-rate test to fit it absolutely")
    p.weight = RELATIVE_WEIGHT / np.sqrt(p.fit_mask.sum())
    return p


def _edge_resistances(records, feats, prepared, q):
    """(SOC, resistance) of every current step: voltage step over current step."""
    socs, values = [], []
    for r, p in zip(records, prepared):
        v, i = r.voltage[:, 0], r.current
        soc = p.soc0 + np.r_[0.0, np.cumsum(i[1:])] * r.dt / 3600.0 / q if p.segments is None else p.soc
        for k in feats[r.name].steps:
            if p.kept is not None and not p.kept[k]:
                continue
            di = i[k] - i[k - 1]
            values.append((v[k] - v[k - 1]) / di)
            socs.append(soc[k])
    socs, values = np.clip(np.array(socs, float), 0, 1), np.array(values, float)
    ok = values > 0
    return socs[ok], values[ok]


def _knot_values(socs, values, knots):
    """Hat-weighted means of the edge resistances at the knots (nearest value where none is close)."""
    out = []
    step = R0_KNOTS[1] - R0_KNOTS[0]
    for kn in knots:
        w = np.clip(1 - np.abs(socs - kn) / step, 0, None)
        out.append(np.sum(w * values) / np.sum(w) if w.sum() > 0 else values[np.argmin(np.abs(socs - kn))])
    return np.array(out)


def _initial_ocv(prepared, r0) -> tuple:
    """Mean OCV on SOC_GRID, and the band (lower, upper) a rest may sit in: the absolute records'
    voltages corrected by R0, averaged per SOC bin over both directions (gaps filled by interpolation),
    and over discharging and charging alone (where one direction has no data, the mean). Hysteresis:
    after a discharge a rest sits near the lower branch, after a charge near the upper."""
    used = [p for p in prepared if p.role == "absolute" and not p.unplaced]
    if not used:
        raise FitError("no record gives the OCV at a known SOC: state the initial SOC of the low-rate test with --initial-soc")
    soc = np.concatenate([p.soc for p in used])
    v = np.concatenate([p.voltage - np.interp(p.soc, SOC_GRID, r0) * p.current for p in used])
    sign = np.sign(np.concatenate([p.current for p in used]))
    means, have = _bin_means(soc, v)
    mean = np.interp(SOC_GRID, SOC_GRID[have], means[have])
    branches = []
    for d in (-1.0, 1.0):  # discharging, charging
        m, h = _bin_means(soc[sign == d], v[sign == d])
        branches.append(np.where(h, m, mean))
    lower, upper = branches
    return mean, (np.minimum(lower, mean), np.maximum(upper, mean))


def _bin_means(soc, v):
    """Mean of v per SOC_GRID bin (nearest grid point), and which bins hold any sample."""
    idx = np.clip(np.round(soc * (len(SOC_GRID) - 1)).astype(int), 0, len(SOC_GRID) - 1)
    sums, counts = np.bincount(idx, v, len(SOC_GRID)), np.bincount(idx, None, len(SOC_GRID))
    return sums / np.maximum(counts, 1), counts > 0


def _check_rests(p: Prepared, rec, mean, q) -> None:
    """Note when a stated SOC puts a record's rests far from the OCV (the SOC or the cell state differs).
    Pulse records are placed by their rests instead (_place_windows), which notes it."""
    if p.role == "relative":
        return
    f = find_features(rec.current, rec.dt, q)
    ends = [b - 1 for a, b, d in f.rests if d >= 1800.0]
    if not ends:
        return
    soc = p.soc0 + np.r_[0.0, np.cumsum(rec.current[1:])] * rec.dt / 3600.0 / q
    dev = rec.voltage[ends, 0] - interp_ext(soc[ends], SOC_GRID, mean)
    if float(np.max(np.abs(dev))) > 0.01:
        p.notes.append(f"its rests sit {1000 * dev.min():+.0f} .. {1000 * dev.max():+.0f} mV from the OCV at the stated SOC "
                       f"({p.soc0:.3f}): the stated SOC or the cell's state differs from the OCV test")


def _ocv_span(prepared):
    """SOC range the absolute records measured the OCV over."""
    socs = [p.soc for p in prepared if p.role == "absolute" and not p.unplaced]
    return (float(min(s.min() for s in socs)), float(max(s.max() for s in socs))) if socs else (0.0, 1.0)


def _place_windows(p: Prepared, mean, band, q, span) -> None:
    """Replay a pulse record's windows where its rests sit on the OCV, when they disagree with the stated SOC."""
    placement = place_windows(p.current, p.voltage, p.dt, p.soc, mean, q, span, band)
    if placement is None:
        return
    p.segments, p.soc, p.kept = placement.segments, placement.soc, placement.kept
    p.fit_mask &= placement.kept & np.isfinite(placement.soc[p.window_ref])
    p.weight = RELATIVE_WEIGHT / np.sqrt(max(int(p.fit_mask.sum()), 1))
    p.notes += placement.notes


def _scaled_base(base: ParameterSet, q: float, notes: list) -> ParameterSet:
    """The base set with what the cell tests cannot identify scaled to this cell's capacity: self-discharge
    (same fraction per month), heat capacity (mass grows with capacity) and thermal resistance to ambient
    (the cooled surface grows as capacity^(2/3))."""
    q_base = float(np.mean(np.asarray(base["cell.capacity"], float)))
    ratio = q / q_base
    changes = {}
    for id_, power in (("cell.self_discharge", 1.0), ("cell.heat_capacity", 1.0), ("cell.thermal_resistance_ambient", -2.0 / 3.0)):
        value = base.get(id_)
        if value is not None and not isinstance(value, (list, str)):
            changes[id_] = float(value) * ratio ** power
    if abs(ratio - 1.0) > 1e-9 and changes:
        notes.append("self-discharge, heat capacity and thermal resistance to ambient are not identified by these tests: "
                     f"scaled from {base.source} by capacity ({q_base:g} -> {q:g} Ah: self-discharge and heat capacity "
                     "in proportion, thermal resistance by capacity^(-2/3))")
    return base.updated(changes) if changes else base


def _mean_temperature(records) -> float:
    temps = [np.nanmean(r.temperature) for r in records if r.temperature is not None and np.isfinite(r.temperature).any()]
    return float(np.round(np.mean(temps), 1)) if temps else 25.0


def _base_table(base: ParameterSet, id_: str, temperature: float) -> np.ndarray:
    soc = np.asarray(base["cell.table_soc"], float)
    temps = np.atleast_1d(np.asarray(base["cell.table_temperature"], float))
    a = np.asarray(base[id_], float)
    if a.ndim == 0:
        return np.full(len(SOC_GRID), float(a))
    if a.ndim == 2:
        a = np.array([np.interp(temperature, temps, a[:, j]) for j in range(a.shape[1])])
    return np.interp(SOC_GRID, soc, a)
