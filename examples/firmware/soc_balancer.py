"""soc_balancer.py: an SOC-based balancing BMS firmware in Python, in the loop of `twin validate`.

    twin validate --firmware examples/firmware/soc_balancer.py:SocBalancer \\
        --scenarios examples/validation/scenarios/rests.toml --limits examples/validation/limits.toml

Balancing follows foxBMS 2's SOC ("history") strategy (DOMAIN.md): after the pack has rested, read
each cell's open-circuit voltage, turn it into SOC with the cell's OCV table, work out each cell's
charge surplus over the lowest cell, and bleed it off, counting the bled charge as V / R_bleed
every period until the surplus is gone. Two changes a careful port makes: it reads SOC only where
the LFP curve is steep (at the top of charge, above 3.37 V; on the flat plateau a millivolt of
noise is several per cent of SOC) and it never switches on two neighbouring bleed resistors (the
bq769x0 rule). Protection and the inverter limits are those of voltage_delta.c (Libre Solar
bms-firmware LFP defaults, DOMAIN.md), written again in Python.

The OCV table is the charge branch of the EVE LF280K curve near full (twin's eve_lf280k_16s
parameter set, which says how it was made); a real port would take it from the cell maker.
"""

from __future__ import annotations

import math

import numpy as np

from twin.firmware import Decision

CAPACITY_AH = 280.0
BLEED_OHM = 33.0                     # the board's bleed resistors
REST_CURRENT, REST_S = 0.05, 2 * 3600.0  # A, s: a rest long enough to read OCV (a charger holding
#                                          CVL keeps a small current flowing: that is no rest)
KNEE_V = 3.37                        # read SOC only above this (the steep top of the curve)
SOC_START = 0.002                    # bleed a surplus above 0.2 % of capacity
OCV_SOC = np.array([0.95, 0.97, 0.98, 0.99, 1.00, 1.02])        # the last point: the curve's slope
OCV_CHARGE = np.array([3.357, 3.363, 3.374, 3.397, 3.455, 3.571])  # carried on past full
CELL_CHARGE_VOLTAGE = 3.55
CCL_STEPS = ((3.30, 1.0), (3.45, 0.5), (3.50, 0.05), (3.55, 0.0))
DCL_STEPS = ((3.00, 1.0), (2.90, 0.5), (2.80, 0.1), (2.70, 0.0))


class Channel:
    """Trips once its reading has stayed past the limit for the delay, releases past the release
    value once tripped for the recovery time (NaN: no reading, no trip)."""

    def __init__(self, limit, release, delay, recovery=0.0, over=True, charge_side=True):
        self.limit, self.release, self.delay, self.recovery = limit, release, delay, recovery
        self.over, self.charge_side = over, charge_side
        self.held, self.tripped, self.tripped_for = -1.0, False, 0.0

    def update(self, value: float, dt: float) -> bool:
        if not self.tripped:
            seen = not math.isnan(value) and (value > self.limit if self.over else value < self.limit)
            self.held = (0.0 if self.held < 0 else self.held + dt) if seen else -1.0
            if seen and self.held >= self.delay - 1e-9:
                self.tripped, self.tripped_for = True, 0.0
        else:
            self.tripped_for += dt
            released = math.isnan(value) or (value < self.release if self.over else value > self.release)
            if released and self.tripped_for >= self.recovery - 1e-9:
                self.tripped, self.held = False, -1.0
        return self.tripped


class SocBalancer:
    """One instance per scenario: twin calls SocBalancer(n_cells), then the instance each period."""

    name = "soc_balancer 1.0"
    period = 1.0

    def __init__(self, n_cells: int):
        c = CAPACITY_AH
        self.n = n_cells
        self.channels = {
            "ov": Channel(3.65, 3.40, 2.0), "uv": Channel(2.50, 3.10, 2.0, over=False, charge_side=False),
            "chg_oc": Channel(c, c, 0.32, 60.0), "dsg_oc": Channel(c, c, 0.32, 60.0, charge_side=False),
            "chg_ot": Channel(45.0, 40.0, 2.0), "chg_ut": Channel(0.0, 5.0, 2.0, over=False),
            "dsg_ot": Channel(45.0, 40.0, 2.0, charge_side=False),
            "dsg_ut": Channel(-20.0, -15.0, 2.0, over=False, charge_side=False),
        }
        self.rest_s = 0.0
        self.surplus_as = np.zeros(n_cells)   # charge still to bleed from each cell, A s
        self.bleeding = np.zeros(n_cells, dtype=int)

    def __call__(self, r) -> Decision:
        v, t = r.cell_voltage, r.cell_temperature[~np.isnan(r.cell_temperature)]
        vmax, vmin = float(v.max()), float(v.min())
        tmax, tmin = (float(t.max()), float(t.min())) if t.size else (math.nan, math.nan)
        readings = {"ov": vmax, "uv": vmin, "chg_oc": r.pack_current, "dsg_oc": -r.pack_current,
                    "chg_ot": tmax, "chg_ut": tmin, "dsg_ot": tmax, "dsg_ut": tmin}
        charge_ok = discharge_ok = True
        for key, ch in self.channels.items():
            if ch.update(readings[key], r.dt):
                if ch.charge_side:
                    charge_ok = False
                else:
                    discharge_ok = False

        # count down what was bled over the last period, then read a new surplus after a rest
        if self.bleeding.any():
            self.surplus_as = np.maximum(self.surplus_as - self.bleeding * v / BLEED_OHM * r.dt, 0.0)
        self.rest_s = self.rest_s + r.dt if abs(r.pack_current) < REST_CURRENT else 0.0
        if self.rest_s >= REST_S and not self.surplus_as.any() and v.mean() > KNEE_V:
            soc = np.interp(v, OCV_CHARGE, OCV_SOC)
            self.surplus_as = np.where(soc - soc.min() > SOC_START, (soc - soc.min()) * CAPACITY_AH * 3600.0, 0.0)
        balance = np.zeros(self.n, dtype=int)
        if self.surplus_as.any() and not (tmax > 50.0):
            for i in np.argsort(-self.surplus_as, kind="stable"):
                if self.surplus_as[i] <= 0:
                    break
                if (i > 0 and balance[i - 1]) or (i + 1 < self.n and balance[i + 1]):
                    continue
                balance[i] = 1
        self.bleeding = balance

        cvl = CELL_CHARGE_VOLTAGE * self.n
        if vmax > CELL_CHARGE_VOLTAGE:  # hold the highest cell, not the average, at the target
            cvl = min(cvl, float(v.sum()) - (vmax - CELL_CHARGE_VOLTAGE))
        ccl = 0.5 * CAPACITY_AH * _step(vmax, CCL_STEPS, rising=True) if charge_ok else 0.0
        dcl = 1.0 * CAPACITY_AH * _step(vmin, DCL_STEPS, rising=False) if discharge_ok else 0.0
        if tmin < 0.0 or tmax > 45.0:
            ccl = 0.0
        return Decision(balance=balance, charge_enable=charge_ok, discharge_enable=discharge_ok, cvl=max(cvl, 0.0),
                        ccl=ccl, dcl=dcl)


def _step(v: float, steps, rising: bool) -> float:
    fraction = 1.0
    for at, f in steps:
        if (v >= at) if rising else (v <= at):
            fraction = f
    return fraction
