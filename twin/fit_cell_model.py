"""The cell model as the fit sees it: a parameter vector, the kernel replaying every record, and the
OCV solved inside each evaluation.

The kernel's cell (csrc/cell.h) with the OCV written as a mean curve and a hysteresis gap,

    v = mean(soc) + h/2 gap(soc) + R0(soc) i + sum_k v_k,     dv_k/dt = (R_k(soc) i - v_k) / tau_k

and the RC resistances shaped as

    R_k(soc) = b_k + l_k / (3600 Q) |d mean / d soc|

a series part b_k plus a part proportional to the OCV slope: charge that lags inside the electrodes
by l_k seconds of current shifts the voltage by the slope times that lag, so LFP/graphite
polarization is largest where the OCV is steep and nearly absent on its plateaus.

Given R0, the RC pairs and the hysteresis rate, the kernel's overpotential (v - ocv) and
hysteresis state do not depend on the OCV tables, and the voltage is linear in the OCV table
values. Each evaluation therefore replays the records once and solves mean and gap by a sparse
linear least squares (variable projection), with smoothness penalties: weak on the mean, strong on
the gap, since hysteresis changes slowly with SOC and what follows the slope is polarization.
scipy.optimize.least_squares adjusts the rest.
"""

from __future__ import annotations

import numpy as np

from .fit_model import SOC_GRID, Replay, bench_pack
from .fit_placement import replay_segments

R0_KNOTS = np.linspace(0.0, 1.0, 11)
LAMBDA_MEAN = 0.002  # curvature penalty of the mean OCV (V per unit SOC^2, relative to the data)
LAMBDA_GAP = 2.0  # the gap's, much stronger
RELATIVE_WEIGHT = 2.0  # pulse windows weigh double: they alone carry R0 and the fast pairs
R0_SMOOTHING = 0.3
OUTPUTS = ("cell.voltage", "cell.ocv", "cell.hysteresis", "cell.soc")


def interp_ext(x, grid, values):
    """Linear interpolation on a uniform grid, continued along the end segments (as the kernel does for OCV)."""
    x = np.asarray(x, dtype=float)
    y = np.interp(x, grid, values)
    lo, hi = x < grid[0], x > grid[-1]
    if lo.any():
        y[lo] = values[0] + (x[lo] - grid[0]) * (values[1] - values[0]) / (grid[1] - grid[0])
    if hi.any():
        y[hi] = values[-1] + (x[hi] - grid[-1]) * (values[-1] - values[-2]) / (grid[-1] - grid[-2])
    return y


def second_difference(n: int):
    import scipy.sparse as sp

    return sp.diags([np.ones(n - 2), -2 * np.ones(n - 2), np.ones(n - 2)], [0, 1, 2], shape=(n - 2, n))


def slope_shape(mean: np.ndarray) -> np.ndarray:
    """|d mean / d soc| on SOC_GRID, smoothed over 5 points (V per unit SOC)."""
    g = np.abs(np.gradient(mean, SOC_GRID))
    padded = np.r_[g[0], g[0], g, g[-1], g[-1]]
    return np.convolve(padded, np.ones(5) / 5, mode="valid")


def solve_ocv(soc, h, target):
    """(mean, gap) on SOC_GRID minimizing |mean(soc) + h/2 gap(soc) - target|^2 plus the penalties."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    n = len(SOC_GRID)
    s = np.clip(soc, 0.0, 1.0)
    step = SOC_GRID[1] - SOC_GRID[0]
    j = np.clip(np.floor(s / step).astype(int), 0, n - 2)
    w = (s - SOC_GRID[j]) / step
    m = len(s)
    g = h / 2.0
    rows = np.repeat(np.arange(m), 4)
    cols = np.c_[j, j + 1, n + j, n + j + 1].ravel()
    vals = np.c_[1 - w, w, (1 - w) * g, w * g].ravel()
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, 2 * n))
    D = second_difference(n)
    P = sp.block_diag([D * LAMBDA_MEAN, D * LAMBDA_GAP])
    ridge = sp.diags(np.r_[np.zeros(n), np.full(n, 1e-9)])
    M = (A.T @ A + m * (P.T @ P + ridge)).tocsc()
    x = spsolve(M, A.T @ target)
    mean, gap = x[:n], x[n:]
    # beyond the SOC the data reaches: the mean continues along its end slope (over the last 2 %),
    # the gap stays at its edge value
    lo, hi = int(np.searchsorted(SOC_GRID, s.min())), int(np.searchsorted(SOC_GRID, s.max(), side="right")) - 1
    lo, hi = min(lo, n - 3), max(hi, lo + 2)
    span = int(round(0.02 / step))
    if lo > 0:
        k = min(lo + span, hi)
        slope = max((mean[k] - mean[lo]) / (SOC_GRID[k] - SOC_GRID[lo]), 0.0)
        mean[:lo] = mean[lo] + (SOC_GRID[:lo] - SOC_GRID[lo]) * slope
        gap[:lo] = gap[lo]
    if hi < n - 1:
        k = max(hi - span, lo)
        slope = max((mean[hi] - mean[k]) / (SOC_GRID[hi] - SOC_GRID[k]), 0.0)
        mean[hi + 1:] = mean[hi] + (SOC_GRID[hi + 1:] - SOC_GRID[hi]) * slope
        gap[hi + 1:] = gap[hi]
    return mean, np.maximum(gap, 0.0)


class CellModel:
    """Parameter vector <-> kernel tables, and the residuals of all prepared records."""

    def __init__(self, base, capacity_ah: float, temperature: float, n_rc: int, r0_free, slope, prepared,
                 fixed_r0=None, fixed_ocv=None):
        self.capacity = capacity_ah
        self.n_rc = n_rc
        self.r0_free = np.asarray(r0_free, dtype=bool)  # which R0 knots the fit moves
        self.slope = slope
        self.prepared = prepared
        self.fixed_r0 = fixed_r0
        self.fixed_ocv = fixed_ocv
        self.mean = np.full(len(SOC_GRID), 3.3)
        self.gap = np.zeros(len(SOC_GRID))
        self.temperature = temperature
        tables = {"cell.table_soc": SOC_GRID.tolist(), "cell.table_temperature": [temperature],
                  "cell.ocv_charge": 3.3, "cell.ocv_discharge": 3.3, "cell.r0": 0.01}
        for k in range(1, 4):
            tables[f"cell.r{k}"] = 0.001 if k <= max(n_rc, 1) else None
            tables[f"cell.tau{k}"] = 10.0 * 10 ** k if k <= max(n_rc, 1) else None
        values = {k: v for k, v in {**base.values, **tables}.items() if v is not None}
        from .params import ParameterSet

        self.pset = ParameterSet(values, base.source, ())
        self.pack = bench_pack(self.pset, **{"cell.capacity": capacity_ah, "cell.coulombic_efficiency": 1.0})
        self.replay = Replay(self.pack, OUTPUTS)

    # --- the parameter vector -----------------------------------------------------------------------

    def names(self) -> list:
        knots = [f"R0 at SOC {s:.1f}" for s, f in zip(R0_KNOTS, self.r0_free) if f]
        rc = []
        for k in range(1, self.n_rc + 1):
            rc += [f"b{k}", f"l{k}", f"tau{k}"]
        return knots + rc + ["gamma"]

    def split(self, x):
        nk = int(self.r0_free.sum())
        knots = x[:nk]
        rc = np.reshape(x[nk:nk + 3 * self.n_rc], (self.n_rc, 3))
        gamma = float(x[nk + 3 * self.n_rc])
        return knots, rc, gamma

    def r0_table(self, knots) -> np.ndarray:
        if self.fixed_r0 is not None:
            return self.fixed_r0
        free = np.flatnonzero(self.r0_free)
        full = np.interp(R0_KNOTS, R0_KNOTS[free], knots)  # flat beyond the knots the data covers
        return np.interp(SOC_GRID, R0_KNOTS, full)

    def rc_tables(self, rc) -> list:
        out = []
        for b, lag, tau in rc:
            out.append((b + lag / (3600.0 * self.capacity) * self.slope, float(tau)))
        return out

    def tables(self, x) -> dict:
        """Spec ids -> values for the parameter file (ocv from the last solve)."""
        knots, rc, gamma = self.split(x)
        t = {"cell.ocv_charge": (self.mean + self.gap / 2).tolist(), "cell.ocv_discharge": (self.mean - self.gap / 2).tolist(),
             "cell.r0": self.r0_table(knots).tolist(), "cell.hysteresis_rate": gamma}
        for k, (r, tau) in enumerate(self.rc_tables(rc), start=1):
            t[f"cell.r{k}"] = np.maximum(r, 0.0).tolist()
            t[f"cell.tau{k}"] = tau
        return t

    def _load(self, x) -> None:
        knots, rc, gamma = self.split(x)
        ocv_c, ocv_d = self.mean + self.gap / 2, self.mean - self.gap / 2
        cols = [ocv_c, ocv_d, self.r0_table(knots)]
        rcs = self.rc_tables(rc)
        if not rcs:  # the kernel's table always has one pair; a zero one is no pair
            rcs = [(np.zeros(len(SOC_GRID)), 10.0)]
        cols += [np.maximum(r, 0.0) for r, _ in rcs] + [np.full(len(SOC_GRID), tau) for _, tau in rcs]
        values = np.stack(cols, axis=-1)[None, :, :]
        step = float(SOC_GRID[1] - SOC_GRID[0])
        self.pack.kernel.set_tables(values, 0.0, step, self.temperature, 1.0, len(rcs))
        self.pack.set("cell.hysteresis_rate", gamma)

    # --- residuals ------------------------------------------------------------------------------------

    def simulate(self, x):
        """Replay every record; returns per record dict(v, ocv, h, soc) at the record's samples."""
        self._load(x)
        outs = []
        for p in self.prepared:
            o = replay_segments(self.replay, p)
            outs.append({k.split(".")[1]: o[k][:, 0] for k in OUTPUTS})
        return outs

    def predict(self, outs):
        """Voltages with the present OCV tables, from the kernel's overpotential and hysteresis."""
        preds = []
        for o in outs:
            eta = o["voltage"] - o["ocv"]
            preds.append(interp_ext(o["soc"], SOC_GRID, self.mean) + o["hysteresis"] / 2 * np.interp(o["soc"], SOC_GRID, self.gap) + eta)
        return preds

    def update_ocv(self, outs) -> None:
        if self.fixed_ocv is not None:
            self.mean, self.gap = self.fixed_ocv
            return
        soc, h, target = [], [], []
        for p, o in zip(self.prepared, outs):
            if p.role != "absolute":
                continue
            m = p.ocv_mask
            soc.append(o["soc"][m])
            h.append(o["hysteresis"][m])
            target.append(p.voltage[m] - (o["voltage"] - o["ocv"])[m])
        if soc:
            self.mean, self.gap = solve_ocv(np.concatenate(soc), np.concatenate(h), np.concatenate(target))

    def residuals(self, x) -> np.ndarray:
        outs = self.simulate(x)
        self.update_ocv(outs)
        parts = []
        for p, pred in zip(self.prepared, self.predict(outs)):
            parts.append(self.record_residual(p, pred) * p.weight)
        knots, _, _ = self.split(x)
        if len(knots) >= 3:
            parts.append(R0_SMOOTHING * np.diff(knots, 2))
        return 1000.0 * np.concatenate(parts)  # mV, so that the cost is O(1) and scipy's tolerances mean something

    @staticmethod
    def record_residual(p, pred) -> np.ndarray:
        if p.role == "absolute":
            return (pred - p.voltage)[p.fit_mask]
        ref = p.window_ref[p.fit_mask]
        return ((pred[p.fit_mask] - pred[ref]) - (p.voltage[p.fit_mask] - p.voltage[ref]))
