"""The twin command, driven through click's CliRunner."""

import json

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from twin.cli import main
from twin.hdf5io import read_simulation


@pytest.fixture
def runner():
    return CliRunner()


def test_every_command_explains_itself_with_an_example(runner):
    for args in ([], ["simulate"], ["params"], ["params", "show"], ["params", "write"], ["variables"]):
        out = runner.invoke(main, [*args, "--help"])
        assert out.exit_code == 0, out.output
        assert "Example" in out.output, args


def test_simulate_writes_hdf5_with_units_and_a_summary(runner, tmp_path):
    out = tmp_path / "run.h5"
    summary = tmp_path / "s.json"
    res = runner.invoke(main, ["simulate", "--cells", "4", "--step", "Charge at 0.2C for 30 minutes",
                               "--step", "Rest for 10 minutes", "-o", str(out), "--json", str(summary)])
    assert res.exit_code == 0, res.output
    assert "written to" in res.output
    with h5py.File(out) as f:
        assert f["cell/voltage"].shape == (2401, 4)
        assert f["cell/voltage"].attrs["unit"] == "V"
        assert f["cell/voltage"].attrs["label"] == "Cell voltage [V]"
        assert f["cell/voltage"].compression == "gzip"
        assert f.attrs["current_sign"] == "charge_positive"
        assert json.loads(f.attrs["parameter_set"])["pack"]["cells_in_series"] == 4
    s = json.loads(summary.read_text())
    assert s["steps"][0]["reason"] == "steps" and s["duration_s"] == 2400.0
    data = read_simulation(out)
    np.testing.assert_allclose(data["pack.applied_current"][1:1801], 56.0)


def test_simulate_with_a_fault_and_a_profile(runner, tmp_path):
    profile = tmp_path / "p.csv"
    profile.write_text("time,current\n" + "\n".join(f"{t},{50 if t < 300 else -50}" for t in range(0, 600, 2)))
    out = tmp_path / "run.h5"
    res = runner.invoke(main, ["simulate", "--profile", str(profile), "--fault", "2:voltage_offset:0.02@100",
                               "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    data = read_simulation(out)
    assert data["time"][1] == 2.0
    diff = data["cell.voltage_measured"][-1] - data["cell.voltage"][-1]
    assert abs(diff[2] - 0.02) < 0.0006 and abs(diff[0]) < 0.0006


@pytest.mark.parametrize("args, message", [
    (["simulate", "--step", "Charge at 1X for 1 h"], "cannot read the step"),
    (["simulate", "--params", "nosuchset"], "neither a parameter file nor a named parameter set"),
    (["simulate", "--fault", "3:leak"], "write CELL:KIND:VALUE"),
    (["simulate", "--fault", "30:leak_current:0.1", "-q"], "cells 0 .. 15"),
])
def test_expected_mistakes_give_one_line_and_status_2(runner, args, message, tmp_path):
    res = runner.invoke(main, [*args, "-o", str(tmp_path / "x.h5")])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def test_params_write_show_roundtrip(runner, tmp_path):
    f = tmp_path / "mine.toml"
    assert runner.invoke(main, ["params", "write", "-o", str(f)]).exit_code == 0
    res = runner.invoke(main, ["params", "show", str(f)])
    assert res.exit_code == 0 and "cell.capacity" in res.output and "A.h" in res.output
