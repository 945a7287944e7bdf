"""Cell tables over temperature: tests run at several temperatures are fitted per temperature and
the tables stacked over ``cell.table_temperature``.

Records are grouped by their mean temperature (within GROUP_K). Groups with a low-rate test give
their own OCV; a group with pulses only borrows the OCV of the nearest group that has one. The
hysteresis rate and capacity are scalars in the kernel: they come from the group nearest 25 degC
that identifies them. The kernel interpolates the stacked tables linearly in temperature (flat
outside the tested range).
"""

from __future__ import annotations

import numpy as np

from .fit_checks import Finding, status
from .fit_model import SOC_GRID, FitOutcome

GROUP_K = 5.0
REFERENCE_C = 25.0


def record_temperature(rec) -> float | None:
    if rec.temperature is None or not np.isfinite(rec.temperature).any():
        return None
    return float(np.nanmean(rec.temperature))


def temperature_groups(records) -> dict:
    """{group temperature: [records]}; records without a temperature join the group nearest 25 degC."""
    temps = {r.name: record_temperature(r) for r in records}
    centres = []
    for t in sorted(t for t in temps.values() if t is not None):
        if not centres or t - centres[-1][-1] > GROUP_K:
            centres.append([t])
        else:
            centres[-1].append(t)
    means = [float(np.round(np.mean(c), 1)) for c in centres] or [REFERENCE_C]
    groups = {m: [] for m in means}
    for r in records:
        t = temps[r.name]
        key = min(means, key=lambda m: abs(m - (REFERENCE_C if t is None else t)))
        groups[key].append(r)
    return {k: v for k, v in groups.items() if v}


def fit_over_temperatures(fit_one, groups: dict, base, validation=(), **options) -> FitOutcome:
    """Fit each temperature group with fit_one (twin.fit_cell.fit_cell) and stack the tables."""
    temps = sorted(groups)
    has_ocv = {t: any(len(r.current) and _low_rate(r, base) for r in groups[t]) for t in temps}
    if not any(has_ocv.values()):
        has_ocv = {t: True for t in temps}  # let each group say what it lacks
    outcomes = {}
    for t in sorted(temps, key=lambda t: (not has_ocv[t], abs(t - REFERENCE_C))):
        group_base = base
        if not has_ocv[t]:
            donor = min((d for d in outcomes if has_ocv[d]), key=lambda d: abs(d - t))
            p = outcomes[donor].params
            group_base = base.updated({k: p[k] for k in ("cell.table_soc", "cell.table_temperature", "cell.ocv_charge",
                                                         "cell.ocv_discharge")})
        outcomes[t] = fit_one(groups[t], group_base, **options)
        if not has_ocv[t]:
            outcomes[t].notes.append(f"OCV at {t:g} degC borrowed from the fit at {donor:g} degC")
    ref = min(temps, key=lambda t: (status(outcomes[t].findings, "OCV branches") == "not identified", abs(t - REFERENCE_C)))
    n_rc = max(_pairs(outcomes[t].params) for t in temps)
    values = dict(outcomes[ref].params.values)
    for key in ("cell.r1", "cell.tau1", "cell.r2", "cell.tau2", "cell.r3", "cell.tau3"):
        values.pop(key, None)
    values["cell.table_temperature"] = temps
    for key in ("cell.ocv_charge", "cell.ocv_discharge", "cell.r0"):
        values[key] = [list(np.asarray(outcomes[t].params[key], float)) for t in temps]
    for k in range(1, max(n_rc, 1) + 1):
        values[f"cell.r{k}"] = [_column(outcomes[t].params, f"cell.r{k}", 0.0) for t in temps]
        values[f"cell.tau{k}"] = [_column(outcomes[t].params, f"cell.tau{k}", 10.0 * 30.0 ** (k - 1)) for t in temps]
    from .params import ParameterSet

    pset = ParameterSet(values, "twin fit cell", ())
    out = FitOutcome(pset, kind="cell")
    out.findings.append(Finding("temperature dependence", "identified",
                                f"tables at {', '.join(f'{t:g}' for t in temps)} degC (tests grouped within {GROUP_K:g} K); "
                                f"capacity and hysteresis rate from the {ref:g} degC group"))
    for t in temps:
        o = outcomes[t]
        out.findings += [Finding(f"{f.parameter} at {t:g} degC", f.status, f.detail) for f in o.findings]
        out.notes += [f"at {t:g} degC: {n}" for n in o.notes]
        out.estimates.update({f"{k} at {t:g} degC": e for k, e in o.estimates.items()})
        out.residuals.update(o.residuals)
        out.traces.update(o.traces)
        out.tables.update({f"{k} at {t:g} degC": v for k, v in o.tables.items()})
        out.seconds += o.seconds
    if validation:
        from .fit_cell import validate

        for rec in validation:
            validate(out, rec, outcomes[ref].ocv_mean, float(pset["cell.capacity"]))
    return out


def _low_rate(rec, base) -> bool:
    from .fit_checks import find_features

    q = rec.capacity_ah or float(np.mean(np.asarray(base["cell.capacity"], float)))
    return bool(find_features(rec.current, rec.dt, q).low_rate)


def _pairs(pset) -> int:
    return sum(1 for k in (1, 2, 3) if pset.get(f"cell.r{k}") is not None)


def _column(pset, key, default) -> list:
    value = pset.get(key)
    if value is None:
        return [default] * len(SOC_GRID)
    a = np.asarray(value, float)
    return list(np.full(len(SOC_GRID), float(a))) if a.ndim == 0 else list(np.interp(SOC_GRID, pset["cell.table_soc"], a))
