"""Each cell of a pack against its peers, from an operational log (``twin fit pack``).

The cell model is given (a fitted or named parameter set); what the log identifies is where each
cell departs from it:

    capacity      how far each cell's voltage moves for the charge the pack moved
    R0            the voltage step of each cell at every current step of the pack
    initial SOC   where each cell's voltage sits at the start
    self-discharge  a charge each cell loses over days that its peers do not

All four are fitted at once by scipy.optimize.least_squares with the kernel replaying the logged
pack current (and the logged balancing, whose bleed currents move charge too) through every cell,
on 20 s blocks (current and voltage averaged over each: the charge is kept, and so is the area of
each cell's voltage response to a current spike, whatever the BMS's sampling smeared). Before
that, the lag between the voltage and current channels is measured and taken out. The cells do not interact in this replay, so the Jacobian is block-diagonal
and scipy needs one pack run per kind of parameter, not one per cell.

A current sensor's gain or offset moves every cell alike (DOMAIN.md): a gain scales all capacities
together and an offset acts as a self-discharge of every cell. One common current offset is
fitted; the capacities and self-discharges are reported relative to the median cell, which is
what a log identifies.
"""

from __future__ import annotations

import time

import numpy as np

from .errors import FitError
from .fit_checks import STEP_C_RATE, check_clipping, find_features
from .fit_data import shift_voltage, voltage_lag
from .fit_model import Estimate, FitOutcome, Replay, bench_pack, max_mv, require_scipy, resized, rms_mv, uncertainties
from .params import ParameterSet

BLOCK_S = 20.0  # the replay runs on blocks of this many seconds: current averaged (charge kept), voltage averaged
MIN_DURATION_S = 6 * 3600.0
PER_CELL = ("initial SOC", "capacity", "resistance factor", "self-discharge")


def fit_pack(record, base: ParameterSet, max_evaluations: int = 60) -> FitOutcome:
    """Per-cell capacity, resistance factor, initial SOC and self-discharge from a pack log."""
    require_scipy()
    import scipy.sparse as sp
    from scipy.optimize import least_squares

    started = time.perf_counter()
    n = record.cells
    lag = voltage_lag(record.current, record.voltage, record.dt)
    q_base = float(np.mean(np.asarray(base["cell.capacity"], float)))
    findings, notes = _findings(record, q_base)
    if lag:
        record = shift_voltage(record, lag)
        notes.append(f"the cell voltages {'lead' if lag < 0 else 'trail'} the current by {abs(lag) * record.dt:g} s "
                     f"(cross-correlation of their fast parts); aligned before fitting")
    bleed = record.bleed_resistance_ohm or float(base.get("balancer.bleed_resistance", 100.0))
    changes = {"cell.self_discharge": 0.0, "cell.capacity": q_base}
    commands = None
    if record.balancing is not None and np.any(record.balancing):
        changes.update({"balancer.topology": "passive", "balancer.policy": "external", "balancer.bleed_resistance": bleed})
        commands = np.clip(np.round(record.balancing), -1, 1)
        notes.append(f"the logged balancing is replayed through {bleed:g} Ohm bleed resistors")
    pack = bench_pack(base, cells=n, **changes)
    replay = Replay(pack, ("cell.voltage",))
    i, v, commands, dt = _blocks(record, commands)
    soc0 = _first_soc(pack, v[0], i[0])
    m = len(i) - 1

    def unpack(x):
        cells = x[:4 * n].reshape(4, n)
        return cells[0], cells[1], cells[2], cells[3], x[4 * n]

    def run(x):
        s0, q, rf, leak, offset = unpack(x)
        pack["cell.capacity"][:] = q
        pack["cell.resistance_factor"][:] = rf
        pack["cell.self_discharge"][:] = leak
        return replay.run(i - offset, dt, s0, 0.0, commands=commands)["cell.voltage"]

    def residuals(x):
        return 1000.0 * ((run(x) - v)[1:]).T.ravel() / np.sqrt(m)  # mV, so that the cost is O(1)

    x0 = np.r_[soc0, np.full(n, q_base), np.ones(n), np.zeros(n), 0.0]
    lb = np.r_[np.zeros(n), np.full(n, 0.5 * q_base), np.full(n, 0.2), np.zeros(n), -0.02 * q_base]
    ub = np.r_[np.ones(n), np.full(n, 1.5 * q_base), np.full(n, 5.0), np.full(n, 0.01 * q_base), 0.02 * q_base]
    xs = np.r_[np.full(n, 0.01), np.full(n, 0.01 * q_base), np.full(n, 0.05), np.full(n, 1e-4 * q_base), 1e-4 * q_base]
    # cell c's residual rows depend on its four parameters and on the common offset
    rows = sp.kron(sp.eye(n), np.ones((m, 1)))
    sparsity = sp.hstack([rows, rows, rows, rows, np.ones((n * m, 1))]).tocsr()
    result = least_squares(residuals, np.clip(x0, lb, ub), bounds=(lb, ub), x_scale=xs, jac_sparsity=sparsity,
                           tr_solver="lsmr", max_nfev=max_evaluations, ftol=1e-7, xtol=1e-7, diff_step=1e-6)
    s0, q, rf, leak, offset = unpack(result.x)
    names = [f"{k} {c}" for k in PER_CELL for c in range(n)] + ["current offset"]
    sig, cov = uncertainties(result, names, len(result.fun), covariance=True)
    rel = _contrast_sigmas(cov, n)  # of each cell's value minus the mean of all cells: SOC, capacity, R, leak

    values = dict(resized(base, n, record.temperature_cells).values)
    values.update({"cell.initial_soc": s0.tolist(), "cell.capacity": q.tolist(),
                   "cell.resistance_factor": rf.tolist(), "cell.self_discharge": leak.tolist(),
                   "sensor.current_offset": float(offset), "spread.capacity": 0.0, "spread.resistance": 0.0,
                   "spread.soc": 0.0, "spread.self_discharge": 0.0})
    pset = ParameterSet(values, "twin fit pack", ())
    outcome = FitOutcome(pset, findings=findings, notes=notes, kind="pack")
    med = {"q": np.median(q), "rf": np.median(rf), "s0": np.median(s0), "leak": np.median(leak)}
    for c in range(n):
        e = outcome.estimates
        e[f"cell {c} capacity"] = Estimate(100 * q[c] / med["q"], 100 * rel[1][c] / med["q"], "% of median")
        e[f"cell {c} R0"] = Estimate(100 * rf[c] / med["rf"], 100 * rel[2][c] / med["rf"], "% of median")
        e[f"cell {c} initial SOC"] = Estimate(100 * (s0[c] - med["s0"]), 100 * rel[0][c], "% SOC vs median")
        e[f"cell {c} self-discharge"] = Estimate(1000 * (leak[c] - med["leak"]), 1000 * rel[3][c], "mA vs median")
    outcome.estimates["current offset (common)"] = Estimate(1000 * offset, 1000 * sig["current offset"], "mA")
    outcome.per_cell = {"capacity_ah": q, "resistance_factor": rf, "initial_soc": s0, "self_discharge_a": leak}
    final = run(result.x)
    err = final - v
    for c in range(n):
        outcome.residuals[f"cell {c}"] = {"role": "fitted, absolute", "rmse_mv": rms_mv(err[1:, c]), "max_mv": max_mv(err[1:, c])}
    worst = int(np.argmax([outcome.residuals[f"cell {c}"]["rmse_mv"] for c in range(n)]))
    for c in sorted({0, worst}):
        outcome.traces[f"cell {c}"] = {"time": np.arange(len(v)) * dt, "measured": v[:, c], "fitted": final[:, c]}
    outcome.notes += _outliers(q, rf, s0, leak, record.duration)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _findings(record, q):
    from .fit_checks import Finding

    check_clipping(record.current, "current", record.path, "A")
    check_clipping(record.voltage, "cell voltage", record.path, "V")
    if record.duration < MIN_DURATION_S:
        raise FitError(f"{record.path}: {record.duration / 3600:.1f} h is too short to tell cells apart; a pack fit needs "
                       f"at least {MIN_DURATION_S / 3600:.0f} h with charge and discharge (days for self-discharge)")
    f = find_features(record.current, record.dt, q)
    out = []
    if len(f.steps) >= 3:
        out.append(Finding("R0 per cell", "identified", f"{len(f.steps)} pack current steps of >= {STEP_C_RATE:g}C"))
    else:
        out.append(Finding("R0 per cell", "not identified", f"fewer than 3 current steps of >= {STEP_C_RATE:g}C; needs load "
                                                            f"or charge steps (switching a load on and off does it)"))
    if f.soc_span >= 0.2:
        out.append(Finding("capacity per cell", "identified" if f.soc_span >= 0.4 else "weak",
                           f"the pack moved {100 * f.soc_span:.0f} % of its capacity; wider swings into the steep ends of "
                           f"the OCV identify it better"))
    else:
        out.append(Finding("capacity per cell", "not identified", f"the pack moved only {100 * f.soc_span:.0f} % of its "
                                                                  f"capacity; needs a swing of >= 20 % (a deeper cycle)"))
    days = record.duration / 86400.0
    out.append(Finding("self-discharge per cell", "identified" if days >= 2 else "weak",
                       f"{days:.1f} days of log; relative to the median cell (a current-sensor offset is common to all)"))
    out.append(Finding("initial SOC per cell", "identified", "from the voltages against the OCV"))
    notes = [] if record.balancing is not None else ["the log has no balancing channel: bleed currents are assumed zero"]
    return out, notes


def _contrast_sigmas(cov, n):
    """Standard errors of each cell's value minus the mean over cells, per kind of parameter."""
    out = []
    for kind in range(4):
        sig = []
        for c in range(n):
            w = np.zeros(cov.shape[0])
            w[kind * n:(kind + 1) * n] = -1.0 / n
            w[kind * n + c] += 1.0
            sig.append(float(np.sqrt(max(w @ cov @ w, 0.0))))
        out.append(np.array(sig))
    return out


def _first_soc(pack, v0, i0):
    """SOC of each cell from its first voltage (minus the R0 drop), by the kernel's OCV inversion."""
    temp = float(pack["pack.initial_temperature"])
    socs = []
    for c, vc in enumerate(v0):
        socs.append(pack.kernel.soc_from_ocv(float(vc), temp))
    return np.clip(np.array(socs), 0.02, 0.98)


def _blocks(record, commands):
    """(current, voltage, commands, dt) on blocks of BLOCK_S: current and voltage averaged over each block
    (sample 0 kept as the initial state), balancing by majority."""
    k = max(1, int(round(BLOCK_S / record.dt)))
    i, v = np.asarray(record.current, float), np.asarray(record.voltage, float)
    nb = (len(i) - 1) // k
    if k == 1 or nb < 10:
        return i, v, commands, record.dt
    cur = np.r_[i[0], i[1:1 + nb * k].reshape(nb, k).mean(axis=1)]
    volt = np.vstack([v[:1], v[1:1 + nb * k].reshape(nb, k, -1).mean(axis=1)])
    cmd = None
    if commands is not None:
        c = commands[1:1 + nb * k].reshape(nb, k, -1).mean(axis=1)
        cmd = np.vstack([commands[:1], np.round(c)])
    return cur, volt, cmd, record.dt * k


def _outliers(q, rf, s0, leak, duration_s):
    """Cells that stand out from their peers (beyond 4 median absolute deviations and a practical floor)."""
    out = []
    for name, x, floor, fmt in (("capacity", q / np.median(q) - 1, 0.02, "{:+.1%}"),
                                ("R0", rf / np.median(rf) - 1, 0.04, "{:+.0%}"),
                                ("self-discharge", (leak - np.median(leak)) * 1000, 1.0, "{:+.1f} mA")):
        dev = x - np.median(x)
        mad = 1.4826 * np.median(np.abs(dev)) + 1e-12
        for c in np.flatnonzero((np.abs(dev) > 4 * mad) & (np.abs(dev) > floor)):
            out.append(f"cell {c} stands out: {name} {fmt.format(x[c])} against the median cell")
    return out
