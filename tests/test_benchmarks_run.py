"""Benchmarks are scripts that print figures; here they only have to run (no timing asserted)."""

import subprocess
import sys

import pytest

from .conftest import ROOT

BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", BENCHMARKS, ids=[b.name for b in BENCHMARKS])
def test_benchmark_runs_quick(script):
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()
