"""Saving and restoring the whole twin."""

import numpy as np
import pytest

from twin import Pack
from twin.errors import KernelError


def test_restored_state_continues_identically(default_params, rng):
    a = Pack(default_params, **{"sensor.voltage_noise": 0.001})  # noise too: the generator is in the state
    a.run(rng.normal(0, 50, 500))
    saved = a.state()
    profile = rng.normal(0, 50, 500)
    first = a.run(profile)
    b = Pack(default_params, **{"sensor.voltage_noise": 0.001})
    b.restore(saved)
    second = b.run(profile)
    np.testing.assert_array_equal(first["cell.voltage_measured"], second["cell.voltage_measured"])
    assert b.time == a.time


def test_state_of_another_pack_size_is_refused(default_params):
    small = Pack(default_params, **{"pack.cells_in_series": 4})
    with pytest.raises(KernelError, match="4-cell twin; this twin has 16 cells"):
        Pack(default_params).restore(small.state())
    with pytest.raises(KernelError, match="not a saved twin state"):
        Pack(default_params).restore(b"garbage")


def test_state_of_another_memory_layout_is_refused(default_params):
    """A state saved before the kernel cached its table coefficients by blocks of cells (layout 1)
    would be read with wrong table values: it is refused, saying why."""
    saved = Pack(default_params).state()
    older = saved.replace(b"TWINSTATE2", b"TWINSTATE1", 1)
    with pytest.raises(KernelError, match="another memory layout"):
        Pack(default_params).restore(older)


def test_reset_starts_over(default_params):
    pack = Pack(default_params)
    before = pack["cell.voltage"].copy()
    pack.run(np.full(100, 50.0))
    pack.reset()
    assert pack.time == 0.0
    np.testing.assert_array_equal(pack["cell.voltage"], before)


def test_bad_inputs_are_refused_without_crashing(default_params):
    pack = Pack(default_params)
    with pytest.raises(KernelError, match="must be positive and finite"):
        pack.step(float("nan"))
    with pytest.raises(KernelError, match="must be positive and finite"):
        pack.step(1.0, dt=0.0)
    with pytest.raises(KernelError, match="outside the allowed range"):
        pack.set("balancer.bleed_resistance", -5.0)
    pack.step(1.0)  # still usable
