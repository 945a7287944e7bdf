"""Experiments in lab-protocol language."""

import numpy as np
import pytest

from twin import Experiment, Pack
from twin.errors import ExperimentError
from twin.experiment import parse_step

from .conftest import simple_params


@pytest.mark.parametrize("text, kind, value, duration, stop", [
    ("Charge at 0.5C until 3.55 V", "current", 140.0, None, {"max_cell_voltage": 3.55}),
    ("Discharge at 140 A for 30 minutes", "current", -140.0, 1800.0, {}),
    ("Charge at C/20 for 5 hours or until 3.6 V", "current", 14.0, 18000.0, {"max_cell_voltage": 3.6}),
    ("Discharge at 1C until 2.8 V", "current", -280.0, None, {"min_cell_voltage": 2.8}),
    ("Discharge at 3 kW for 1 hour", "power", -3000.0, 3600.0, {}),
    ("Discharge at 100 A until pack 48 V", "current", -100.0, None, {"min_pack_voltage": 48.0}),
    ("Hold at 3.55 V until C/20", "cell_voltage", 3.55, None, {"min_abs_current": 14.0}),
    ("Hold pack at 56.8 V until 5 A or 2 hours", "pack_voltage", 56.8, 7200.0, {"min_abs_current": 5.0}),
    ("Rest for 2 hours", "rest", 0.0, 7200.0, {}),
    ("rest for 1 day or until balanced", "rest", 0.0, 86400.0, {"balanced": True}),
    ("Charge at 500 mA for 10 s", "current", 0.5, 10.0, {}),
])
def test_steps_read_like_a_protocol(text, kind, value, duration, stop):
    step = parse_step(text, 280.0, 140.0)
    assert (step.kind, step.duration, step.stop) == (kind, duration, stop)
    assert step.value == pytest.approx(value)


@pytest.mark.parametrize("text, match", [
    ("Charge at 0.5X until 3.55 V", "cannot read the step"),
    ("Charge at 1C", "cannot read the step"),
    ("Rest", "cannot read the step"),
    ("Charge at 1C until tomorrow", "cannot read the end condition"),
    ("Charge at 1C until C/20", "belongs to 'Hold at"),
    ("Rest until 3.3 V", "a rest ends after a time or when balanced"),
    ("Rest for 2 fortnights", "cannot read '2 fortnights' as a duration"),
])
def test_bad_steps_say_what_to_write(text, match):
    with pytest.raises(ExperimentError, match=match):
        parse_step(text, 280.0, 140.0)


def test_charge_until_voltage_stops_at_that_voltage(default_params):
    r = Pack(default_params).run(Experiment(["Charge at 0.5C until 3.55 V"]))
    assert r.steps[0]["reason"] == "max_cell_voltage"
    assert r["cell.voltage"][-1].max() >= 3.55 > r["cell.voltage"][-2].max()


def test_hold_keeps_the_highest_cell_at_the_target_while_the_current_tapers(default_params):
    r = Pack(default_params).run(Experiment(["Charge at 0.5C until 3.55 V", "Hold at 3.55 V until C/20"]))
    hold = r.step_index == 1
    assert r.steps[1]["reason"] == "current"
    np.testing.assert_allclose(r["cell.voltage"][hold].max(axis=1)[2:], 3.55, atol=2e-4)
    assert np.all(np.diff(r["pack.applied_current"][hold]) <= 1e-9)
    assert r["pack.applied_current"][hold][-1] <= 14.0


def test_power_step_draws_the_asked_power(default_params):
    r = Pack(default_params).run(Experiment(["Discharge at 5 kW for 10 minutes"]))
    p = r["pack.voltage"][1:] * r["pack.applied_current"][1:]
    # the current is set from the previous sample's voltage; the power is within the step's change
    np.testing.assert_allclose(p[1:], -5000.0, rtol=2e-3)


def test_repeat_and_rest_until_balanced():
    params = simple_params(cells=3, **{"cell.initial_soc": [0.70, 0.71, 0.74], "balancer.topology": "passive",
                                        "balancer.mode": "always", "balancer.bleed_resistance": 2.0,
                                        "balancer.start_voltage": 0.0})
    r = Pack(params).run(Experiment(["Rest for 1 day or until balanced"], repeat=2))
    assert r.steps[0]["reason"] == "spread"
    assert len(r.steps) == 2


def test_protection_ends_a_step():
    params = simple_params(cells=2, **{"cell.initial_soc": 0.5, "protection.charge_overcurrent": 50.0})
    r = Pack(params).run(Experiment(["Charge at 60 A for 1 hour"]))
    assert r.steps[0]["reason"] == "protection"


def test_experiment_file(tmp_path):
    f = tmp_path / "e.toml"
    f.write_text('steps = ["Rest for 10 s", "Charge at 1 A for 5 s"]\nrepeat = 2\n')
    e = Experiment.from_file(f)
    assert e.steps == ("Rest for 10 s", "Charge at 1 A for 5 s") and e.repeat == 2
    f.write_text('step = ["Rest for 10 s"]\n')
    with pytest.raises(ExperimentError, match="has 'steps'"):
        Experiment.from_file(f)
