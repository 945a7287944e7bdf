"""Frames to samples: what a real bus does to them (loss, lateness, duplicates, restarts, noise)
and what the twin makes of it."""

import numpy as np
import pytest

pytest.importorskip("cantools")

from twin.can_mapping import CanMapping  # noqa: E402
from twin.can_samples import SampleAssembler  # noqa: E402

M = CanMapping.load()  # the shipped 16S mapping
DB = M.db
SAMPLE, PACK, CELLS, TEMPS, BAL = (DB.get_message_by_name(n) for n in
                                   ("TWIN_SAMPLE", "TWIN_PACK", "TWIN_CELL_VOLTAGE", "TWIN_TEMPERATURE", "TWIN_BALANCING"))


def volts_of(k):
    return np.round(3.2 + 0.001 * np.arange(16) + 0.001 * (k % 7), 3)  # 1 mV steps, as the signal


def sample_frames(k, uptime=None, counter=None, current=None, temps=None):
    """The frames of sample k: (frame id, data), in the order the BMS sends them."""
    c = k % 256 if counter is None else counter
    v = volts_of(k)
    t = [25.0 + 0.1 * k, 26.0, 27.0, 28.0] if temps is None else temps
    out = [(SAMPLE.frame_id, SAMPLE.encode({"Counter": c, "Uptime": float(k) if uptime is None else uptime})),
           (PACK.frame_id, PACK.encode({"Counter": c, "Current": 1.5 + k if current is None else current, "PackVoltage": 52.0}))]
    for g in range(6):
        sig = {f"CellVoltage{i + 1:02d}": v[i] for i in range(3 * g, min(3 * g + 3, 16))}
        out.append((CELLS.frame_id, CELLS.encode({"CellGroup": g, "Counter": c, **sig})))
    for g in range(2):
        sig = {f"Temperature{i + 1:02d}": t[i] for i in range(3 * g, min(3 * g + 3, 4))}
        out.append((TEMPS.frame_id, TEMPS.encode({"SensorGroup": g, "Counter": c, **sig}, strict=False)))
    out.append((BAL.frame_id, BAL.encode({"BalanceGroup": 0, "Counter": c, **{f"Balancing{i + 1:02d}": int(i == k % 16)
                                                                               for i in range(16)}})))
    return out


def run(frames, asm=None, t0=1000.0):
    asm = asm or SampleAssembler(M)
    out = []
    for j, (fid, data) in enumerate(frames):
        out += asm.push(fid, data, t0 + 0.001 * j)
    out += asm.flush()
    return out, asm


def test_clean_frames_give_every_sample_exactly():
    frames = [f for k in range(5) for f in sample_frames(k)]
    samples, asm = run(frames)
    assert [s.time for s in samples] == [0.0, 1.0, 2.0, 3.0, 4.0]
    for k, s in enumerate(samples):
        assert s.current == np.float32(1.5 + k)
        np.testing.assert_array_equal(s.cell_voltage, volts_of(k).astype(np.float32))
        assert s.temperature[0] == np.float32(25.0 + 0.1 * k)
        assert list(np.flatnonzero(s.balancing)) == [k]
    assert asm.stats.samples == 5 and asm.stats.incomplete == 0 and asm.stats.frames == len(frames)


def test_a_sample_is_handed_over_when_its_last_frame_arrives_once_the_pattern_is_known():
    asm = SampleAssembler(M)
    got = []
    for k in range(3):
        for fid, data in sample_frames(k):
            got.append((k, len(asm.push(fid, data, float(k)))))
    # sample 0 waits for sample 1's opening frame (the frames a sample brings are not known yet);
    # from then on a sample is out with its last frame, not one period later
    assert got[11] == (1, 1)  # sample 1's opening frame hands over sample 0
    assert [n for k, n in got if k == 2] == [0] * 10 + [1]


def test_a_missing_cell_frame_drops_that_sample_and_names_the_frame():
    frames = []
    for k in range(4):
        f = sample_frames(k)
        if k == 2:
            f = [x for x in f if not (x[0] == CELLS.frame_id and x[1][0] == 4)]  # group 4 lost
        frames += f
    samples, asm = run(frames)
    assert [s.time for s in samples] == [0.0, 1.0, 3.0]
    assert asm.stats.incomplete == 1
    assert asm.stats.missing == {"TWIN_CELL_VOLTAGE[CellGroup=4]": 1}


def test_a_missing_temperature_frame_holds_the_last_reading():
    frames = []
    for k in range(3):
        f = sample_frames(k)
        if k == 1:
            f = [x for x in f if x[0] != TEMPS.frame_id]
        frames += f
    samples, _ = run(frames)
    assert len(samples) == 3
    assert samples[1].temperature[0] == samples[0].temperature[0] == np.float32(25.0)
    assert samples[2].temperature[0] == np.float32(25.2)


def test_duplicated_frames_are_counted_and_the_first_is_kept():
    f1 = sample_frames(1)
    dup = (PACK.frame_id, PACK.encode({"Counter": 1, "Current": 99.0, "PackVoltage": 52.0}))
    frames = sample_frames(0) + f1[:3] + [dup] + f1[3:] + [f1[0]] + sample_frames(2)
    samples, asm = run(frames)
    assert [s.current for s in samples] == [1.5, 2.5, 3.5]
    assert asm.stats.duplicates == 2  # the pack frame again, and the opening frame again


def test_late_frames_of_an_older_sample_are_ignored():
    late = sample_frames(0)[3]  # a cell frame of sample 0 (counter 0), arriving during sample 1
    bad_value = (late[0], CELLS.encode({"CellGroup": 0, "Counter": 0, "CellVoltage01": 2.0, "CellVoltage02": 2.0,
                                        "CellVoltage03": 2.0}))
    f1 = sample_frames(1)
    frames = sample_frames(0) + f1[:2] + [bad_value] + f1[2:] + sample_frames(2)
    samples, asm = run(frames)
    assert len(samples) == 3 and asm.stats.late == 1
    assert samples[1].cell_voltage[0] == np.float32(volts_of(1)[0])


def test_unknown_unmapped_and_malformed_frames_are_counted_not_fatal():
    limits = DB.get_message_by_name("PYLON_LIMITS")
    noise = [(0x123, b"\x01\x02"), (0x7FF, b""), (0x123, bytes(8)),
             (limits.frame_id, limits.encode({"ChargeVoltageLimit": 56.8, "ChargeCurrentLimit": 100,
                                              "DischargeCurrentLimit": 100, "DischargeVoltageLimit": 44.8})),
             (CELLS.frame_id, b"\x00\x01"),  # too short
             (CELLS.frame_id, bytes([9, 1, 0, 0, 0, 0, 0, 0]))]  # a group the DBC does not define
    f1 = sample_frames(1)
    frames = sample_frames(0) + f1[:4] + noise + f1[4:] + sample_frames(2)
    samples, asm = run(frames)
    assert len(samples) == 3
    assert dict(asm.stats.unknown) == {0x123: 2, 0x7FF: 1}
    assert asm.stats.unmapped == 1 and asm.stats.malformed == 2


def test_a_bms_restart_keeps_the_session_clock_going():
    frames = [f for k in range(5) for f in sample_frames(k, uptime=100.0 + k)]
    # restart: the BMS clock starts again at 0.5 s, its counter at 0, after 3 s of silence
    asm = SampleAssembler(M)
    samples = []
    for j, (fid, data) in enumerate(frames):
        samples += asm.push(fid, data, 10.0 + j * 0.001)
    for k in range(3):
        for fid, data in sample_frames(k, uptime=0.5 + k, counter=k):
            samples += asm.push(fid, data, 14.0 + k)
    samples += asm.flush()
    times = [s.time for s in samples]
    assert times[:5] == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert np.all(np.diff(times) > 0) and len(times) == 8
    assert times[5] == pytest.approx(104.0 + 4.0, abs=0.1)  # the silence is kept: a gap, not a jump back
    assert times[6] - times[5] == pytest.approx(1.0)
    assert asm.stats.restarts == 1 and asm.events[0][0] == "restart"


def test_a_wrapped_bms_clock_is_not_a_restart():
    top = 2 ** 32 / 1000.0  # Uptime is 32-bit milliseconds
    frames = [f for k, up in enumerate((top - 2.0, top - 1.0, 0.0, 1.0)) for f in sample_frames(k, uptime=up)]
    samples, asm = run(frames)
    assert [s.time for s in samples] == pytest.approx([top - 2.0, top - 1.0, top, top + 1.0])
    assert asm.stats.wraps == 1 and asm.stats.restarts == 0


def test_without_a_sample_frame_samples_close_on_a_repeat_and_take_the_arrival_time():
    m = CanMapping({"can": {"dbc": "pylontech-twin-16s.dbc"}, "log": {"cells_in_series": 16},
                    "current": {"signal": "TWIN_PACK.Current"},
                    "cell_voltage": {"signal": "TWIN_CELL_VOLTAGE.CellVoltage{number:02d}"}}, "inline")
    asm = SampleAssembler(m)
    out = []
    for k in range(3):
        for j, (fid, data) in enumerate(sample_frames(k)):
            out += asm.push(fid, data, 50.0 + k + 0.01 * j)
    out += asm.flush()
    assert len(out) == 3 and asm.stats.unmapped == 12  # sample, temperature and balancing frames: not used here
    assert [s.time for s in out] == pytest.approx([0.0, 1.0, 2.0], abs=0.1)
    assert out[2].current == np.float32(3.5)


def test_another_bms_layout_round_trips_through_can_play_and_the_assembler(tmp_path):
    # examples/can/other-bms: big-endian, 10 mA current positive when discharging, mV cells over
    # four frames, byte temperatures offset by -40 degC, no sample frame, the arrival clock
    from twin.can_play import log_frames
    from twin.logs import write_canonical

    from .conftest import ROOT

    mapping = CanMapping.load(ROOT / "examples" / "can" / "other-bms.toml")
    n = 20
    rng = np.random.default_rng(1)
    current = np.round(rng.uniform(-50, 50, n), 2)
    volts = np.round(rng.uniform(3.1, 3.4, (n, 16)), 3)
    temps = np.round(rng.uniform(-5, 40, (n, 4)))
    bal = rng.integers(0, 2, (n, 16))
    log = tmp_path / "log.h5"
    write_canonical(log, np.arange(n, dtype=float), current, volts, temperature=temps, temperature_cells=[0, 5, 10, 15],
                    balancing=bal)
    asm = SampleAssembler(mapping)
    out = []
    for k, (_, messages, _) in enumerate(log_frames(log, mapping)):
        assert [m.arbitration_id for m in messages] == list(range(0x100, 0x107))
        for j, m in enumerate(messages):
            out += asm.push(m.arbitration_id, m.data, 100.0 + k + 0.001 * j)
    out += asm.flush()
    assert len(out) == n and asm.stats.incomplete == 0
    assert [s.time for s in out] == pytest.approx(np.arange(n), abs=0.01)  # arrival times, from the first frame
    np.testing.assert_array_equal([s.current for s in out], current.astype(np.float32))
    np.testing.assert_array_equal([s.cell_voltage for s in out], volts.astype(np.float32))
    np.testing.assert_array_equal([s.temperature for s in out], temps.astype(np.float32))
    np.testing.assert_array_equal([s.balancing for s in out], bal)
    # on the wire the current is discharge-positive: a charging sample is negative in the frame
    pack = mapping.db.get_message_by_name("BMS_PACK")
    first = next(log_frames(log, mapping))[1][0]
    assert pack.decode(first.data)["Current"] == pytest.approx(-current[0])
