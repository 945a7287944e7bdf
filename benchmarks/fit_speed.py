"""How fast twin fit is: the lab-cell set (fit on the OCV and HPPC tests, predict the drive cycle)
and the per-cell fit of a 16S pack from a 3-day 1 Hz log (../shared/data/dev-packs/pack_100.h5).

Figures only, no assertions. Without ../shared/data the same fits run on data the twin simulates.
Measured here (2 shared cores): the lab-cell fit 10-18 s, drive predicted with 9.78 mV RMSE, max 82.8 mV
(18.91 / 138.7 mV before pulse windows were placed by their rests, twin/fit_placement.py).

    python benchmarks/fit_speed.py [--quick]      --quick: the pack fit on the first day of the log
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def lab_cell():
    from twin.fit_cell import fit_cell
    from twin.fit_data import read_record
    from twin.params import ParameterSet

    base = ParameterSet.from_file(ROOT / "examples" / "a123_dev_pack_base.toml")
    if (DATA / "lab-cell" / "ocv.h5").exists():
        lab = DATA / "lab-cell"
        records = [read_record(lab / "ocv.h5", initial_soc=0.99), read_record(lab / "hppc.h5", initial_soc=0.98)]
        checks = [read_record(lab / "drive.h5", initial_soc=0.9)]
        what = "../shared/data/lab-cell (PyBaMM SPMe)"
    else:
        from tests.fit_synthetic import HPPC_CYCLE, OCV_TEST, lab_record, truth_cell

        truth = truth_cell()
        records = [lab_record(truth, OCV_TEST, "ocv", 0.99), lab_record(truth, HPPC_CYCLE, "hppc", 0.98, repeat=9)]
        checks = []
        what = "twin-simulated lab tests (shared data not found)"
    t = time.perf_counter()
    out = fit_cell(records, base, validation=checks)
    seconds = time.perf_counter() - t
    samples = sum(r.samples for r in records)
    print(f"lab-cell fit ({what}): {seconds:.1f} s for {samples} samples in {len(records)} tests")
    for name, r in out.residuals.items():
        print(f"  {name:6s} {r['role']:58s} RMSE {r['rmse_mv']:6.2f} mV  max {r['max_mv']:6.1f} mV")
        if r.get("rmse_mv_by_soc"):
            print("         RMSE by SOC: " + ", ".join(f"{band} {mv:.1f} mV" for band, mv in r["rmse_mv_by_soc"].items()))
    return out.params


def pack(params, quick: bool):
    from twin.fit_data import read_record
    from twin.fit_pack import fit_pack

    log = DATA / "dev-packs" / "pack_100.h5"
    if log.exists():
        record = read_record(log, ROOT / "examples" / "mappings" / "dev-pack.toml")
        what = "pack_100.h5"
    else:
        from tests.fit_synthetic import duty_profile, pack_record

        record = pack_record(params, duty_profile(3.0, 2.3))
        what = "a twin-simulated 16S log"
    if quick:
        n = int(86400 / record.dt) + 1
        record = replace(record, time=record.time[:n], current=record.current[:n], voltage=record.voltage[:n],
                         temperature=None if record.temperature is None else record.temperature[:n],
                         balancing=None if record.balancing is None else record.balancing[:n])
    t = time.perf_counter()
    out = fit_pack(record, params)
    seconds = time.perf_counter() - t
    days = record.duration / 86400
    rms = np.median([r["rmse_mv"] for r in out.residuals.values()])
    print(f"pack fit ({what}, {record.cells} cells, {days:.1f} days at {record.dt:g} s): {seconds:.1f} s "
          f"({record.cells * record.samples / seconds:.3g} cell-samples/s); median cell RMSE {rms:.2f} mV")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    params = lab_cell()
    pack(params, args.quick)


if __name__ == "__main__":
    main()
