"""`twin validate` end to end: the example firmwares and files, JUnit/JSON/HTML, exit statuses, and the
FMU of a firmware co-simulated with the twin's FMU."""

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from twin.cli import main
from twin.firmware import parse_firmware
from twin.firmware_fmu import build_firmware_fmu
from twin.validate_limits import Limits
from twin.validate_run import run_scenario
from twin.validate_scenarios import load_file

from .conftest import ROOT

EX = ROOT / "examples"
LIMITS = str(EX / "validation" / "limits.toml")
SCENARIOS = EX / "validation" / "scenarios"


def invoke(*args):
    """The command's result; its output holds stdout and stderr (click's default)."""
    return CliRunner().invoke(main, ["validate", *map(str, args)])


def test_the_flawed_update_fails_against_the_baseline_with_a_message_a_firmware_engineer_reads(tmp_path):
    junit, js, html = tmp_path / "r.xml", tmp_path / "r.json", tmp_path / "r.html"
    r = invoke("--firmware", EX / "firmware" / "flawed_ov_delay.c", "--baseline", EX / "firmware" / "voltage_delta.c",
               "--scenarios", SCENARIOS / "overcharge.toml", "--limits", LIMITS, "--junit", junit, "--json", js,
               "--report", html)
    assert r.exit_code == 1, r.output
    assert "FAIL charger ignoring the limits: cell over-voltage trips within 2 s: cell over-voltage: cell" in r.output
    assert "above the 3.650 V limit since" in r.output and "and charging was still enabled" in r.output
    assert "REGRESSION charger ignoring the limits: cell over-voltage trips within 2 s: passed with the baseline" in r.output
    root = ET.parse(junit).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    failure = cases["cell over-voltage trips within 2 s"].find("failure")
    assert failure is not None and "charging was still enabled" in failure.get("message")
    assert cases["the firmware runs the whole scenario"].find("failure").get("message").startswith(
        "the run was stopped at")
    assert int(root.get("failures")) >= 3 and root.find("testsuite").get("name") == "charger ignoring the limits"
    data = json.loads(js.read_text())
    assert data["passed"] is False and data["baseline"].endswith("voltage_delta.c")
    assert data["runs"][0]["firmware_name"] == "voltage_delta 1.1" and data["baseline_runs"][0]["status"] == "pass"
    assert any(reg["what"] == "protection.cell_overvoltage" for reg in data["regressions"])
    page = html.read_text()
    assert "<svg" in page and "Regressions against the baseline" in page and "cell over-voltage" in page


def test_the_good_firmware_passes_the_abuse_scenarios(tmp_path):
    junit = tmp_path / "ok.xml"
    scenarios = tmp_path / "suite"
    scenarios.mkdir()
    for name in ("overcharge.toml", "overdischarge.toml", "overcurrent.toml"):
        (scenarios / name).write_text((SCENARIOS / name).read_text())
    r = invoke("-f", EX / "firmware" / "voltage_delta.c", "-s", scenarios, "-l", LIMITS, "--junit", junit, "-j", "2")
    assert r.exit_code == 0, r.output
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "0" and len(root.findall("testsuite")) == 3
    ov = [c for c in root.iter("testcase") if c.get("name") == "cell over-voltage trips within 2 s"][0]
    assert "observed trip delays 2 s" in ov.find("system-out").text


@pytest.mark.parametrize("args, message", [
    (["-f", "nope.so", "-s", SCENARIOS, "-l", LIMITS], "error: firmware nope.so: no such file"),
    (["-f", "a:b", "-s", SCENARIOS], "error: --limits is required"),
    (["-l", LIMITS], "error: give --firmware and --scenarios (or --logs BEFORE AFTER)"),
])
def test_bad_input_is_one_line_and_exit_status_2(args, message):
    r = invoke(*args)
    assert r.exit_code == 2 and message in r.output
    assert "Traceback" not in r.output


def test_a_bad_limits_file_names_the_key_and_suggests(tmp_path):
    bad = tmp_path / "limits.toml"
    bad.write_text('[cells]\nmax_voltag = "3.65 V"\n')
    r = invoke("-f", EX / "firmware" / "voltage_delta.c", "-s", SCENARIOS / "overcurrent.toml", "-l", bad)
    assert r.exit_code == 2
    assert f"error: {bad}: unknown key 'max_voltag' in [cells] (did you mean 'max_voltage'?)" in r.output


def test_include_dir_holds_the_header():
    r = invoke("--include-dir")
    assert r.exit_code == 0
    from pathlib import Path

    assert (Path(r.output.strip()) / "twin_firmware.h").is_file()


def test_a_firmware_fmu_in_fmpy_beside_the_twin_fmu_gives_the_c_loop_result(tmp_path):
    """The FMU path (two FMUs in FMPy, the master in Python) against the C path (the same firmware
    source through its function pointer): the same checks, to the last digit of every figure."""
    fmu = build_firmware_fmu(EX / "firmware" / "voltage_delta.c", 16, tmp_path / "voltage_delta.fmu")
    from fmpy.validation import validate_fmu

    assert validate_fmu(str(fmu)) == []
    scenario = load_file(SCENARIOS / "overcharge.toml")[0]
    scenario.segments = scenario.segments[:1]
    scenario.segments[0].seconds = 1500.0  # 25 min: the over-voltage trip is at about 20 min
    limits = Limits.from_file(LIMITS)
    from twin.firmware_fmu import prepare_fmu_suite

    prepare_fmu_suite([], [scenario], tmp_path)
    via_fmu = run_scenario(parse_firmware(str(fmu)), scenario, limits)
    via_c = run_scenario(parse_firmware(str(EX / "firmware" / "voltage_delta.c"), build_dir=tmp_path), scenario, limits)
    assert [(c.id, c.status, c.message) for c in via_fmu.results] == [(c.id, c.status, c.message) for c in via_c.results]
    assert via_fmu.figures == via_c.figures
    ov = next(c for c in via_fmu.results if c.id == "protection.cell_overvoltage")
    assert ov.status == "pass" and "observed trip delays 2 s" in ov.message  # the trip was exercised
