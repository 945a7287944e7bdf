"""The C kernel under AddressSanitizer and UndefinedBehaviorSanitizer, and compiled with every warning.

tests/c/ holds a C99 driver that exercises the kernel through csrc/twin.h: every drive kind, every
balancer topology x policy x mode, every fault kind, protection, access by value reference, state
copies, the divergence detector over kernel-made BMS logs spoiled in every awkward way (NaN
samples, gaps, time going backwards, constant voltages, huge and tiny values, a cell that never
reaches a knee), and a C firmware in the loop (csrc/firmware.c: sensor delays, control periods,
every kind of stop) for 1, 2, 3, 5, 16 and 1000 cells. Parameter values come from the shipped parameter
sets through the FMU's generator (twin.fmu_data), so nothing is copied by hand. The driver opens most
packs with every per-cell array in an allocation of its own, so an access one past any array is a
sanitizer report, not a silent write into its neighbour (tests/c/driver.h).

The driver is built once with -fsanitize=address,undefined -fno-sanitize-recover=all (plus
float-cast-overflow, which GCC's "undefined" leaves out) and run per parameter variant, two at a
time. A variant fails on any sanitizer report, any leak, or any of the driver's own checks (each
names the scenario, file and line). The driver itself is compiled with -Wall -Wextra -Wpedantic
-Werror; the kernel's files are compiled apart with those flags at -O3, one test each.

By hand, with each scenario's time and what the detector made of each log:
``python -m tests.c.harness -v [variant ...]``; under valgrind memcheck: ``--valgrind``.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.c import harness

VARIANTS = [v.name for v in harness.VARIANTS]
# Variants whose kernel run is known to report, with the reason (xfail(strict=True) keeps the bug visible
# and fails the suite once it is fixed, so the entry is removed): none at present.
KNOWN_REPORTS: dict[str, str] = {}
# csrc/ files known to warn under -Wall -Wextra -Wpedantic -Werror, with the reason: none at present.
KNOWN_WARNINGS: dict[str, str] = {}


@pytest.fixture(scope="module")
def cc() -> str:
    found = harness.compiler()
    if found is None:
        pytest.skip("no C compiler ($CC, gcc or cc) on PATH: the kernel's sanitizer and warning checks need one")
    return found


@pytest.fixture(scope="module")
def sanitizers(cc, tmp_path_factory) -> bool:
    """Skip, saying why, when the compiler cannot build or run a sanitized program here; else whether
    LeakSanitizer works too (without it, leaks go unchecked and everything else still runs)."""
    why_not, leaks = harness.sanitizer_probe(cc, tmp_path_factory.mktemp("probe"))
    if why_not is not None:
        pytest.skip(why_not)
    return leaks


@pytest.fixture(scope="module")
def sanitized_runs(cc, sanitizers, tmp_path_factory) -> dict:
    """Build the sanitized driver once and run every variant (two processes at a time)."""
    directory = tmp_path_factory.mktemp("sanitize")
    try:
        exe = harness.build_driver(directory, VARIANTS, cc)
    except harness.BuildError as e:
        pytest.fail(f"the sanitized driver does not build:\n{e}", pytrace=False)
    env = harness.sanitizer_env(leaks=sanitizers)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(harness.run_driver, exe, [name], env) for name in VARIANTS}
        return {name: f.result() for name, f in futures.items()}


def _report(name: str, out: harness.Outcome) -> str:
    lines = out.stderr.strip().splitlines()
    shown = "\n".join(lines[:80]) + (f"\n... ({len(lines) - 80} more lines)" if len(lines) > 80 else "")
    return (f"variant {name}: exit status {out.returncode}"
            f"{', a sanitizer reported' if out.reported else ''}\n{shown}\n"
            f"reproduce: python -m tests.c.harness -v {name}")


@pytest.mark.parametrize("variant", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_REPORTS[name])) if name in KNOWN_REPORTS
    else name for name in VARIANTS])
def test_kernel_runs_clean_under_asan_and_ubsan(sanitized_runs, variant):
    out = sanitized_runs[variant]
    assert out.returncode == 0 and not out.reported, _report(variant, out)
    assert f"{variant}: " in out.stdout and "every scenario passed" in out.stdout, _report(variant, out)


def test_a_report_is_seen(cc, sanitizers, tmp_path):
    """The harness is not blind: a heap overflow in a driver-like program is a report and a failure."""
    src = tmp_path / "overflow.c"
    src.write_text("#include <stdlib.h>\nint main(void) { volatile double *a = malloc(3 * sizeof(double));"
                   " a[3] = 1.0; free((void *)a); return 0; }\n", encoding="utf-8")
    exe = tmp_path / "overflow"
    harness.run_command([cc, *harness.CFLAGS, *harness.SANITIZE, str(src), "-o", str(exe)])
    out = harness.run_driver(exe, [], env=harness.sanitizer_env(leaks=sanitizers))
    assert out.returncode != 0 and out.reported, out.stderr  # UBSan (object size) or ASan, whichever sees it first


@pytest.fixture(scope="module")
def kernel_warnings(cc, tmp_path_factory) -> dict:
    """csrc/ file name -> the compiler's complaint, or None; compiled two at a time."""
    directory = tmp_path_factory.mktemp("warnings")

    def check(path):
        try:
            harness.warning_check(cc, [path], directory, extra=["-DTWIN_MULTIVERSION=1"])
        except harness.BuildError as e:
            return str(e)
        return None

    sources = sorted(harness.CSRC.glob("*.c"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((p.name for p in sources), pool.map(check, sources)))


@pytest.mark.parametrize("source", [
    pytest.param(p.name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_WARNINGS[p.name]))
    if p.name in KNOWN_WARNINGS else p.name for p in sorted(harness.CSRC.glob("*.c"))])
def test_kernel_compiles_without_warnings(kernel_warnings, source):
    """Each csrc/ file as the extension and the FMU build it (-O3 -DTWIN_MULTIVERSION), with -Wall -Wextra
    -Wpedantic -Werror."""
    complaint = kernel_warnings[source]
    assert complaint is None, f"csrc/{source} warns:\n{complaint}"


def test_kernel_runs_clean_under_valgrind(cc, tmp_path):
    """Opt-in (TWIN_VALGRIND=1): valgrind memcheck over the small variants, with a plain -O1 build. It
    takes about a minute of CPU (3-8 s per variant, eve1000 far more), too slow for every run; ASan
    sees the same heap overruns, valgrind adds reads of uninitialized memory."""
    if os.environ.get("TWIN_VALGRIND") != "1":
        pytest.skip("valgrind memcheck is opt-in (a minute of CPU): TWIN_VALGRIND=1 python -m pytest "
                    "tests/test_sanitizers.py")
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    small = [name for name in VARIANTS if name != "eve1000"]
    exe = harness.build_driver(tmp_path, small, cc, sanitize=False)
    with ThreadPoolExecutor(max_workers=2) as pool:
        outs = dict(zip(small, pool.map(lambda name: harness.run_driver(exe, [name], wrapper=harness.VALGRIND), small)))
    bad = {name: out for name, out in outs.items() if out.returncode != 0}
    assert not bad, "\n\n".join(_report(name, out) for name, out in bad.items())
