"""The examples run and show what they promise."""

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
