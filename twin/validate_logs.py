"""``twin validate --logs BEFORE AFTER``: two recorded BMS logs, before and after a firmware update,
judged against the same limits through the twin and set side by side.

A log holds what the BMS measured and decided; the twin adds what a log cannot show. It runs beside
each log, driven by the logged current and the logged balancing flags (policy 'external', from an
initial SOC read off the first sample's voltages), and gives the cells' temperatures (the heat of
the bleed resistors included, with the ambient given on the command line), the bleed currents the
flags switched on, the energy balancing burned and the SOC spread. What the checks read:

===========================  ================================================================
readings (protection, top    the logged cell voltages, temperatures and current
of charge, CCL/DCL rules)
the cells' voltage window    the logged cell voltages (a log's readings are the best truth it has)
temperatures, thermal rise   the twin's cell temperatures
balancing current, energy    the twin, from the logged flags and the bleed resistance
firmware decisions           /state/charge_enable, /state/discharge_enable, /state/cvl, /state/ccl
                             and /state/dcl of a canonical log (docs/log-format.md), where present
===========================  ================================================================

Checks whose inputs a log lacks are reported as not measurable, not as passed.
"""

from __future__ import annotations

import time as _time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from .logs import LogReader
from .pack import Pack
from .params import ParameterSet
from .validate import Validation, compare
from .validate_checks import FAST, Context, Monitor
from .validate_limits import Limits
from .validate_run import ScenarioRun
from .validate_scenarios import PROTECTION_OFF

TWIN_RECORDS = ("cell.temperature", "balancer.bleed_current", "balancer.transfer_current")
TWIN_SCALARS = ("balancer.energy_dissipated", "pack.soc_spread")


def _params(info, params, first_voltages, ambient: float) -> ParameterSet:
    from .params import build_kernel
    from .replay import detector_parameters

    base = detector_parameters(info, params)
    kernel = build_kernel(base)
    soc = [float(kernel.soc_from_ocv(float(v), ambient)) for v in first_voltages]
    changes = {**PROTECTION_OFF, "cell.initial_soc": soc, "pack.initial_temperature": ambient,
               "pack.temperature_sensors": list(info.temperature_cells) or [0]}
    if info.bleed_resistance_ohm:
        changes["balancer.bleed_resistance"] = info.bleed_resistance_ohm
    return base.updated(changes, source=f"{base.source}, from the log's first sample")


STATES = ("charge_enable", "discharge_enable", "cvl", "ccl", "dcl")


def _states(h5, mapping) -> dict:
    """The canonical log's /state datasets the checks read (h5py datasets, read by slice), or {}."""
    if mapping is not None or h5 is None or "state" not in h5:
        return {}
    return {name: h5["state"][name] for name in STATES if name in h5["state"]}


def _first(x: np.ndarray, largest: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise extreme and its first column, NaN-skipping, like csrc/firmware.c (NaN and -1 for none)."""
    ok = ~np.isnan(x)
    fill = -np.inf if largest else np.inf
    y = np.where(ok, x, fill)
    k = np.argmax(y, axis=1) if largest else np.argmin(y, axis=1)
    any_ok = ok.any(axis=1)
    value = np.where(any_ok, y[np.arange(len(y)), k], np.nan)
    return value, np.where(any_ok, k, -1).astype(float)


def evaluate_log(path, limits, mapping=None, params=None, ambient: float = 25.0, chunk: int = 1 << 16,
                 label: str = "recorded log") -> ScenarioRun:
    """Every check of the limits over one log, the twin beside it (see the module docstring)."""
    started = _time.perf_counter()
    lim = limits if isinstance(limits, Limits) else Limits.from_file(limits)
    import h5py

    with LogReader(path, mapping) as reader, (h5py.File(path, "r") if mapping is None else nullcontext()) as h5:
        info = reader.info
        n = info.cells
        first = next(reader.chunks(1, optional=()))
        pset = _params(info, params, first.cell_voltage.reshape(-1), ambient)
        pack = Pack(pset)
        spec = pack.spec
        states = _states(h5, mapping)
        period = info.sample_period_s or 1.0
        missing = {k for k in STATES if k not in states}
        if "balancing" not in info.channels:
            missing |= {"bleed_max", "commanded", "adjacent", "energy"}
        ctx = Context(n_cells=n, capacity_ah=pack.capacity_ah, dt=period, period=period, start_time=0.0,
                      voltage_margin=0.002, temperature_margin=0.2, current_margin=0.002 * pack.capacity_ah,
                      source="log", missing=frozenset(missing))
        monitor = Monitor(lim, ctx)
        monitor.plan(info.samples)
        run = ScenarioRun(label, f"{Path(path).name}: {info.samples} samples over "
                                 f"{(info.end_s - info.start_s) / 86400:.2f} days", str(path), Path(path).name, period)
        prev_t = None
        sensors = np.asarray(info.temperature_cells, dtype=int)
        for c in reader.chunks(chunk, optional=("temperature", "balancing", "pack_voltage")):
            m = len(c.time)
            dts = np.diff(np.r_[c.time[0] if prev_t is None else prev_t, c.time])
            prev_t = float(c.time[-1])
            bal = np.zeros((m, n)) if c.balancing is None else c.balancing.reshape(m, n).astype(float)
            recs = {k: np.empty((m, n)) for k in TWIN_RECORDS}
            recs.update({k: np.empty((m, 1)) for k in TWIN_SCALARS})
            # runs of equal steps go to C in bulk; the log's first sample is the twin's initial state
            cuts = np.flatnonzero(np.abs(np.diff(dts)) > 1e-6 * period) + 1
            for a, b in zip(np.r_[0, cuts], np.r_[cuts, m]):
                dt = float(dts[a])
                if dt <= 0:  # the very first sample: record the initial state
                    for k in recs:
                        recs[k][a:b] = np.asarray(pack[k]).reshape(1, -1)
                    continue
                pack.kernel.run(dt, b - a, current=c.current[a:b], commands=bal[a:b],
                                records=[(spec[k].vr, rec[a:b]) for k, rec in recs.items()])
            temps = np.full((m, n), np.nan)
            if c.temperature is not None and len(sensors):
                temps[:, sensors] = c.temperature
            v = c.cell_voltage.reshape(m, n)
            read_vmax, read_vmax_cell = _first(v, True)
            read_vmin, read_vmin_cell = _first(v, False)
            read_tmax, read_tmax_cell = _first(temps, True)
            read_tmin, read_tmin_cell = _first(temps, False)
            tmax, tmax_cell = _first(recs["cell.temperature"], True)
            tmin, _ = _first(recs["cell.temperature"], False)
            bleed_max, bleed_cell = _first(recs["balancer.bleed_current"], True)
            adjacent = np.full(m, -1.0)
            pairs = (bal[:, :-1] == 1.0) & (bal[:, 1:] == 1.0)
            has = pairs.any(axis=1)
            adjacent[has] = np.argmax(pairs[has], axis=1)
            nan = np.full(m, np.nan)
            data = {
                "time": c.time - info.start_s, "request": c.current, "current": c.current, "current_measured": c.current,
                "pack_voltage": c.pack_voltage if c.pack_voltage is not None else v.sum(axis=1),
                "ambient": np.full(m, ambient),
                # the ambient a cell alone would follow (csrc/firmware.c filters a changing ambient through
                # the cells' thermal time constant): a log's ambient is one constant, so it is that constant
                "ambient_cell": np.full(m, ambient),
                "read_vmax": read_vmax, "read_vmin": read_vmin, "read_vmax_cell": read_vmax_cell,
                "read_vmin_cell": read_vmin_cell, "read_tmax": read_tmax, "read_tmin": read_tmin,
                "read_tmax_cell": read_tmax_cell, "read_tmin_cell": read_tmin_cell,
                "vmax": read_vmax, "vmax_cell": read_vmax_cell, "vmin": read_vmin, "vmin_cell": read_vmin_cell,
                "tmax": tmax, "tmax_cell": tmax_cell, "tmin": tmin, "bleed_max": bleed_max, "bleed_max_cell": bleed_cell,
                "transfer_max": np.max(np.abs(recs["balancer.transfer_current"]), axis=1),
                "commanded": np.count_nonzero(bal, axis=1).astype(float), "adjacent": adjacent,
                **{k: np.asarray(states[k][c.start:c.start + m], float) if k in states else nan for k in STATES},
                "energy": recs["balancer.energy_dissipated"][:, 0], "soc_spread": recs["pack.soc_spread"][:, 0],
            }
            assert set(data) >= set(FAST)
            monitor.feed(data)
        run.results = monitor.results()
        run.figures = monitor.figures_dict()
        run.plot = monitor.plot_data()
        run.steps = info.samples
    run.wall_s = _time.perf_counter() - started
    return run


def validate_logs(before, after, limits, mapping=None, params=None, ambient: float = 25.0) -> Validation:
    """Both logs against the limits; the one before the update is the baseline."""
    lim = limits if isinstance(limits, Limits) else Limits.from_file(limits)
    out = Validation(str(after), lim.source, f"{before} -> {after}", baseline=str(before), mode="logs")
    out.baseline_runs = [evaluate_log(before, lim, mapping, params, ambient)]
    out.runs = [evaluate_log(after, lim, mapping, params, ambient)]
    out.regressions = compare(out.baseline_runs, out.runs, lim)
    return out


__all__ = ["validate_logs", "evaluate_log"]
