"""How fast `twin validate` runs a firmware in the loop: a 30-day, 16S, 1 s-step solar scenario with the
example C firmware (examples/firmware/voltage_delta.c) deciding every second, all checks on.
Target (issue 5): under 10 s.

Side by side, in the same run: the same 30 days with the kernel's own passive balancer and no
firmware (Pack.run, no checks): the floor the loop stands on; and the Python firmware
(examples/firmware/soc_balancer.py) on the first days, scaled to 30 days.

Figures only, no assertions.

    python benchmarks/validate_speed.py [--quick] [--days N]     --quick: 2 days
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EX = ROOT / "examples"


def scenario(days: float):
    from twin.validate_scenarios import from_mapping

    data = {"name": f"{days:g} solar days", "step": "1 s", "expect_full_charge": True,
            "ambient": {"mean": 25, "swing": 5},
            "parameters": {"spread.soc": 0.002, "spread.seed": 7, "cell.initial_soc": 0.55,
                           "sensor.voltage_noise": 0.001, "sensor.temperature_noise": 0.2},
            "drive": [{"solar": f"{days:g} days", "charge": "0.3C", "seed": 1}]}
    return from_mapping(data, EX / "validation" / "scenarios" / "benchmark.toml")


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 days instead of 30")
    ap.add_argument("--days", type=float, default=None)
    ap.add_argument("--repeat", type=int, default=None, help="best of N (default 3, 1 with --quick)")
    args = ap.parse_args()
    days = args.days or (2.0 if args.quick else 30.0)
    repeat = args.repeat or (1 if args.quick else 3)

    from twin.firmware import parse_firmware
    from twin.pack import Pack
    from twin.validate_limits import Limits
    from twin.validate_run import run_scenario

    limits = Limits.from_file(EX / "validation" / "limits.toml")
    sc = scenario(days)
    request, ambient = sc.drive()
    steps = len(request)
    with tempfile.TemporaryDirectory() as build:
        c_fw = parse_firmware(str(EX / "firmware" / "voltage_delta.c"), Path(build))
        t_c, run = best(lambda: run_scenario(c_fw, sc, limits), repeat)
        failed = [c.id for c in run.results if c.status == "fail"]

        def kernel_only():
            pack = Pack(sc.loop_params(), **{"balancer.policy": "voltage_delta"})
            return pack.run(request, sc.step, ambient=ambient, record=["pack.voltage"], every=3600)

        t_k, _ = best(kernel_only, repeat)
        py_days = min(days, 1.0)
        py_sc = scenario(py_days)
        py_fw = parse_firmware(f"{EX / 'firmware' / 'soc_balancer.py'}:SocBalancer")
        t_py, _ = best(lambda: run_scenario(py_fw, py_sc, limits), 1)

    print(f"twin validate speed: {days:g} days, 16S, 1 s steps ({steps} steps, {steps * 16:.3g} cell-steps), best of {repeat}")
    print(f"  C firmware in the loop, all checks   {t_c:7.2f} s   ({steps / t_c:.3g} steps/s)   target < 10 s for 30 days"
          + (f"  -> {t_c * 30 / days:.2f} s scaled to 30 days" if days != 30 else ""))
    print(f"  kernel alone, own balancer, no checks {t_k:7.2f} s   ({steps / t_k:.3g} steps/s)   (the floor)")
    print(f"  Python firmware, {py_days:g} day               {t_py:7.2f} s   -> {t_py * days / py_days:.1f} s for {days:g} days")
    print(f"  firmware {run.firmware_name}: {len(run.results)} checks, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else ""))


if __name__ == "__main__":
    main()
