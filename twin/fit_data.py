"""Measured data for ``twin fit``: lab tests and pack logs read into one shape.

Two inputs, both stated in the twin's units and sign (docs/conventions.md: current positive =
charging, volts, degC, seconds):

- HDF5: the canonical log layout, or any layout through a mapping file (``twin.logs``).
- CSV: through a *column mapping*, a TOML file in the spirit of the log mapping files::

      [csv]
      delimiter = ","                    # optional; "\\t" for tabs
      [log]
      nominal_capacity_ah = 2.3          # optional; the cell's rated capacity
      [time]
      column = "Test_Time(s)"
      unit = "s"                         # s, ms, us, min, h
      [current]
      column = "Current(A)"
      unit = "A"                         # A or mA
      sign = "discharge_positive"        # or "charge_positive"
      [cell_voltage]
      columns = ["Voltage(V)"]           # one column per cell (``column`` for one)
      unit = "V"                         # V or mV
      [temperature]                      # optional
      column = "Temperature(C)"
      unit = "degC"                      # degC or K
      cells = [0]

  Every channel also takes ``scale`` and ``offset`` (value = raw x scale + offset, then the unit).

Records must be evenly sampled and free of gaps: the kernel replays them step by step and a gap
loses the charge that flowed in it. Short runs of missing values are bridged (current held,
voltage interpolated); longer ones are refused by the log reader.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .errors import FitError, LogError, read_toml, suggest
from .logs import UNITS, LogReader, Mapping

CSV_CHANNELS = ("time", "current", "cell_voltage", "temperature", "balancing")
CSV_KEYS = {"column", "columns", "unit", "scale", "offset", "sign", "cells"}
MIN_SAMPLES = 300


@dataclass
class Record:
    """One test or log: evenly sampled, in the twin's units (A charge positive, V, degC, s)."""

    name: str
    path: str
    time: np.ndarray
    current: np.ndarray
    voltage: np.ndarray  # (samples, cells)
    temperature: np.ndarray | None = None  # (samples, sensors)
    temperature_cells: tuple = ()
    balancing: np.ndarray | None = None  # (samples, cells), 1 while the bleed resistor is on
    capacity_ah: float | None = None
    bleed_resistance_ohm: float | None = None
    initial_soc: float | None = None  # as stated by whoever ran the test (None: estimate it)

    @property
    def dt(self) -> float:
        return float(self.time[1] - self.time[0])

    @property
    def samples(self) -> int:
        return len(self.time)

    @property
    def cells(self) -> int:
        return self.voltage.shape[1]

    @property
    def duration(self) -> float:
        return float(self.time[-1] - self.time[0])

    def cell(self, index: int) -> "Record":
        """The same record with only one cell's voltage (and its temperature sensor, if any)."""
        if not 0 <= index < self.cells:
            raise FitError(f"{self.path}: there is no cell {index}; the log has cells 0 .. {self.cells - 1}")
        temp, tcells = None, ()
        if self.temperature is not None and index in self.temperature_cells:
            k = list(self.temperature_cells).index(index)
            temp, tcells = self.temperature[:, k:k + 1], (0,)
        bal = None if self.balancing is None else self.balancing[:, index:index + 1]
        return replace(self, voltage=self.voltage[:, index:index + 1], temperature=temp, temperature_cells=tcells,
                       balancing=bal)


# --- reading ------------------------------------------------------------------------------------------

def read_record(path, mapping=None, initial_soc: float | None = None) -> Record:
    """An HDF5 log (canonical layout or through a log mapping) or a CSV file (through a column mapping)."""
    p = Path(path)
    if not p.exists():
        raise FitError(f"data file {p} does not exist")
    if p.suffix.lower() in (".csv", ".txt", ".tsv"):
        if mapping is None:
            raise FitError(f"{p}: a CSV file needs a column mapping (--mapping FILE.toml) saying which column holds "
                           f"time, current and cell voltage, with units and current sign; see docs/fitting.md")
        rec = _read_csv(p, _load_toml(mapping))
    else:
        rec = _read_hdf5(p, mapping)
    if initial_soc is not None:
        rec.initial_soc = float(initial_soc)
    return _checked(rec)


def _load_toml(mapping) -> tuple[dict, str]:
    if isinstance(mapping, dict):
        return mapping, "column mapping"
    return read_toml(mapping, FitError, "column mapping"), str(Path(mapping))


def _read_hdf5(path: Path, mapping) -> Record:
    try:
        with LogReader(path, Mapping.from_file(mapping) if mapping else None) as reader:
            info = reader.info
            parts = list(reader.chunks())
            if info.gaps:
                g = info.gaps[0]
                raise FitError(f"{path}: the log has a gap from {g.start_s:.0f} s to {g.end_s:.0f} s; a fit replays the "
                               f"current step by step and cannot know the charge that flowed in it. Fit the parts "
                               f"before and after it as separate files")
            attrs = dict(reader.file.attrs)
    except LogError as e:
        raise FitError(str(e)) from None

    def cat(name):
        arrays = [getattr(c, name) for c in parts]
        return None if arrays[0] is None else np.concatenate(arrays)

    soc = attrs.get("initial_soc")
    return Record(path.stem, str(path), cat("time"), cat("current"), cat("cell_voltage"), cat("temperature"),
                  tuple(info.temperature_cells), cat("balancing"), info.capacity_ah, info.bleed_resistance_ohm,
                  None if soc is None else float(soc))


def _read_csv(path: Path, loaded) -> Record:
    data, source = loaded
    unknown = set(data) - set(CSV_CHANNELS) - {"csv", "log"}
    if unknown:
        u = sorted(unknown)[0]
        raise FitError(f"{source}: unknown table [{u}]{suggest(u, (*CSV_CHANNELS, 'csv', 'log'))}; "
                       f"tables: csv, log, {', '.join(CSV_CHANNELS)}")
    for name in ("time", "current", "cell_voltage"):
        if name not in data:
            raise FitError(f"{source}: the column mapping needs a [{name}] table")
    opts = data.get("csv", {})
    delimiter = str(opts.get("delimiter", ",")).replace("\\t", "\t")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            lines = [ln for ln in fh if ln.strip() and not ln.startswith(str(opts.get("comment", "#")))]
        rows = list(csv.reader(lines, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise FitError(f"{path}: cannot read as CSV ({e})") from None
    if len(rows) < 2:
        raise FitError(f"{path}: needs a header row and data rows")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]

    def column(name: str, col: str) -> np.ndarray:
        if col not in header:
            raise FitError(f"{source}: [{name}] column {col!r} is not in {path.name}{suggest(col, header)}; "
                           f"columns: {', '.join(header[:12])}")
        k = header.index(col)
        try:
            return np.array([float(r[k]) if r[k].strip() != "" else np.nan for r in body])
        except (ValueError, IndexError) as e:
            raise FitError(f"{path}: column {col!r} holds something that is not a number ({e})") from None

    def channel(name: str):
        spec = dict(data[name])
        extra = set(spec) - CSV_KEYS
        if extra:
            raise FitError(f"{source}: unknown key {sorted(extra)[0]!r} in [{name}]; keys: {', '.join(sorted(CSV_KEYS))}")
        cols = spec.get("columns", [spec["column"]] if "column" in spec else None)
        if not cols:
            raise FitError(f"{source}: [{name}] needs column = \"...\" (or columns = [...])")
        unit = str(spec.get("unit", next(iter(UNITS[name]))))
        if unit not in UNITS[name]:
            raise FitError(f"{source}: [{name}] unit {unit!r} is unknown; use one of {', '.join(UNITS[name])}")
        x = np.stack([column(name, c) for c in cols], axis=1) * float(spec.get("scale", 1.0)) + float(spec.get("offset", 0.0))
        if name == "temperature":
            x = x + UNITS[name][unit]
        elif name != "balancing":
            x = x * UNITS[name][unit]
        if name == "current":
            sign = spec.get("sign")
            if sign not in ("charge_positive", "discharge_positive"):
                raise FitError(f"{source}: [current] must state sign = \"charge_positive\" or \"discharge_positive\"")
            x = -x if sign == "discharge_positive" else x
        return x, spec

    time, _ = channel("time")
    current, _ = channel("current")
    voltage, _ = channel("cell_voltage")
    temp, tcells = None, ()
    if "temperature" in data:
        temp, tspec = channel("temperature")
        tcells = tuple(int(c) for c in tspec.get("cells", range(temp.shape[1])))
        if len(tcells) != temp.shape[1]:
            raise FitError(f"{source}: [temperature] cells lists {len(tcells)} cells for {temp.shape[1]} columns")
    bal = channel("balancing")[0] if "balancing" in data else None
    log = data.get("log", {})
    cap = log.get("nominal_capacity_ah")
    bleed = log.get("bleed_resistance_ohm")
    time, current = time[:, 0], current[:, 0]
    return Record(path.stem, str(path), time, _bridge(current, hold=True), _bridge(voltage), temp, tcells, bal,
                  None if cap is None else float(cap), None if bleed is None else float(bleed),
                  log.get("initial_soc"))


def _bridge(x: np.ndarray, hold: bool = False) -> np.ndarray:
    """Fill isolated non-numbers: hold the last value (currents) or interpolate (voltages)."""
    x = np.array(x, dtype=float)
    flat = x.reshape(len(x), -1)
    for c in range(flat.shape[1]):
        bad = ~np.isfinite(flat[:, c])
        if bad.any() and (~bad).any():
            idx = np.arange(len(flat))
            if hold:
                last = np.maximum.accumulate(np.where(bad, 0, idx))
                flat[:, c] = flat[last, c]
                flat[bad & (np.cumsum(~bad) == 0), c] = flat[np.flatnonzero(~bad)[0], c]
            else:
                flat[bad, c] = np.interp(idx[bad], idx[~bad], flat[~bad, c])
    return flat.reshape(x.shape)


def _checked(rec: Record) -> Record:
    """Even sampling, enough samples, numbers everywhere; bridges short runs of missing values."""
    n = rec.samples
    if n < MIN_SAMPLES:
        raise FitError(f"{rec.path}: only {n} samples; a fit needs at least {MIN_SAMPLES} (and, to identify anything, "
                       f"rests, pulses or a low-rate charge and discharge: see docs/fitting.md)")
    t = np.asarray(rec.time, dtype=float)
    d = np.diff(t)
    if not np.all(np.isfinite(t)) or np.any(d <= 0):
        k = int(np.flatnonzero(~(d > 0))[0]) if np.any(~(d > 0)) else 0
        raise FitError(f"{rec.path}: time must increase; it does not after sample {k}")
    step = float(np.median(d))
    if np.any(np.abs(d - step) > 0.01 * step + 1e-9):
        k = int(np.flatnonzero(np.abs(d - step) > 0.01 * step + 1e-9)[0])
        raise FitError(f"{rec.path}: samples are not evenly spaced (median {step:g} s, but {d[k]:g} s after sample {k}); "
                       f"resample it to an even period first")
    rec.time = t[0] + step * np.arange(n)
    rec.current = _bridge(rec.current, hold=True)
    rec.voltage = _bridge(np.asarray(rec.voltage, dtype=float).reshape(n, -1))
    if rec.temperature is not None:
        rec.temperature = _bridge(np.asarray(rec.temperature, dtype=float).reshape(n, -1))
    for what, x in (("current", rec.current), ("cell voltage", rec.voltage)):
        if not np.all(np.isfinite(x)):
            raise FitError(f"{rec.path}: the {what} channel has no numbers at all")
    return rec


def voltage_lag(current: np.ndarray, voltage: np.ndarray, dt: float, max_lag_s: float = 60.0) -> int:
    """Samples by which the voltage channel leads (negative) or trails (positive) the current: the lag
    that best correlates their fast parts (each minus its 5-minute moving average). A BMS that reads
    the cells and the current at different moments, or logs voltages averaged over a window, shows one."""
    width = max(3, int(round(300.0 / dt)) | 1)
    kernel = np.ones(width) / width

    def fast(x):
        pad = np.r_[np.full(width // 2, x[0]), x, np.full(width // 2, x[-1])]
        return x - np.convolve(pad, kernel, mode="valid")

    i = fast(np.asarray(current, float))
    v = fast(np.asarray(voltage, float).reshape(len(current), -1).mean(axis=1))
    best, best_lag = -np.inf, 0
    for lag in range(-int(max_lag_s / dt), int(max_lag_s / dt) + 1):
        a = i[max(0, -lag):len(i) - max(0, lag)]
        b = v[max(0, lag):len(v) - max(0, -lag)]
        c = float(np.dot(a, b)) / len(a)
        if c > best:
            best, best_lag = c, lag
    return best_lag


def shift_voltage(rec: Record, lag: int) -> Record:
    """The record with its voltage (and balancing) moved by -lag samples to line up with the current;
    samples without a partner are dropped."""
    if lag == 0:
        return rec
    n = rec.samples
    a, b = (0, n - lag) if lag > 0 else (-lag, n)   # current samples kept
    va, vb = a + lag, b + lag
    return replace(rec, time=rec.time[a:b], current=rec.current[a:b], voltage=rec.voltage[va:vb],
                   temperature=None if rec.temperature is None else rec.temperature[va:vb],
                   balancing=None if rec.balancing is None else rec.balancing[a:b])
