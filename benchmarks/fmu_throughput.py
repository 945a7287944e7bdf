"""Speed of the twin FMU: inside one doStep, and driven step by step from FMPy.

(a) Internal throughput: one doStep over an hour at 1 s internal steps, 16S default pack, 0.2C
    discharge from the state after initialization (restored before every repetition), in
    cell-steps per second; beside it the Python extension (twin.Pack) over the same hour.
(b) An FMPy-driven loop of 1 s communication steps, 16S (set pack.current, doStep, get the 16
    cell voltages) through fmpy's FMU2Slave and FMU3Slave, beside the same loop over a trivial
    FMU (one input, 16 outputs, nothing to compute) compiled here in the same run: the difference
    is what the twin itself costs per step.
(c) The twin beside a BMS, 1 s communication steps, 16S: per step one call sets pack.current and
    the 16 measured cell voltages and 16 temperatures, one sets the 16 balancing flags, then
    doStep, through FMPy's low-level API (fmi3SetFloat64 ... on prepared ctypes rows; what
    tests/fmu/test_detector.py does with a dev-pack log). Once with measurements, so that every
    doStep feeds the divergence detector a sample, once with NaN measurements (the detector not
    fed), alternately: the difference is what the detector costs per sample.

    python benchmarks/fmu_throughput.py [--quick]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import ctypes
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fmpy
import numpy as np
from fmpy import extract, read_model_description
from fmpy.fmi2 import FMU2Slave
from fmpy.fmi3 import FMU3Slave

from twin import Pack
from twin.fmu_build import build_fmu, find_compiler

TARGET = 3e7
CELLS = 16

# The trivial FMUs: one input (vr 0) and 16 outputs, nothing to compute. FMPy looks up every FMI
# function, so the ones the loop does not call are stubs (the C signature does not matter to a lookup).
TRIVIAL = {2: r"""
#include <stdlib.h>
typedef struct { double u, y[16]; } T;
const char *fmi2GetVersion(void) { return "2.0"; }
const char *fmi2GetTypesPlatform(void) { return "default"; }
void *fmi2Instantiate(const char *n, int k, const char *g, const char *r, const void *f, int v, int l) {
    (void)n, (void)k, (void)g, (void)r, (void)f, (void)v, (void)l; return calloc(1, sizeof(T)); }
void fmi2FreeInstance(void *c) { free(c); }
int fmi2SetupExperiment(void *c, int a, double b, double s, int d, double e) {
    (void)c, (void)a, (void)b, (void)s, (void)d, (void)e; return 0; }
int fmi2EnterInitializationMode(void *c) { (void)c; return 0; }
int fmi2ExitInitializationMode(void *c) { (void)c; return 0; }
int fmi2Terminate(void *c) { (void)c; return 0; }
int fmi2SetReal(void *c, const unsigned vr[], size_t n, const double v[]) {
    size_t i; for (i = 0; i < n; ++i) if (vr[i] == 0) ((T *)c)->u = v[i]; return 0; }
int fmi2GetReal(void *c, const unsigned vr[], size_t n, double v[]) {
    size_t i; for (i = 0; i < n; ++i) v[i] = vr[i] == 0 ? ((T *)c)->u : ((T *)c)->y[(vr[i] - 1) % 16]; return 0; }
int fmi2DoStep(void *c, double t, double h, int x) {
    int k; (void)t, (void)h, (void)x; for (k = 0; k < 16; ++k) ((T *)c)->y[k] = ((T *)c)->u * (k + 1); return 0; }
""", 3: r"""
#include <stdbool.h>
#include <stdlib.h>
typedef struct { double u, y[16]; } T;
const char *fmi3GetVersion(void) { return "3.0"; }
void *fmi3InstantiateCoSimulation(const char *n, const char *g, const char *r, bool v, bool l, bool e, bool a,
    const unsigned q[], size_t m, void *env, void *log, void *iu) {
    (void)n, (void)g, (void)r, (void)v, (void)l, (void)e, (void)a, (void)q, (void)m, (void)env, (void)log, (void)iu;
    return calloc(1, sizeof(T)); }
void fmi3FreeInstance(void *c) { free(c); }
int fmi3EnterInitializationMode(void *c, bool a, double b, double s, bool d, double e) {
    (void)c, (void)a, (void)b, (void)s, (void)d, (void)e; return 0; }
int fmi3ExitInitializationMode(void *c) { (void)c; return 0; }
int fmi3Terminate(void *c) { (void)c; return 0; }
int fmi3SetFloat64(void *c, const unsigned vr[], size_t n, const double v[], size_t m) {
    size_t i; (void)m; for (i = 0; i < n; ++i) if (vr[i] == 0) ((T *)c)->u = v[i]; return 0; }
int fmi3GetFloat64(void *c, const unsigned vr[], size_t n, double v[], size_t m) {
    size_t i, k = 0; int j; (void)m;
    for (i = 0; i < n; ++i) { if (vr[i] == 0) v[k++] = ((T *)c)->u; else for (j = 0; j < 16; ++j) v[k++] = ((T *)c)->y[j]; }
    return 0; }
int fmi3DoStep(void *c, double t, double h, bool x, bool *ev, bool *te, bool *er, double *last) {
    int k; (void)x; for (k = 0; k < 16; ++k) ((T *)c)->y[k] = ((T *)c)->u * (k + 1);
    *ev = *te = *er = false; *last = t + h; return 0; }
"""}


def build_trivial(directory: Path, version: int) -> Path:
    """An FMU directory with only a binary: enough for FMPy's slave classes."""
    platform = fmpy.platform if version == 2 else fmpy.platform_tuple
    src, lib = directory / f"trivial{version}.c", directory / "binaries" / platform / f"Trivial{fmpy.sharedLibraryExtension}"
    lib.parent.mkdir(parents=True)
    cls = FMU2Slave if version == 2 else FMU3Slave
    code = TRIVIAL[version]
    stubs = [name for name in dir(cls) if name.startswith(f"fmi{version}") and not re.search(rf"\b{name}\(", code)]
    src.write_text(code + "".join(f"int {name}(void) {{ return 3; }}\n" for name in stubs))
    subprocess.run([find_compiler(), "-O2", "-std=c99", "-fPIC", "-shared", str(src), "-o", str(lib)], check=True)
    return directory


def open_slave(directory, version: int, guid: str, identifier: str):
    cls = FMU2Slave if version == 2 else FMU3Slave
    fmu = cls(guid=guid, unzipDirectory=str(directory), modelIdentifier=identifier)
    fmu.instantiate()
    if version == 2:
        fmu.setupExperiment(startTime=0.0)
    fmu.enterInitializationMode()
    fmu.exitInitializationMode()
    return fmu


def internal_rate(directory, md, repeats: int) -> list[float]:
    fmu = open_slave(directory, 3, md.guid, md.coSimulation.modelIdentifier)
    start = fmu.getFMUState()
    rates = []
    for _ in range(repeats):
        fmu.setFMUState(start)
        fmu.setFloat64([400], [-56.0])
        t0 = time.perf_counter()
        fmu.doStep(0.0, 3600.0)
        rates.append(3600 * CELLS / (time.perf_counter() - t0))
    fmu.terminate()
    fmu.freeInstance()
    return rates


def extension_rate(repeats: int) -> float:
    pack, profile, best = Pack(), np.full(3600, -56.0), 0.0
    for _ in range(repeats):
        pack.reset()
        t0 = time.perf_counter()
        pack.run(profile, 1.0, record=[])
        best = max(best, 3600 * CELLS / (time.perf_counter() - t0))
    return best


def loop_time(fmu, version: int, input_vr: int, output_vrs: list[int], steps: int, t: float) -> float:
    """Seconds per communication step of set input, doStep, get 16 outputs, from time t."""
    set_, get = (fmu.setReal, fmu.getReal) if version == 2 else (fmu.setFloat64, fmu.getFloat64)
    kwargs = {} if version == 2 else {"nValues": CELLS}
    t0 = time.perf_counter()
    for k in range(steps):
        set_([input_vr], [-56.0 if (k // 600) % 2 else 56.0])
        fmu.doStep(t, 1.0)
        get(output_vrs, **kwargs)
        t += 1.0
    return (time.perf_counter() - t0) / steps


def fmpy_loop(version: int, twin_dir, md, trivial_dir, steps: int, repeats: int) -> tuple[float, float]:
    """Best seconds per step of the twin and of the trivial FMU, measured alternately so that
    both see the same machine load."""
    if version == 2:
        outputs = [v.valueReference for v in md.modelVariables if v.name.startswith("cell.voltage[")]
        trivial_outputs = list(range(1, CELLS + 1))
    else:
        outputs, trivial_outputs = [260], [1]
    twin = (open_slave(twin_dir, version, md.guid, md.coSimulation.modelIdentifier), 400, outputs)
    trivial = (open_slave(trivial_dir, version, "trivial", "Trivial"), 0, trivial_outputs)
    best = {"twin": float("inf"), "trivial": float("inf")}
    for r in range(repeats):  # the steps go on where the last repetition ended
        for name, (fmu, input_vr, outs) in (("twin", twin), ("trivial", trivial)):
            best[name] = min(best[name], loop_time(fmu, version, input_vr, outs, steps, float(r * steps)))
    for fmu, _, _ in (twin, trivial):
        fmu.terminate()
        fmu.freeInstance()
    return best["twin"], best["trivial"]


def beside_bms_loop(fmu, version: int, md, steps: int, t: float, measured: bool) -> float:
    """Seconds per communication step of (c), from time t."""
    by_name = {v.name: v.valueReference for v in md.modelVariables}
    names = ("pack.current", "measured.cell_voltage", "measured.temperature")
    if version == 3:
        reals, ints = [by_name[name] for name in names], [by_name["balancer.command"]]
    else:
        reals = [by_name["pack.current"]] + [by_name[f"{name}[{k + 1}]"] for name in names[1:] for k in range(CELLS)]
        ints = [by_name[f"balancer.command[{k + 1}]"] for k in range(CELLS)]
    rng = np.random.default_rng(0)
    values = np.full((steps, 1 + 2 * CELLS), np.nan)
    values[:, 0] = np.where((np.arange(steps) // 600) % 2, -56.0, 56.0)
    if measured:
        values[:, 1:1 + CELLS] = np.round(3.3 + rng.normal(0.0, 1e-3, (steps, CELLS)), 3)
        values[:, 1 + CELLS:] = 25.0
    flags = np.zeros((steps, CELLS), dtype=np.int32)
    flags[:, ::4] = 1
    real_rows = ((ctypes.c_double * values.shape[1]) * steps).from_buffer(values)
    int_rows = ((ctypes.c_int32 * CELLS) * steps).from_buffer(flags)
    real_vrs, int_vrs = (ctypes.c_uint32 * len(reals))(*reals), (ctypes.c_uint32 * len(ints))(*ints)
    c = fmu.component
    t0 = time.perf_counter()
    if version == 3:
        from fmpy.fmi3 import fmi3Boolean, fmi3Float64

        out = [ctypes.byref(fmi3Boolean()) for _ in range(3)] + [ctypes.byref(fmi3Float64())]
        for k in range(steps):
            fmu.fmi3SetFloat64(c, real_vrs, len(reals), real_rows[k], values.shape[1])
            fmu.fmi3SetInt32(c, int_vrs, 1, int_rows[k], CELLS)
            fmu.fmi3DoStep(c, t, 1.0, True, *out)
            t += 1.0
    else:
        for k in range(steps):
            fmu.fmi2SetReal(c, real_vrs, len(reals), real_rows[k])
            fmu.fmi2SetInteger(c, int_vrs, len(ints), int_rows[k])
            fmu.fmi2DoStep(c, t, 1.0, 1)
            t += 1.0
    return (time.perf_counter() - t0) / steps


def beside_bms(version: int, twin_dir, md, steps: int, repeats: int) -> tuple[float, float, float]:
    """Best seconds per step with measurements and without (alternately), and detector samples fed."""
    fed = open_slave(twin_dir, version, md.guid, md.coSimulation.modelIdentifier)
    alone = open_slave(twin_dir, version, md.guid, md.coSimulation.modelIdentifier)
    best = {True: float("inf"), False: float("inf")}
    for r in range(repeats):
        for measured, fmu in ((True, fed), (False, alone)):
            best[measured] = min(best[measured], beside_bms_loop(fmu, version, md, steps, float(r * steps), measured))
    samples_vr = next(v.valueReference for v in md.modelVariables if v.name == "detect.samples")
    samples = (fed.getReal if version == 2 else fed.getFloat64)([samples_vr])[0]
    for fmu in (fed, alone):
        fmu.terminate()
        fmu.freeInstance()
    return best[True], best[False], samples


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and steps (CI smoke)")
    args = ap.parse_args(argv)
    repeats, steps, loops = (3, 1000, 1) if args.quick else (25, 20000, 5)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        built = {}
        for version in (2, 3):
            path = build_fmu(tmp / f"Pack{version}.fmu", fmi_version=version).path
            built[version] = (extract(str(path), unzipdir=str(tmp / f"pack{version}")), read_model_description(str(path)))
        trivial = {v: build_trivial(tmp / f"trivial{v}", v) for v in (2, 3)}

        rates = internal_rate(*built[3], repeats)
        best, median = max(rates), statistics.median(rates)
        print(f"(a) one doStep of 3600 s at 1 s internal steps, {CELLS}S, 0.2C discharge, {repeats} repetitions:")
        print(f"    FMU (FMI 3.0):        best {best:9.3g}  median {median:9.3g} cell-steps/s   "
              f"target {TARGET:.0e}: {'met' if best >= TARGET else 'NOT met'}")
        print(f"    twin.Pack, same hour: best {extension_rate(repeats):9.3g} cell-steps/s (the same C kernel)")

        print(f"(b) FMPy loop of 1 s communication steps, {CELLS}S: set pack.current, doStep, get {CELLS} cell voltages "
              f"({steps} steps, best of {loops}):")
        for version in (2, 3):
            twin_s, trivial_s = fmpy_loop(version, *built[version], trivial[version], steps, loops)
            own = twin_s - trivial_s
            rate = f"({CELLS / own:.3g} cell-steps/s)" if own > 0 else "(within the noise)"
            print(f"    FMI {version}.0  twin {1e6 * twin_s:7.1f} us/step   trivial FMU {1e6 * trivial_s:7.1f} us/step   "
                  f"twin's own cost {1e6 * own:5.1f} us/step {rate}")

        print(f"(c) FMPy low-level loop beside a BMS, 1 s steps, {CELLS}S: set current, {CELLS} voltages, {CELLS} "
              f"temperatures, {CELLS} flags, doStep ({steps} steps, best of {loops}):")
        for version in (2, 3):
            fed_s, alone_s, samples = beside_bms(version, *built[version], steps, loops)
            print(f"    FMI {version}.0  measured (detector fed, {samples:.0f} samples) {1e6 * fed_s:6.1f} us/step   "
                  f"NaN (not fed) {1e6 * alone_s:6.1f} us/step   difference {1e6 * (fed_s - alone_s):5.1f} us/step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
