"""`twin live` speed: the frames per second it keeps up with for a 16S pack sending 10 Hz samples,
and the delay from a frame to a raised flag.

A 16S pack on the shipped protocol (twin/data/can/pylontech-twin-16s.dbc) sends 11 frames per
sample (the sample frame, the pack frame, 6 cell-voltage, 2 temperature and 1 balancing frame):
at 10 Hz, 110 frames/s. The benchmark simulates such a pack with the twin (BMS-like measurement
noise, a 15 mV voltage-sensor offset on cell 4 from 200 s) and prints, from the same run:

1. decoding and detection alone: frames pushed into LiveTwin as fast as it takes them (no bus);
2. through python-can's virtual bus: `can-play` at full speed in one thread, `twin live` in another
   of the same process (both share one interpreter lock: a floor for two processes);
3. the delay from the frame that completes a sample to the end of its detection, and to the flag
   it raises: the log is played at full speed up to 3 s before the flag, then at real time
   (10 Hz, 110 frames/s), and the delays are taken over the real-time stretch;
4. (without --quick) a whole development pack (72 h at 1 Hz, pack_102) through the virtual bus,
   its flags checked against `twin replay` of the same log.

The machine's two cores are shared: figures vary from run to run by tens of percent.

    python benchmarks/live_speed.py --quick
    python benchmarks/live_speed.py
"""

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import can

from twin.can_play import log_frames, play
from twin.faults import Fault
from twin.live import LiveTwin
from twin.replay import replay
from twin.scenarios import LogScenario, simulate_log

MAPPING = "pylontech-twin-16s"
ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "data" / "dev-packs"
RATE_HZ = 10.0


class TimedTwin(LiveTwin):
    """LiveTwin that notes, per sample, the delay from the completing frame to the end of detection."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.delays = []

    def feed(self, s):
        out = super().feed(s)
        self.delays.append((s.time, time.time() - s.arrival))
        return out


def frames_of(log, end_s=None) -> list:
    return [(m.arbitration_id, bytes(m.data)) for _, messages, _ in log_frames(log, MAPPING, end_s=end_s)
            for m in messages]


def through_bus(log, mapping=MAPPING, log_mapping=None, end_s=None, twin=None, speed=None, start_s=None) -> dict:
    """can-play in a thread, the twin on the other end of the virtual bus; both timed."""
    name = f"bench-{time.monotonic_ns()}"
    rx, tx = can.Bus(interface="virtual", channel=name), can.Bus(interface="virtual", channel=name)
    twin = twin or TimedTwin(mapping)
    done, out = threading.Event(), {}
    frames0 = twin.assembler.stats.frames

    def player():
        try:
            t0 = time.perf_counter()
            out["played"] = play(log, tx, mapping, log_mapping, speed=speed, start_s=start_s, end_s=end_s,
                                 backlog=lambda: twin.assembler.stats.frames - frames0)
            while twin.assembler.stats.frames - frames0 < out["played"].frames:  # until the twin has them all
                time.sleep(0.0005)
            out["seconds"] = time.perf_counter() - t0
        finally:
            done.set()

    th = threading.Thread(target=player)
    th.start()
    try:
        twin.run(rx, stop=done, stop_when_quiet=60.0)
    finally:
        th.join()
        rx.shutdown()
        tx.shutdown()
    out["twin"] = twin
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 15-minute log and no dev pack (about 20 s)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "pack10hz.h5"
        minutes = 15 if args.quick else 60
        simulate_log(log, LogScenario(days=minutes / 1440, dt=1 / RATE_HZ, seed=3,
                                      faults=(Fault(4, "voltage_offset", 0.015, 200.0),)))
        expected = replay(log)
        per_sample = 11  # frames of one sample: sample, pack, 6 cell groups, 2 sensor groups, balancing
        need = per_sample * RATE_HZ
        print(f"16S pack, {RATE_HZ:.0f} Hz samples, {per_sample} frames each: {need:.0f} frames/s to keep up with "
              f"({minutes} min log simulated by the twin; replay flags {[(f.cell, f.kind) for f in expected.flags]})")

        flag_s = expected.flags[0].first_flagged_s
        lead = 3.0 if args.quick else 30.0  # seconds played at real time before the flag
        # 1. decoding and detection alone, fast-forwarding a twin to `lead` before the flag
        frames = frames_of(log, end_s=flag_s - lead)
        twin = TimedTwin(MAPPING)
        t0 = time.perf_counter()
        for j, (fid, data) in enumerate(frames):
            twin.push(fid, data, j * 1e-4)
        seconds = time.perf_counter() - t0
        fps = len(frames) / seconds
        print(f"decoding + detection alone:   {fps:9.0f} frames/s ({twin.assembler.stats.samples / seconds:7.0f} "
              f"samples/s), {fps / need:5.0f} x real time  [{len(frames)} frames]")
        # 3. then at real time through the bus, across the flag
        slow_from = flag_s - lead
        through_bus(log, twin=twin, speed=1.0, start_s=slow_from, end_s=flag_s + 1.0)
        r = twin.close()
        key = lambda flags: [(f.cell, f.kind, f.first_flagged_s) for f in flags if f.first_flagged_s <= flag_s]  # noqa: E731
        assert key(r.flags) == key(expected.flags), "live and replay disagree"
        slow = sorted(dt for t, dt in twin.delays if t >= slow_from)
        p99 = slow[min(len(slow) - 1, int(0.99 * len(slow)))]
        # 2. through the bus at full speed, on a fresh twin
        b = through_bus(log, end_s=(300.0 if args.quick else None))
        played = b["played"]
        if not args.quick:
            assert b["twin"].close().flags == expected.flags, "live and replay disagree"
        fps = played.frames / b["seconds"]
        print(f"through the virtual bus:      {fps:9.0f} frames/s ({played.samples / b['seconds']:7.0f} samples/s), "
              f"{fps / need:5.0f} x real time  [can-play and live in one process, {played.frames} frames]")
        print(f"frame -> sample detected:     median {1e3 * statistics.median(slow):.2f} ms, 99th percentile "
              f"{1e3 * p99:.2f} ms, max {1e3 * slow[-1]:.2f} ms  [{len(slow)} samples at real time, 110 frames/s]")
        for raised in r.raised:
            print(f"frame -> flag raised:         {1e3 * (raised.raised_at - raised.arrival):.2f} ms  "
                  f"[cell {raised.flag.cell} {raised.flag.kind} at {raised.sample_time:.1f} s of the log]")
        print(f"live and replay agree:        {key(r.flags)}" + ("" if args.quick else "; and on the whole log, "
                                                                       "magnitudes and evidence included"))

        if not args.quick:
            pack = DEV / "pack_102.h5"
            if not pack.exists():
                print(f"(no development packs at {DEV}: the 72 h check is skipped)")
                return
            t0 = time.perf_counter()
            expected = replay(pack, ROOT / "examples" / "mappings" / "dev-pack.toml")
            b = through_bus(pack, mapping=ROOT / "examples" / "can" / "dev-pack-can.toml",
                            log_mapping=ROOT / "examples" / "mappings" / "dev-pack.toml")
            r = b["twin"].close()
            same = r.flags == expected.flags
            print(f"pack_102, 72 h at 1 Hz:       {r.samples} samples, {r.bus['frames']} frames through the bus in "
                  f"{time.perf_counter() - t0:.0f} s ({r.bus['frames'] / b['seconds']:.0f} frames/s); flags "
                  f"{[(f.cell, f.kind, round(f.first_flagged_s / 3600, 2)) for f in r.flags]}; equal to replay: {same}")
            assert same


if __name__ == "__main__":
    main()
