"""Make the log bundled with twin (twin/data/example-pack.h5), which `twin replay` runs without
arguments: three days of a 16S EVE LF280K pack on an off-grid solar duty, measured like a BMS
(1 mV cell-voltage steps and noise, a current sensor with gain and offset error, four temperature
sensors), with two faults from hour 28:

    cell 5   a micro-short: 0.56 A (0.2 %C) leaks from the cell
    cell 11  a loose busbar: +0.175 mOhm in series (the cell's resistance doubled)

The faults are written into the log's `truth` attribute, which the detector never reads. A test
(tests/test_example_log.py) regenerates the log and checks that the bundled file matches.

    python examples/make_example_log.py [OUT.h5]
"""

import sys
from pathlib import Path

from twin.faults import Fault
from twin.scenarios import LogScenario, simulate_log

BUNDLED = Path(__file__).resolve().parent.parent / "twin" / "data" / "example-pack.h5"
ONSET_S = 28 * 3600.0
SCENARIO = LogScenario(
    params="eve_lf280k_16s",
    days=3.0,
    seed=2026,
    faults=(Fault(5, "leak_current", 0.56, ONSET_S), Fault(11, "series_resistance", 0.175e-3, ONSET_S)),
    compact=True,
)


def make(path=BUNDLED) -> dict:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return simulate_log(path, SCENARIO)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else BUNDLED
    truth = make(out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): faults {truth['faults']}")
