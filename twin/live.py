"""The twin beside a live BMS: CAN frames in, flags out as they are raised (docs/can.md).

    >>> import can
    >>> from twin.live import LiveTwin
    >>> live = LiveTwin("pylontech-twin-16s", capacity_ah=280, record="session.h5")
    >>> with can.Bus(interface="socketcan", channel="can0") as bus:
    ...     live.run(bus, on_flag=print)
    >>> live.close().flags

Frames become samples in twin.can_samples; each sample goes through the same C detector
`twin replay` runs (one sample at a time, Kernel.detect_run), built with the same parameters
(replay.detector_parameters) and read out by the same code (replay._flags). A recorded session is
a canonical log: `twin replay session.h5` gives the flags the session raised, bit for bit.
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass, field

import numpy as np

from .can_mapping import CanMapping, can_module
from .can_samples import Sample, SampleAssembler
from .errors import CanError
from .logs import LogInfo
from .params import build_kernel
from .replay import _flags, detector_parameters
from .spec import load_spec

RECORD_EVERY = 256  # samples buffered before they are appended to the recorded log
DEFAULT_QUIET_S = 5.0


@dataclass
class RaisedFlag:
    """A flag as `twin live` saw it raised: the replay Flag, and when (bus time) it was raised."""

    flag: object  # replay.Flag
    sample_time: float  # session time of the sample that raised it, s
    arrival: float  # bus timestamp of the frame that completed that sample
    raised_at: float  # wall clock (time.time()) when the twin had raised it


@dataclass
class LiveResult:
    source: str
    cells: int
    samples: int
    start_s: float
    end_s: float
    flags: list  # replay.Flag, as replay reports them at the end of a log
    raised: list  # RaisedFlag, in the order they were raised
    bus: dict
    seconds: float
    recorded: str | None = None
    parameters: str = ""
    events: list = field(default_factory=list)

    @property
    def status(self) -> str:
        return "flagged" if self.flags else "healthy"

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {"source": self.source, "status": self.status, "cells": self.cells, "samples": self.samples,
                "start_s": self.start_s, "end_s": self.end_s, "flags": [asdict(f) for f in self.flags],
                "bus": self.bus, "seconds": self.seconds, "recorded": self.recorded, "parameters": self.parameters,
                "events": [{"kind": k, "text": t} for k, t in self.events]}


class LiveTwin:
    """The detector fed from CAN frames, sample by sample.

    mapping: a CanMapping, a mapping file or a shipped mapping's name. capacity_ah, cells and
    bleed_resistance_ohm override the mapping's [log] table. record: a path to record the session
    to (canonical HDF5). publish: a python-can bus to send the twin's view on (twin.can_dbc)."""

    def __init__(self, mapping=None, params=None, overrides=None, capacity_ah=None, bleed_resistance_ohm=None,
                 record=None, publish=None, source: str = "CAN"):
        self.mapping = CanMapping.load(mapping)
        m = self.mapping
        cap = capacity_ah if capacity_ah is not None else m.capacity_ah
        bleed = bleed_resistance_ohm if bleed_resistance_ohm is not None else m.bleed_resistance_ohm
        self.source = source
        self.info = LogInfo(path=source, samples=0, cells=m.cells, capacity_ah=cap, bleed_resistance_ohm=bleed,
                            temperature_cells=list(m.temperature_cells), sample_period_s=0.0, start_s=0.0, end_s=0.0)
        self.pset = detector_parameters(self.info, params, overrides)
        self.kernel = build_kernel(self.pset)
        self.spec = load_spec()
        self.n = m.cells
        self.assembler = SampleAssembler(m)
        self.raised: list = []
        self._seen_flags: set = set()
        self._temps = np.full((1, self.n), np.nan)
        self._t = np.empty(1)
        self._i = np.empty(1)
        self._v = np.empty((1, self.n))
        self._bal = np.zeros((1, self.n))
        # detect_run counts completed blocks up to the rows of its record buffers: one row of one value
        self._block_record = [(self.spec["detect.flags"].vr, np.empty((1, 1)))]
        self._has_temp = "temperature" in m.channels
        self._has_bal = "balancing" in m.channels
        self._start = None
        self._end = None
        self._wall_start = _time.perf_counter()
        self._recorder = None if record is None else _Recorder(record, m, cap, bleed, source)
        self._publisher = None if publish is None else _Publisher(publish, self)
        self.events: list = []
        self._closed = None

    # --- samples ---------------------------------------------------------------------------------------

    def feed(self, s: Sample) -> list:
        """One sample through the detector; returns the RaisedFlags it raised."""
        self._t[0] = s.time
        self._i[0] = s.current
        self._v[0] = s.cell_voltage
        temps = None
        if self._has_temp:
            self._temps[0, self.mapping.temperature_cells] = s.temperature
            temps = self._temps
        bal = None
        if self._has_bal:
            self._bal[0] = s.balancing
            bal = self._bal
        blocks, _ = self.kernel.detect_run(self._t, self._i, self._v, temps, bal, records=self._block_record)
        if self._start is None:
            self._start = s.time
        self._end = s.time
        if self._recorder is not None:
            self._recorder.add(s)
        new = []
        if blocks:
            flags = _flags(self.kernel, self.spec, self.n)
            for f in flags:
                if (f.cell, f.kind) not in self._seen_flags:
                    self._seen_flags.add((f.cell, f.kind))
                    new.append(RaisedFlag(f, s.time, s.arrival, _time.time()))
            self.raised += new
            if self._publisher is not None:
                self._publisher.block(flags, s)
        return new

    def push(self, frame_id: int, data: bytes, timestamp: float) -> list:
        """One CAN frame; returns the RaisedFlags of the samples it completed."""
        new = []
        for s in self.assembler.push(frame_id, data, timestamp):
            new += self.feed(s)
        return new

    def pop_events(self) -> list:
        ev = self.assembler.events
        self.assembler.events = []
        self.events += ev
        return ev

    # --- the bus loop ----------------------------------------------------------------------------------

    def run(self, bus, on_flag=None, on_event=None, stop=None, duration: float | None = None,
            stop_when_quiet: float | None = None, quiet_s: float = DEFAULT_QUIET_S, status_every: float | None = None):
        """Read frames from a python-can bus until stopped: `stop` (a threading.Event) set (what is
        still on the bus is read first), `duration` seconds passed, or the bus quiet for
        `stop_when_quiet` seconds (counted from the start too). A bus quiet for `quiet_s` is reported once (on_event("quiet", text)), and again
        when it speaks ("back"). Frames are read with a short timeout: nothing blocks."""
        on_flag = on_flag or (lambda r: None)
        on_event = on_event or (lambda kind, text: None)
        started = _time.monotonic()
        last_frame = started
        quiet_reported = False
        next_status = None if status_every is None else started + status_every
        can = can_module()
        draining = False
        while True:
            if stop is not None and stop.is_set():
                draining = True
            now = _time.monotonic()
            if duration is not None and now - started >= duration:
                break
            silent = now - last_frame
            if stop_when_quiet is not None and silent >= stop_when_quiet:
                break
            if silent >= quiet_s and not quiet_reported:
                quiet_reported = True
                on_event("quiet", f"the bus has been quiet for {silent:.3g} s ({self.assembler.stats.frames} frames "
                                  f"so far); waiting")
            if next_status is not None and now >= next_status:
                next_status = now + status_every
                on_event("status", self.status())
            wait = min(0.1, quiet_s / 4)
            try:
                msg = bus.recv(timeout=0.05 if draining else wait)
            except can.CanError as e:
                raise CanError(f"reading the CAN bus failed: {e}") from None
            if msg is None:
                if draining:  # stopped, and nothing is left on the bus
                    break
                continue
            if quiet_reported:
                on_event("back", f"the bus is back after {_time.monotonic() - last_frame:.3g} s quiet")
                quiet_reported = False
            last_frame = _time.monotonic()
            if msg.is_error_frame or msg.is_remote_frame:
                continue
            for r in self.push(msg.arbitration_id, msg.data, msg.timestamp):
                on_flag(r)
            for kind, text in self.pop_events():
                on_event(kind, text)

    # --- the end ----------------------------------------------------------------------------------------

    def status(self) -> str:
        flags = len(self._seen_flags)
        return f"{self.assembler.status()}; {flags} flag{'s' if flags != 1 else ''}"

    def close(self) -> LiveResult:
        """Hand over the last sample, close the recording; the flags as replay would report them."""
        if self._closed is not None:
            return self._closed
        for s in self.assembler.flush():
            self.feed(s)
        self.pop_events()
        recorded = None
        if self._recorder is not None:
            recorded = self._recorder.close(self.assembler.stats.as_dict())
        self._closed = LiveResult(
            source=self.source, cells=self.n, samples=self.assembler.stats.samples,
            start_s=self._start if self._start is not None else math.nan,
            end_s=self._end if self._end is not None else math.nan,
            flags=_flags(self.kernel, self.spec, self.n), raised=list(self.raised),
            bus=self.assembler.stats.as_dict(), seconds=_time.perf_counter() - self._wall_start,
            recorded=recorded, parameters=self.pset.source, events=list(self.events))
        return self._closed


class _Recorder:
    """Appends the samples fed to the detector to a canonical log, RECORD_EVERY at a time."""

    def __init__(self, path, mapping, capacity_ah, bleed, source):
        from .logs import CanonicalWriter

        self.path = str(path)
        self.mapping = mapping
        self.writer = CanonicalWriter(path, mapping.cells, temperature_cells=mapping.temperature_cells or None,
                                      capacity_ah=capacity_ah, bleed_resistance_ohm=bleed,
                                      attrs={"recorded_by": "twin live", "source": source,
                                             "can_mapping": mapping.source, "dbc": str(mapping.dbc_path)})
        self.rows: list = []

    def add(self, s: Sample):
        self.rows.append(s)
        if len(self.rows) >= RECORD_EVERY:
            self.flush()

    def flush(self):
        rows = self.rows
        if not rows:
            return
        self.rows = []
        stack = lambda name: None if getattr(rows[0], name) is None else np.array([getattr(r, name) for r in rows])  # noqa: E731
        self.writer.append(stack("time"), stack("current").astype(np.float32), stack("cell_voltage"),
                           temperature=stack("temperature"), pack_voltage=stack("pack_voltage"),
                           balancing=stack("balancing"), soc=stack("soc"))

    def close(self, bus_stats: dict) -> str:
        self.flush()
        f = self.writer.file
        if f is not None:
            for k, v in bus_stats.items():
                if isinstance(v, (int, float)):
                    f.attrs[f"bus_{k}"] = v
        self.writer.close()
        return self.path


class _Publisher:
    """Sends the twin's view (twin.can_dbc: TWIN_VIEW_*) after every detector block."""

    def __init__(self, bus, live: LiveTwin):
        import cantools

        from .can_dbc import FLAG_KINDS, pylontech_twin_dbc

        self.bus = bus
        self.live = live
        self.can = can_module()
        self.db = cantools.database.load_string(pylontech_twin_dbc(live.n, 0), database_format="dbc")
        self.kinds = {k: i for i, k in enumerate(FLAG_KINDS)}
        k, spec = live.kernel, live.spec
        get = lambda id_: [k.get(spec[id_].vr, i) for i in range(spec[id_].length)]  # noqa: E731
        self.cell_charge_voltage = k.get(spec["limits.cell_charge_voltage"].vr)
        self.max_charge, self.max_discharge = k.get(spec["limits.max_charge_current"].vr), k.get(spec["limits.max_discharge_current"].vr)
        self.ccl_steps = list(zip(get("limits.ccl_voltage"), get("limits.ccl_fraction")))
        self.dcl_steps = list(zip(get("limits.dcl_voltage"), get("limits.dcl_fraction")))
        self.counter = 0

    def limits(self, cells) -> tuple:
        """CVL, CCL, DCL by the rule of twin_limits_update (csrc/protection.c), from the measured cells."""
        cells = np.asarray(cells, dtype=float)
        vmax, vmin, n = float(cells.max()), float(cells.min()), len(cells)
        target = self.cell_charge_voltage
        cvl = target * n
        if vmax > target:
            cvl = min(cvl, float(cells.sum()) - (vmax - target))
        frac = 1.0
        for v, f in self.ccl_steps:
            if vmax >= v:
                frac = f
        ccl = self.max_charge * frac
        frac = 1.0
        for v, f in self.dcl_steps:
            if vmin <= v:
                frac = f
        return max(cvl, 0.0), ccl, self.max_discharge * frac

    def _send(self, name, values):
        m = self.db.get_message_by_name(name)
        try:
            self.bus.send(self.can.Message(arbitration_id=m.frame_id, data=m.encode(values, strict=False),
                                           is_extended_id=False))
        except self.can.CanError as e:
            raise CanError(f"publishing {name} on the CAN bus failed: {e}") from None

    def block(self, flags, s: Sample):
        live = self.live
        cvl, ccl, dcl = self.limits(s.cell_voltage)
        n = live.n
        self._send("TWIN_VIEW_LIMITS", {"ChargeVoltageLimit": cvl, "ChargeCurrentLimit": ccl, "DischargeCurrentLimit": dcl,
                                        "DischargeVoltageLimit": n * min(v for v, _ in self.dcl_steps)})
        st = live.assembler.stats
        self._send("TWIN_VIEW_STATUS", {"FlagCount": min(len(flags), 255), "Samples": st.samples % 2 ** 32,
                                        "IncompleteSamples": min(st.incomplete, 2 ** 24 - 1)})
        units = {"self_discharge": "leak_ma", "resistance": "added_mohm", "capacity": "change_percent",
                 "voltage_sensor": "offset_mv", "balancer": "bleed_error_ma", "thermal": "departure_k"}
        for f in flags:
            self._send("TWIN_VIEW_FLAG", {"Kind": self.kinds[f.kind], "Cell": f.cell,
                                          "Magnitude": float(f.magnitude.get(units[f.kind], 0.0))})
        dev = live.kernel.array(live.spec["detect.deviation"].vr)
        self.counter = (self.counter + 1) % 256
        width = max(2, len(str(n)))
        for g in range(math.ceil(n / 3)):
            values = {"CellGroup": g, "Counter": self.counter}
            for k in range(3 * g, min(3 * g + 3, n)):
                d = float(dev[k])
                values[f"Deviation{k + 1:0{width}d}"] = d if math.isfinite(d) else 0.0
            self._send("TWIN_VIEW_DEVIATION", values)
