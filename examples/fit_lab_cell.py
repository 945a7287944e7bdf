"""Fit the twin's cell to the three lab tests of ../shared/data/lab-cell/ and predict the third.

Fits on the low-rate OCV test and the HPPC pulses, predicts the drive cycle it never saw, and
prints that prediction's voltage error. With --write it (re)writes the named parameter set
twin/parameter_sets/data/a123_2p3ah_16s.toml (a 16S dev pack of the fitted cell, see
examples/a123_dev_pack_base.toml); tests/test_fit_shipped.py checks the shipped file still matches.

    python examples/fit_lab_cell.py [--write] [-o FILE.toml]

The initial SOCs are the test protocol's (README of the data): 99 % before the OCV test, 98 % before
the HPPC test, 90 % before the drive cycle.
"""

import argparse
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DATA = Path("../shared/data/lab-cell")
SHIPPED = Path("twin/parameter_sets/data/a123_2p3ah_16s.toml")
TITLE = "A123-class 2.3 Ah LFP cell fitted to lab tests, in a 16S dev pack (passive 100 Ohm balancing)"


def arguments(output) -> list:
    return ["fit", "cell", str(DATA / "ocv.h5"), str(DATA / "hppc.h5"),
            "--initial-soc", "ocv.h5=0.99", "--initial-soc", "hppc.h5=0.98",
            "--validate", str(DATA / "drive.h5"), "--initial-soc", "drive.h5=0.9",
            "--base", "examples/a123_dev_pack_base.toml", "--title", TITLE, "-o", str(output)]


def main() -> int:
    import os

    from twin.cli import main as twin

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write {SHIPPED}")
    ap.add_argument("-o", "--output", help="parameter file to write (default: a temporary file)")
    args = ap.parse_args()
    os.chdir(ROOT)  # the command and the paths in the file header are relative to the repository
    output = SHIPPED if args.write else Path(args.output or Path(tempfile.mkdtemp()) / "a123.toml")
    report = output.with_suffix(".report.html") if not args.write else Path(tempfile.mkdtemp()) / "a123.report.html"
    res = CliRunner().invoke(twin, arguments(output) + ["--report", str(report)], catch_exceptions=False)
    print(res.output, end="")
    return res.exit_code


if __name__ == "__main__":
    sys.exit(main())
