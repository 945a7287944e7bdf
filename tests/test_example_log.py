"""The log bundled with twin (twin/data/example-pack.h5) is what examples/make_example_log.py
makes, and replaying it finds its two faults and nothing else."""

import importlib.util
import json

import h5py
import numpy as np
from twin.log_packing import Packing
from twin.replay import replay

from .conftest import ROOT

SCRIPT = ROOT / "examples" / "make_example_log.py"
BUNDLED = ROOT / "twin" / "data" / "example-pack.h5"


def _script():
    spec = importlib.util.spec_from_file_location("make_example_log", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_log_is_in_sync_with_its_script(tmp_path):
    """Regenerate and compare. The kernel's floating point may differ in the last bits between CPUs
    (vectorized exp), which can move a reading across a 1 mV step: allowed on 0.1 % of readings,
    by one step. Anything more means the script or the kernel changed: run the script."""
    fresh = tmp_path / "fresh.h5"
    _script().make(fresh)
    hint = f"{BUNDLED} is stale: run python {SCRIPT.relative_to(ROOT)}"
    with h5py.File(BUNDLED) as old, h5py.File(fresh) as new:
        assert json.loads(old.attrs["truth"]) == json.loads(new.attrs["truth"]), hint
        assert sorted(old) == sorted(new), hint
        for name, step in (("cell_voltage", 0.001), ("temperature", 0.1), ("current", 0.001), ("pack_voltage", 0.001)):
            assert old[name].dtype == new[name].dtype and old[name].attrs["scale_factor"] == step, hint
            a, b = (Packing.of(ds, BUNDLED).decode(ds[:]) for ds in (old[name], new[name]))  # counts of the step
            assert a.shape == b.shape, hint
            off = np.abs(a.astype(float) - b.astype(float)) > step * 0.5
            assert off.mean() <= 1e-3 and np.abs(a - b).max() <= step * 1.5, f"{hint} ({name})"
        np.testing.assert_array_equal(old["time"][:], new["time"][:], err_msg=hint)


def test_replaying_the_bundled_log_finds_its_two_faults_and_nothing_else():
    truth = json.loads(h5py.File(BUNDLED).attrs["truth"])
    r = replay(BUNDLED)
    found = {(f.cell, f.kind) for f in r.flags}
    assert found == {(5, "self_discharge"), (11, "resistance")}
    onset = truth["faults"][0]["onset"]
    assert all(0 < f.first_flagged_s - onset <= 12 * 3600 for f in r.flags)


def test_bundled_log_is_small_enough_to_ship():
    assert BUNDLED.stat().st_size < 5e6
