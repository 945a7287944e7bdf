"""Build and run the C kernel's driver (tests/c/*.c) under AddressSanitizer and UBSan, or valgrind.

The driver gets its parameter values the way an FMU does: each variant below is a ParameterSet
that ``twin.fmu_data.bake`` turns into kernel values (through ``build_kernel``, so the spread, the
C-rates and the table grid are exactly the Python path's) and ``twin.fmu_data.c_source`` writes
as a ``twin_fmu_data.c``. Each such file is compiled with ``-Dtwin_fmu_baked=twin_variant_<name>``
so several can live in one program; ``variants.c`` lists them. No number is copied by hand.

By hand (from the repository root, with the package installed):

    python -m tests.c.harness                   # build in /tmp/twin-sanitize, run every variant
    python -m tests.c.harness eve16 eve1000     # only these variants
    python -m tests.c.harness --valgrind eve3   # a plain -O1 build under valgrind memcheck
    python -m tests.c.harness --keep DIR        # build in DIR (sources and binary stay there)
    python -m tests.c.harness -v eve16          # with each scenario's time and the detector's results
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CSRC = ROOT / "csrc"
FMU = ROOT / "fmu"
DRIVER_SOURCES = sorted(HERE.glob("*.c"))

SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
# ASan and UBSan, every report fatal. GCC's "undefined" group leaves out float-cast-overflow (a double
# converted to an integer type it does not fit is undefined behaviour, C99 6.3.1.4); the kernel
# converts doubles to indices (table positions, ring positions), so that is checked too.
SANITIZE_EXTRA = ["-fsanitize=float-cast-overflow"]
CFLAGS = ["-std=c99", "-g", "-O1"]
# the kernel's warning check: optimized as shipped (-O3, setup.py and twin/fmu_build.py), so that the
# flow-based warnings (maybe-uninitialized, array-bounds, stringop-overflow) see the code that runs
WARNINGS = ["-std=c99", "-O3", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
DRIVER_WARNINGS = ["-Wall", "-Wextra", "-Wpedantic", "-Werror"]
ASAN_OPTIONS = "detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
UBSAN_OPTIONS = "print_stacktrace=1:halt_on_error=1"
# what a sanitizer prints when it reports (ASan, LSan and UBSan share these openings)
REPORT_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "SUMMARY: ")


# --- the parameter sets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    about: str


VARIANTS = (
    Variant("eve16", "eve_lf280k_16s as shipped: 16 cells, 2 RC pairs, 8 temperature rows, passive voltage-delta"),
    Variant("eve1", "eve_lf280k_16s with 1 cell (every median and neighbour loop at its smallest)"),
    Variant("eve2", "2 cells (an even median of two, one busbar)"),
    Variant("eve3", "3 cells of 2 in parallel, sensors on every cell, instantaneous hysteresis"),
    Variant("eve1000", "1000 cells"),
    Variant("a123", "a123_2p3ah_16s: a fitted set, one temperature row"),
    Variant("rc3", "16 cells, 3 RC pairs with SOC-dependent time constants, noisy ADCs and current sensor"),
    Variant("rc0", "5 cells, no RC pair, no ageing, flying capacitor, faults scheduled in the parameter set"),
)


def variant_params(name: str):
    """The ParameterSet of one variant (built from the shipped sets; nothing copied by hand)."""
    from twin import parameter_sets
    from twin.faults import Fault
    from twin.params import ParameterSet

    base = parameter_sets.get("eve_lf280k_16s")
    src = f"sanitizer variant {name}"
    if name == "eve16":
        return base
    if name in ("eve1", "eve2", "eve1000"):
        return base.updated({"pack.cells_in_series": int(name[3:])}, source=src)
    if name == "eve3":
        return base.updated({"pack.cells_in_series": 3, "pack.cells_in_parallel": 2,
                             "pack.temperature_sensors": [0, 1, 2], "cell.hysteresis_instantaneous": 0.01}, source=src)
    if name == "a123":
        return parameter_sets.get("a123_2p3ah_16s")
    if name == "rc3":
        soc = base["cell.table_soc"]
        r2 = base["cell.r2"]
        return base.updated({
            "cell.r3": r2, "cell.tau3": [4000.0 + 2000.0 * s for s in soc], "cell.tau1": [10.0 + 20.0 * s for s in soc],
            "sensor.voltage_noise": 0.002, "sensor.voltage_resolution": 0.0005, "sensor.temperature_noise": 0.3,
            "sensor.current_noise": 0.5, "sensor.current_offset": 0.2, "sensor.current_gain_error": 0.01,
            "sensor.current_resolution": 0.1, "sensor.seed": 7,
        }, source=src)
    if name == "rc0":
        values = {k: v for k, v in base.values.items() if k not in ("cell.r1", "cell.tau1", "cell.r2", "cell.tau2")}
        pset = ParameterSet(values, src)
        return pset.updated({
            "pack.cells_in_series": 5, "balancer.topology": "flying_capacitor", "balancer.channels": 2,
            "ageing.capacity_fade_per_cycle": 0.0, "ageing.capacity_fade_per_year": 0.0,
            "balancer.max_cells": 2, "balancer.no_adjacent": True, "balancer.mode": "always",
        }, faults=[Fault(1, "leak_current", 2.0, "1 h"), Fault(4, "balancer_stuck", "on", "2 h"),
                   Fault(0, "voltage_offset", 0.02, "3 h"), Fault(1, "leak_current", 0.0, "5 h")], source=src)
    raise KeyError(f"no variant {name!r}; variants: {', '.join(v.name for v in VARIANTS)}")


def write_variant_sources(directory: Path, names) -> list[Path]:
    """twin_fmu_data.c of every variant (as `twin fmu build` writes it) and variants.c listing them."""
    from twin.fmu_data import bake, c_source

    directory.mkdir(parents=True, exist_ok=True)
    files = []
    listing = ['/* GENERATED by tests/c/harness.py: the parameter variants the driver runs. */',
               '#include "driver.h"', ""]
    for name in names:
        path = directory / f"data_{name}.c"
        path.write_text(c_source(bake(variant_params(name)), 3, f"sanitizer-{name}"), encoding="utf-8")
        files.append(path)
        listing.append(f"extern const twin_fmu_data twin_variant_{name};")
    listing += ["", "const driver_variant driver_variants[] = {"]
    listing += [f'    {{"{name}", &twin_variant_{name}}},' for name in names]
    listing += ["};", f"const int driver_n_variants = {len(names)};", ""]
    (directory / "variants.c").write_text("\n".join(listing), encoding="utf-8")
    return files


# --- building -----------------------------------------------------------------------------------------


class BuildError(Exception):
    """A compile or link step failed; the message holds the command and the compiler's output."""


def compiler() -> str | None:
    for candidate in (os.environ.get("CC"), "gcc", "cc"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def run_command(command: list[str], cwd: Path | None = None) -> None:
    """Run a compiler command; BuildError with its output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=600)
    if done.returncode != 0:
        raise BuildError(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}")


def sanitizer_probe(cc: str, directory: Path) -> tuple[str | None, bool]:
    """(None, leaks) when cc can build and run a sanitized program here, else (why not, False); leaks
    says whether LeakSanitizer works too (it needs ptrace, which some containers forbid)."""
    directory.mkdir(parents=True, exist_ok=True)
    src = directory / "probe.c"
    src.write_text("#include <stdlib.h>\nint main(void) { int *a = malloc(2 * sizeof *a); a[1] = 1; "
                   "{ int r = a[1] - 1; free(a); return r; } }\n", encoding="utf-8")
    exe = directory / "probe"
    try:
        run_command([cc, *CFLAGS, *SANITIZE, *SANITIZE_EXTRA, str(src), "-o", str(exe)])
    except BuildError as e:
        return f"{cc} cannot build with -fsanitize=address,undefined (is libasan/libubsan installed?): {e}", False
    for leaks in (True, False):
        done = subprocess.run([str(exe)], capture_output=True, text=True, env=sanitizer_env(leaks), timeout=60)
        if done.returncode == 0:
            return None, leaks
    return f"a sanitized program does not run here (exit {done.returncode}): {done.stderr.strip()[:500]}", False


def sanitizer_env(leaks: bool = True) -> dict:
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ASAN_OPTIONS if leaks else ASAN_OPTIONS.replace("detect_leaks=1", "detect_leaks=0")
    env["UBSAN_OPTIONS"] = UBSAN_OPTIONS
    return env


def build_driver(directory: Path, names, cc: str, sanitize: bool = True, jobs: int = 2, kernel: Path = CSRC) -> Path:
    """Compile the kernel (csrc/*.c, or another copy of it), the driver and the variants' data into one
    program; returns its path."""
    flags = [*CFLAGS, *(SANITIZE + SANITIZE_EXTRA if sanitize else [])]
    include = ["-I", str(kernel), "-I", str(FMU), "-I", str(HERE)]
    data = write_variant_sources(directory, names)
    # the driver with every warning as an error (the kernel's own warning check is a separate compile)
    units = [(p, []) for p in sorted(kernel.glob("*.c"))] + [(p, DRIVER_WARNINGS) for p in DRIVER_SOURCES]
    units += [(directory / "variants.c", [])]
    objects = []
    commands = []
    for src, defines in units:
        obj = directory / f"{'k_' if src.parent == kernel else ''}{src.stem}.o"
        objects.append(obj)
        commands.append([cc, *flags, *defines, *include, "-c", str(src), "-o", str(obj)])
    for src in data:  # only read by the driver, which copies tables and events into exact-size heap blocks
        obj = directory / f"{src.stem}.o"
        objects.append(obj)
        commands.append([cc, "-std=c99", "-O0", f"-Dtwin_fmu_baked=twin_variant_{src.stem[len('data_'):]}", *include,
                         "-c", str(src), "-o", str(obj)])
    # biggest sources first (pack.c under UBSan takes most of the build), so the slowest one does not start last
    commands.sort(key=lambda c: -Path(c[c.index("-c") + 1]).stat().st_size)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for f in [pool.submit(run_command, c) for c in commands]:
            f.result()
    exe = directory / ("driver" if sanitize else "driver_plain")
    run_command([cc, *flags, "-o", str(exe), *map(str, objects), "-lm"])
    return exe


def warning_check(cc: str, sources, directory: Path, extra=()) -> None:
    """Compile each source with -Wall -Wextra -Wpedantic -Werror; raise BuildError with the first failures."""
    directory.mkdir(parents=True, exist_ok=True)
    include = ["-I", str(CSRC), "-I", str(FMU), "-I", str(HERE)]
    failures = []
    for src in sources:
        try:
            run_command([cc, *WARNINGS, *extra, *include, "-c", str(src), "-o", str(directory / f"w_{Path(src).stem}.o")])
        except BuildError as e:
            failures.append(str(e))
    if failures:
        raise BuildError("\n".join(failures))


# --- running ------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def reported(self) -> bool:
        return any(mark in self.stderr for mark in REPORT_MARKS)


def run_driver(exe: Path, args, env=None, wrapper=(), timeout: float = 300) -> Outcome:
    """Run the driver; a run that outlives the timeout (a hang in the kernel?) is a failed outcome."""
    started = time.perf_counter()
    try:
        done = subprocess.run([*wrapper, str(exe), *args], capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return Outcome(-1, out, f"timed out after {timeout:.0f} s (a loop that does not end?)", time.perf_counter() - started)
    return Outcome(done.returncode, done.stdout, done.stderr, time.perf_counter() - started)


VALGRIND = ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=all",
            "--track-origins=yes", "-q"]


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Build the kernel driver under sanitizers (or valgrind) and run it.")
    ap.add_argument("variants", nargs="*", help="variants to run (default: all)")
    ap.add_argument("--keep", type=Path, default=Path("/tmp/twin-sanitize"), help="build directory")
    ap.add_argument("--valgrind", action="store_true", help="a build without sanitizers, run under valgrind memcheck")
    ap.add_argument("--kernel", type=Path, default=CSRC, help="the kernel's C sources (default: csrc/)")
    ap.add_argument("-v", "--verbose", action="store_true", help="the driver's time per scenario and detector results")
    args = ap.parse_args(argv)
    cc = compiler()
    if cc is None:
        print("no C compiler (tried $CC, gcc, cc)", file=sys.stderr)
        return 2
    names = [v.name for v in VARIANTS]
    chosen = args.variants or names
    started = time.perf_counter()
    leaks = True
    if not args.valgrind:
        why_not, leaks = sanitizer_probe(cc, args.keep / "probe")
        if why_not is not None:
            print(why_not, file=sys.stderr)
            return 2
    exe = build_driver(args.keep, names, cc, sanitize=not args.valgrind, kernel=args.kernel.resolve())
    print(f"built {exe} in {time.perf_counter() - started:.1f} s")
    status = 0
    for name in chosen:
        env = None if args.valgrind else sanitizer_env(leaks)
        out = run_driver(exe, ["-v", name] if args.verbose else [name], env=env, wrapper=VALGRIND if args.valgrind else ())
        print(f"{name}: exit {out.returncode} in {out.seconds:.1f} s")
        sys.stdout.write(out.stdout)
        if out.returncode != 0 or out.reported:
            sys.stderr.write(out.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
