"""Lumped thermal model against closed forms."""

import numpy as np
import pytest

from twin import Pack

from .conftest import simple_params

R_AMB, C_TH = 4.0, 500.0


def _thermal_pack(cells, **extra):
    return Pack(simple_params(cells=cells, **{
        "cell.r1": 0.0, "cell.thermal_resistance_ambient": R_AMB, "cell.heat_capacity": C_TH,
        "pack.busbar_resistance": 0.0, "cell.initial_soc": 0.5,
        # keep the BMS from stopping the current: these tests are about heat flow
        "protection.charge_overtemperature": 200.0, "protection.charge_overtemperature_release": 190.0,
        "protection.discharge_overtemperature": 200.0, "protection.discharge_overtemperature_release": 190.0,
        **extra}))


def _square_wave(amps, steps):
    return np.where(np.arange(steps) % 2 == 0, amps, -amps)


def test_uniform_pack_settles_at_ambient_plus_heat_times_resistance():
    """Identical cells exchange no heat with each other: T = T_amb + I^2 R0 R_amb."""
    pack = _thermal_pack(5)
    r = pack.run(_square_wave(100.0, 80000), 1.0)
    expected = 25.0 + 100.0**2 * 1e-3 * R_AMB
    np.testing.assert_allclose(r["cell.temperature"][-1], expected, rtol=1e-9)


@pytest.mark.parametrize("dt", [0.5, 10.0, 600.0])
def test_single_cell_heats_along_the_exact_exponential(dt):
    pack = _thermal_pack(1)
    r = pack.run(_square_wave(60.0, int(6000 / dt)), dt)
    t = r.time
    t_ss = 25.0 + 60.0**2 * 1e-3 * R_AMB
    expected = t_ss + (25.0 - t_ss) * np.exp(-t / (R_AMB * C_TH))
    np.testing.assert_allclose(r["cell.temperature"][:, 0], expected, rtol=0, atol=1e-9)


def test_heated_cell_warms_its_neighbours_as_the_network_says():
    """One cell with extra series resistance: steady state of the conduction network."""
    r_nb = 0.5
    pack = _thermal_pack(3, **{"pack.thermal_resistance_neighbor": r_nb, "fault.series_resistance": [0.0, 4e-3, 0.0]})
    r = pack.run(_square_wave(50.0, 60000), 1.0)
    q = 50.0**2 * np.array([1e-3, 5e-3, 1e-3])
    g_amb, g_nb = 1 / R_AMB, 1 / r_nb
    a = np.array([[g_amb + g_nb, -g_nb, 0], [-g_nb, g_amb + 2 * g_nb, -g_nb], [0, -g_nb, g_amb + g_nb]])
    expected = 25.0 + np.linalg.solve(a, q)
    np.testing.assert_allclose(r["cell.temperature"][-1], expected, rtol=1e-7)
    assert r["cell.temperature"][-1, 1] > r["cell.temperature"][-1, 0]


def test_large_steps_stay_stable():
    pack = _thermal_pack(8, **{"pack.thermal_resistance_neighbor": 1e-3, "cell.heat_capacity": 1.0})
    r = pack.run(np.full(50, 10.0), 3600.0)
    assert np.all(np.isfinite(r["cell.temperature"]))
    assert np.all(np.abs(r["cell.temperature"] - 25.0) < 10.0)


def test_bleed_resistor_heats_its_cell():
    socs = [0.5, 0.5, 0.9, 0.5]
    pack = _thermal_pack(4, **{"cell.initial_soc": socs, "balancer.topology": "passive", "balancer.mode": "always",
                               "balancer.start_voltage": 0.0, "balancer.bleed_resistance": 1.0,
                               "balancer.bleed_heat_fraction": 1.0, "pack.thermal_resistance_neighbor": 1e6})
    r = pack.run(np.zeros(3000), 1.0)
    assert r["balancer.bleed_current"][1:, 2].min() > 3.0
    assert r["cell.temperature"][-1, 2] > r["cell.temperature"][-1, 0] + 1.0
    # the bleed current also flows through the cell's own R0
    expected_heat = r["balancer.bleed_current"][-1, 2] ** 2 * (1.0 + 1e-3)
    assert r["cell.heat"][-1, 2] == pytest.approx(expected_heat, rel=1e-9)
