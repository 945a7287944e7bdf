"""The examples run and show what they promise."""

import re
import subprocess
import sys

from .conftest import ROOT


def run(script, *args):
    return subprocess.run([sys.executable, str(ROOT / "examples" / script), *args], capture_output=True, text=True,
                          check=True, timeout=600).stdout


def test_passive_vs_active_shows_active_balancing_finishing_first():
    out = run("passive_vs_active.py")
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "never" in lines["passive"] and "day" in lines["active"]


def test_fmu_bms_controller_bleeds_the_full_cell_down_through_the_fmu():
    out = run("fmu_bms_controller.py", "--days", "6")
    found = re.search(r"surplus from ([\d.]+) Ah to ([\d.]+) Ah and the spread after absorption from (\d+) mV to "
                      r"(\d+) mV in 6 days \(without it: (\d+) mV\)", out)
    assert found, out
    start, end, _, with_bms, without = (float(x) for x in found.groups())
    assert end < 0.7 * start and with_bms < without
