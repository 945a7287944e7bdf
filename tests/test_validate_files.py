"""Scenario and limits files for `twin validate`: what they mean, and the refusals of what they cannot mean."""

from pathlib import Path

import numpy as np
import pytest

from twin.errors import ValidationError
from twin.validate_limits import Current, Limits, quantity
from twin.validate_scenarios import from_mapping, load_file, load_suite

from .conftest import ROOT

EXAMPLES = ROOT / "examples" / "validation"


def test_the_example_suite_and_limits_load():
    suite = load_suite(EXAMPLES / "scenarios")
    assert len(suite) >= 8 and len({s.name for s in suite}) == len(suite)
    limits = Limits.from_file(EXAMPLES / "limits.toml")
    assert set(limits.protection) == {"cell_overvoltage", "cell_undervoltage", "charge_overcurrent",
                                      "discharge_overcurrent", "charge_overtemperature", "charge_undertemperature",
                                      "discharge_overtemperature", "discharge_undertemperature"}
    assert limits.protection["charge_overcurrent"].limit == Current(c_rate=1.0)
    assert limits.balancing["max_top_of_charge_spread"] == pytest.approx(0.050)


@pytest.mark.parametrize("value, kind, expected", [
    ("3.65 V", "voltage", 3.65), ("30 mV", "voltage", 0.030), (3.2, "voltage", 3.2),
    ("150 mA", "current", Current(amps=0.15)), ("0.5C", "current", Current(c_rate=0.5)),
    ("45 degC", "temperature", 45.0), ("5 K", "kelvin", 5.0), ("0.2 kWh", "energy", 200.0),
    ("2 s", "duration", 2.0), ("7 days", "duration", 604800.0),
])
def test_quantities_with_units(value, kind, expected):
    got = quantity(value, kind, "here")
    assert got == (pytest.approx(expected) if isinstance(expected, float) else expected)


@pytest.mark.parametrize("data, message", [
    ({"cell": {}}, "unknown table [cell] (did you mean 'cells'?)"),
    ({"cells": {"max_voltage": "3.65 A"}}, "[cells] max_voltage: unit 'A' does not fit; write e.g. '3.65 V' or '30 mV'"),
    ({"balancing": {"time_to_balance": "10 days"}}, "time_to_balance needs max_top_of_charge_spread"),
    ({"protection": {"cell_overvoltage": {"limit": "3.65 V", "release": "3.40 V"}}},
     "[protection.cell_overvoltage] needs delay"),
    ({"protection": {"cell_overvoltage": {"limit": "3.65 V", "release": "3.70 V", "delay": "2 s"}}},
     "release '3.70 V' must not be above limit '3.65 V'"),
    ({"protection": {"cell_undervoltage": {"limit": "2.5 V", "release": "2.4 V", "delay": "2 s"}}},
     "release '2.4 V' must not be below limit '2.5 V'"),
    ({"protection": {"cell_overvolt": {"limit": "3.65 V"}}},
     "unknown protection channel [protection.cell_overvolt] (did you mean 'cell_overvoltage'?)"),
    ({"protection": {"cell_overvoltage": {"limit": "3.65 V", "release": "3.4 V", "delay": "soon"}}},
     "cannot read 'soon' as a duration"),
])
def test_limits_refusals_name_the_file_the_key_and_the_fix(data, message):
    with pytest.raises(ValidationError) as e:
        Limits.from_mapping(data, "my_limits.toml")
    assert message in str(e.value) and str(e.value).startswith("my_limits.toml")


def test_a_scenario_drive_becomes_request_and_ambient_per_step(tmp_path):
    (tmp_path / "load.csv").write_text("time,current\n0,-5\n1,-6\n2,-7\n")
    s = from_mapping({"name": "mix", "ambient": {"mean": 20, "swing": 4}, "repeat": 2,
                      "drive": [{"charge": "0.1C", "for": "3 s"}, {"rest": "2 s", "ambient": 30},
                                {"discharge": "10 A", "for": "2 s"}, {"profile": "load.csv"}]},
                     tmp_path / "mix.toml")
    request, ambient = s.drive()
    once = [28.0] * 3 + [0.0] * 2 + [-10.0] * 2 + [-5.0, -6.0, -7.0]
    np.testing.assert_allclose(request, once * 2)
    assert ambient[3] == ambient[4] == 30.0
    t = np.arange(3)
    np.testing.assert_allclose(ambient[:3], 20 + 4 * np.sin(2 * np.pi * (t / 86400 - 0.375)))
    assert s.duration == 20.0 and s.steps == 20


@pytest.mark.parametrize("data, message", [
    ({"drive": []}, "needs at least one [[drive]] segment"),
    ({"drive": [{"charge": "0.1C"}]}, "[[drive]] 1: a charge segment needs for = '<duration>'"),
    ({"drive": [{"rest": "1 h", "charge": "1C"}]}, "give one of solar, rest, charge, discharge, current or profile"),
    ({"drive": [{"rest": "1 h", "ambeint": 3}]}, "unknown key 'ambeint' for a rest segment (did you mean 'ambient'?)"),
    ({"stpe": "1 s", "drive": [{"rest": "1 h"}]}, "unknown key 'stpe' (did you mean 'step'?)"),
    ({"parameters": {"cell.capacty": 3}, "drive": [{"rest": "1 h"}]}, "unknown parameter 'cell.capacty'"),
    ({"sensor_delay": "1.5 s", "drive": [{"rest": "1 h"}]}, "sensor_delay 1.5 s is not a whole number of 1 s steps"),
    ({"skip": ["balancin"], "drive": [{"rest": "1 h"}]}, "skip 'balancin': check ids start with one of"),
    ({"faults": [{"cell": 40, "kind": "leak_current", "value": 0.1}], "drive": [{"rest": "1 h"}]},
     "fault leak_current is on cell 40; the pack has cells 0 .. 15"),
])
def test_scenario_refusals(data, message):
    with pytest.raises(ValidationError) as e:
        from_mapping(data, Path("bad.toml"))
    assert message in str(e.value) and "bad.toml" in str(e.value)


def test_a_suite_file_of_scenario_tables_and_duplicate_names(tmp_path):
    f = tmp_path / "suite.toml"
    f.write_text('[[scenario]]\nname = "a"\n[[scenario.drive]]\nrest = "1 min"\n'
                 '[[scenario]]\nname = "b"\n[[scenario.drive]]\nrest = "2 min"\n')
    assert [s.name for s in load_file(f)] == ["a", "b"]
    f.write_text('[[scenario]]\nname = "a"\n[[scenario.drive]]\nrest = "1 min"\n'
                 '[[scenario]]\nname = "a"\n[[scenario.drive]]\nrest = "2 min"\n')
    with pytest.raises(ValidationError, match="two scenarios are named 'a'"):
        load_suite(f)
