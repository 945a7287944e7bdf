"""FMU states: get, set, serialize, refuse what is not ours; instances share nothing."""

import numpy as np
import pytest

from .conftest import FMICallException, Instance


def _run(fmu, currents, h=60.0):
    out = []
    for current in currents:
        fmu.set("pack.current", current)
        fmu.step(h)
        out.append(np.concatenate([fmu.get("cell.voltage"), fmu.get("cell.temperature")]))
    return np.array(out)


CURRENTS = [140.0, 140.0, 0.0, -200.0, -200.0, 50.0]


def test_a_saved_state_rewinds_the_twin_exactly(built):
    with Instance(built).init() as fmu:
        _run(fmu, [100.0] * 5)
        state, t = fmu.fmu.getFMUstate() if built.version == 2 else fmu.fmu.getFMUState(), fmu.time
        first = _run(fmu, CURRENTS)
        fmu.fmu.setFMUstate(state) if built.version == 2 else fmu.fmu.setFMUState(state)
        fmu.time = t
        np.testing.assert_array_equal(_run(fmu, CURRENTS), first)
        fmu.fmu.freeFMUstate(state) if built.version == 2 else fmu.fmu.freeFMUState(state)


def test_a_serialized_state_restores_in_another_instance(built):
    v2 = built.version == 2
    with Instance(built, "a").init() as a, Instance(built, "b").init() as b:
        _run(a, [100.0, -50.0])
        state = a.fmu.getFMUstate() if v2 else a.fmu.getFMUState()
        data = a.fmu.serializeFMUstate(state) if v2 else a.fmu.serializeFMUState(state)
        assert data[:7] == b"TWINFMU"
        expected = _run(a, CURRENTS)
        restored = b.fmu.deSerializeFMUstate(data) if v2 else b.fmu.deserializeFMUState(data)
        b.fmu.setFMUstate(restored) if v2 else b.fmu.setFMUState(restored)
        b.time = 120.0
        np.testing.assert_array_equal(_run(b, CURRENTS), expected)


def _deserialize(fmu, data):
    if fmu.built.version == 2:
        return fmu.fmu.deSerializeFMUstate(data)
    return fmu.fmu.deserializeFMUState(data)


def _serialized(fmu):
    if fmu.built.version == 2:
        return fmu.fmu.serializeFMUstate(fmu.fmu.getFMUstate())
    return fmu.fmu.serializeFMUState(fmu.fmu.getFMUState())


def test_foreign_or_damaged_states_are_refused_with_a_message(fmu2, fmu3, fmu3_4cells):
    with Instance(fmu3).init() as fmu, Instance(fmu3_4cells).init() as small, Instance(fmu2).init() as other:
        good = _serialized(fmu)
        cases = {
            _serialized(small): "the state is of a 4-cell twin; this FMU has 16 cells",
            _serialized(other): "saved by another build",
            good[:100]: "the state has 100 bytes",
            b"\0" * len(good): "not a saved twin FMU state",
            good[:8] + b"\x09" + good[9:]: "layout version 9",
            good[:-1]: f"the state has {len(good) - 1} bytes",
            good[:200] + bytes([good[200] ^ 0xFF]) + good[201:]: "damaged (checksum mismatch)",
        }
        for data, message in cases.items():
            fmu.log.clear()
            with pytest.raises(FMICallException) as e:
                _deserialize(fmu, data)
            assert e.value.status == 3 and message in fmu.messages, (message, fmu.messages)
        fmu.fmu.setFMUState(_deserialize(fmu, good))  # and the good one still works
        fmu.step(1.0)


def test_states_are_restored_in_the_phase_they_were_saved_in(fmu3):
    with Instance(fmu3) as fmu:
        before = fmu.fmu.getFMUState()
        fmu.init()
        with pytest.raises(FMICallException):
            fmu.fmu.setFMUState(before)
        assert "saved before initialization" in fmu.messages
        after = fmu.fmu.getFMUState()
        fmu.step(1.0)
        fmu.fmu.terminate()
        fmu.fmu.setFMUState(after)  # rewinding also works after terminate
        fmu.time = 0.0
        fmu.step(1.0)


def test_two_instances_in_one_process_stay_independent(built):
    with Instance(built, "alone").init() as alone:
        solo_charge = _run(alone, [120.0] * 4)
    with Instance(built, "alone").init() as alone:
        solo_discharge = _run(alone, [-120.0] * 4)
    with Instance(built, "a").init() as a, Instance(built, "b").init(balancer__start_delta=0.5) as b:
        got_a, got_b = [], []
        for _ in range(4):  # interleaved, with a parameter changed in one of them
            got_a.append(_run(a, [120.0])[0])
            got_b.append(_run(b, [-120.0])[0])
        np.testing.assert_array_equal(got_a, solo_charge)
        np.testing.assert_array_equal(got_b, solo_discharge)
        assert a.get("balancer.start_delta") == 0.01 and b.get("balancer.start_delta") == 0.5
