"""Heat capacity and thermal resistance to ambient from the logged cell temperature, when the tests
warm the cell enough to see it.

The kernel's lumped node (C dT/dt = heat + (T_amb - T) / R_amb) with the fitted electrical model
as the heat source (ohmic and polarization losses); scipy.optimize.least_squares adjusts C and
R_amb so the replayed temperature follows the logged one. The ambient is taken as the temperature
the record starts at. Below a warming of MIN_RISE_K nothing is identified: the sensor's noise and
rounding would be all there is to fit.
"""

from __future__ import annotations

import numpy as np

from .fit_checks import Finding
from .fit_model import Estimate, Replay, bench_pack, uncertainties

MIN_RISE_K = 1.0
SMOOTH_S = 300.0


def _smooth(x, dt):
    w = max(1, int(round(SMOOTH_S / dt)))
    pad = np.r_[np.full(w // 2, x[0]), x, np.full(w - 1 - w // 2, x[-1])]
    return np.convolve(pad, np.ones(w) / w, mode="valid")


def fit_thermal(pset, records, initial_socs) -> tuple[dict, Finding, dict]:
    """(changes to the parameter set, finding, estimates)."""
    from scipy.optimize import least_squares

    usable = [(r, s) for r, s in zip(records, initial_socs) if r.temperature is not None and 0 in r.temperature_cells]
    if not usable:
        return {}, Finding("thermal", "not identified", "no cell temperature in the data; log it during >= 20 min at >= 1C "
                                                        "to identify heat capacity and cooling"), {}
    rises = []
    for r, _ in usable:
        t = _smooth(r.temperature[:, r.temperature_cells.index(0)], r.dt)
        rises.append(float(t.max() - np.median(t[: max(1, int(SMOOTH_S / r.dt))])))
    if max(rises) < MIN_RISE_K:
        return {}, Finding("thermal", "not identified",
                           f"the tests warm the cell by at most {max(rises):.1f} K, below the {MIN_RISE_K:g} K needed over "
                           "the sensor's noise; kept from the base set. A test with >= 20 min at >= 1C and the cell "
                           "temperature logged identifies heat capacity and cooling"), {}
    pack = bench_pack(pset)
    replay = Replay(pack, ("cell.temperature",))
    data = []
    for r, soc0 in usable:
        temp = r.temperature[:, r.temperature_cells.index(0)]
        ambient = float(np.median(temp[: max(1, int(SMOOTH_S / r.dt))]))
        keep = np.arange(len(temp)) % max(1, int(round(10.0 / r.dt))) == 0
        data.append((r, soc0, temp, ambient, keep))

    def residuals(x):
        pack.set("cell.heat_capacity", float(np.exp(x[0])))
        pack.set("cell.thermal_resistance_ambient", float(np.exp(x[1])))
        out = []
        for r, soc0, temp, ambient, keep in data:
            sim = replay.run(r.current, r.dt, soc0, 0.0, ambient=ambient)["cell.temperature"][:, 0]
            out.append((sim - temp)[keep] / np.sqrt(keep.sum()))
        return np.concatenate(out)

    x0 = np.log([float(pset["cell.heat_capacity"]), float(pset["cell.thermal_resistance_ambient"])])
    result = least_squares(residuals, x0, bounds=(x0 - 5.0, x0 + 5.0), max_nfev=60)
    sig = uncertainties(result, ["log C", "log R"], len(result.fun))
    c, r_amb = np.exp(result.x)
    rms = float(np.sqrt(np.mean(result.fun ** 2) * len(data)))
    est = {"heat capacity": Estimate(float(c), float(c * sig["log C"]), "J/K"),
           "thermal resistance to ambient": Estimate(float(r_amb), float(r_amb * sig["log R"]), "K/W")}
    finding = Finding("thermal", "identified", f"the tests warm the cell by up to {max(rises):.1f} K; temperature "
                                               f"residual {rms:.2f} K RMS")
    return {"cell.heat_capacity": float(c), "cell.thermal_resistance_ambient": float(r_amb)}, finding, est
