"""twin fit through its command line: help, files in, parameter file and report out, plain errors."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from twin.cli import main
from twin.logs import write_canonical
from twin.params import ParameterSet

from .fit_synthetic import HPPC_CYCLE, lab_record, truth_cell

LOW_RATE = ["Discharge at C/10 for 8 hours", "Rest for 1 hour", "Charge at C/10 for 8 hours"]


@pytest.fixture
def runner():
    return CliRunner()


def _write(rec, path):
    write_canonical(path, rec.time, rec.current, rec.voltage, temperature=rec.temperature, temperature_cells=[0],
                    capacity_ah=rec.capacity_ah)
    return str(path)


def test_fit_commands_explain_themselves_with_an_example(runner):
    for args in (["fit"], ["fit", "cell"], ["fit", "pack"]):
        out = runner.invoke(main, [*args, "--help"])
        assert out.exit_code == 0, out.output
        assert "Example" in out.output


def test_fit_cell_writes_a_loadable_parameter_file_a_report_and_json(runner, tmp_path):
    truth = truth_cell()
    ocv = _write(lab_record(truth, LOW_RATE, "slow", 0.9), tmp_path / "slow.h5")
    hppc = _write(lab_record(truth, HPPC_CYCLE, "pulses", 0.95, repeat=4), tmp_path / "pulses.h5")
    out = tmp_path / "cell.toml"
    res = runner.invoke(main, ["fit", "cell", ocv, hppc, "--initial-soc", "slow.h5=0.9", "--initial-soc", "pulses=0.95",
                               "--cells", "4", "-o", str(out), "--json", str(tmp_path / "fit.json")])
    assert res.exit_code == 0, res.output
    assert "parameters written to" in res.output
    pset = ParameterSet.from_file(out)
    assert pset.cells_in_series == 4 and len(pset["cell.ocv_charge"]) == 101
    text = out.read_text()
    assert text.startswith("# Fitted LFP cell\n# fitted by twin fit cell")
    assert "made by: twin fit cell" in text and "--initial-soc slow.h5=0.9" in text
    report = (tmp_path / "cell.report.html").read_text()
    assert "<svg" in report and "What the data identified" in report
    summary = json.loads((tmp_path / "fit.json").read_text())
    assert summary["residuals"]["slow"]["rmse_mv"] < 3.0
    assert {f["parameter"] for f in summary["findings"]} >= {"OCV branches", "R0", "RC pairs", "capacity"}
    run = runner.invoke(main, ["simulate", "--params", str(out), "--step", "Discharge at 0.5C for 10 minutes",
                               "-o", str(tmp_path / "sim.h5"), "-q"])
    assert run.exit_code == 0, run.output


def test_fit_errors_are_one_line_with_status_2(runner, tmp_path):
    truth = truth_cell()
    cc = _write(lab_record(truth, ["Discharge at 0.5C for 90 minutes"], "cc", 0.9), tmp_path / "cc.h5")
    res = runner.invoke(main, ["fit", "cell", cc, "-o", str(tmp_path / "x.toml")])
    assert res.exit_code == 2
    assert res.output.startswith("error: nothing to identify") and res.output.count("\n") == 1
    res = runner.invoke(main, ["fit", "cell", cc, "--initial-soc", "cc.h5:0.5", "-o", str(tmp_path / "x.toml")])
    assert res.exit_code == 2 and "FILE=SOC" in res.output


def test_fit_pack_on_a_short_log_says_it_is_too_short(runner, tmp_path):
    rng = np.random.default_rng(0)
    n = 1800
    path = tmp_path / "p.h5"
    write_canonical(path, np.arange(n, dtype=float), rng.normal(0, 0.01, n), 3.3 + rng.normal(0, 0.001, (n, 4)),
                    capacity_ah=2.3)
    res = runner.invoke(main, ["fit", "pack", str(path), "-p", "a123_2p3ah_16s", "-o", str(tmp_path / "p.toml")])
    assert res.exit_code == 2 and "too short" in res.output


def test_without_scipy_fit_says_how_to_get_it(runner, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "scipy.optimize", None)  # an import of it now fails
    path = tmp_path / "x.h5"
    write_canonical(path, np.arange(400, dtype=float), np.zeros(400), np.full((400, 1), 3.3), capacity_ah=2.3)
    res = runner.invoke(main, ["fit", "cell", str(path), "-o", str(tmp_path / "x.toml")])
    assert res.exit_code == 2 and "pip install 'twin[fit]'" in res.output
