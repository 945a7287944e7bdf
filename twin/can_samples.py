"""From CAN frames to BMS samples: decode through the mapping's DBC, gather the frames of one
sample, and hand over complete samples in the twin's units, as the canonical log stores them.

A sample is what the BMS measured at one moment: the pack current and every cell voltage (both
required), and the temperatures, balancing flags, pack voltage and SOC when mapped.

How frames become samples (docs/can.md):
- With a sample frame ([can] sample): that frame opens a sample. The sample is handed over as soon
  as every frame it expects has arrived (the required frames, and the optional ones that came with
  the previous sample), or, at the latest, when the next sample frame arrives. A frame that
  carries the [can] counter and whose counter is not the open sample's is *late*: ignored,
  counted. A frame seen twice in one sample is a *duplicate*: the first is kept.
- Without one: a sample is handed over when every mapped frame has arrived since the last; a
  frame that comes again before that closes the sample early.
- A sample missing a required frame is *incomplete*: dropped (the detector would skip it anyway),
  counted, and the frames it missed are named. Temperatures, balancing flags, pack voltage and
  SOC hold their last value when their frame is missing (they change slowly).
- Time: the mapped [time] signal (the BMS's clock), else the arrival time. When the BMS clock goes
  back, the BMS restarted (or a 32-bit counter wrapped, which is told apart by where it was): the
  session clock continues from where it was, plus the time the bus was silent, so time never
  goes back for the detector or the log.
- Frames whose id is not in the DBC are *unknown*: ignored, counted by id. Frames the DBC knows but
  the mapping does not use are *unmapped*; frames that do not decode (wrong length, a
  multiplexer value the DBC does not define) are *malformed*.

Values are rounded to single precision, the type the canonical log stores readings in
(logs.write_canonical), so the samples fed to the detector live are bit for bit those a replay of
the recorded log feeds it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .can_mapping import REQUIRED, CanMapping

HOLD = ("temperature", "balancing", "pack_voltage", "soc")


@dataclass
class Sample:
    time: float
    current: float
    cell_voltage: np.ndarray  # (cells,) float32
    temperature: np.ndarray | None = None  # (sensors,) float32
    balancing: np.ndarray | None = None  # (cells,) int8
    pack_voltage: float | None = None
    soc: float | None = None
    arrival: float = 0.0  # bus timestamp of the frame that completed it


@dataclass
class BusStats:
    frames: int = 0
    samples: int = 0
    unknown: Counter = field(default_factory=Counter)  # by frame id
    unmapped: int = 0
    malformed: int = 0
    duplicates: int = 0
    late: int = 0
    incomplete: int = 0
    missing: Counter = field(default_factory=Counter)  # by frame name, in incomplete samples
    restarts: int = 0
    wraps: int = 0

    def as_dict(self) -> dict:
        return {"frames": self.frames, "samples": self.samples, "unknown_frames": sum(self.unknown.values()),
                "unknown_ids": {hex(k): v for k, v in sorted(self.unknown.items())}, "unmapped_frames": self.unmapped,
                "malformed_frames": self.malformed, "duplicate_frames": self.duplicates, "late_frames": self.late,
                "incomplete_samples": self.incomplete, "frames_missing": dict(self.missing),
                "bms_restarts": self.restarts, "clock_wraps": self.wraps}


class SampleAssembler:
    """Feed it frames (push); it returns the samples they complete. Events (restarts, clock wraps)
    are appended to `events` as (kind, text) for the caller to show."""

    def __init__(self, mapping: CanMapping):
        self.m = mapping
        self.cells = mapping.cells
        self.stats = BusStats()
        self.events: list = []
        self.sensors = len(mapping.channels["temperature"].signals) if "temperature" in mapping.channels else 0
        self._required = mapping.expected_keys(REQUIRED)
        self._all = mapping.expected_keys()
        self._optional_seen_last: set = set()
        self._names = {}
        for fid, p in mapping.plans.items():
            for key in {p.key_of(s) for s in p.assign} | {None}:
                self._names[(fid, key)] = p.message.name + ("" if key is None else f"[{p.mux}={key}]")
        # per signal: (channel, column, converter), by frame id
        self._assign = {fid: {s: (ch, col, (mapping.channels.get(ch) or mapping.time_channel).convert)
                              for s, (ch, col) in p.assign.items()} for fid, p in mapping.plans.items()}
        self._sample_id = None if mapping.sample_message is None else mapping.sample_message.frame_id
        # the values of the sample being gathered; held channels keep theirs across samples
        self._current = math.nan
        self._volts = np.full(self.cells, np.nan)
        self._temps = np.full(self.sensors, np.nan)
        self._bal = np.zeros(self.cells)
        self._pack_voltage = math.nan
        self._soc = math.nan
        self._bms_time = None
        self._seen: set = set()
        self._open = False
        self._open_counter = None
        self._emitted = False
        self._learned = False  # until one whole sample has been seen, samples are handed over when the next opens
        # session clock
        self._last_bms = None
        self._offset = 0.0
        self._last_time = None
        self._last_arrival = None
        self._first_arrival = None
        self._period = None
        tc = mapping.time_channel
        self._wrap = None
        if tc is not None:
            msg_name, sig_name = tc.signals[0]
            sig = mapping.db.get_message_by_name(msg_name).get_signal_by_name(sig_name)
            if not sig.is_signed and not sig.is_float:
                self._wrap = tc.convert((2 ** sig.length) * sig.scale + sig.offset) - tc.convert(sig.offset)

    # --- frames ----------------------------------------------------------------------------------------

    def push(self, frame_id: int, data: bytes, timestamp: float) -> list:
        """One frame from the bus; returns the samples it completed (zero, one, or two)."""
        st = self.stats
        st.frames += 1
        if self._first_arrival is None:
            self._first_arrival = timestamp
        plan = self.m.plans.get(frame_id)
        if plan is None:
            try:
                self.m.db.get_message_by_frame_id(frame_id)
                st.unmapped += 1
            except KeyError:
                st.unknown[frame_id] += 1
            return []
        try:
            values = plan.message.decode(bytes(data), decode_choices=False)
        except Exception:  # cantools DecodeError and struct/bitstruct errors on short frames
            st.malformed += 1
            return []
        out = []
        key = None if plan.mux is None else values.get(plan.mux)
        if plan.is_sample:
            if self._open and plan.counter is not None and values.get(plan.counter) == self._open_counter \
                    and self._is_same_time(values, frame_id):
                st.duplicates += 1
                return []
            out += self._close()
            self._open = True
            self._emitted = False
            self._open_counter = None if plan.counter is None else values.get(plan.counter)
            self._seen = set()
            self._current = math.nan
            self._volts[:] = np.nan
            self._bms_time = None
        elif self._sample_id is not None:
            if not self._open or self._counter_differs(plan, values):  # before the first sample, or an old one's
                st.late += 1
                return []
            if (frame_id, key) in self._seen:
                st.duplicates += 1
                return []
        elif (frame_id, key) in self._seen:  # no sample frame: a repeat closes the sample
            out += self._close()
            self._seen = set()
            self._emitted = False
            self._current = math.nan
            self._volts[:] = np.nan
        self._store(frame_id, values)
        self._seen.add((frame_id, key))
        self._arrival = timestamp
        if self._sample_id is None:
            self._open = True
        if not self._emitted and self._complete(full=True):
            out += self._emit()
        return out

    def _counter_differs(self, plan, values) -> bool:
        return plan.counter is not None and self._open_counter is not None and values.get(plan.counter) != self._open_counter

    def _is_same_time(self, values, frame_id) -> bool:
        tc = self.m.time_channel
        if tc is None or self.m.plans[frame_id].message.name != tc.signals[0][0]:
            return True
        v = values.get(tc.signals[0][1])
        return v is not None and self._bms_time is not None and tc.convert(v) == self._bms_time

    def _store(self, frame_id, values):
        assign = self._assign[frame_id]
        for sig, value in values.items():
            a = assign.get(sig)
            if a is None:
                continue
            ch, col, convert = a
            x = convert(value)
            if ch == "cell_voltage":
                self._volts[col] = x
            elif ch == "current":
                self._current = x
            elif ch == "temperature":
                self._temps[col] = x
            elif ch == "balancing":
                self._bal[col] = x
            elif ch == "time":
                self._bms_time = x
            elif ch == "pack_voltage":
                self._pack_voltage = x
            elif ch == "soc":
                self._soc = x

    def _complete(self, full: bool) -> bool:
        """The required frames are in; with full, also every frame the sample is expected to bring."""
        if not self._required <= self._seen:
            return False
        if not full:
            return True
        if self._sample_id is None:
            return self._all <= self._seen
        return self._learned and self._optional_seen_last <= self._seen

    def _close(self) -> list:
        """The sample being gathered is over: hand it over if it has not been, or count it incomplete."""
        if not self._open or not self._seen:
            return []
        # what came with this sample is what the next is expected to bring
        self._optional_seen_last = self._seen - self._required
        self._learned = True
        if self._emitted:
            return []
        if self._complete(full=False):
            return self._emit()
        self.stats.incomplete += 1
        for k in self._required - self._seen:
            self.stats.missing[self._names.get(k, hex(k[0]))] += 1
        return []

    def flush(self) -> list:
        """The bus ended: hand over a last complete sample still being gathered."""
        out = self._close()
        self._open = False
        return out

    # --- samples ----------------------------------------------------------------------------------------

    def _emit(self) -> list:
        self._emitted = True
        t = self._session_time()
        if t is None:
            return []
        self.stats.samples += 1
        f32 = np.float32
        return [Sample(
            time=t, current=float(f32(self._current)), cell_voltage=self._volts.astype(np.float32),
            temperature=self._temps.astype(np.float32) if self.sensors else None,
            balancing=self._bal.astype(np.int8) if "balancing" in self.m.channels else None,
            pack_voltage=float(f32(self._pack_voltage)) if "pack_voltage" in self.m.channels else None,
            soc=float(f32(self._soc)) if "soc" in self.m.channels else None,
            arrival=self._arrival)]

    def _session_time(self):
        """The sample's time on the session clock (never goes back); None to drop the sample."""
        arrival = self._arrival
        if self.m.time_channel is None:
            t = arrival - self._first_arrival
        else:
            bms = self._bms_time
            if bms is None or not math.isfinite(bms):
                self.stats.incomplete += 1
                self.stats.missing[f"{self.m.time_channel.signals[0][0]} (time)"] += 1
                return None
            if self._last_bms is not None and bms <= self._last_bms:
                silent = max(arrival - self._last_arrival, 0.0)
                if self._wrap is not None and self._last_bms > 0.9 * self._wrap and bms < 0.1 * self._wrap:
                    self._offset += self._wrap
                    self.stats.wraps += 1
                    self.events.append(("wrap", f"the BMS clock wrapped at {self._wrap:.0f} s; time continues"))
                elif bms < self._last_bms:
                    step = self._period or 1.0
                    resume = self._last_time + max(silent, step)
                    self._offset = resume - bms
                    self.stats.restarts += 1
                    self.events.append(("restart", f"the BMS restarted (its clock went from {self._last_bms:.1f} s to "
                                                   f"{bms:.1f} s); the session clock goes on from {resume:.1f} s"))
                else:  # the same time again: a repeated sample
                    self.stats.duplicates += 1
                    return None
            t = bms + self._offset
        if self._last_time is not None:
            if t <= self._last_time:
                self.stats.duplicates += 1
                return None
            dt = t - self._last_time
            self._period = dt if self._period is None else min(self._period, dt)
        if self.m.time_channel is not None:
            self._last_bms = self._bms_time
        self._last_time = t
        self._last_arrival = arrival
        return t

    def status(self) -> str:
        """One line on what the bus has sent."""
        st = self.stats
        parts = [f"{st.frames} frames, {st.samples} samples"]
        for n, what in ((st.incomplete, "incomplete"), (sum(st.unknown.values()), "unknown"), (st.late, "late"),
                        (st.duplicates, "duplicate"), (st.malformed, "malformed"), (st.restarts, "BMS restarts")):
            if n:
                parts.append(f"{n} {what}")
        return ", ".join(parts)
