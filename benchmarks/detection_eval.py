"""Detection figures: rate, false flags, latency and magnitude error of `twin replay`.

Two sources:
  - the development packs in ../shared/data/dev-packs (made by PyBaMM, not by twin; truth files are
    read only here, to score), replayed through examples/mappings/dev-pack.toml;
  - logs the twin simulates itself (twin.scenarios): a 16S EVE LF280K pack on an off-grid solar duty
    for 3.5 days, BMS measurement noise and a random current-sensor gain and offset, each fault kind
    at several magnitudes from 30 h on, plus healthy packs (one with a large current-sensor error).

A fault counts as detected when its cell is flagged with its kind within 12 h of the onset; any
other flag is a false flag.

    python benchmarks/detection_eval.py [--quick] [--json out.json] [--set detect.sigmas=6] [--logs DIR]

--set changes a detector parameter for every replay (to see what a setting trades); --logs keeps the
simulated logs in DIR and reuses them on the next run.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from twin.faults import Fault
from twin.replay import replay
from twin.scenarios import LogScenario, simulate_log

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "data" / "dev-packs"
WINDOW_S = 12 * 3600.0
ONSET = 30 * 3600.0
KIND_OF = {"leak_current": "self_discharge", "series_resistance": "resistance", "capacity_loss": "capacity",
           "voltage_offset": "voltage_sensor", "voltage_gain_error": "voltage_sensor", "balancer_stuck": "balancer",
           "temperature_offset": "thermal", "short": "self_discharge", "sensor": "voltage_sensor"}
DEV_KIND = {"short": "self_discharge", "sensor": "voltage_sensor", "resistance": "resistance"}
TRUE_MAGNITUDE = {  # key of the flag's magnitude dict and the factor from the fault's value
    "self_discharge": ("leak_ma", 1e3), "resistance": ("added_mohm", 1e3), "voltage_sensor": ("offset_mv", 1e3),
    "thermal": ("departure_k", 1.0), "capacity": ("change_percent", -100.0),
}


def simulated_cases(quick: bool):
    cap = 280.0
    c = lambda frac: frac * cap  # noqa: E731  (a C-rate in A)
    cases = [
        ("healthy", LogScenario(seed=11), None),
        ("healthy, current sensor +0.3%C offset +1% gain", LogScenario(seed=12, current_offset_c=0.003, current_gain_error=0.01), None),
        ("leak 0.2%C", LogScenario(seed=13, faults=(Fault(5, "leak_current", c(0.002), ONSET),)), 5),
        ("resistance +60% R0", LogScenario(seed=14, faults=(Fault(9, "series_resistance", 0.105e-3, ONSET),)), 9),
        ("voltage offset +15 mV", LogScenario(seed=15, faults=(Fault(2, "voltage_offset", 0.015, ONSET),)), 2),
        ("temperature offset +6 K", LogScenario(seed=16, faults=(Fault(10, "temperature_offset", 6.0, ONSET),)), 10),
        ("capacity loss 10%", LogScenario(seed=17, faults=(Fault(12, "capacity_loss", 0.10, ONSET),)), 12),
    ]
    if not quick:
        cases += [
            ("healthy", LogScenario(seed=21), None),
            ("healthy", LogScenario(seed=22), None),
            ("healthy, current sensor -0.3%C offset -1% gain", LogScenario(seed=23, current_offset_c=-0.003, current_gain_error=-0.01), None),
            ("leak 0.1%C", LogScenario(seed=24, faults=(Fault(3, "leak_current", c(0.001), ONSET),)), 3),
            ("leak 0.5%C", LogScenario(seed=25, faults=(Fault(8, "leak_current", c(0.005), ONSET),)), 8),
            ("resistance +30% R0", LogScenario(seed=26, faults=(Fault(1, "series_resistance", 0.053e-3, ONSET),)), 1),
            ("resistance +100% R0", LogScenario(seed=27, faults=(Fault(14, "series_resistance", 0.175e-3, ONSET),)), 14),
            ("voltage offset +8 mV", LogScenario(seed=28, faults=(Fault(6, "voltage_offset", 0.008, ONSET),)), 6),
            ("voltage offset -20 mV", LogScenario(seed=29, faults=(Fault(11, "voltage_offset", -0.020, ONSET),)), 11),
            ("temperature offset -4 K", LogScenario(seed=30, faults=(Fault(0, "temperature_offset", -4.0, ONSET),)), 0),
            ("capacity loss 20%", LogScenario(seed=31, faults=(Fault(4, "capacity_loss", 0.20, ONSET),)), 4),
            ("balancer stuck on (10 Ohm, 0.33 A)", LogScenario(seed=32, faults=(Fault(7, "balancer_stuck", "on", ONSET),),
                                                              changes={"balancer.bleed_resistance": 10.0}), 7),
        ]
    return cases


def sweep_cases(count: int):
    """`count` logs of each kind with seeds, cells, magnitudes and onsets drawn at random (seed 1000
    on): a wider check than the fixed cases, for false flags above all."""
    cap = 280.0
    rng = np.random.default_rng(1000)
    cases = []
    for k in range(count):
        seed = 1000 + 10 * k
        pick = lambda: int(rng.integers(0, 16))  # noqa: E731
        onset = float(rng.uniform(24, 40)) * 3600.0
        offset_c, gain = float(rng.uniform(-0.003, 0.003)), float(rng.uniform(-0.01, 0.01))
        cases.append((f"sweep healthy (current {offset_c * 100:+.2f}%C {gain * 100:+.1f}%)",
                      LogScenario(seed=seed, current_offset_c=offset_c, current_gain_error=gain), None))
        cell = pick()
        leak = float(rng.uniform(0.001, 0.005))
        cases.append((f"sweep leak {leak * 100:.2f}%C", LogScenario(seed=seed + 1, faults=(
            Fault(cell, "leak_current", leak * cap, onset),)), cell))
        cell, extra = pick(), float(rng.uniform(0.5, 1.5))
        cases.append((f"sweep resistance +{extra * 100:.0f}% R0", LogScenario(seed=seed + 2, faults=(
            Fault(cell, "series_resistance", extra * 0.175e-3, onset),)), cell))
        cell, mv = pick(), float(rng.choice([-1, 1]) * rng.uniform(6, 20))
        cases.append((f"sweep voltage offset {mv:+.0f} mV", LogScenario(seed=seed + 3, faults=(
            Fault(cell, "voltage_offset", mv * 1e-3, onset),)), cell))
        cell, loss = pick(), float(rng.uniform(0.1, 0.25))
        cases.append((f"sweep capacity loss {loss * 100:.0f}%", LogScenario(seed=seed + 4, faults=(
            Fault(cell, "capacity_loss", loss, onset),)), cell))
    return cases


def score(flags, cell, kind, onset):
    hit = [f for f in flags if f.cell == cell and f.kind == kind and onset <= f.first_flagged_s <= onset + WINDOW_S]
    false = [f for f in flags if not (f.cell == cell and f.kind == kind)]
    return (hit[0] if hit else None), false


def magnitude_error(flag, kind, value):
    key, factor = TRUE_MAGNITUDE.get(kind, (None, None))
    if flag is None or key is None or not isinstance(value, (int, float)):
        return None
    truth = value * factor
    got = flag.magnitude.get(key)
    return None if got is None or truth == 0 else (got - truth) / abs(truth)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer simulated cases (CI smoke)")
    ap.add_argument("--json", help="write the rows as JSON")
    ap.add_argument("--set", action="append", default=[], metavar="ID=VALUE", help="override a parameter")
    ap.add_argument("--logs", help="keep the simulated logs here (reused when present)")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every flag of each log")
    ap.add_argument("--sweep", type=int, default=0, metavar="N",
                    help="add N random logs of each kind (healthy, leak, resistance, sensor, capacity)")
    args = ap.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key.strip()] = float(value)
    rows = []
    started = time.perf_counter()
    if DEV.exists():
        for truth_file in sorted(DEV.glob("pack_*.truth.json")):
            truth = json.loads(truth_file.read_text())
            r = replay(DEV / truth["file"], mapping=ROOT / "examples" / "mappings" / "dev-pack.toml", overrides=overrides)
            kind = DEV_KIND.get(truth["fault"])
            hit, false = score(r.flags, truth["cell"], kind, truth["onset_s"]) if kind else (None, r.flags)
            rows.append({"source": "dev", "case": f"{truth['file']} ({truth['fault']})", "fault": kind,
                         "detected": bool(hit) if kind else None, "false_flags": len(false),
                         "latency_h": (hit.first_flagged_s - truth["onset_s"]) / 3600 if hit else None,
                         "magnitude": hit.magnitude if hit else None, "magnitude_error": None,
                         "all_flags": [(f.cell, f.kind, round(f.first_flagged_s / 3600, 1)) for f in r.flags]})
    else:
        print(f"(dev packs not found at {DEV}: skipped)")
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.logs) if args.logs else Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        for k, (name, scenario, cell) in enumerate(simulated_cases(args.quick) + sweep_cases(args.sweep)):
            scenario.days = 3.5
            path = where / f"case{scenario.seed}.h5"
            if not (args.logs and path.exists()):
                simulate_log(path, scenario)
            r = replay(path, overrides=overrides)
            fault = scenario.faults[0] if scenario.faults else None
            kind = KIND_OF[fault.kind] if fault else None
            hit, false = score(r.flags, cell, kind, fault.onset) if fault else (None, r.flags)
            rows.append({"source": "simulated", "case": name, "fault": kind, "detected": bool(hit) if fault else None,
                         "false_flags": len(false), "latency_h": (hit.first_flagged_s - fault.onset) / 3600 if hit else None,
                         "magnitude": hit.magnitude if hit else None,
                         "magnitude_error": magnitude_error(hit, kind, fault.value) if fault else None,
                         "all_flags": [(f.cell, f.kind, round(f.first_flagged_s / 3600, 1)) for f in r.flags],
                         "truth": (cell, kind, round(fault.onset / 3600, 1)) if fault else None})
    print(f"{'source':9s} {'case':48s} {'detected':>8s} {'false':>5s} {'latency':>8s} {'mag. err':>8s}")
    for row in rows:
        det = "-" if row["detected"] is None else ("yes" if row["detected"] else "NO")
        lat = f"{row['latency_h']:.1f} h" if row["latency_h"] is not None else "-"
        mag = f"{100 * row['magnitude_error']:+.0f} %" if row["magnitude_error"] is not None else "-"
        if row["magnitude"] and row["magnitude"].get("leak_ma_is_lower_bound"):
            mag += " (a lower bound)"
        print(f"{row['source']:9s} {row['case']:48s} {det:>8s} {row['false_flags']:5d} {lat:>8s} {mag:>8s}")
        if args.verbose and (row["all_flags"] or row.get("truth")):
            print(f"          flags (cell, kind, h): {row['all_flags']}; truth: {row.get('truth')}")
    faulty = [r for r in rows if r["detected"] is not None]
    healthy = [r for r in rows if r["detected"] is None]
    print(f"detected {sum(r['detected'] for r in faulty)}/{len(faulty)} faults within 12 h; "
          f"false flags: {sum(r['false_flags'] for r in rows)} over {len(rows)} logs "
          f"({sum(r['false_flags'] for r in healthy)} on the {len(healthy)} healthy ones); "
          f"{time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    sys.exit(main())
