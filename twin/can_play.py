"""`twin can-play`: a recorded log played onto a CAN bus as a stand-in BMS (docs/can.md).

Each sample of the log becomes the frames the CAN mapping describes, sent back to back: the
sample frame first (with the sample's counter and the log's time as the BMS clock), then every
message carrying a mapped channel, in id order (each multiplexed group in turn). Signals the
mapping does not use are sent at their DBC start value (GenSigStartValue), else 0.

A frame whose values include a non-number is not sent, as a BMS sends nothing for a reading it
does not have; a value outside its signal's range is refused with the channel, time and range.
Timing follows the log's time divided by `speed` (None: as fast as the bus takes frames).
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass

import numpy as np

from .can_mapping import CanMapping, can_module
from .errors import CanError
from .logs import LogReader

SEND_RETRY_S = 2.0  # how long a full transmit buffer is waited on before giving up


@dataclass
class _Slot:
    """One signal of a frame: where its value comes from."""

    signal: object  # cantools Signal
    channel: str | None  # None: the counter or the multiplexer, filled by can-play
    column: int = 0


@dataclass
class _Frame:
    message: object
    mux: int | None
    slots: list
    fixed: dict  # signal name -> value (start values, the multiplexer)
    counter: str | None


@dataclass
class PlayResult:
    samples: int
    frames: int
    skipped_frames: int
    seconds: float
    start_s: float
    end_s: float


def _frames(mapping: CanMapping) -> list:
    """The frames one sample becomes, in the order they are sent."""
    out = []
    ids = sorted(mapping.plans, key=lambda fid: (not mapping.plans[fid].is_sample, fid))
    channels = dict(mapping.channels)
    if mapping.time_channel is not None:
        channels["time"] = mapping.time_channel
    for fid in ids:
        plan = mapping.plans[fid]
        msg = plan.message
        muxes = sorted({plan.key_of(s) for s in plan.assign}, key=lambda k: -1 if k is None else k)
        if plan.is_sample and not muxes:
            muxes = [None]
        for mux in muxes:
            slots, fixed = [], {}
            for sig in msg.signals:
                if sig.multiplexer_ids is not None and mux not in sig.multiplexer_ids:
                    continue
                if sig.name == plan.mux:
                    fixed[sig.name] = mux
                elif sig.name == plan.counter:
                    slots.append(_Slot(sig, None))
                elif sig.name in plan.assign:
                    ch, col = plan.assign[sig.name]
                    slots.append(_Slot(sig, ch, col))
                else:
                    fixed[sig.name] = sig.initial if sig.initial is not None else 0
            out.append(_Frame(msg, mux, slots, fixed, plan.counter))
    return out


def _without(frame: _Frame, channels) -> _Frame:
    """The frame with the channels the log does not have sent at their start value."""
    slots = [s for s in frame.slots if s.channel is None or s.channel in channels]
    fixed = dict(frame.fixed)
    for s in frame.slots:
        if s not in slots:
            fixed[s.signal.name] = s.signal.initial if s.signal.initial is not None else 0
    return _Frame(frame.message, frame.mux, slots, fixed, frame.counter)


def _log_columns(mapping: CanMapping, info) -> dict:
    """For temperature: the log's column for each of the mapping's sensors (matched by cell)."""
    if "temperature" not in mapping.channels or "temperature" not in info.channels:
        return {}
    cols = []
    for cell in mapping.temperature_cells:
        if cell not in info.temperature_cells:
            raise CanError(f"{info.path}: the CAN mapping has a temperature sensor on cell {cell}; the log's sensors sit "
                           f"on cells {info.temperature_cells}. Give the mapping's [temperature] cells the log's")
        cols.append(info.temperature_cells.index(cell))
    return {"temperature": cols}


def log_frames(log, mapping=None, log_mapping=None, start_s: float | None = None, end_s: float | None = None):
    """Yield (time, [can.Message], frames not sent) for each sample of `log` (HDF5, canonical or
    through `log_mapping`) between start_s and end_s: the frames a BMS would send for it."""
    can = can_module()
    mapping = CanMapping.load(mapping)
    frames = _frames(mapping)
    counter = 0
    with LogReader(log, log_mapping) as reader:
        info = reader.info
        missing = [ch for ch in (*mapping.channels, *(["time"] if mapping.time_channel else [])) if ch not in info.channels]
        needed = [ch for ch in missing if ch in ("current", "cell_voltage", "time")]
        if needed:
            raise CanError(f"{log}: the log has no {', '.join(needed)}, which the CAN mapping sends")
        if info.cells != mapping.cells:
            raise CanError(f"{log}: the log has {info.cells} cells; the CAN mapping {mapping.source} has {mapping.cells}")
        columns = _log_columns(mapping, info)
        frames = [_without(f, info.channels) for f in frames
                  if f.message.frame_id == getattr(mapping.sample_message, "frame_id", None)
                  or any(s.channel in info.channels for s in f.slots)]
        for chunk in reader.chunks(1 << 14):
            t = chunk.time
            keep = np.ones(len(t), dtype=bool)
            if start_s is not None:
                keep &= t >= start_s
            if end_s is not None:
                keep &= t < end_s
            if not keep.any():
                continue
            values = {"time": t, "current": chunk.current, "cell_voltage": chunk.cell_voltage,
                      "temperature": chunk.temperature, "pack_voltage": chunk.pack_voltage,
                      "balancing": chunk.balancing, "soc": chunk.soc}
            if "temperature" in columns and chunk.temperature is not None:
                values["temperature"] = chunk.temperature[:, columns["temperature"]]
            raw = _raw_values(mapping, frames, values, keep, log)
            for k in np.flatnonzero(keep):
                out, skipped = [], 0
                for f, rows in zip(frames, raw):
                    data = dict(f.fixed)
                    ok = True
                    for slot, x in zip(f.slots, rows):
                        if slot.channel is None:
                            data[slot.signal.name] = counter
                        else:
                            v = x[k]
                            if v != v:  # a reading the BMS does not have: no frame
                                ok = False
                                break
                            data[slot.signal.name] = v
                    if not ok:
                        skipped += 1
                        continue
                    out.append(can.Message(arbitration_id=f.message.frame_id, is_extended_id=False,
                                           data=f.message.encode(data, scaling=True, strict=False)))
                counter = (counter + 1) % 256
                yield float(t[k]), out, skipped


def play(log, bus, mapping=None, log_mapping=None, speed: float | None = 1.0, start_s: float | None = None,
         end_s: float | None = None, loop: bool = False, stop=None, progress=None, backlog=None,
         max_backlog: int = 20000) -> PlayResult:
    """Play `log` (HDF5, canonical or through `log_mapping`) onto `bus` (a python-can bus).

    start_s, end_s: play only this span of the log's time. speed: 1 real time, 10 ten times
    faster, None as fast as possible. loop: start again at the end (until `stop` is set), as a
    BMS that restarts. backlog(): frames the receiver has taken so far; when given, sending pauses
    while more than `max_backlog` frames are in flight (an in-process receiver on the virtual bus).
    progress(samples played) is called every 1000 samples."""
    can = can_module()
    started = _time.perf_counter()
    sent = skipped = samples = 0
    first_t = last_t = math.nan
    stopped = lambda: stop is not None and stop.is_set()  # noqa: E731
    while True:
        clock0 = None
        for tk, messages, not_sent in log_frames(log, mapping, log_mapping, start_s, end_s):
            if stopped():
                break
            if clock0 is None:
                clock0 = (_time.perf_counter(), tk)
                first_t = tk if first_t != first_t else first_t
            if speed is not None:
                wait = clock0[0] + (tk - clock0[1]) / speed - _time.perf_counter()
                if wait > 0:
                    _time.sleep(wait)
            elif backlog is not None:
                while sent - backlog() > max_backlog and not stopped():
                    _time.sleep(0.002)
            for message in messages:
                _send(bus, message, can)
            sent += len(messages)
            skipped += not_sent
            samples += 1
            last_t = tk
            if progress and samples % 1000 == 0:
                progress(samples)
        if not loop or stopped():
            break
    return PlayResult(samples, sent, skipped, _time.perf_counter() - started, first_t, last_t)


def _raw_values(mapping, frames, values, keep, log) -> list:
    """Per frame, per slot: the signal values for every sample of the chunk (checked against the
    signal's range where the sample is played)."""
    channels = dict(mapping.channels)
    if mapping.time_channel is not None:
        channels["time"] = mapping.time_channel
    wraps = {}
    out = []
    for f in frames:
        rows = []
        for s in f.slots:
            if s.channel is None:
                rows.append(None)
                continue
            x = values[s.channel]
            x = x[:, s.column] if x.ndim == 2 else x
            v = channels[s.channel].invert(np.asarray(x, dtype=np.float64))
            sig = s.signal
            if s.channel == "time" and not sig.is_signed and not sig.is_float:
                period = (2 ** sig.length) * sig.scale
                wraps[sig.name] = period
                v = np.mod(v - sig.offset, period) + sig.offset  # a BMS clock counts round
            if not sig.is_float:
                lo = (-(2 ** (sig.length - 1)) if sig.is_signed else 0) * sig.scale + sig.offset
                hi = ((2 ** (sig.length - 1) - 1) if sig.is_signed else 2 ** sig.length - 1) * sig.scale + sig.offset
                bad = keep & np.isfinite(v) & ((v < lo - 0.5 * abs(sig.scale)) | (v > hi + 0.5 * abs(sig.scale)))
                if bad.any():
                    k = int(np.flatnonzero(bad)[0])
                    raise CanError(f"{log}: {s.channel} = {float(x[k]):.6g} at {float(values['time'][k]):.6g} s does not fit "
                                   f"signal {f.message.name}.{sig.name} ({lo:.6g} .. {hi:.6g} before the mapping's "
                                   f"conversion); change the signal's scale in the DBC or the mapping")
            rows.append(v.tolist())
        out.append(rows)
    return out


def _send(bus, message, can):
    deadline = None
    while True:
        try:
            bus.send(message)
            return
        except can.CanOperationError as e:  # a full transmit buffer: wait for the bus
            now = _time.monotonic()
            deadline = deadline or now + SEND_RETRY_S
            if now > deadline:
                raise CanError(f"sending on the CAN bus failed for {SEND_RETRY_S:.0f} s: {e}") from None
            _time.sleep(0.001)
