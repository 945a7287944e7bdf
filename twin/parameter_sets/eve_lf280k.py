"""EVE LF280K-class 280 Ah LFP prismatic cell in a 16S1P pack with a passive-balancing BMS.

Sources, value by value (DOMAIN.md collects the measured figures):

====================================  =========================  ================================================
key                                   value                      source
====================================  =========================  ================================================
pack.cells_in_series                  16                         the DIY 16S home pack, 51.2 V (DOMAIN.md)
pack.cells_in_parallel                1
cell.capacity                         280 Ah                     EVE LF280K datasheet nominal (a 0.5C test gave
                                                                 273.2 Ah; set 273.2 to match that cell)
cell.initial_soc                      0.5                        a pack stored half full
cell.table_soc, cell.table_temperature  0..1 by 0.01; -15..55    grid for the tables below
                                      degC by 10
cell.ocv_charge, cell.ocv_discharge   curve below                constructed from the LFP facts in DOMAIN.md:
                                                                 plateau 3.25-3.35 V between ~20 % and ~90 % SOC,
                                                                 steep knees below ~10 % and above ~95 %,
                                                                 branches 48 mV apart in the plateau so that a
                                                                 C/20 cycle (adding about 2 x 6 mV of
                                                                 polarization) shows the 58-70 mV gap measured
                                                                 on EVE280 cells. Not a measured EVE curve:
                                                                 identify yours with ``twin fit``.
cell.r0                               0.175 mOhm at 25 degC,     DC R0 from 0.8C pulse edges, 0.17-0.18 mOhm
                                      mid-SOC                    (Zhang et al., ITEC 2022, in DOMAIN.md); rising
                                                                 towards empty (assumed shape, x1.5 at 0 % SOC)
cell.r1, cell.tau1                    0.08 mOhm, 20 s            assumed: the "seconds" RC pair of the usual
                                                                 2-RC LFP model (DOMAIN.md)
cell.r2, cell.tau2                    0.12 mOhm, 1200 s          assumed: the "tens of minutes" pair (DOMAIN.md)
(resistances vs temperature)          exp(3000 K (1/T - 1/Tref))  assumed Arrhenius factor (about x2.5 at 0 degC,
                                                                 x0.5 at 45 degC); time constants held
cell.hysteresis_rate                  20                         assumed: a reversal crosses from one branch to
                                                                 the other within ~5 % SOC (e-folding 1/20 of Q)
cell.hysteresis_instantaneous         0 V                        one-state dynamic hysteresis only
cell.coulombic_efficiency             1                          LFP is above 99.9 %; set yours to see drift
cell.heat_capacity                    5490 J/K                   mass 5.49 kg (EVE LF280K datasheet) x an assumed
                                                                 specific heat of 1000 J/(kg K)
cell.thermal_resistance_ambient       4 K/W                      assumed: natural convection, h ~ 5 W/(m2 K) over
                                                                 the ~0.05 m2 of a packed cell that sees air
pack.thermal_resistance_neighbor      0.1 K/W                    assumed: 174 x 207 mm faces pressed through two
                                                                 0.3 mm insulating films (k ~ 0.2 W/(m K))
pack.initial_temperature              25 degC                    room temperature
pack.busbar_resistance                0.1 mOhm                   assumed: 2 x 20 mm copper over 100 mm
                                                                 (0.04 mOhm) plus two bolted contacts
cell.self_discharge                   11.5 mA                    assumed 3 % of capacity per month, the order
                                                                 LFP cell datasheets state
ageing.capacity_fade_per_cycle        3.3e-5                     20 % over 6,000 cycles to 80 % (EVE LF280K
                                                                 datasheet cycle life class)
ageing.capacity_fade_per_year         0.02                       assumed order of LFP calendar fade at 25 degC
                                                                 (the linear law simplifies the square-root law
                                                                 of Naumann et al., J. Energy Storage 17, 2018)
spread.capacity, spread.resistance,   1 %, 5 %, 1 %, 20 %        assumed for a pack of matched grade-A cells
spread.soc, spread.self_discharge
spread.seed                           1                          any fixed seed: the same pack every run
balancer.topology, balancer.policy,   passive, voltage_delta,    ~100 mA at 3.3 V, inside the 30-200 mA range of
balancer.bleed_resistance             33 Ohm                     passive balancers (DOMAIN.md)
protection.charge_overcurrent,        1C                         Libre Solar bms-firmware default (DOMAIN.md)
protection.discharge_overcurrent
limits.max_charge_current             0.5C                       EVE LF280K datasheet standard charge rate
limits.max_discharge_current          1C                         EVE LF280K datasheet continuous discharge
(everything else)                     spec start values          twin/spec.toml (Libre Solar, foxBMS, JK defaults)
====================================  =========================  ================================================
"""

from __future__ import annotations

import numpy as np

NAME = "eve_lf280k_16s"

# SOC knots of the mean OCV (V) and of half the charge-discharge branch gap (V).
_OCV_KNOTS = [
    (0.00, 2.500), (0.01, 2.800), (0.02, 2.980), (0.03, 3.070), (0.05, 3.150), (0.08, 3.190),
    (0.10, 3.205), (0.15, 3.235), (0.20, 3.255), (0.30, 3.272), (0.40, 3.282), (0.50, 3.288),
    (0.60, 3.295), (0.65, 3.305), (0.70, 3.318), (0.80, 3.325), (0.90, 3.332), (0.95, 3.342),
    (0.97, 3.352), (0.98, 3.365), (0.99, 3.390), (1.00, 3.450),
]
_HALF_GAP_KNOTS = [(0.00, 0.005), (0.05, 0.012), (0.10, 0.018), (0.20, 0.024), (0.90, 0.024), (0.95, 0.015), (1.00, 0.005)]
# relative rise of every resistance towards empty (assumed shape)
_R_SHAPE_KNOTS = [(0.00, 1.5), (0.05, 1.2), (0.10, 1.09), (0.20, 1.0), (0.90, 1.0), (1.00, 1.03)]

SOC = np.round(np.linspace(0.0, 1.0, 101), 10)
TEMPERATURES = [-15.0, -5.0, 5.0, 15.0, 25.0, 35.0, 45.0, 55.0]  # degC, evenly spaced, 25 on the grid
ARRHENIUS_K = 3000.0
T_REF = 25.0


def _interp(knots):
    x, y = zip(*knots)
    return np.interp(SOC, x, y)


def _resistance_table(r_25c_ohm: float) -> list:
    shape = _interp(_R_SHAPE_KNOTS)
    rows = []
    for t in TEMPERATURES:
        factor = np.exp(ARRHENIUS_K * (1.0 / (t + 273.15) - 1.0 / (T_REF + 273.15)))
        rows.append((r_25c_ohm * shape * factor).tolist())
    return rows


def parameters() -> dict:
    mean = _interp(_OCV_KNOTS)
    half_gap = _interp(_HALF_GAP_KNOTS)
    return {
        "pack.cells_in_series": 16,
        "pack.cells_in_parallel": 1,
        "pack.busbar_resistance": 0.1e-3,
        "pack.thermal_resistance_neighbor": 0.1,
        "pack.initial_temperature": 25.0,
        "cell.capacity": 280.0,
        "cell.initial_soc": 0.5,
        "cell.self_discharge": 280.0 * 0.03 / (30.4 * 24.0),
        "cell.coulombic_efficiency": 1.0,
        "cell.hysteresis_rate": 20.0,
        "cell.hysteresis_instantaneous": 0.0,
        "cell.heat_capacity": 5.49 * 1000.0,
        "cell.thermal_resistance_ambient": 4.0,
        "cell.table_soc": SOC.tolist(),
        "cell.table_temperature": TEMPERATURES,
        "cell.ocv_charge": (mean + half_gap).tolist(),
        "cell.ocv_discharge": (mean - half_gap).tolist(),
        "cell.r0": _resistance_table(0.175e-3),
        "cell.r1": _resistance_table(0.08e-3),
        "cell.tau1": 20.0,
        "cell.r2": _resistance_table(0.12e-3),
        "cell.tau2": 1200.0,
        "ageing.capacity_fade_per_cycle": 0.2 / 6000.0,
        "ageing.capacity_fade_per_year": 0.02,
        "spread.capacity": 0.01,
        "spread.resistance": 0.05,
        "spread.soc": 0.01,
        "spread.self_discharge": 0.2,
        "spread.seed": 1,
        "balancer.topology": "passive",
        "balancer.policy": "voltage_delta",
        "balancer.bleed_resistance": 33.0,
        "protection.charge_overcurrent": "1C",
        "protection.discharge_overcurrent": "1C",
        "limits.max_charge_current": "0.5C",
        "limits.max_discharge_current": "1C",
    }
