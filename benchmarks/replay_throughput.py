"""Replay throughput and memory: `twin replay` on a 16S log, HDF5 reading and detection included.

Targets (issue 4): at least 1e6 samples/s on one core; peak memory under 500 MB for a 1-year 1 Hz
16S log. The benchmark writes that log itself: a healthy 16S EVE pack on the solar duty for a year on end,
simulated by the twin with BMS-like measurement noise (twin.scenarios.simulate_log, written a day
at a time, so writing is bounded in memory too). A flag on it would be a false alarm.

Printed, from the same run: replay samples/s (wall and CPU), and its two parts alone on the one-day
log (CPU time): reading the HDF5 log through the mapping layer (LogReader) as replay reads it, and
the C detector on arrays already in memory. Peak memory is the replay's maximum resident set,
measured in a child process that does nothing else, next to the same child importing twin and
doing nothing (the floor).

    python benchmarks/replay_throughput.py            # a 1-year log (about 31.5 M samples)
    python benchmarks/replay_throughput.py --quick    # a 3-day log
    python benchmarks/replay_throughput.py --keep year.h5
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from twin.logs import LogReader
from twin.replay import detector_parameters, replay
from twin.params import build_kernel
from twin.scenarios import LogScenario, simulate_log

CHILD = """
import json, resource, sys, time
from twin.replay import replay
t0 = time.perf_counter(); c0 = time.process_time()
if sys.argv[1] != "-":
    r = replay(sys.argv[1])
    n, flags = r.samples, len(r.flags)
else:
    n, flags = 0, 0
print(json.dumps({"samples": n, "flags": flags, "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def one_day(where: Path) -> Path:
    path = where / "day.h5"
    simulate_log(path, LogScenario(seed=7, days=1.0, compact=True))
    return path


def write_long(days: int, out: Path) -> int:
    """A healthy pack simulated for `days` on end (a day at a time, appended: bounded memory)."""
    simulate_log(out, LogScenario(seed=7, days=float(days), compact=True))
    with LogReader(out) as r:
        return r.info.samples


def child(path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def parts(day: Path) -> dict:
    """Reading alone and detection alone, on the one-day log (best of three, CPU time). Reading reads
    what replay reads (the channels the detector uses, into reused buffers) from a file opened afresh
    each time: a file kept open serves a day's log from HDF5's chunk cache, which no long log fits."""
    read = []
    for _ in range(3):
        c0 = time.process_time()
        with LogReader(day) as r:
            for _chunk in r.chunks(reuse=True, optional=("temperature", "balancing")):
                pass
        read.append(time.process_time() - c0)
    with LogReader(day) as r:
        info = r.info
        chunks = list(r.chunks(optional=("temperature", "balancing")))
    t = np.concatenate([x.time for x in chunks])
    cur = np.concatenate([x.current for x in chunks])
    v = np.concatenate([x.cell_voltage for x in chunks])
    temps = np.full(v.shape, np.nan)
    temps[:, info.temperature_cells] = np.concatenate([x.temperature for x in chunks])
    bal = np.concatenate([x.balancing for x in chunks])
    detect = []
    for _ in range(3):
        kernel = build_kernel(detector_parameters(info))
        c0 = time.process_time()
        kernel.detect_run(t, cur, v, temps, bal)
        detect.append(time.process_time() - c0)
    return {"samples": info.samples, "read_s": min(read), "detect_s": min(detect)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 3-day log instead of a year")
    ap.add_argument("--days", type=int, default=None, help="length of the long log in days [365; --quick: 3]")
    ap.add_argument("--keep", help="keep the long log at this path")
    args = ap.parse_args(argv)
    days = args.days or (3 if args.quick else 365)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        day = one_day(tmp)
        p = parts(day)
        print(f"one-day 16S log, {p['samples']} samples (best of 3, CPU time):")
        print(f"  reading (HDF5 + mapping + checks) {p['samples'] / p['read_s']:.3g} samples/s")
        print(f"  detection alone (C, arrays in memory) {p['samples'] / p['detect_s']:.3g} samples/s")
        r = replay(day)
        print(f"  twin replay, both                     {r.samples_per_second:.3g} samples/s")
        long = Path(args.keep) if args.keep else tmp / "long.h5"
        t0 = time.perf_counter()
        n = write_long(days, long)
        print(f"{days}-day 16S log: {n} samples, {long.stat().st_size / 1e6:.0f} MB on disk, "
              f"written in {time.perf_counter() - t0:.0f} s")
        floor = child("-")
        run = child(long)
        print(f"  twin replay: {run['samples'] / run['wall']:.3g} samples/s wall, {run['samples'] / run['cpu']:.3g} "
              f"samples/s CPU (target >= 1e6 on one core); {run['flags']} flags")
        print(f"  peak memory: {run['maxrss_mb']:.0f} MB (target < 500 MB); a process that only imports twin: "
              f"{floor['maxrss_mb']:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
