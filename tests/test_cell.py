"""Cell physics against closed forms: RC step response, hysteresis, OCV bounds, stepping."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from twin import Pack

from .conftest import simple_params


def _constant_current(pack, current, seconds, dt):
    n = int(round(seconds / dt))
    return pack.run(np.full(n, current), dt)


@pytest.mark.parametrize("dt", [0.1, 1.0, 7.5])
def test_rc_step_response_is_exact_for_any_step(dt):
    """v(t) = OCV(soc(t)) + R0 I + R1 I (1 - exp(-t / tau)) for a current step from rest."""
    pack = Pack(simple_params(cells=2, **{"cell.initial_soc": 0.5}))
    current, q_as = 50.0, 100.0 * 3600.0
    r = _constant_current(pack, current, 300.0, dt)
    t = r.time
    soc = 0.5 + current * t / q_as
    expected = 3.0 + 0.5 * soc + 1e-3 * current + 2e-3 * current * (1.0 - np.exp(-t / 30.0))
    expected[0] = 3.0 + 0.5 * 0.5  # at rest before the step
    np.testing.assert_allclose(r["cell.voltage"][:, 0], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r["cell.soc"][:, 1], soc, rtol=0, atol=1e-12)  # summed round-off


def test_rc_relaxation_after_a_pulse_is_exact():
    pack = Pack(simple_params(cells=1, **{"cell.initial_soc": 0.5}))
    pulse = _constant_current(pack, -80.0, 60.0, 1.0)
    v_rc_end = pulse["cell.rc_voltage_1"][-1, 0]
    rest = _constant_current(pack, 0.0, 120.0, 1.0)
    t = rest.time - rest.time[0]
    np.testing.assert_allclose(rest["cell.rc_voltage_1"][:, 0], v_rc_end * np.exp(-t / 30.0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(v_rc_end, -80.0 * 2e-3 * (1 - np.exp(-60.0 / 30.0)), rtol=1e-12)


def test_hysteresis_follows_its_exact_solution():
    """dh/dt = -|I gamma / Q| (h - sgn I): h(t) = 1 + (h0 - 1) exp(-I gamma t / Q) while charging."""
    gamma, current = 30.0, 40.0
    params = simple_params(cells=1, **{"cell.hysteresis_rate": gamma, "cell.initial_hysteresis": -1.0,
                                        "cell.ocv_charge": [3.05, 3.55], "cell.initial_soc": 0.2})
    pack = Pack(params)
    r = _constant_current(pack, current, 600.0, 1.0)
    h = 1.0 - 2.0 * np.exp(-current * gamma * r.time / (100.0 * 3600.0))
    np.testing.assert_allclose(r["cell.hysteresis"][:, 0], h, rtol=0, atol=1e-13)
    # the OCV is the discharge branch plus (1 + h)/2 of the gap
    soc = r["cell.soc"][:, 0]
    np.testing.assert_allclose(r["cell.ocv"][:, 0], 3.0 + 0.5 * soc + 0.05 * (1 + h) / 2, atol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    currents=st.lists(st.sampled_from([-120.0, -30.0, -1.0, 0.0, 0.0, 2.0, 25.0, 150.0]), min_size=5, max_size=60),
    gamma=st.floats(min_value=0.5, max_value=500.0),
    h0=st.floats(min_value=-1.0, max_value=1.0),
    dt=st.sampled_from([0.5, 1.0, 30.0]),
)
def test_hysteresis_stays_between_the_branches(currents, gamma, h0, dt):
    params = simple_params(cells=2, **{"cell.hysteresis_rate": gamma, "cell.initial_hysteresis": h0,
                                        "cell.ocv_charge": [3.06, 3.56], "cell.initial_soc": 0.5})
    r = Pack(params).run(np.repeat(currents, 20), dt)
    h = r["cell.hysteresis"]
    assert np.all(h >= -1.0) and np.all(h <= 1.0)
    soc = r["cell.soc"]
    lower, upper = 3.0 + 0.5 * soc, 3.06 + 0.5 * soc
    ocv = r["cell.ocv"]
    assert np.all(ocv >= lower - 1e-12) and np.all(ocv <= upper + 1e-12)


def test_instantaneous_hysteresis_takes_the_sign_of_the_last_current():
    params = simple_params(cells=1, **{"cell.hysteresis_instantaneous": 0.01, "cell.initial_soc": 0.5})
    pack = Pack(params)
    r = pack.run(np.array([10.0, 0.0, 0.0, -10.0, 0.0]), 1.0)
    np.testing.assert_array_equal(r["cell.hysteresis_sign"][:, 0], [0, 1, 1, 1, -1, -1])
    soc = r["cell.soc"][:, 0]
    np.testing.assert_allclose(r["cell.ocv"][:, 0], 3.0 + 0.5 * soc + 0.01 * r["cell.hysteresis_sign"][:, 0], atol=1e-12)


def test_stepwise_and_bulk_runs_agree(default_params, rng):
    profile = rng.normal(0.0, 60.0, 2000)
    bulk = Pack(default_params).run(profile, 1.0)
    pack = Pack(default_params)
    volts, temps = [pack["cell.voltage"].copy()], [pack["cell.temperature"].copy()]
    for current in profile:
        pack.step(current, 1.0)
        volts.append(pack["cell.voltage"].copy())
        temps.append(pack["cell.temperature"].copy())
    np.testing.assert_allclose(np.array(volts), bulk["cell.voltage"], rtol=1e-13, atol=0)
    np.testing.assert_allclose(np.array(temps), bulk["cell.temperature"], rtol=1e-13, atol=0)


def test_bulk_runs_split_anywhere_agree(default_params, rng):
    profile = rng.normal(0.0, 60.0, 3000)
    whole = Pack(default_params).run(profile, 1.0)
    pack = Pack(default_params)
    first = pack.run(profile[:1234], 1.0)
    second = pack.run(profile[1234:], 1.0)
    joined = np.concatenate([first["cell.voltage"], second["cell.voltage"][1:]])
    np.testing.assert_array_equal(joined, whole["cell.voltage"])
    np.testing.assert_array_equal(np.concatenate([first.time, second.time[1:]]), whole.time)


def test_ocv_keeps_rising_beyond_full(default_params):
    """An overcharged LFP cell's voltage climbs: the OCV continues along its end segment."""
    pack = Pack(default_params, **{"cell.initial_soc": 0.999, "spread.soc": 0.0, "protection.cell_overvoltage": 9.0,
                                   "protection.cell_overvoltage_release": 8.0})
    r = pack.run(np.full(3600, 28.0), 1.0)
    assert np.all(np.diff(r["cell.ocv"][:, 0]) > 0)
    assert r["cell.voltage"][-1, 0] > 3.6


def test_parallel_groups_scale_capacity_and_resistance():
    one = Pack(simple_params(cells=1, **{"cell.initial_soc": 0.5}))
    three = Pack(simple_params(cells=1, **{"cell.initial_soc": 0.5, "pack.cells_in_parallel": 3}))
    r1 = one.run(np.full(100, 30.0), 1.0)
    r3 = three.run(np.full(100, 90.0), 1.0)
    np.testing.assert_allclose(r3["cell.voltage"], r1["cell.voltage"], rtol=1e-13)
    assert three["cell.present_capacity"][0] == pytest.approx(300.0)
