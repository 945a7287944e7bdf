"""BMS logs: the canonical HDF5 layout, mapping files for other layouts, chunked reading.

The canonical layout is documented in docs/log-format.md; its readings may be stored as integer
counts with a scale_factor (twin/log_packing.py). Other layouts are read through a TOML
mapping file that says, per channel, where the data lives, its unit, scale, offset and sign::

    [log]
    cells_in_series = "@cells_in_series"      # a number, or "@name" for a root attribute
    nominal_capacity_ah = "@nominal_capacity_ah"
    bleed_resistance_ohm = 100.0              # what the logged balancing flags switch on

    [time]
    dataset = "/time"
    unit = "s"                                # s, ms, us, min, h

    [current]
    dataset = "/current"
    unit = "A"                                # A or mA
    sign = "charge_positive"                  # or "discharge_positive"

    [cell_voltage]
    dataset = "/cell_voltage"                 # (samples, cells); layout = "cell_by_time" if transposed
    unit = "V"                                # V or mV

    [temperature]
    dataset = "/temperature"                  # (samples, sensors)
    unit = "degC"                             # degC or K
    cells = "@temperature:cells"              # the cell each sensor sits on: a list, or an attribute

Channels: time, current, cell_voltage (required); temperature, pack_voltage, balancing, soc
(optional). Every channel takes ``scale`` and ``offset`` (value = raw x scale + offset, before the
unit conversion) and ``dataset``. A channel can be left out of the mapping by omitting its table.

Reading is chunked: memory stays bounded whatever the log length. Problems are LogError naming
the file and the channel: missing datasets, wrong shapes, unknown units, time going backwards,
runs of NaN longer than ``max_nan_run`` samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import LogError, read_toml, suggest
from .log_packing import Packing

FORMAT = "twin-log-1"
CHANNELS = ("time", "current", "cell_voltage", "temperature", "pack_voltage", "balancing", "soc")
REQUIRED = ("time", "current", "cell_voltage")
UNITS = {
    "time": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "min": 60.0, "h": 3600.0},
    "current": {"A": 1.0, "mA": 1e-3},
    "cell_voltage": {"V": 1.0, "mV": 1e-3},
    "pack_voltage": {"V": 1.0, "mV": 1e-3},
    "temperature": {"degC": 0.0, "K": -273.15},  # offsets, applied by _convert
    "balancing": {"1": 1.0},
    "soc": {"1": 1.0, "%": 0.01},
}
DEFAULT_MAX_NAN_RUN = 30


@dataclass
class Channel:
    name: str
    dataset: str
    unit: str
    scale: float = 1.0
    offset: float = 0.0
    sign: float = 1.0
    transposed: bool = False


@dataclass
class Mapping:
    """Where each channel lives and how to read it (the canonical layout by default)."""

    channels: dict
    cells_in_series: object = "@cells_in_series"
    nominal_capacity_ah: object = "@nominal_capacity_ah"
    bleed_resistance_ohm: object = "@bleed_resistance_ohm"
    temperature_cells: object = "@temperature:cells"
    source: str = "canonical layout"
    # decode integer-coded datasets by their scale_factor, add_offset and missing_value attributes
    # (twin/log_packing.py): the canonical layout's rule; a mapping file says scale and offset itself
    packed: bool = False

    @classmethod
    def canonical(cls) -> "Mapping":
        units = {"time": "s", "current": "A", "cell_voltage": "V", "temperature": "degC", "pack_voltage": "V",
                 "balancing": "1", "soc": "1"}
        return cls({c: Channel(c, "/" + c, units[c]) for c in CHANNELS}, packed=True)

    @classmethod
    def from_file(cls, path) -> "Mapping":
        p = Path(path)
        return cls.from_mapping(read_toml(p, LogError, "mapping file"), str(p))

    @classmethod
    def from_mapping(cls, data: dict, source: str) -> "Mapping":
        unknown = set(data) - set(CHANNELS) - {"log"}
        if unknown:
            u = sorted(unknown)[0]
            raise LogError(f"{source}: unknown table [{u}]{suggest(u, (*CHANNELS, 'log'))}; channels: {', '.join(CHANNELS)}")
        log = dict(data.get("log", {}))
        bad = set(log) - {"cells_in_series", "nominal_capacity_ah", "bleed_resistance_ohm"}
        if bad:
            raise LogError(f"{source}: unknown key {sorted(bad)[0]!r} in [log]; keys: cells_in_series, nominal_capacity_ah, bleed_resistance_ohm")
        channels = {}
        for name in CHANNELS:
            if name not in data:
                if name in REQUIRED:
                    raise LogError(f"{source}: the mapping needs a [{name}] table")
                continue
            spec = dict(data[name])
            extra = set(spec) - {"dataset", "unit", "scale", "offset", "sign", "layout", "cells"}
            if extra:
                raise LogError(f"{source}: unknown key {sorted(extra)[0]!r} in [{name}]; keys: dataset, unit, scale, offset, sign, layout (cells for temperature)")
            unit = str(spec.get("unit", next(iter(UNITS[name]))))
            if unit not in UNITS[name]:
                raise LogError(f"{source}: [{name}] unit {unit!r} is unknown; use one of {', '.join(UNITS[name])}")
            sign = spec.get("sign", "charge_positive" if name == "current" else "positive")
            if name == "current" and sign not in ("charge_positive", "discharge_positive"):
                raise LogError(f"{source}: [current] sign must be 'charge_positive' or 'discharge_positive', got {sign!r}")
            layout = spec.get("layout", "time_by_cell")
            if layout not in ("time_by_cell", "cell_by_time"):
                raise LogError(f"{source}: [{name}] layout must be 'time_by_cell' or 'cell_by_time'")
            try:
                scale, offset = float(spec.get("scale", 1.0)), float(spec.get("offset", 0.0))
            except (TypeError, ValueError):
                raise LogError(f"{source}: [{name}] scale and offset must be numbers") from None
            channels[name] = Channel(name, str(spec.get("dataset", "/" + name)), unit, scale, offset,
                                     -1.0 if sign == "discharge_positive" else 1.0, layout == "cell_by_time")
            if name == "temperature" and "cells" in spec:
                log["temperature_cells"] = spec["cells"]
        return cls(
            channels,
            log.get("cells_in_series", "@cells_in_series"),
            log.get("nominal_capacity_ah", "@nominal_capacity_ah"),
            log.get("bleed_resistance_ohm", "@bleed_resistance_ohm"),
            log.get("temperature_cells", "@temperature:cells"),
            source,
        )


@dataclass
class LogChunk:
    """A slice of a log in the twin's units: s, A (charge positive), V, degC."""

    start: int
    time: np.ndarray
    current: np.ndarray
    cell_voltage: np.ndarray  # (m, cells)
    temperature: np.ndarray | None = None  # (m, sensors)
    pack_voltage: np.ndarray | None = None
    balancing: np.ndarray | None = None  # (m, cells), -1/0/+1
    soc: np.ndarray | None = None


@dataclass
class Gap:
    index: int  # first sample after the gap
    start_s: float
    end_s: float


@dataclass
class LogInfo:
    path: str
    samples: int
    cells: int
    capacity_ah: float | None
    bleed_resistance_ohm: float | None
    temperature_cells: list
    sample_period_s: float
    start_s: float
    end_s: float
    gaps: list = field(default_factory=list)
    channels: tuple = ()


class LogReader:
    """Reads a BMS log in chunks through a mapping, checking it as it goes."""

    def __init__(self, path, mapping=None, max_nan_run: int = DEFAULT_MAX_NAN_RUN):
        import h5py

        self.path = Path(path)
        if isinstance(mapping, (str, Path)):
            mapping = Mapping.from_file(mapping)
        self.mapping = mapping or Mapping.canonical()
        self.max_nan_run = max_nan_run
        if not self.path.exists():
            raise LogError(f"log file {self.path} does not exist")
        try:
            self.file = h5py.File(self.path, "r")
        except OSError as e:
            raise LogError(f"{self.path}: not a readable HDF5 file ({e})") from None
        try:
            self.datasets = {}
            for name, ch in self.mapping.channels.items():
                if ch.dataset in self.file and hasattr(self.file[ch.dataset], "shape"):
                    self.datasets[name] = self.file[ch.dataset]
                elif name in REQUIRED:
                    raise LogError(self._missing(ch))
            self._affine = {name: self._gain_and_shift(name) for name in self.datasets}
            self.info = self._inspect()
        except BaseException:
            self.file.close()  # a refused log is not left open
            raise

    def _missing(self, ch) -> str:
        names = []
        self.file.visit(lambda n: names.append("/" + n))
        return (f"{self.path}: channel {ch.name} expects dataset {ch.dataset!r}, which is not in the file"
                f"{suggest(ch.dataset, names)}; datasets: {', '.join(names[:12])} (map the channel in a mapping file)")

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- attributes and shapes -----------------------------------------------------------------------

    def _attr(self, value, what: str, required: bool):
        if isinstance(value, str) and value.startswith("@"):
            ref = value[1:]
            obj, _, key = ref.rpartition(":")
            node = self.file[obj] if obj else self.file
            if obj and obj not in self.file:
                node = None
            if node is None or key not in node.attrs:
                if required:
                    raise LogError(f"{self.path}: {what} comes from attribute {value!r}, which is missing; "
                                   f"set it in the mapping file's [log] table")
                return None
            v = node.attrs[key]
            return v.tolist() if hasattr(v, "tolist") else v
        return value

    def _rows(self, name) -> int:
        ds = self.datasets[name]
        return ds.shape[-1] if self.mapping.channels[name].transposed and ds.ndim == 2 else ds.shape[0]

    def _inspect(self) -> LogInfo:
        n = self._rows("time")
        for name in self.datasets:
            if self._rows(name) != n:
                raise LogError(f"{self.path}: channel {name} ({self.mapping.channels[name].dataset}) has {self._rows(name)} samples; time has {n}")
        v = self.datasets["cell_voltage"]
        if v.ndim != 2:
            raise LogError(f"{self.path}: cell_voltage ({self.mapping.channels['cell_voltage'].dataset}) must be 2-D (samples, cells), has shape {v.shape}")
        cells = v.shape[0] if self.mapping.channels["cell_voltage"].transposed else v.shape[1]
        declared = self._attr(self.mapping.cells_in_series, "cells_in_series", False)
        if declared is not None and int(declared) != cells:
            raise LogError(f"{self.path}: cells_in_series is {declared} but cell_voltage has {cells} columns")
        if self.datasets["current"].ndim != 1 or self.datasets["time"].ndim != 1:
            raise LogError(f"{self.path}: time and current must be 1-D")
        for name in ("balancing",):
            if name in self.datasets:
                ds = self.datasets[name]
                width = ds.shape[0] if self.mapping.channels[name].transposed else ds.shape[-1]
                if ds.ndim != 2 or width != cells:
                    raise LogError(f"{self.path}: {name} must have shape (samples, {cells}), has {ds.shape}")
        temp_cells = []
        if "temperature" in self.datasets:
            t = self.datasets["temperature"]
            sensors = (t.shape[0] if self.mapping.channels["temperature"].transposed else t.shape[1]) if t.ndim == 2 else 1
            raw = self._attr(self.mapping.temperature_cells, "temperature cells", False)
            temp_cells = list(raw) if raw is not None else list(range(sensors)) if sensors == cells else None
            if temp_cells is None or len(temp_cells) != sensors or not all(0 <= int(c) < cells for c in temp_cells):
                raise LogError(f"{self.path}: cannot tell which cells the {sensors} temperature sensors sit on; "
                               f"give [temperature] cells = [...] (0-based) in the mapping file")
            temp_cells = [int(c) for c in temp_cells]
        cap = self._attr(self.mapping.nominal_capacity_ah, "nominal_capacity_ah", False)
        bleed = self._attr(self.mapping.bleed_resistance_ohm, "bleed_resistance_ohm", False)
        time0 = self._time(0, min(n, 2))
        time_end = self._time(max(n - 1, 0), n)
        period = float(time0[1] - time0[0]) if n > 1 else 1.0
        return LogInfo(str(self.path), n, cells, None if cap is None else float(cap),
                       None if bleed is None else float(bleed), temp_cells, period,
                       float(time0[0]) if n else 0.0, float(time_end[-1]) if n else 0.0,
                       channels=tuple(self.datasets))

    # --- reading ---------------------------------------------------------------------------------------

    def _gain_and_shift(self, name):
        """value = raw x gain + shift in the twin's units: the dataset's packing (canonical layout),
        then the mapping's scale and offset, then the unit and sign."""
        ch = self.mapping.channels[name]
        packing = Packing.of(self.datasets[name], self.path) if self.mapping.packed and name != "balancing" else None
        if name == "temperature":
            gain, shift = ch.scale, ch.offset + UNITS[name][ch.unit]
        elif name == "balancing":
            gain, shift = ch.scale, ch.offset
        else:
            f = UNITS[name][ch.unit] * (ch.sign if name == "current" else 1.0)
            gain, shift = ch.scale * f, ch.offset * f
        if packing is None:
            return gain, shift, None
        return packing.scale * gain, packing.offset * gain + shift, packing.missing

    def _read(self, name, a, b, reuse=None):
        """Samples a..b of a channel in the twin's units (float64, NaN where a reading is missing) and
        the stored values they came from. reuse: a dict in which the raw and converted buffers are
        kept from chunk to chunk (no allocation per chunk)."""
        ds = self.datasets[name]
        gain, shift, missing = self._affine[name]
        if self.mapping.channels[name].transposed and ds.ndim == 2:
            raw = ds[:, a:b].T
            x = None
        elif reuse is not None and b > a:
            shape = (b - a,) + ds.shape[1:]
            buf = reuse.get(("raw", name))
            if buf is None or buf.shape[0] < shape[0]:
                buf = reuse[("raw", name)] = np.empty(shape, dtype=ds.dtype)
            raw = buf[:shape[0]]
            ds.read_direct(raw, np.s_[a:b], np.s_[0:shape[0]])
            out = reuse.get(("out", name))
            if out is None or out.shape[0] < shape[0]:
                out = reuse[("out", name)] = np.empty(shape, dtype=np.float64)
            x = out[:shape[0]]
            np.multiply(raw, gain, out=x, casting="unsafe")
        else:
            raw = ds[a:b]
            x = None
        if x is None:
            x = np.asarray(raw, dtype=np.float64) * gain
        if shift:
            x += shift
        if missing is not None:
            holes = raw == missing
            if holes.any():
                x[holes] = np.nan
        return x, raw

    def _time(self, a, b):
        return self._read("time", a, b)[0]

    def _holes(self, name, x, raw):
        """Where readings are missing, or None when none can be: an integer-coded channel misses
        only where it holds its missing_value (cheaper to find in the integers than NaN in floats)."""
        missing = self._affine[name][2]
        if raw.dtype.kind in "iu":
            return None if missing is None else raw == missing
        return ~np.isfinite(x)

    def _check_nan(self, name, x, raw, start, run_state):
        """Raise on a run of missing readings longer than max_nan_run in any column; runs continue
        across chunks (run_state holds, per column, the length of the run at the end of the last chunk)."""
        holes = self._holes(name, x, raw)
        columns = x.reshape(len(x), -1).shape[1]
        if holes is None or not holes.any():
            run_state[name] = np.zeros(columns, dtype=np.int64)
            return
        bad = holes.reshape(len(x), -1)
        carry = run_state.get(name, np.zeros(columns, dtype=np.int64))
        ends = np.zeros(bad.shape[1], dtype=np.int64)
        for col in np.flatnonzero(bad.any(axis=0)):
            b = bad[:, col]
            edges = np.diff(np.r_[0, b.astype(np.int8), 0])
            starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            lengths = stops - starts
            if starts[0] == 0:
                lengths[0] += carry[col]
            worst = int(np.argmax(lengths))
            if lengths[worst] > self.max_nan_run:
                where = f"{name}[:, {col}]" if x.ndim > 1 else name
                first = start + int(starts[worst]) - (int(carry[col]) if starts[worst] == 0 else 0)
                raise LogError(f"{self.path}: {where} ({self.mapping.channels[name].dataset}) has {int(lengths[worst])} "
                               f"non-numbers in a row from sample {first}; the twin bridges at most {self.max_nan_run}. "
                               f"Fix the log, or leave the channel out of the mapping")
            ends[col] = lengths[-1] if stops[-1] == len(b) else 0
        run_state[name] = ends

    def _check_switch_states(self, x, raw, start):
        """Balancing flags must be 0, 1 or -1 (read from the integers when they are stored so: 8 times
        less to look at than the floats)."""
        if raw.dtype.kind in "iu" and self._affine["balancing"][:2] == (1.0, 0.0):
            bad = raw.size and (raw.min() < -1 or raw.max() > 1)
        else:
            bad = np.any((x != 0.0) & (x != 1.0) & (x != -1.0))
        if bad:
            raise LogError(f"{self.path}: balancing ({self.mapping.channels['balancing'].dataset}) must hold 0 and 1 "
                           f"(or -1 for an active receiver); found other values from sample {start}")

    def chunks(self, size: int = 1 << 16, reuse: bool = False, optional=None):
        """Yield LogChunks of up to `size` samples, checked; gaps are recorded in self.info.gaps.
        reuse: the chunks' arrays are overwritten by the next chunk (faster: use each chunk before
        asking for the next, and keep copies of what must stay). optional: the optional channels
        to read (default: all the log has; the others stay None)."""
        n = self.info.samples
        buffers = {} if reuse else None
        wanted = set(CHANNELS[3:] if optional is None else optional)
        runs: dict = {}
        last_t = None
        period = self.info.sample_period_s
        for a in range(0, n, size):
            b = min(n, a + size)
            t = self._read("time", a, b, buffers)[0]
            if not np.all(np.isfinite(t)):
                k = int(np.flatnonzero(~np.isfinite(t))[0])
                raise LogError(f"{self.path}: time ({self.mapping.channels['time'].dataset}) is not a number at sample {a + k}")
            full = t if last_t is None else np.r_[last_t, t]
            dt = np.diff(full)
            if np.any(dt <= 0):
                k = int(np.flatnonzero(dt <= 0)[0])
                at = a + k - (0 if last_t is None else 1)
                raise LogError(f"{self.path}: time goes backwards or repeats at sample {at + 1} "
                               f"({full[k]:.6g} s then {full[k + 1]:.6g} s); the twin needs increasing time")
            if period > 0:
                for k in np.flatnonzero(dt > max(5.0 * period, period + 10.0)):
                    # full[k + 1] is sample a + k (+1 when full starts at sample a)
                    self.info.gaps.append(Gap(a + k + (1 if last_t is None else 0), float(full[k]), float(full[k + 1])))
            last_t = t[-1]
            chunk = LogChunk(a, t, None, None)
            for name in ("current", "cell_voltage", "temperature"):
                if name in REQUIRED or (name in self.datasets and name in wanted):
                    x, raw = self._read(name, a, b, buffers)
                    if name == "temperature":
                        x = x.reshape(len(t), -1)
                    setattr(chunk, name, x)
                    self._check_nan(name, x, raw, a, runs)
            for name in ("pack_voltage", "balancing", "soc"):
                if name in self.datasets and name in wanted:
                    x, raw = self._read(name, a, b, buffers)
                    setattr(chunk, name, x)
                    if name == "balancing":
                        self._check_switch_states(x, raw, a)
            yield chunk


CHUNK_ROWS = 8192


# /state channels that are quantities, not flags: the charge limits a BMS sends its inverter
STATE_UNITS = {"cvl": "V", "ccl": "A", "dcl": "A"}


class CanonicalWriter:
    """Writes a log in the canonical layout piece by piece (chunked, compressed, resizable), so that
    a log of any length (a year at 1 Hz, or what `twin live` sees) is written in bounded memory.

        with CanonicalWriter("log.h5", cells=16, capacity_ah=280) as w:
            w.append(time, current, cell_voltage, temperature=..., balancing=...)

    The channels given to the first append are the log's channels; every later append gives the same.
    resolution: {"cell_voltage": 0.001, ...}, the step a channel was measured with. The channel is
    then stored as integer counts of that step, as a BMS sends them (mV, 0.1 degC, mA), with the
    attributes that say what a count is worth (twin/log_packing.py): half the size of float32 and
    faster to read. Values are rounded to the step; NaN is kept as missing_value.
    Only powers of ten are allowed.
    states: the BMS's own per-sample states, kept under /state for people and tools (replay does not
    use them; `twin validate --logs` does): charge_enable and discharge_enable (0/1, stored as int8)
    and the charge limits it sent the inverter, cvl (V), ccl and dcl (A), stored as float32."""

    def __init__(self, path, cells: int, temperature_cells=None, capacity_ah=None, bleed_resistance_ohm=None,
                 attrs=None, resolution=None):
        import h5py

        self.path = Path(path)
        self.cells = int(cells)
        self.temperature_cells = None if temperature_cells is None else [int(c) for c in temperature_cells]
        self.resolution = dict(resolution or {})
        unknown = set(self.resolution) - {"current", "cell_voltage", "temperature", "pack_voltage"}
        if unknown:
            raise LogError(f"resolution given for {', '.join(sorted(unknown))}: only current, cell_voltage, "
                           f"temperature and pack_voltage are stored on a measurement step")
        for name, step in self.resolution.items():
            decimals = -math.log10(step) if step > 0 else float("nan")
            if not (abs(decimals - round(decimals)) < 1e-9 and round(decimals) >= 0):
                raise LogError(f"the resolution of {name} must be a power of ten at most 1, got {step}")
        # exact decimal steps: 0.001, not 10 ** -3 = 0.0010000000000000002
        self.packing = {name: Packing.for_step(name, float(f"1e{-round(-math.log10(step))}"))
                        for name, step in self.resolution.items()}
        try:
            self.file = h5py.File(self.path, "w")
        except OSError as e:
            raise LogError(f"cannot write log file {self.path}: {e}") from None
        f = self.file
        f.attrs["format"] = FORMAT
        f.attrs["cells_in_series"] = self.cells
        f.attrs["current_sign"] = "charge_positive"
        if capacity_ah is not None:
            f.attrs["nominal_capacity_ah"] = float(capacity_ah)
        if bleed_resistance_ohm is not None:
            f.attrs["bleed_resistance_ohm"] = float(bleed_resistance_ohm)
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
        self.samples = 0
        self.channels = None

    def _create(self, name, width, dtype, unit):
        opts = dict(compression="gzip", compression_opts=4, shuffle=True)
        packing = self.packing.get(name)
        if packing is not None:
            # no byte shuffle: for int16 counts it adds a third to the time to read, to save a tenth of the size
            opts.update(shuffle=False, fillvalue=packing[0].missing)
        shape = (0,) if width is None else (0, width)
        chunks = (CHUNK_ROWS,) if width is None else (CHUNK_ROWS, width)
        ds = self.file.create_dataset(name, shape=shape, maxshape=(None,) + shape[1:], dtype=dtype, chunks=chunks, **opts)
        if unit is not None:
            ds.attrs["unit"] = unit
        if packing is not None:
            ds.attrs["scale_factor"] = packing[0].scale
            ds.attrs["missing_value"] = ds.dtype.type(packing[0].missing)
        return ds

    def append(self, time, current, cell_voltage, temperature=None, pack_voltage=None, balancing=None, soc=None,
               states=None) -> None:
        time = np.asarray(time, dtype=np.float64).reshape(-1)
        m = len(time)
        given = {"time": time, "current": np.asarray(current, dtype=np.float32).reshape(-1),
                 "cell_voltage": np.asarray(cell_voltage, dtype=np.float32).reshape(m, -1)}
        if temperature is not None:
            given["temperature"] = np.asarray(temperature, dtype=np.float32).reshape(m, -1)
        if pack_voltage is not None:
            given["pack_voltage"] = np.asarray(pack_voltage, dtype=np.float32).reshape(-1)
        if balancing is not None:
            given["balancing"] = np.asarray(balancing, dtype=np.int8).reshape(m, -1)
        if soc is not None:
            given["soc"] = np.asarray(soc, dtype=np.float32).reshape(-1)
        for name, values in (states or {}).items():
            kind = np.float32 if name in STATE_UNITS else np.int8
            given[f"state/{name}"] = np.asarray(values, dtype=kind).reshape(-1)
        for name, x in given.items():
            if x.shape[0] != m:
                raise LogError(f"{self.path}: {name} has {x.shape[0]} samples in this piece; time has {m}")
        for name, (packing, dtype) in self.packing.items():
            if name in given:
                raw = {"current": current, "cell_voltage": cell_voltage, "temperature": temperature,
                       "pack_voltage": pack_voltage}[name]  # as given, not through float32
                given[name] = packing.encode(np.reshape(raw, given[name].shape), dtype, f"{self.path}: {name}")
        if given["cell_voltage"].shape[1] != self.cells:
            raise LogError(f"{self.path}: cell_voltage has {given['cell_voltage'].shape[1]} columns; the log has {self.cells} cells")
        if self.channels is None:
            self.channels = tuple(given)
            units = {"time": "s", "current": "A", "cell_voltage": "V", "temperature": "degC", "pack_voltage": "V",
                     "soc": "1", **{f"state/{k}": u for k, u in STATE_UNITS.items()}}
            for name, x in given.items():
                dtype = x.dtype
                ds = self._create(name, x.shape[1] if x.ndim == 2 else None, dtype, units.get(name))
                if name == "current":
                    ds.attrs["sign"] = "charge_positive"
                if name == "temperature":
                    cells = self.temperature_cells if self.temperature_cells is not None else range(x.shape[1])
                    ds.attrs["cells"] = np.asarray(list(cells), dtype=np.int32)
        elif tuple(given) != self.channels:
            raise LogError(f"{self.path}: every piece must give the same channels ({', '.join(self.channels)}); "
                           f"this one gives {', '.join(given)}")
        for name, x in given.items():
            ds = self.file[name]
            ds.resize(self.samples + m, axis=0)
            ds[self.samples:self.samples + m] = x
        self.samples += m

    def close(self) -> None:
        if self.file:
            self.file.close()
            self.file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_canonical(path, time, current, cell_voltage, temperature=None, temperature_cells=None, pack_voltage=None,
                    balancing=None, capacity_ah=None, bleed_resistance_ohm=None, attrs=None, soc=None,
                    states=None, resolution=None) -> None:
    """Write a whole log in the canonical layout at once (see CanonicalWriter for the options)."""
    n, cells = np.shape(cell_voltage)
    with CanonicalWriter(path, cells, temperature_cells, capacity_ah, bleed_resistance_ohm, attrs, resolution) as w:
        w.append(time, current, cell_voltage, temperature=temperature, pack_voltage=pack_voltage,
                 balancing=balancing, soc=soc, states=states)
