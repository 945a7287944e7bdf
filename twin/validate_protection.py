"""Protection checks of ``twin validate``: does the firmware open a path when a limit is crossed for
its delay, and only then?

Each channel of the limits file is replayed twice on the readings the BMS took (the twin's sensors
before the firmware's delay), with the semantics of the twin's own protection (csrc/protection.c):
a channel trips once its reading has been past the limit continuously for the delay (the first
sample past it counts 0 s) and releases when the reading is back past the release value after it
has been tripped for the recovery time.

- The *must* replay is lenient to the firmware: the limit moved outwards by the value margin, the
  delay lengthened by the time tolerance, the release moved inwards by the margin and the recovery
  shortened by the tolerance. While it is tripped the firmware must have the path open: if not,
  the trip was missed or late.
- The *may* replay is generous: the limit moved inwards by the margin, the delay cut to min_delay
  (0 unless the limits file asks for a shortest delay), the release moved outwards, the recovery
  lengthened, and the tolerance added after each release. A path the firmware opens while no
  channel of its side may be tripped is a spurious trip, or a trip that failed to release.

The value margin covers the readings' noise and ADC step (a firmware samples a subset of the
twin's steps); the time tolerance covers the loop's latency: one control period, the sensor delay
and one twin step, unless the limits file sets it.
"""

from __future__ import annotations

import math

import numpy as np

from .validate_limits import Current, ProtectionLimit

TRIP_EPS = 1e-12  # relative slack on delays, as csrc/protection.c has it


def fmt_time(seconds: float) -> str:
    """'2 d 03:12:05' (days only when there are any) for a time since the scenario's start."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = int(round(seconds))
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return (f"{d} d " if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


def fmt_duration(seconds: float) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} days"


def run_starts(t: np.ndarray, cond: np.ndarray, carry: float | None) -> np.ndarray:
    """For each sample, the time its run of True began (NaN where cond is False); a run open at the
    end of the previous chunk began at `carry`."""
    m = len(t)
    idx = np.arange(m)
    begins = cond & np.r_[True, ~cond[:-1]] if m else cond
    start_idx = np.where(begins, idx, -1)
    start_idx = np.maximum.accumulate(start_idx) if m else start_idx
    out = np.where(cond, t[np.maximum(start_idx, 0)], np.nan)
    if carry is not None and m and cond[0]:
        first_run = cond & (start_idx == 0)
        out[first_run] = carry
    return out


class Latch:
    """One protection channel as csrc/protection.c models it, fed chunk by chunk. Values are in the
    channel's own direction: it trips above `limit` and releases below `release`."""

    def __init__(self, limit: float, release: float, delay: float, recovery: float):
        self.limit, self.release, self.delay, self.recovery = limit, release, delay, recovery
        self.tripped, self.trip_time, self.run_start = False, math.nan, None

    def feed(self, t: np.ndarray, x: np.ndarray) -> np.ndarray:
        m = len(t)
        out = np.zeros(m, dtype=bool)
        seen = x > self.limit  # NaN compares False
        released = ~(x >= self.release)  # NaN releases, as a missing reading holds no trip
        starts = run_starts(t, seen, self.run_start)
        with np.errstate(invalid="ignore"):
            trips = np.flatnonzero(seen & (t - starts >= self.delay * (1.0 - TRIP_EPS)))
        releases = np.flatnonzero(released)
        i = 0
        while i < m:
            if not self.tripped:
                k = np.searchsorted(trips, i)
                if k == len(trips):
                    break
                j = int(trips[k])
                self.tripped, self.trip_time = True, float(t[j])
                out[j] = True
                i = j + 1
            else:
                k0 = max(i, int(np.searchsorted(t, self.trip_time + self.recovery * (1.0 - TRIP_EPS))))
                k = np.searchsorted(releases, k0)
                if k == len(releases):
                    out[i:] = True
                    break
                r = int(releases[k])
                out[i:r] = True
                self.tripped = False
                i = r + 1
        self.run_start = float(starts[-1]) if m and seen[-1] else None
        return out


class Hold:
    """Extends True samples by `grace` seconds (carried across chunks)."""

    def __init__(self, grace: float):
        self.grace, self.last = grace, -math.inf

    def feed(self, t: np.ndarray, cond: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(held condition, time each sample's condition was last True)."""
        last = np.maximum.accumulate(np.where(cond, t, -np.inf)) if len(t) else np.zeros(0)
        last = np.maximum(last, self.last)
        if len(t):
            self.last = float(last[-1])
        return cond | (t - last <= self.grace * (1.0 + 1e-9)), last


def _value(q, capacity_ah: float) -> float:
    return q.at(capacity_ah) if isinstance(q, Current) else float(q)


class ChannelCheck:
    """Must-trip replay of one channel against the firmware's enable of its side."""

    def __init__(self, spec: ProtectionLimit, margin: float, tolerance: float, capacity_ah: float):
        d = spec.direction
        self.spec, self.d, self.margin, self.tolerance = spec, d, margin, tolerance
        self.limit, self.release = _value(spec.limit, capacity_ah), _value(spec.release, capacity_ah)
        lim, rel = d * self.limit, d * self.release
        self.must = Latch(lim + margin, rel + margin, spec.delay + tolerance, max(0.0, spec.recovery - tolerance))
        self.may = Latch(lim - margin, rel - margin, spec.min_delay, spec.recovery + tolerance)
        self.crossed_start = None   # run of readings past the limit itself (for messages)
        self.violation = None       # first missed trip: dict
        self.missed_s = 0.0
        self.open_episode = None    # a missed trip waiting for the firmware to act
        self.delays = []            # firmware trips seen: seconds from the crossing to the open path
        self.crossed = False

    def unit_value(self, x: float) -> str:
        unit = {"voltage": "V", "current": "A", "temperature": "degC"}[self.spec.kind]
        digits = 3 if unit == "V" else 1
        return f"{x:.{digits}f} {unit}"


def channel_reading(spec: ProtectionLimit, c) -> tuple[np.ndarray, np.ndarray | None]:
    """(the reading a channel watches, the cell it comes from or None) from a chunk."""
    if spec.channel == "cell_overvoltage":
        return c["read_vmax"], c["read_vmax_cell"]
    if spec.channel == "cell_undervoltage":
        return c["read_vmin"], c["read_vmin_cell"]
    if spec.channel == "charge_overcurrent":
        return c["current_measured"], None
    if spec.channel == "discharge_overcurrent":
        return -c["current_measured"], None
    if spec.channel.endswith("overtemperature"):
        return c["read_tmax"], c["read_tmax_cell"]
    return c["read_tmin"], c["read_tmin_cell"]


SIDE_WORD = {"charge": "charging", "discharge": "discharging"}


class ProtectionChecks:
    """Every channel of the limits file, and per side: no path opened without a crossed limit."""

    def __init__(self, limits, ctx):
        s = limits.protection_settings
        self.ctx = ctx
        self.tolerance = s.get("tolerance", ctx.period + ctx.sensor_delay + ctx.dt)
        self.startup = s.get("startup", self.tolerance)
        margins = {"voltage": s.get("voltage_margin", ctx.voltage_margin),
                   "temperature": s.get("temperature_margin", ctx.temperature_margin),
                   "current": (s["current_margin"].at(ctx.capacity_ah) if "current_margin" in s
                               else ctx.current_margin)}
        self.channels = [ChannelCheck(spec, margins[spec.kind], self.tolerance, ctx.capacity_ah)
                         for spec in limits.protection.values()]
        self.holds = {side: Hold(self.tolerance) for side in ("charge", "discharge")}
        self.off_since = {"charge": None, "discharge": None}
        self.last_allowed_by = {"charge": None, "discharge": None}
        self.spurious = {"charge": None, "discharge": None}
        self.spurious_s = {"charge": 0.0, "discharge": 0.0}
        self.prev_enable = {"charge": 1.0, "discharge": 1.0}
        self.t0 = ctx.start_time

    def feed(self, c, dt) -> None:
        t = c["time"]
        allowed = {"charge": np.zeros(len(t), bool), "discharge": np.zeros(len(t), bool)}
        last_channel = {"charge": None, "discharge": None}
        enable = {"charge": c["charge_enable"], "discharge": c["discharge_enable"]}
        for ch in self.channels:
            x, cell = channel_reading(ch.spec, c)
            xd = ch.d * x
            must = ch.must.feed(t, xd)
            may = ch.may.feed(t, xd)
            crossed = xd > ch.d * ch.limit
            ch.crossed |= bool(crossed.any())
            cross_start = run_starts(t, crossed, ch.crossed_start)
            ch.crossed_start = float(cross_start[-1]) if len(t) and crossed[-1] else None
            side = ch.spec.side
            allowed[side] |= may
            if may.any():
                last_channel[side] = ch
            self._missed(ch, t, x, cell, must, enable[side], cross_start)
            self._delays(ch, t, enable[side], cross_start, side)
        for side in ("charge", "discharge"):
            held, _ = self.holds[side].feed(t, allowed[side])
            held |= t - self.t0 <= self.startup
            if last_channel[side] is not None:
                self.last_allowed_by[side] = last_channel[side]
            self._spurious(side, t, c, enable[side], held, allowed[side])
            if len(t):
                self.prev_enable[side] = float(enable[side][-1])

    def _delays(self, ch, t, enable, cross_start, side) -> None:
        prev = np.r_[self.prev_enable[side], enable[:-1]]
        for k in np.flatnonzero((prev == 1.0) & (enable == 0.0)):
            # the decision in force over step k was taken at its start, on readings up to sample k-1
            if k > 0 and math.isfinite(cross_start[k - 1]):
                ch.delays.append(float(t[k - 1] - cross_start[k - 1]))

    def _missed(self, ch, t, x, cell, must, enable, cross_start) -> None:
        bad = must & (enable != 0.0)
        ch.missed_s += float(bad.sum()) * self.ctx.dt
        if ch.open_episode is not None:
            self._close_episode(ch, t, must, enable)
        if ch.violation is None and bad.any():
            k = int(np.argmax(bad))
            where = f"cell {int(cell[k])} " if cell is not None and np.isfinite(cell[k]) and cell[k] >= 0 else ""
            since = cross_start[k] if math.isfinite(cross_start[k]) else t[k]
            side = SIDE_WORD[ch.spec.side]
            way = "above" if ch.d > 0 else "below"
            ch.violation = {
                "time": float(t[k]), "since": float(since),
                "text": (f"{ch.spec.label}: {where}read {ch.unit_value(x[k])} at {fmt_time(t[k])}, {way} the "
                         f"{ch.unit_value(ch.limit)} limit since {fmt_time(since)} ({fmt_duration(t[k] - since)}; "
                         f"delay {fmt_duration(ch.spec.delay)} + {fmt_duration(self.tolerance)} tolerance), and "
                         f"{side} was still enabled"),
            }
            ch.open_episode = {"since": float(since), "from": k + 1}
            self._close_episode(ch, t, must, enable)

    def _close_episode(self, ch, t, must, enable) -> None:
        ep = ch.open_episode
        start = ep.pop("from", 0)
        side = SIDE_WORD[ch.spec.side]
        off = np.flatnonzero(enable[start:] == 0.0)
        ended = np.flatnonzero(~must[start:])
        if off.size and (not ended.size or off[0] <= ended[0]):
            k = start + int(off[0])  # the decision in force over step k was taken at its start
            ch.violation["text"] += (f"; the firmware stopped {side} {fmt_duration(t[k] - self.ctx.dt - ep['since'])} "
                                     "after the crossing")
            ch.open_episode = None
        elif ended.size:
            k = start + int(ended[0])
            ch.violation["text"] += (f"; the firmware never stopped {side} before the reading came back at "
                                     f"{fmt_time(t[k])}")
            ch.open_episode = None

    def _spurious(self, side, t, c, enable, held, allowed) -> None:
        off = enable == 0.0
        offs = run_starts(t, off, self.off_since[side])
        self.off_since[side] = float(offs[-1]) if len(t) and off[-1] else None
        bad = off & ~held
        self.spurious_s[side] += float(bad.sum()) * self.ctx.dt
        if self.spurious[side] is not None or not bad.any():
            return
        k = int(np.argmax(bad))
        word = SIDE_WORD[side]
        last_ok = self.holds[side].last
        ch = self.last_allowed_by[side]
        if ch is not None and math.isfinite(offs[k]) and offs[k] <= last_ok + self.tolerance and last_ok > -math.inf:
            rel = ch.unit_value(ch.release)
            way = "below" if ch.d > 0 else "above"
            text = (f"{word} stayed disabled after the {ch.spec.label} trip should have released: the reading was "
                    f"{way} the {rel} release by {fmt_time(last_ok)} (recovery {fmt_duration(ch.spec.recovery)}), "
                    f"and {word} was still off at {fmt_time(t[k])} (tolerance {fmt_duration(self.tolerance)})")
        else:
            decided = (offs[k] if math.isfinite(offs[k]) else t[k]) - self.ctx.dt  # taken at the step's start
            text = (f"{word} was disabled at {fmt_time(decided)} while no "
                    f"{side}-side limit was crossed: {self._state(side, c, k)}")
        self.spurious[side] = {"time": float(t[k]), "text": text}

    def _state(self, side, c, k) -> str:
        parts = []
        for ch in self.channels:
            if ch.spec.side != side:
                continue
            x, cell = channel_reading(ch.spec, c)
            where = f" (cell {int(cell[k])})" if cell is not None and np.isfinite(cell[k]) and cell[k] >= 0 else ""
            value = ch.unit_value(x[k]) if np.isfinite(x[k]) else "no reading"
            parts.append(f"{ch.spec.watches} {value}{where}, {ch.spec.label} limit {ch.unit_value(ch.limit)}")
        return "; ".join(parts) if parts else f"the limits file gives no {side}-side channel"

    def results(self, elapsed) -> list:
        from .validate_checks import CheckResult as make

        out = []
        for ch in self.channels:
            if ch.open_episode is not None:
                ch.violation["text"] += (f"; the firmware had not stopped {SIDE_WORD[ch.spec.side]} when the run "
                                         f"ended at {fmt_time(self.ctx.start_time + elapsed)}")
                ch.open_episode = None
            title = f"{ch.spec.label} trips within {fmt_duration(ch.spec.delay)}"
            delays = (f"; observed trip delays {fmt_duration(min(ch.delays))} .. {fmt_duration(max(ch.delays))} "
                      f"({len(ch.delays)} trips)") if ch.delays else ""
            if ch.violation is not None:
                out.append(make(f"protection.{ch.spec.channel}", title, "fail", ch.violation["text"],
                                max(ch.delays) if ch.delays else None, "s", time=ch.violation["time"]))
            elif not ch.crossed:
                out.append(make(f"protection.{ch.spec.channel}", title, "pass",
                                f"never crossed in this scenario ({ch.spec.watches} stayed on the safe side of "
                                f"{ch.unit_value(ch.limit)})", None, "s"))
            else:
                out.append(make(f"protection.{ch.spec.channel}", title, "pass",
                                f"every crossing of {ch.unit_value(ch.limit)} for the delay opened the path in time"
                                + delays, max(ch.delays) if ch.delays else None, "s"))
        for side in ("charge", "discharge"):
            if not any(ch.spec.side == side for ch in self.channels):
                continue
            title = f"{SIDE_WORD[side]} stopped only when a limit is crossed"
            v = self.spurious[side]
            if v is not None:
                out.append(make(f"protection.{side}_spurious", title, "fail",
                                v["text"] + f" ({fmt_duration(self.spurious_s[side])} disabled without cause in all)",
                                self.spurious_s[side], "s", time=v["time"]))
            else:
                out.append(make(f"protection.{side}_spurious", title, "pass",
                                f"{SIDE_WORD[side]} was never disabled without a crossed limit", 0.0, "s"))
        return out


__all__ = ["ProtectionChecks", "Latch", "Hold", "run_starts", "fmt_time", "fmt_duration"]
