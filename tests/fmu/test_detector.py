"""The FMU carries the divergence detector (csrc/detect.c): each doStep feeds it the measured inputs
as one sample, and it raises the flags `twin replay` raises on the same samples.

The inputs are driven sample by sample through FMPy's low-level API (fmi3SetFloat64, fmi3SetInt32,
fmi3DoStep and their FMI 2.0 twins on prepared ctypes rows): a 72 h dev-pack log at 1 Hz is 259,201
communication steps, about 3.5 s per log on the development machine (FMPy's list-converting setters
would take several times longer). The rule for the balancing flags and the timing of a sample are
in docs/fmu-variables.md, "Divergence detector".
"""

import ctypes
import json
from ctypes import byref

import numpy as np
import pytest

from twin import parameter_sets
from twin.logs import LogReader
from twin.params import build_kernel
from twin.replay import KINDS, detector_parameters, replay
from twin.spec import load_spec

from ..conftest import ROOT
from .conftest import FMICallException, Instance, _build

DEV = ROOT.parent / "shared" / "data" / "dev-packs"
DEV_MAPPING = ROOT / "examples" / "mappings" / "dev-pack.toml"
needs_dev = pytest.mark.skipif(not (DEV / "pack_101.h5").exists() or not (DEV / "pack_102.h5").exists(),
                               reason=f"the development packs (pack_101.h5, pack_102.h5) are not at {DEV}")


class Feeder:
    """Sets pack.current, measured.cell_voltage, measured.temperature (one Float64/Real call) and
    balancer.command (one Int32/Integer call), then steps: three foreign calls per sample, each
    through FMPy's checker, which raises FMICallException on an error status."""

    def __init__(self, fmu: Instance):
        self.fmu, built = fmu, fmu.built
        self.n = n = built.n
        reals = [*built.vrs("pack.current"), *built.vrs("measured.cell_voltage"), *built.vrs("measured.temperature")]
        ints = built.vrs("balancer.command")
        self.real_vrs, self.int_vrs = (ctypes.c_uint32 * len(reals))(*reals), (ctypes.c_uint32 * len(ints))(*ints)
        self.width = 1 + 2 * n
        self._pending = None  # (time, reals row, ints row) of the sample that waits for the next time
        slave = fmu.fmu
        if built.version == 3:
            from fmpy.fmi3 import fmi3Boolean, fmi3Float64

            flags = [byref(fmi3Boolean()) for _ in range(3)] + [byref(fmi3Float64())]
            self._set_real = lambda row: slave.fmi3SetFloat64(slave.component, self.real_vrs, len(reals), row,
                                                              self.width)
            self._set_int = lambda row: slave.fmi3SetInt32(slave.component, self.int_vrs, len(ints), row, n)
            self._step = lambda t, h: slave.fmi3DoStep(slave.component, t, h, True, *flags)
        else:
            self._set_real = lambda row: slave.fmi2SetReal(slave.component, self.real_vrs, len(reals), row)
            self._set_int = lambda row: slave.fmi2SetInteger(slave.component, self.int_vrs, len(ints), row)
            self._step = lambda t, h: slave.fmi2DoStep(slave.component, t, h, 1)

    def feed(self, time, current, voltage, temperature=None, balancing=None, hold_last=False):
        """Samples in order: sample k is stepped from time[k] to the next sample's time, the last one
        over 1 s, or, with hold_last, once the next call (a log read in chunks) or finish() comes."""
        m, n = len(time), self.n
        reals = np.full((m, self.width), np.nan)
        reals[:, 0], reals[:, 1:1 + n] = current, voltage
        if temperature is not None:
            reals[:, 1 + n:] = temperature
        ints = np.zeros((m, n), dtype=np.int32) if balancing is None else np.asarray(balancing, dtype=np.int32)
        times = np.asarray(time, dtype=float)
        if self._pending is not None:
            t0, real0, int0 = self._pending
            times, reals, ints = np.r_[t0, times], np.vstack([real0, reals]), np.vstack([int0, ints])
        self._run(times, reals, ints)
        if not hold_last:
            self.finish()

    def finish(self, h: float = 1.0):
        """Step the last sample over h seconds."""
        if self._pending is not None:
            t0, real0, int0 = self._pending
            self._pending = None
            self._run(np.array([t0, t0 + h]), np.vstack([real0, real0]), np.vstack([int0, int0]), last=False)

    def _run(self, times, reals, ints, last=True):
        m = len(times) - 1
        real_rows = ((ctypes.c_double * self.width) * len(times)).from_buffer(np.ascontiguousarray(reals))
        int_rows = ((ctypes.c_int32 * self.n) * len(times)).from_buffer(np.ascontiguousarray(ints, dtype=np.int32))
        t = self.fmu.time
        for k in range(m):
            assert times[k] == t, "samples must follow the FMU's communication points"
            self._set_real(real_rows[k])
            self._set_int(int_rows[k])
            self._step(t, times[k + 1] - t)
            t = times[k + 1]
        self.fmu.time = t
        self._pending = (times[-1], reals[-1:].copy(), ints[-1:].copy()) if last else None


def fmu_flags(fmu: Instance) -> list:
    """(cell, kind, first flagged s) from the flag.* outputs, sorted like twin replay's."""
    out = []
    for kind in KINDS:
        flag, when = fmu.get(f"flag.{kind}"), fmu.get(f"flag.{kind}_time")
        out += [(int(i), kind, float(when[i])) for i in np.flatnonzero(flag > 0.5)]
    return sorted(out, key=lambda f: (f[2], f[0]))


def kernel_flags(kernel) -> list:
    spec, out = load_spec(), []
    for kind in KINDS:
        flag, when = kernel.array(spec[f"flag.{kind}"].vr), kernel.array(spec[f"flag.{kind}_time"].vr)
        out += [(int(i), kind, float(when[i])) for i in np.flatnonzero(flag > 0.5)]
    return sorted(out, key=lambda f: (f[2], f[0]))


# --- a dev-pack log (PyBaMM-made, ../shared/data) against twin replay ---------------------------------


@pytest.fixture(scope="module")
def dev_fmus(tmp_path_factory):
    """FMUs built with the parameter set twin replay's detector runs with for a log, one per
    distinct set and FMI version (the dev packs share one)."""
    built = {}

    def get(pset, version):
        key = (version, json.dumps(pset.to_mapping(), sort_keys=True, default=str))
        if key not in built:
            built[key] = _build(tmp_path_factory, version, params=pset, name=f"DevPack{len(built)}")
        return built[key]

    return get


def _log_samples(path):
    with LogReader(path, DEV_MAPPING) as reader:
        info = reader.info
        for chunk in reader.chunks(1 << 16):
            m = len(chunk.time)
            temps = np.full((m, info.cells), np.nan)
            temps[:, info.temperature_cells] = chunk.temperature
            yield info, chunk, temps


@needs_dev
@pytest.mark.parametrize("pack, version", [(101, 3), (102, 3), (102, 2)], ids=["101-fmi3", "102-fmi3", "102-fmi2"])
def test_the_fmu_fed_a_dev_pack_log_raises_the_flags_twin_replay_raises(pack, version, dev_fmus):
    """Same cells, same kinds, first flagged within one detector block (in practice the same second),
    same magnitudes. The parameter set keeps balancer.policy 'voltage_delta': the detector reads the
    logged flags through balancer.command whatever the twin's own policy does."""
    path = DEV / f"pack_{pack}.h5"
    expected = replay(path, DEV_MAPPING)
    assert expected.flags, "the comparison needs a log twin replay flags"
    with LogReader(path, DEV_MAPPING) as reader:
        pset = detector_parameters(reader.info)
        start = reader.info.start_s
    assert pset["balancer.policy"] == "voltage_delta"
    with Instance(dev_fmus(pset, version)).init(start=start) as fmu:
        feeder = Feeder(fmu)
        for info, chunk, temps in _log_samples(path):
            feeder.feed(chunk.time, chunk.current, chunk.cell_voltage, temps, chunk.balancing.reshape(-1, info.cells),
                        hold_last=True)
        feeder.finish()
        assert fmu.get("detect.samples") == expected.samples
        got = fmu_flags(fmu)
        leak, offset = fmu.get("estimate.leak_current"), fmu.get("estimate.voltage_offset")
    assert [(c, k) for c, k, _ in got] == [(f.cell, f.kind) for f in expected.flags]
    for (_, _, when), flag in zip(got, expected.flags):
        assert abs(when - flag.first_flagged_s) <= pset["detect.block"]
        if flag.kind == "self_discharge":
            assert 1e3 * leak[flag.cell] == pytest.approx(flag.magnitude["leak_ma"], abs=1e-3)
        if flag.kind == "voltage_sensor":
            assert 1e3 * offset[flag.cell] == pytest.approx(flag.magnitude["offset_mv"], abs=1e-3)


@needs_dev
@pytest.mark.parametrize("pack", [101, 102])
def test_the_dev_pack_comparison_needs_the_logged_balancing_flags(pack):
    """What makes the test above able to fail on the balancing rule: without the BMS's flags (as
    when the detector read the twin's own balancer.commanded, all 0 for these identical cells) the
    detector's flags on these logs are different (101: a day late; 102: a false leak on top)."""
    kernel = None
    for info, chunk, temps in _log_samples(DEV / f"pack_{pack}.h5"):
        if kernel is None:
            pset = detector_parameters(info)
            kernel = build_kernel(pset)
        kernel.detect_run(chunk.time, chunk.current, chunk.cell_voltage, temps, None)
    with_flags = [(f.cell, f.kind, f.first_flagged_s) for f in replay(DEV / f"pack_{pack}.h5", DEV_MAPPING).flags]
    without = kernel_flags(kernel)
    same = [f[:2] for f in without] == [f[:2] for f in with_flags] and all(
        abs(a[2] - b[2]) <= pset["detect.block"] for a, b in zip(without, with_flags))
    assert not same, (without, with_flags)


# --- synthetic samples: cheap, always run ---------------------------------------------------------------

JUMP_CELL, JUMP_AT = 5, 1350


def _samples(m: int = 2400, n: int = 16):
    """A 16S pack read by a BMS: 1 mV noise and quantization, current switching between 20 A and
    -30 A every 5 min, four temperature sensors, two cells bled for 5 min, and cell 5's reading
    jumping +15 mV (a sensor fault) at 1350 s, away from the current edges."""
    rng = np.random.default_rng(1)
    t = np.arange(m, dtype=float)
    current = np.where((t // 300) % 2 == 0, 20.0, -30.0) + rng.normal(0, 0.05, m)
    voltage = 3.30 + 0.002 * rng.standard_normal(n) + rng.normal(0, 1e-3, (m, n))
    voltage[JUMP_AT:, JUMP_CELL] += 0.015
    temperature = np.full((m, n), np.nan)
    temperature[:, [0, 5, 10, 15]] = 25.0 + rng.normal(0, 0.2, (m, 4))
    balancing = np.zeros((m, n))
    balancing[600:900, [2, 9]] = 1
    return t, current, np.round(voltage, 3), np.round(temperature, 1), balancing


def _kernel_reference(samples):
    kernel = build_kernel(parameter_sets.get(parameter_sets.DEFAULT))
    kernel.detect_run(*samples)
    return kernel


OUTPUTS = ("detect.samples", "detect.deviation", "estimate.voltage_offset", "estimate.resistance_change",
           "estimate.temperature_offset")


def test_the_fmu_raises_the_kernels_flags_on_the_same_samples(built):
    samples = _samples()
    kernel, spec = _kernel_reference(samples), load_spec()
    expected = kernel_flags(kernel)
    assert expected[0][:2] == (JUMP_CELL, "voltage_sensor") and JUMP_AT < expected[0][2] < JUMP_AT + 900
    with Instance(built).init() as fmu:
        Feeder(fmu).feed(*samples)
        assert fmu_flags(fmu) == expected
        for name in OUTPUTS:  # same C, same inputs: the same numbers
            np.testing.assert_array_equal(fmu.get(name), kernel.array(spec[name].vr) if spec[name].where == "cells"
                                          else kernel.get(spec[name].vr), err_msg=name)


def test_unmeasured_samples_are_not_fed_a_refused_step_feeds_nothing_and_a_pause_is_a_gap(fmu3):
    t, current, voltage, temperature, balancing = _samples(m=200)
    with Instance(fmu3).init() as fmu:
        feeder = Feeder(fmu)
        feeder.feed(t[:50], current[:50], np.full((50, 16), np.nan))  # the twin alone
        partial = voltage[50:100].copy()
        partial[:, 7] = np.nan  # one cell not measured: an incomplete sample
        feeder.feed(t[50:100], current[50:100], partial, temperature[50:100])
        assert fmu.get("detect.samples") == 0
        assert np.all(np.isnan(fmu.get("detect.deviation"))) and fmu_flags(fmu) == []
        feeder.feed(t[100:161], current[100:161], voltage[100:161], temperature[100:161])
        assert fmu.get("detect.samples") == 61
        assert np.all(np.isfinite(fmu.get("detect.deviation")))  # the first 60 s block was completed
        fmu.set("measured.cell_voltage", voltage[161])
        with pytest.raises(FMICallException):
            fmu.fmu.doStep(fmu.time, -1.0)
        assert fmu.get("detect.samples") == 61
        feeder.feed(t[161:190], current[161:190], np.full((29, 16), np.nan))  # 30 s unmeasured: a gap
        assert fmu.get("detect.gaps") == 0
        feeder.feed(t[190:], current[190:], voltage[190:], temperature[190:])
        assert fmu.get("detect.gaps") == 1 and fmu.get("detect.samples") == 61 + 10


def _save(fmu):
    return fmu.fmu.getFMUstate() if fmu.built.version == 2 else fmu.fmu.getFMUState()


def _restore(fmu, state):
    fmu.fmu.setFMUstate(state) if fmu.built.version == 2 else fmu.fmu.setFMUState(state)


def _outputs(fmu):
    return fmu_flags(fmu), [fmu.get(name) for name in OUTPUTS]


def test_the_detector_is_part_of_the_fmu_state_and_reset_forgets_it(built):
    """Saved before the fault is flagged, restored (in the same and in another instance), the rest
    of the samples give the same flags and estimates; a reset starts the detector afresh."""
    samples = _samples()
    half = 1500
    first, rest = [s[:half] for s in samples], [s[half:] for s in samples]
    v2 = built.version == 2
    with Instance(built, "a").init() as a, Instance(built, "b").init() as b:
        feeder = Feeder(a)
        feeder.feed(*first)
        assert fmu_flags(a) == []
        state = _save(a)
        data = a.fmu.serializeFMUstate(state) if v2 else a.fmu.serializeFMUState(state)
        feeder.feed(*rest)
        flags, values = _outputs(a)
        assert flags and flags[0][:2] == (JUMP_CELL, "voltage_sensor")
        _restore(a, state)
        a.time = float(half)
        feeder.feed(*rest)
        again_flags, again = _outputs(a)
        restored = b.fmu.deSerializeFMUstate(data) if v2 else b.fmu.deserializeFMUState(data)
        _restore(b, restored)
        b.time = float(half)
        Feeder(b).feed(*rest)
        other_flags, other = _outputs(b)
        assert again_flags == flags and other_flags == flags
        for x, y, z in zip(values, again, other):
            np.testing.assert_array_equal(x, y)
            np.testing.assert_array_equal(x, z)
        a.fmu.reset()
        a.init()
        assert a.get("detect.samples") == 0 and fmu_flags(a) == []
        assert np.all(np.isnan(a.get("flag.voltage_sensor_time")))
        Feeder(a).feed(*samples)
        assert fmu_flags(a) == flags
