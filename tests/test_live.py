"""`twin live` beside `twin can-play` on python-can's virtual bus: the flags a live session raises
are those `twin replay` finds in the same log, and what it records replays bit for bit."""

import threading
import time
import uuid

import h5py
import numpy as np
import pytest

can = pytest.importorskip("can")
pytest.importorskip("cantools")

from click.testing import CliRunner  # noqa: E402

from twin.can_play import play  # noqa: E402
from twin.cli import main  # noqa: E402
from twin.errors import CanError  # noqa: E402
from twin.faults import Fault  # noqa: E402
from twin.live import LiveTwin  # noqa: E402
from twin.logs import write_canonical  # noqa: E402
from twin.replay import replay  # noqa: E402
from twin.scenarios import LogScenario, simulate_log  # noqa: E402

from .conftest import ROOT  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "dev-packs"
DEV_CAN = ROOT / "examples" / "can" / "dev-pack-can.toml"
DEV_LOG = ROOT / "examples" / "mappings" / "dev-pack.toml"
CHANNELS = ("time", "current", "cell_voltage", "temperature", "balancing", "pack_voltage")


def channel():
    return f"test-{uuid.uuid4().hex[:8]}"


def live_beside_play(log, mapping, record=None, log_mapping=None, **play_kw):
    """can-play on one virtual bus end, twin live on the other, in one process; returns the result."""
    name = channel()
    rx, tx = can.Bus(interface="virtual", channel=name), can.Bus(interface="virtual", channel=name)
    twin = LiveTwin(mapping, record=record)
    done, played = threading.Event(), {}

    def player():
        try:
            played["r"] = play(log, tx, mapping, log_mapping, speed=None, backlog=lambda: twin.assembler.stats.frames,
                               **play_kw)
        finally:
            done.set()

    th = threading.Thread(target=player)
    th.start()
    try:
        twin.run(rx, stop=done, stop_when_quiet=30.0)
    finally:
        th.join()
        rx.shutdown()
        tx.shutdown()
    return twin.close(), played["r"]


@pytest.mark.skipif(not (DEV / "pack_102.h5").exists(), reason="the dev-pack data (../shared/data) is not here")
def test_live_beside_can_play_flags_what_replay_flags_on_a_dev_pack(tmp_path):
    # one hour of pack_102 around the onset of its voltage-sensor fault (cell 6, 30.9 h): the
    # whole 72 h log takes minutes through a bus (benchmarks/live_speed.py plays it whole)
    with h5py.File(DEV / "pack_102.h5") as f:
        t = f["time"][:]
        a, b = np.searchsorted(t, [30.5 * 3600, 31.5 * 3600])
        window = tmp_path / "pack_102_30h.h5"
        write_canonical(window, t[a:b], f["current"][a:b], f["cell_voltage"][a:b], temperature=f["temperature"][a:b],
                        temperature_cells=f["temperature"].attrs["cells"], pack_voltage=f["pack_voltage"][a:b],
                        balancing=f["balancing"][a:b], capacity_ah=f.attrs["nominal_capacity_ah"],
                        bleed_resistance_ohm=100.0)
    recorded = tmp_path / "seen.h5"
    live, played = live_beside_play(window, DEV_CAN, record=recorded)
    expected = replay(window)
    assert expected.flags, "the window must hold a flag for this test to mean something"
    assert played.samples == live.samples == expected.samples == b - a
    assert live.bus["incomplete_samples"] == 0 and live.bus["late_frames"] == 0
    # exact: cells, kinds, first-flagged times, magnitudes and evidence
    assert live.flags == expected.flags
    assert [(r.flag.cell, r.flag.kind) for r in live.raised] == [(f.cell, f.kind) for f in expected.flags]
    assert all(r.sample_time == r.flag.first_flagged_s for r in live.raised)
    # what was seen live replays bit for bit
    assert replay(recorded).flags == expected.flags
    with h5py.File(window) as f, h5py.File(recorded) as g:
        for name in CHANNELS:
            assert f[name].dtype == g[name].dtype and np.array_equal(f[name][:], g[name][:]), name


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory):
    """A quarter of an hour of the default 16S pack at 1 Hz; a 15 mV sensor offset on cell 4 from 200 s."""
    path = tmp_path_factory.mktemp("live") / "sim.h5"
    simulate_log(path, LogScenario(days=0.25 / 24, dt=1.0, seed=3, faults=(Fault(4, "voltage_offset", 0.015, 200.0),)))
    return path


def test_a_twin_simulated_log_through_the_bus_equals_its_replay(sim_log):
    live, _ = live_beside_play(sim_log, "pylontech-twin-16s")
    assert live.flags == replay(sim_log).flags and live.flags


def test_a_bms_that_restarts_is_followed_through_the_restart(sim_log):
    # the log played twice in a row: the BMS clock and counter start again; the session clock does not
    name = channel()
    rx, tx = can.Bus(interface="virtual", channel=name), can.Bus(interface="virtual", channel=name)
    try:
        live2 = LiveTwin("pylontech-twin-16s")
        for _ in range(2):
            play(sim_log, tx, "pylontech-twin-16s", speed=None, end_s=300.0)
            live2.run(rx, stop_when_quiet=0.3)
    finally:
        rx.shutdown()
        tx.shutdown()
    r = live2.close()
    assert r.samples == 600 and r.bus["bms_restarts"] == 1
    assert r.end_s >= r.start_s + 599.0  # time never went back: the second run follows the first
    assert any(kind == "restart" for kind, _ in r.events)


def test_a_quiet_bus_is_reported_and_does_not_freeze_the_twin():
    name = channel()
    rx, tx = can.Bus(interface="virtual", channel=name), can.Bus(interface="virtual", channel=name)
    twin = LiveTwin("pylontech-twin-16s")
    events = []

    def talk_late():
        time.sleep(0.8)  # silence first, then one frame
        tx.send(can.Message(arbitration_id=0x123, data=b"\x00", is_extended_id=False))

    th = threading.Thread(target=talk_late)
    th.start()
    started = time.monotonic()
    try:
        twin.run(rx, on_event=lambda kind, text: events.append((kind, text)), quiet_s=0.3, stop_when_quiet=1.0)
    finally:
        th.join()
        rx.shutdown()
        tx.shutdown()
    elapsed = time.monotonic() - started
    kinds = [k for k, _ in events]
    assert kinds == ["quiet", "back", "quiet"]
    assert "quiet for" in events[0][1]
    assert 1.7 < elapsed < 10.0  # it stopped by itself after a second of quiet following the frame
    r = twin.close()
    assert r.samples == 0 and r.bus["unknown_ids"] == {"0x123": 1} and not r.flags


def test_publish_sends_the_twins_view_back_on_the_bus(sim_log):
    name = channel()
    rx, tx, listen = (can.Bus(interface="virtual", channel=name) for _ in range(3))
    twin = LiveTwin("pylontech-twin-16s", publish=rx)
    try:
        play(sim_log, tx, "pylontech-twin-16s", speed=None)
        twin.run(rx, stop_when_quiet=0.3)
        r = twin.close()
        views = []
        while (m := listen.recv(timeout=0.05)) is not None:
            if m.arbitration_id >= 0x3D0:
                views.append(m)
    finally:
        for b in (rx, tx, listen):
            b.shutdown()
    db = twin.mapping.db
    flag_frames = [db.decode_message(m.arbitration_id, m.data) for m in views if m.arbitration_id == 0x3D1]
    assert r.flags and {(str(d["Kind"]), d["Cell"]) for d in flag_frames} == {(f.kind, f.cell) for f in r.flags}
    status = [db.decode_message(m.arbitration_id, m.data) for m in views if m.arbitration_id == 0x3D2][-1]
    assert status["FlagCount"] == len(r.flags) and 0 < status["Samples"] <= r.samples
    limits = [db.decode_message(m.arbitration_id, m.data) for m in views if m.arbitration_id == 0x3D0]
    assert limits and all(0 < d["ChargeVoltageLimit"] <= 16 * 3.65 for d in limits)
    dev = [db.decode_message(m.arbitration_id, m.data) for m in views if m.arbitration_id == 0x3D3]
    assert {d["CellGroup"] for d in dev} == set(range(6))


def test_the_published_limits_follow_the_kernels_bms_rule():
    from twin.pack import Pack

    pack = Pack("eve_lf280k_16s", **{"cell.initial_soc": 0.9})
    result = pack.run(["Charge at 0.5C until 3.6 V", "Rest for 10 minutes"], 10.0,
                      record=["cell.voltage_measured", "bms.cvl", "bms.ccl", "bms.dcl", "bms.charge_enable"])
    twin = LiveTwin("pylontech-twin-16s", params="eve_lf280k_16s", publish=object())
    on = result["bms.charge_enable"] > 0.5
    got = np.array([twin._publisher.limits(v) for v in result["cell.voltage_measured"][on]])
    np.testing.assert_allclose(got[:, 0], result["bms.cvl"][on], rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], result["bms.ccl"][on], rtol=1e-12)
    np.testing.assert_allclose(got[:, 2], result["bms.dcl"][on], rtol=1e-12)
    assert len(set(np.round(got[:, 1], 6))) > 1  # the CCL steps were crossed


def test_can_play_refuses_values_its_signals_cannot_carry(tmp_path):
    log = tmp_path / "hot.h5"
    n = 5
    write_canonical(log, np.arange(n, dtype=float), np.zeros(n), np.full((n, 16), 3.3), temperature=np.full((n, 4), 4000.0),
                    temperature_cells=[0, 5, 10, 15])
    bus = can.Bus(interface="virtual", channel=channel())
    try:
        with pytest.raises(CanError, match=r"temperature = 4000 at 0 s does not fit signal TWIN_TEMPERATURE.Temperature01"):
            play(log, bus, "pylontech-twin-16s", speed=None)
    finally:
        bus.shutdown()


def test_a_reading_the_log_does_not_have_sends_no_frame(tmp_path):
    log = tmp_path / "gap.h5"
    n = 6
    v = np.full((n, 16), 3.3)
    v[2, 7] = np.nan
    write_canonical(log, np.arange(n, dtype=float), np.zeros(n), v)
    live, played = live_beside_play(log, "pylontech-twin-16s", record=None)
    assert played.skipped_frames == 1 and live.samples == n - 1
    assert live.bus["frames_missing"] == {"TWIN_CELL_VOLTAGE[CellGroup=2]": 1}


# --- the commands ----------------------------------------------------------------------------------

def test_twin_live_play_cli_prints_flags_as_raised_and_records(sim_log, tmp_path):
    rec = tmp_path / "rec.h5"
    res = CliRunner().invoke(main, ["live", "--play", str(sim_log), "--record", str(rec), "--json", str(tmp_path / "r.json"),
                                    "--status-every", "0"])
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("twin live: virtual twin-demo, pylontech-twin-16s.toml")
    raised = [ln for ln in lines if ln.startswith("[")]
    assert raised and "cell   4  voltage_sensor" in raised[0]
    assert "recorded:" in res.output and replay(rec).flags == replay(sim_log).flags


def test_twin_can_play_cli_and_clean_errors(sim_log):
    res = CliRunner().invoke(main, ["can-play", str(sim_log), "-i", "virtual", "-c", channel(), "--speed", "max",
                                    "--to", "2 min"])
    assert res.exit_code == 0, res.output
    assert "120 samples" in res.output and "1320 frames" in res.output
    res = CliRunner().invoke(main, ["can-play", str(sim_log), "-i", "nosuchinterface", "-c", "x"])
    assert res.exit_code == 2 and res.output.startswith("error: cannot open CAN interface 'nosuchinterface'")
    assert len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(main, ["can-play", str(sim_log), "-i", "virtual", "--speed", "fast"])
    assert res.exit_code == 2 and "'fast': give a factor" in res.output
    res = CliRunner().invoke(main, ["live", "--mapping", "nosuch", "-i", "virtual"])
    assert res.exit_code == 2 and "CAN mapping nosuch does not exist" in res.output
