"""CAN mapping files: which signal of a DBC file carries which channel of the twin.

The same kind of TOML file `twin replay` reads for HDF5 logs (docs/log-format.md), with a signal
instead of a dataset per channel, and a [can] table naming the DBC file and how the BMS marks one
sample (docs/can.md)::

    [can]
    dbc = "pylontech-twin-16s.dbc"   # relative to this file, or the name of a DBC twin ships
    sample = "TWIN_SAMPLE"           # optional: the frame that opens each BMS sample
    counter = "Counter"              # optional: the signal that ties a frame to its sample

    [log]
    cells_in_series = 16
    nominal_capacity_ah = 280.0
    bleed_resistance_ohm = 100.0

    [time]
    signal = "TWIN_SAMPLE.Uptime"    # or source = "arrival": the time frames arrive
    unit = "s"

    [current]
    signal = "TWIN_PACK.Current"     # MESSAGE.SIGNAL, or SIGNAL when the name is unique in the DBC
    unit = "A"
    sign = "charge_positive"

    [cell_voltage]
    signal = "TWIN_CELL_VOLTAGE.CellVoltage{number:02d}"   # {number}: 1-based, {index}: 0-based
    unit = "V"

Per-cell channels (cell_voltage, balancing, temperature) take either a ``signal`` template,
expanded for each cell (each sensor for temperature), or an explicit ``signals`` list. Every
channel takes ``unit``, ``scale``, ``offset`` and ``sign`` as in replay's mapping files, and the
same conversion (logs.UNITS): value = decoded x scale + offset, then the unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import CanError, read_toml, suggest
from .logs import CHANNELS, UNITS

REQUIRED = ("current", "cell_voltage")
PER_CELL = ("cell_voltage", "balancing", "temperature")
CHANNEL_KEYS = ("signal", "signals", "unit", "scale", "offset", "sign", "cells", "source")
CAN_KEYS = ("dbc", "sample", "counter")
LOG_KEYS = ("cells_in_series", "nominal_capacity_ah", "bleed_resistance_ohm")
DEFAULT = "pylontech-twin-16s"


def shipped_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("twin").joinpath("data", "can")))


def shipped_names(ext: str) -> list:
    return sorted(p.stem for p in shipped_dir().glob(f"*.{ext}"))


def cantools_module():
    try:
        import cantools
    except ImportError:
        raise CanError("reading CAN needs cantools and python-can: pip install 'twin[can]'") from None
    return cantools


def can_module():
    try:
        import can
    except ImportError:
        raise CanError("a CAN bus needs python-can (and cantools): pip install 'twin[can]'") from None
    return can


@dataclass
class CanChannel:
    """One twin channel: the (message, signal) pairs that carry it, one per column, and its conversion."""

    name: str
    signals: list  # [(message name, signal name)], one per column
    unit: str
    scale: float = 1.0
    offset: float = 0.0
    sign: float = 1.0

    def convert(self, value: float) -> float:
        """A decoded signal value in the twin's units (the conversion of logs.LogReader._read)."""
        x = value * self.scale + self.offset
        if self.name == "temperature":
            return x + UNITS["temperature"][self.unit]
        if self.name == "balancing":
            return x
        return x * UNITS[self.name][self.unit] * (self.sign if self.name == "current" else 1.0)

    def invert(self, value: float) -> float:
        """The signal value that converts to `value` (what `twin can-play` sends)."""
        if self.name == "temperature":
            x = value - UNITS["temperature"][self.unit]
        elif self.name == "balancing":
            x = value
        else:
            x = value / (UNITS[self.name][self.unit] * (self.sign if self.name == "current" else 1.0))
        return (x - self.offset) / self.scale


@dataclass
class MessagePlan:
    """What one CAN message carries for the twin: signal -> (channel, column), and its roles."""

    message: object  # cantools Message
    assign: dict = field(default_factory=dict)  # signal name -> (channel name, column)
    mux: str | None = None  # name of the multiplexer signal
    counter: str | None = None  # name of the sample counter signal in this message
    is_sample: bool = False

    def key_of(self, signal_name: str):
        if self.mux is None:
            return None
        sig = self.message.get_signal_by_name(signal_name)
        ids = sig.multiplexer_ids or [None]
        return ids[0]


class CanMapping:
    """A parsed CAN mapping with its DBC loaded and every signal resolved."""

    def __init__(self, data: dict, source: str, base_dir: Path | None = None):
        self.source = source
        unknown = set(data) - set(CHANNELS) - {"log", "can"}
        if unknown:
            u = sorted(unknown)[0]
            raise CanError(f"{source}: unknown table [{u}]{suggest(u, (*CHANNELS, 'log', 'can'))}; "
                           f"tables: can, log, {', '.join(CHANNELS)}")
        can_t = dict(data.get("can", {}))
        self._check_keys(can_t, CAN_KEYS, "can")
        log_t = dict(data.get("log", {}))
        self._check_keys(log_t, LOG_KEYS, "log")
        if "dbc" not in can_t:
            raise CanError(f"{source}: the [can] table needs dbc = \"FILE.dbc\" (a path relative to the mapping, "
                           f"or one twin ships: {', '.join(shipped_names('dbc'))})")
        self.dbc_path = self._find_dbc(str(can_t["dbc"]), base_dir)
        self.db = self._load_dbc(self.dbc_path)
        self.cells = self._number(log_t, "cells_in_series", int)
        self.capacity_ah = self._number(log_t, "nominal_capacity_ah", float)
        self.bleed_resistance_ohm = self._number(log_t, "bleed_resistance_ohm", float)

        self.sample_message = None
        if "sample" in can_t:
            self.sample_message = self._message(str(can_t["sample"]), "[can] sample")
        self.counter = None if "counter" not in can_t else str(can_t["counter"])
        if self.counter is not None:
            if self.sample_message is None:
                raise CanError(f"{source}: [can] counter needs sample = \"MESSAGE\", the frame whose counter the others repeat")
            self._signal_in(self.sample_message, self.counter, "[can] counter")

        self.time_channel = None  # None: the time frames arrive
        if "time" in data:
            t = dict(data["time"])
            self._check_keys(t, ("signal", "unit", "scale", "offset", "source"), "time")
            source_kind = t.get("source", "signal" if "signal" in t else "arrival")
            if source_kind not in ("signal", "arrival"):
                raise CanError(f"{source}: [time] source must be 'signal' or 'arrival', got {source_kind!r}")
            if source_kind == "signal":
                if "signal" not in t:
                    raise CanError(f"{source}: [time] needs signal = \"MESSAGE.SIGNAL\" (or source = \"arrival\")")
                self.time_channel = self._channel("time", t, 1)
        self.channels = {}
        for name in CHANNELS:
            if name == "time":
                continue
            if name not in data:
                if name in REQUIRED:
                    raise CanError(f"{source}: the mapping needs a [{name}] table with the signal that carries it")
                continue
            spec = dict(data[name])
            self._check_keys(spec, [k for k in CHANNEL_KEYS if k != "source" and (k != "cells" or name == "temperature")], name)
            self.channels[name] = self._channel(name, spec, None)
        self.temperature_cells = []
        if "temperature" in self.channels:
            sensors = len(self.channels["temperature"].signals)
            cells = data["temperature"].get("cells")
            if cells is None and sensors == self.cells:
                cells = list(range(sensors))
            if (not isinstance(cells, list) or len(cells) != sensors
                    or not all(isinstance(c, int) and 0 <= c < self.cells for c in cells)):
                raise CanError(f"{source}: [temperature] maps {sensors} sensors; give cells = [...] with the 0-based "
                               f"cell each sits on ({sensors} numbers below {self.cells})")
            self.temperature_cells = list(cells)
        self.plans = self._plans()

    # --- loading -------------------------------------------------------------------------------------

    @classmethod
    def load(cls, name_or_path=None) -> "CanMapping":
        """A mapping file, or the name of one twin ships (twin/data/can/NAME.toml); default: pylontech-twin-16s."""
        if isinstance(name_or_path, CanMapping):
            return name_or_path
        item = DEFAULT if name_or_path is None else str(name_or_path)
        p = Path(item)
        if not p.exists():
            shipped = shipped_dir() / (item if item.endswith(".toml") else item + ".toml")
            if p.suffix or not shipped.exists():
                names = shipped_names("toml")
                raise CanError(f"CAN mapping {item} does not exist{suggest(item, names)}; give a file, or one of "
                               f"the mappings twin ships: {', '.join(names)}")
            p = shipped
        return cls(read_toml(p, CanError, "CAN mapping"), str(p), p.parent)

    def _find_dbc(self, name: str, base_dir) -> Path:
        candidates = [Path(name)] if Path(name).is_absolute() else [(base_dir or Path.cwd()) / name]
        candidates.append(shipped_dir() / (name if name.endswith(".dbc") else name + ".dbc"))
        for c in candidates:
            if c.exists():
                return c
        raise CanError(f"{self.source}: DBC file {name} not found next to the mapping nor among those twin ships "
                       f"({', '.join(shipped_names('dbc'))})")

    def _load_dbc(self, path: Path):
        cantools = cantools_module()
        try:
            return cantools.database.load_file(str(path), database_format="dbc")
        except Exception as e:  # cantools raises several kinds for a bad file
            raise CanError(f"{path}: not a readable DBC file ({e})") from None

    # --- checks and lookups ------------------------------------------------------------------------------

    def _check_keys(self, table: dict, allowed, where: str):
        extra = set(table) - set(allowed)
        if extra:
            k = sorted(extra)[0]
            raise CanError(f"{self.source}: unknown key {k!r} in [{where}]{suggest(k, allowed)}; keys: {', '.join(allowed)}")

    def _number(self, table, key, kind):
        if key not in table:
            return None
        try:
            value = kind(table[key])
        except (TypeError, ValueError):
            raise CanError(f"{self.source}: [log] {key} must be a number, got {table[key]!r}") from None
        if value <= 0:
            raise CanError(f"{self.source}: [log] {key} must be positive, got {value}")
        return value

    def _message(self, name: str, where: str):
        try:
            return self.db.get_message_by_name(name)
        except KeyError:
            names = [m.name for m in self.db.messages]
            raise CanError(f"{self.source}: {where}: message {name!r} is not in {self.dbc_path.name}"
                           f"{suggest(name, names)}") from None

    def _signal_in(self, message, name: str, where: str):
        try:
            return message.get_signal_by_name(name)
        except KeyError:
            names = [s.name for s in message.signals]
            raise CanError(f"{self.source}: {where}: message {message.name} has no signal {name!r}"
                           f"{suggest(name, names)}; its signals: {', '.join(names[:8])}") from None

    def _resolve(self, ref: str, where: str):
        """'MESSAGE.SIGNAL' or a signal name unique in the DBC -> (message, signal name)."""
        if "." in ref:
            msg_name, _, sig_name = ref.partition(".")
            message = self._message(msg_name, where)
            self._signal_in(message, sig_name, where)
            return message, sig_name
        owners = [m for m in self.db.messages if any(s.name == ref for s in m.signals)]
        if not owners:
            names = sorted({s.name for m in self.db.messages for s in m.signals})
            raise CanError(f"{self.source}: {where}: no signal {ref!r} in {self.dbc_path.name}{suggest(ref, names)}")
        if len(owners) > 1:
            raise CanError(f"{self.source}: {where}: signal {ref!r} is in {', '.join(m.name for m in owners)}; "
                           f"write MESSAGE.{ref}")
        return owners[0], ref

    def _has(self, ref: str) -> bool:
        try:
            self._resolve(ref, "")
            return True
        except CanError:
            return False

    def _channel(self, name: str, spec: dict, count):
        where = f"[{name}]"
        if ("signal" in spec) == ("signals" in spec):
            raise CanError(f"{self.source}: {where} needs signal = \"MESSAGE.SIGNAL\" (a template with {{number}} for "
                           f"per-cell channels) or signals = [...], one of the two")
        if "signals" in spec:
            refs = spec["signals"]
            if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
                raise CanError(f"{self.source}: {where} signals must be a list of \"MESSAGE.SIGNAL\" names")
        else:
            template = str(spec["signal"])
            if name not in PER_CELL:
                refs = [template]
            else:
                if "{" not in template:
                    raise CanError(f"{self.source}: {where} is per cell: its signal needs {{number}} (1-based) or "
                                   f"{{index}} (0-based), e.g. \"CellVoltage{{number:02d}}\", or give signals = [...]")
                count = self._count(name, spec, template)
                try:
                    refs = [template.format(number=k + 1, index=k) for k in range(count)]
                except (KeyError, ValueError, IndexError) as e:
                    raise CanError(f"{self.source}: {where} signal template {template!r} cannot be expanded ({e}); "
                                   f"use {{number}} or {{index}}") from None
        if name in ("cell_voltage", "balancing"):
            if self.cells is None:
                self.cells = len(refs)
            if len(refs) != self.cells:
                raise CanError(f"{self.source}: {where} maps {len(refs)} signals; the pack has {self.cells} cells")
        elif name not in PER_CELL and len(refs) != 1:
            raise CanError(f"{self.source}: {where} takes one signal, got {len(refs)}")
        pairs = []
        for ref in refs:
            message, sig = self._resolve(ref, where)
            pairs.append((message.name, sig))
        unit = str(spec.get("unit", next(iter(UNITS[name]))))
        if unit not in UNITS[name]:
            raise CanError(f"{self.source}: {where} unit {unit!r} is unknown; use one of {', '.join(UNITS[name])}")
        sign = spec.get("sign", "charge_positive" if name == "current" else "positive")
        if name == "current" and sign not in ("charge_positive", "discharge_positive"):
            raise CanError(f"{self.source}: [current] sign must be 'charge_positive' or 'discharge_positive', got {sign!r}")
        try:
            scale, offset = float(spec.get("scale", 1.0)), float(spec.get("offset", 0.0))
        except (TypeError, ValueError):
            raise CanError(f"{self.source}: {where} scale and offset must be numbers") from None
        if scale == 0:
            raise CanError(f"{self.source}: {where} scale must not be 0")
        return CanChannel(name, pairs, unit, scale, offset, -1.0 if sign == "discharge_positive" else 1.0)

    def _count(self, name, spec, template) -> int:
        if name == "temperature" and isinstance(spec.get("cells"), list):
            return len(spec["cells"])
        if name != "temperature" and self.cells is not None:
            return self.cells
        k = 0  # probe: as many as the DBC has
        while k < 100000 and self._has(template.format(number=k + 1, index=k)):
            k += 1
        if k == 0:
            raise CanError(f"{self.source}: [{name}] signal template {template!r} matches no signal in {self.dbc_path.name}")
        return k

    # --- plans ---------------------------------------------------------------------------------------------

    def _plans(self) -> dict:
        plans = {}

        def plan_for(message):
            p = plans.get(message.frame_id)
            if p is None:
                muxes = [s.name for s in message.signals if s.is_multiplexer]
                if len(muxes) > 1:
                    raise CanError(f"{self.source}: message {message.name} has nested multiplexers, which twin does not read")
                p = plans[message.frame_id] = MessagePlan(message, mux=muxes[0] if muxes else None)
                if self.counter is not None and any(s.name == self.counter for s in message.signals):
                    p.counter = self.counter
            return p

        all_channels = dict(self.channels)
        if self.time_channel is not None:
            all_channels["time"] = self.time_channel
        for ch in all_channels.values():
            for column, (msg_name, sig) in enumerate(ch.signals):
                message = self.db.get_message_by_name(msg_name)
                p = plan_for(message)
                if sig in p.assign:
                    raise CanError(f"{self.source}: signal {msg_name}.{sig} is mapped twice "
                                   f"([{p.assign[sig][0]}] and [{ch.name}])")
                p.assign[sig] = (ch.name, column)
        if self.sample_message is not None:
            plan_for(self.sample_message).is_sample = True
        return plans

    def expected_keys(self, channels=None) -> set:
        """(frame id, mux value) of every frame that carries the given channels (all mapped by default)."""
        out = set()
        for fid, p in self.plans.items():
            for sig, (ch, _) in p.assign.items():
                if ch == "time" or (channels is not None and ch not in channels):
                    continue
                out.add((fid, p.key_of(sig)))
        return out

    def describe(self) -> str:
        chans = ", ".join(f"{n} ({len(c.signals)})" if len(c.signals) > 1 else n for n, c in self.channels.items())
        return f"{Path(self.source).name}: {self.dbc_path.name}, {self.cells} cells; {chans}"
