"""The kernel as the model inside the fits: a test bench pack, record replay, and what a fit returns.

The bench is the parameter set under test with everything that is not the cell switched off:
no spread, ageing, self-discharge or balancing (unless asked), protection thresholds at their
limits so the logged current always flows. A record's sample k is the state after the current
of sample k has flowed for one period (docs/conventions.md: a step leaves the outputs at its end).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import FitError
from .pack import Pack
from .params import ParameterSet
from .spec import load_spec

SOC_GRID = np.round(np.linspace(0.0, 1.0, 101), 10)

BENCH = {
    "spread.capacity": 0.0, "spread.resistance": 0.0, "spread.soc": 0.0, "spread.self_discharge": 0.0,
    "ageing.capacity_fade_per_cycle": 0.0, "ageing.capacity_fade_per_year": 0.0,
    "balancer.topology": "none",
    "protection.cell_overvoltage": 10.0, "protection.cell_overvoltage_release": 9.9,
    "protection.cell_undervoltage": 0.0, "protection.cell_undervoltage_release": 0.1,
    "protection.charge_overcurrent": 1e6, "protection.discharge_overcurrent": 1e6,
    "protection.charge_overtemperature": 300.0, "protection.charge_overtemperature_release": 290.0,
    "protection.discharge_overtemperature": 300.0, "protection.discharge_overtemperature_release": 290.0,
    "protection.charge_undertemperature": -100.0, "protection.charge_undertemperature_release": -95.0,
    "protection.discharge_undertemperature": -100.0, "protection.discharge_undertemperature_release": -95.0,
    "cell.hysteresis_instantaneous": 0.0,
}


def resized(params: ParameterSet, cells: int, sensors=None) -> ParameterSet:
    """The set for a pack of `cells` in series; temperature sensors from the log, or kept where they still fit
    (else the default placement)."""
    values = dict(params.values)
    values["pack.cells_in_series"] = int(cells)
    old = values.get("pack.temperature_sensors")
    if sensors:
        values["pack.temperature_sensors"] = [int(c) for c in sensors]
    elif old is not None and any(int(c) >= cells for c in old):
        values.pop("pack.temperature_sensors")
    for key, value in list(values.items()):
        if key.startswith("cell.") and isinstance(value, list) and key not in TABLE_KEYS and len(value) != cells:
            values[key] = float(np.mean(value))
    return ParameterSet(values, params.source, params.faults)


TABLE_KEYS = {"cell.table_soc", "cell.table_temperature", "cell.ocv_charge", "cell.ocv_discharge", "cell.r0", "cell.r1",
              "cell.r2", "cell.r3", "cell.tau1", "cell.tau2", "cell.tau3"}


def require_scipy():
    try:
        import scipy.optimize  # noqa: F401
        import scipy.sparse  # noqa: F401
    except ImportError:
        raise FitError("twin fit needs scipy: pip install 'twin[fit]'") from None


def bench_pack(params: ParameterSet, cells: int = 1, **changes) -> Pack:
    return Pack(resized(params, cells), **{**BENCH, **changes})


class Replay:
    """Runs a record's current through a bench pack and records chosen outputs."""

    def __init__(self, pack: Pack, outputs=("cell.voltage",)):
        spec = load_spec()
        self.pack = pack
        self.outputs = outputs
        self.vrs = [spec[o].vr for o in outputs]

    def run(self, current, dt: float, initial_soc, initial_hysteresis: float = 0.0, ambient: float | None = None,
            commands=None) -> dict:
        """Outputs at every sample (sample 0 is the initial state), each (samples, cells)."""
        pack = self.pack
        pack["cell.initial_soc"][:] = np.broadcast_to(np.clip(np.asarray(initial_soc, dtype=float), 0.0, 1.0), (pack.n,))
        pack.set("cell.initial_hysteresis", float(np.clip(initial_hysteresis, -1.0, 1.0)))
        if ambient is not None:
            pack.set("pack.initial_temperature", float(ambient))
            pack.set("pack.ambient_temperature", float(ambient))
        pack.reset()
        n = len(current) - 1
        bufs = [np.empty((n, pack.n)) for _ in self.vrs]
        initial = [np.array(pack.kernel.array(vr), dtype=float) for vr in self.vrs]
        pack.kernel.run(dt, n, current=np.ascontiguousarray(current[1:], dtype=float),
                        commands=None if commands is None else np.ascontiguousarray(commands[1:], dtype=float),
                        records=list(zip(self.vrs, bufs)))
        return {o: np.vstack([i0[None, :], b]) for o, i0, b in zip(self.outputs, initial, bufs)}


@dataclass
class Estimate:
    """A fitted scalar with its standard uncertainty (NaN when not computed)."""

    value: float
    sigma: float = float("nan")
    unit: str = ""
    note: str = ""


@dataclass
class FitOutcome:
    """What a fit hands to the report and the parameter file."""

    params: ParameterSet
    estimates: dict = field(default_factory=dict)  # name -> Estimate
    findings: list = field(default_factory=list)  # twin.fit_checks.Finding
    residuals: dict = field(default_factory=dict)  # record name -> dict(rmse_mv, max_mv, what)
    traces: dict = field(default_factory=dict)  # record name -> dict(time, measured, fitted) for plots
    tables: dict = field(default_factory=dict)  # name -> (soc, values) for plots
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    kind: str = "cell"
    ocv_mean: np.ndarray = None  # the fitted mean OCV on SOC_GRID (cell fits), to place records by their rests


def uncertainties(result, names, residual_count: int, residual=None, covariance: bool = False):
    """Standard errors from the final Jacobian of a scipy least_squares result.

    The residual variance is scaled up for serial correlation (effective sample count from the lag-1
    autocorrelation), since neighbouring samples of a log are far from independent; model mismatch
    is still not accounted for, so read them as lower bounds."""
    J = np.asarray(result.jac.todense() if hasattr(result.jac, "todense") else result.jac)
    r = np.asarray(result.fun if residual is None else residual)
    m, n = J.shape
    dof = max(m - n, 1)
    s2 = float(np.sum(result.fun ** 2)) / dof
    rho = 0.0
    if len(r) > 2 and np.std(r) > 0:
        rho = float(np.clip(np.corrcoef(r[:-1], r[1:])[0, 1], 0.0, 0.999))
    s2 *= (1.0 + rho) / (1.0 - rho)
    try:
        cov = np.linalg.pinv(J.T @ J) * s2
    except np.linalg.LinAlgError:
        cov = np.full((n, n), np.nan)
    sig = dict(zip(names, np.sqrt(np.clip(np.diag(cov), 0.0, None))))
    return (sig, cov) if covariance else sig


def rms_mv(e) -> float:
    e = np.asarray(e, dtype=float)
    e = e[np.isfinite(e)]
    return float(1000.0 * np.sqrt(np.mean(e ** 2))) if e.size else float("nan")


def max_mv(e) -> float:
    e = np.asarray(e, dtype=float)
    e = e[np.isfinite(e)]
    return float(1000.0 * np.max(np.abs(e))) if e.size else float("nan")
