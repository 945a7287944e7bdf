"""The FMU simulates: in FMPy, like the Cython binding to round-off, at any step, with parameters
changed while it runs, with an outside BMS commanding balancing, beside measurements."""

import numpy as np
import pytest
from fmpy import simulate_fmu

from twin import Pack

from .conftest import Instance


def test_fmpy_simulates_a_discharge_that_drains_the_charge_drawn(built):
    """Coulomb counting: 0.5C for half an hour takes a quarter of the charge (1 % capacity spread)."""
    output = ["pack.soc", "pack.applied_current", "pack.voltage"]
    result = simulate_fmu(str(built.path), stop_time=1800, output_interval=60, start_values={"pack.current": -140.0},
                          output=output)
    assert result["time"][-1] == 1800.0
    np.testing.assert_allclose(result["pack.applied_current"][1:], -140.0)
    assert result["pack.soc"][0] - result["pack.soc"][-1] == pytest.approx(0.25, rel=0.02)
    assert np.all(np.diff(result["pack.voltage"][1:]) < 0)


def _profile(steps: int = 2400) -> np.ndarray:
    t = np.arange(steps)
    return np.select([t < 600, t < 900, t < 1800], [140.0, 0.0, -200.0], 60.0 * np.sin(t / 50.0))


COMPARED = ["cell.voltage", "cell.soc", "cell.temperature", "cell.hysteresis", "balancer.bleed_current", "pack.voltage",
            "bms.ccl"]


def test_the_fmu_and_the_cython_binding_agree_to_round_off(built):
    profile = _profile()
    reference = Pack().run(profile, 1.0, record=COMPARED)
    with Instance(built).init() as fmu:
        got = {name: [fmu.get(name)] for name in COMPARED}
        for current in profile:
            fmu.set("pack.current", current)
            fmu.step(1.0)
            for name in COMPARED:
                got[name].append(fmu.get(name))
    for name in COMPARED:
        diff = np.max(np.abs(np.asarray(got[name]) - reference[name]))
        assert diff <= 1e-12, (name, diff)  # same C, same flags: in practice 0


def test_any_communication_step_is_covered_by_internal_steps_and_lands_on_its_point(fmu3):
    pack = Pack()
    with Instance(fmu3).init() as fmu:
        fmu.set("pack.current", -150.0)
        for _ in range(4):  # 2.5 s: two internal steps of 1 s and one of 0.5 s
            _, _, _, last = fmu.fmu.doStep(fmu.time, 2.5)
            fmu.time += 2.5
            for dt in (1.0, 1.0, 0.5):
                pack.step(-150.0, dt)
        assert last == 10.0 and fmu.get("time") == 10.0
        np.testing.assert_array_equal(fmu.get("cell.voltage"), pack["cell.voltage"])
        fmu.step(3590.0)  # one long step: 3590 internal steps of 1 s
        for _ in range(3590):
            pack.step(-150.0, 1.0)
        np.testing.assert_array_equal(fmu.get("cell.voltage"), pack["cell.voltage"])
        assert fmu.get("time") == 3600.0


def test_the_internal_step_is_a_parameter(built):
    pack = Pack()
    with Instance(built).init(fmu__internal_step=0.25, pack__current=100.0) as fmu:
        fmu.step(1.0)
        for _ in range(4):
            pack.step(100.0, 0.25)
        np.testing.assert_array_equal(fmu.get("cell.voltage"), pack["cell.voltage"])
        assert fmu.get("fmu.internal_step") == 0.25


def test_steps_must_follow_each_other(fmu3):
    with Instance(fmu3).init() as fmu:
        fmu.step(10.0)
        with pytest.raises(Exception):
            fmu.fmu.doStep(5.0, 1.0)
        assert "currentCommunicationPoint is 5 s but the FMU is at 10 s" in fmu.messages


def test_tunable_protection_settings_take_effect_while_running(built):
    with Instance(built).init() as fmu:
        fmu.set("pack.current", 50.0)
        fmu.step(10.0)
        assert fmu.get("bms.charge_enable") == 1.0
        fmu.set("protection.cell_overvoltage_release", 3.0)  # both checked together at the next step
        fmu.set("protection.cell_overvoltage", 3.1)
        fmu.step(5.0)  # longer than the 2 s delay
        assert fmu.get("protection.cell_overvoltage_tripped") == 1.0 and fmu.get("bms.charge_enable") == 0.0
        fmu.step(1.0)
        assert fmu.get("pack.applied_current") == 0.0


def test_an_outside_bms_commands_the_bleed_resistors(built):
    """Policy 'external': the FMU bleeds exactly the cells it is told to, at V / R."""
    with Instance(built).init(balancer__policy=2) as fmu:
        command = np.zeros(16)
        command[[2, 9]] = 1
        fmu.set("balancer.command", command)
        fmu.step(1.0)
        bleed = fmu.get("balancer.bleed_current")
        assert np.all(bleed[[2, 9]] > 0) and np.count_nonzero(bleed) == 2
        np.testing.assert_allclose(bleed[[2, 9]], fmu.get("cell.voltage")[[2, 9]] / 33.0, rtol=1e-3)
        np.testing.assert_array_equal(fmu.get("balancer.active"), command)
        assert fmu.get("balancer.active_cells") == 2.0


def test_residuals_feed_through_from_the_measured_inputs(built):
    with Instance(built).init() as fmu:
        fmu.step(1.0)
        assert np.all(np.isnan(fmu.get("residual.cell_voltage")))  # not measured: NaN
        measured = fmu.get("cell.voltage") + 0.01
        measured[3] = np.nan
        fmu.set("measured.cell_voltage", measured)
        residual = fmu.get("residual.cell_voltage")  # no step in between
        assert np.isnan(residual[3])
        np.testing.assert_allclose(np.delete(residual, 3), -0.01, atol=1e-12)
        fmu.set("measured.temperature", 20.0)
        np.testing.assert_allclose(fmu.get("residual.temperature"), fmu.get("cell.temperature") - 20.0)


def test_a_starting_state_of_health_can_be_given_before_initialization(built):
    with Instance(built).init(cell__capacity_fade=0.1) as fmu:
        np.testing.assert_allclose(fmu.get("cell.present_capacity"), 0.9 * fmu.get("cell.capacity"))
