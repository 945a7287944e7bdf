"""`twin validate --logs BEFORE AFTER`: two recorded BMS logs judged through the twin with the same
limits, the one before the update as the baseline.

The logs are made here by the kernel (a 16S EVE LF280K pack charged to the top, rested and
discharged, its BMS's decisions recorded as a real BMS logs them), once with the kernel's own
passive balancer (the bq769x0 rule on: never two neighbours) and once with an update that bleeds two neighbouring cells all the time, discharge
included, and sends a charge current limit above the cells' rating."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from click.testing import CliRunner

from twin.cli import main
from twin.logs import write_canonical
from twin.pack import Pack
from twin.validate_limits import Limits
from twin.validate_logs import evaluate_log, validate_logs

from .conftest import ROOT

EXAMPLE_LIMITS = ROOT / "examples" / "validation" / "limits.toml"
RECORD = ["cell.voltage_measured", "cell.temperature_measured", "pack.current_measured", "pack.voltage",
          "balancer.commanded", "bms.charge_enable", "bms.discharge_enable", "bms.cvl", "bms.ccl", "bms.dcl"]
DT = 2.0


def profile() -> np.ndarray:
    """Charge at 0.3C for 2.5 h (to the top from 70 % SOC), rest 1 h, discharge at 0.2C for 3 h, rest 1 h."""
    parts = [(84.0, 2.5), (0.0, 1.0), (-56.0, 3.0), (0.0, 1.0)]
    return np.concatenate([np.full(int(h * 3600 / DT), a) for a, h in parts])


def make_log(path, flawed: bool, states: bool = True) -> None:
    current = profile()
    changes = {"cell.initial_soc": 0.7, "sensor.seed": 3, "spread.seed": 3, "balancer.no_adjacent": True}
    commands = None
    if flawed:  # the update: the external policy bleeds cells 3 and 4 together, all the time
        changes["balancer.policy"] = "external"
        commands = np.zeros((len(current), 16))
        commands[:, 3:5] = 1.0
    pack = Pack("eve_lf280k_16s", **changes)
    r = pack.run(current, DT, record=RECORD, commands=commands, obey_limits=True)
    sensors = [i for i in range(16) if pack["cell.temperature_sensor"][i] > 0.5]
    logged = {"charge_enable": r["bms.charge_enable"], "discharge_enable": r["bms.discharge_enable"],
              "cvl": r["bms.cvl"], "ccl": r["bms.ccl"], "dcl": r["bms.dcl"]}
    if flawed:  # ...and tells the inverter 200 A where the cells are rated 140 A (0.5C)
        logged["ccl"] = np.where(r["bms.ccl"] > 0, 200.0, 0.0)
    write_canonical(path, r.time, r["pack.current_measured"], r["cell.voltage_measured"],
                    temperature=r["cell.temperature_measured"][:, sensors], temperature_cells=sensors,
                    pack_voltage=r["pack.voltage"], balancing=r["balancer.commanded"], capacity_ah=280.0,
                    bleed_resistance_ohm=float(pack["balancer.bleed_resistance"]),
                    states=logged if states else None)


@pytest.fixture(scope="module")
def limits_file(tmp_path_factory):
    """The example limits, and no balancing while the pack discharges."""
    text = EXAMPLE_LIMITS.read_text().replace("[balancing]\n", "[balancing]\nbalance_while_discharging = false\n", 1)
    path = tmp_path_factory.mktemp("limits") / "limits.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    d = tmp_path_factory.mktemp("logs")
    before, after, bare = d / "before.h5", d / "after.h5", d / "bare.h5"
    make_log(before, flawed=False)
    make_log(after, flawed=True)
    make_log(bare, flawed=False, states=False)
    return before, after, bare


def by_id(run) -> dict:
    return {c.id: c for c in run.results}


def test_the_charge_limits_a_bms_sent_are_stored_as_quantities(logs):
    import h5py

    with h5py.File(logs[0], "r") as f:
        assert f["state/ccl"].dtype == np.float32 and f["state/ccl"].attrs["unit"] == "A"
        assert f["state/cvl"].attrs["unit"] == "V" and f["state/charge_enable"].dtype == np.int8
        assert 0 < float(np.max(f["state/ccl"][:])) <= 140.0


def test_the_kernels_own_bms_passes_what_a_log_can_show(logs, limits_file):
    run = evaluate_log(logs[0], Limits.from_file(limits_file))
    checks = by_id(run)
    for cid in ("balancing.no_adjacent", "balancing.while_discharging", "balancing.current", "cells.max_voltage",
                "charge_limits.max_ccl", "charge_limits.max_cvl", "charge_limits.ccl_zero_when_disabled",
                "protection.charge_spurious", "protection.discharge_spurious"):
        assert checks[cid].status == "pass", (cid, checks[cid].message)
    # one day cannot balance the spread the pack was built with: said, with the day and the figure
    assert "day 1:" in checks["balancing.top_of_charge_spread"].message
    assert run.steps == len(profile()) + 1


def test_the_flawed_update_is_caught_and_reported_as_regressions(logs, limits_file):
    result = validate_logs(logs[0], logs[1], limits_file)
    assert not result.passed and result.mode == "logs"
    checks = by_id(result.runs[0])
    assert checks["balancing.no_adjacent"].status == "fail"
    assert "cells 3 and 4" in checks["balancing.no_adjacent"].message
    assert checks["balancing.while_discharging"].status == "fail"
    assert checks["charge_limits.max_ccl"].status == "fail" and "200" in checks["charge_limits.max_ccl"].message
    worse = {r["what"] if isinstance(r, dict) else r.what for r in result.regressions}
    assert {"balancing.no_adjacent", "balancing.while_discharging", "charge_limits.max_ccl"} <= worse
    # the twin beside the log: the flawed update's two resistors burned more than the kernel's balancer
    e_before = result.baseline_runs[0].figures["energy_dissipated_wh"]
    e_after = result.runs[0].figures["energy_dissipated_wh"]
    assert e_after > 2 * e_before > 0


def test_checks_a_log_cannot_feed_are_not_measured_rather_than_passed(logs, limits_file):
    checks = by_id(evaluate_log(logs[2], Limits.from_file(limits_file)))
    for cid in ("protection.cell_overvoltage", "charge_limits.max_ccl", "charge_limits.ccl_zero_when_disabled"):
        assert checks[cid].status == "skip" and "not measurable: the log holds no" in checks[cid].message
    assert checks["balancing.no_adjacent"].status == "pass"


def test_the_command_writes_junit_json_and_a_report_and_exits_1(logs, limits_file, tmp_path):
    junit, js, html = tmp_path / "r.xml", tmp_path / "r.json", tmp_path / "r.html"
    r = CliRunner().invoke(main, ["validate", "--logs", str(logs[0]), str(logs[1]), "--limits", str(limits_file),
                                  "--junit", str(junit), "--json", str(js), "--report", str(html), "--quiet"])
    assert r.exit_code == 1, r.output
    assert json.loads(js.read_text())["mode"] == "logs"
    assert int(ET.parse(junit).getroot().get("failures")) >= 3
    assert "<svg" in html.read_text()
    r = CliRunner().invoke(main, ["validate", "--logs", str(logs[0]), str(logs[0]), "--limits", str(limits_file)])
    # a log against itself: no regression; the spread it was built with still fails the limit, alone
    assert "1 failed, 1 not measured, 0 regressions" in r.output and "REGRESSION" not in r.output, r.output


def test_logs_take_no_firmware(logs, limits_file):
    r = CliRunner().invoke(main, ["validate", "--logs", str(logs[0]), str(logs[1]), "--limits", str(limits_file),
                                  "--firmware", str(limits_file)])
    assert r.exit_code == 2 and "takes no --firmware" in r.output
