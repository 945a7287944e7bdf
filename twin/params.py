"""Parameter sets: loading, checking, and building a configured kernel from them.

A parameter set is a flat mapping from spec ids (``cell.capacity``, ``balancer.start_delta``) to
values, with a ``source`` saying where it came from. Files are TOML or JSON with one table per
group::

    base = "eve_lf280k_16s"      # optional: start from a named set and change only what follows

    [cell]
    capacity = 280.0             # A.h; units of every key: docs/variables.md
    [protection]
    charge_overcurrent = "1C"    # currents may be written as C-rates of the pack capacity
    [balancer]
    idle_delay = "30 min"        # durations may carry a unit
    [[faults]]                   # faults switched on at a time (see twin.faults)
    cell = 3
    kind = "leak_current"
    value = 0.005
    onset = "30 h"

Values are SI (unit per key in docs/variables.md and twin/spec.toml). Per-cell keys take one value
for every cell or a list with one per cell. Tables take one value, a list over ``cell.table_soc``,
or a list of such lists, one per ``cell.table_temperature``.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import KernelError, ParameterError, suggest
from .faults import Fault, faults_from_records
from .spec import load_spec
from .units import parse_current, parse_duration

MAX_TABLE_POINTS = 4001
TABLE_RC_KEYS = (("cell.r1", "cell.tau1"), ("cell.r2", "cell.tau2"), ("cell.r3", "cell.tau3"))


@dataclass(frozen=True)
class ParameterSet:
    """Values by spec id, plus faults, and where they came from."""

    values: dict
    source: str
    faults: tuple = field(default_factory=tuple)

    # --- construction ----------------------------------------------------------------------------

    @classmethod
    def load(cls, name_or_path) -> "ParameterSet":
        """A named set (``twin.parameter_sets``) or a TOML/JSON file."""
        from . import parameter_sets

        text = str(name_or_path)
        if text in parameter_sets.names():
            return parameter_sets.get(text)
        path = Path(text)
        if path.suffix.lower() in (".toml", ".json") or path.exists():
            return cls.from_file(path)
        raise ParameterError(
            f"{text!r} is neither a parameter file nor a named parameter set{suggest(text, parameter_sets.names())}; "
            f"named sets: {', '.join(parameter_sets.names())}"
        )

    @classmethod
    def from_file(cls, path) -> "ParameterSet":
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ParameterError(f"cannot read parameter file {path}: {e.strerror}") from None
        try:
            if path.suffix.lower() == ".json":
                data = json.loads(raw)
            else:
                data = tomllib.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ParameterError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: {e}") from None
        if not isinstance(data, dict):
            raise ParameterError(f"{path}: the top level must be a table of groups")
        return cls.from_mapping(data, source=str(path))

    @classmethod
    def from_mapping(cls, data: dict, source: str) -> "ParameterSet":
        data = dict(data)
        base_name = data.pop("base", None)
        fault_records = data.pop("faults", [])
        flat = _flatten(data, source)
        if base_name is not None:
            base = cls.load(base_name)
            values = {**base.values, **flat}
            faults = base.faults + faults_from_records(fault_records, source)
        else:
            values = flat
            faults = faults_from_records(fault_records, source)
        return cls(values, source, tuple(faults))

    def updated(self, changes: dict | None = None, faults=None, source: str | None = None, **kw) -> "ParameterSet":
        """A copy with some values changed (flat ids, or group tables) and/or other faults."""
        flat = _flatten({**(changes or {}), **{k.replace("__", "."): v for k, v in kw.items()}}, source or self.source)
        return ParameterSet(
            {**self.values, **flat},
            source or self.source,
            self.faults if faults is None else tuple(faults),
        )

    # --- access ------------------------------------------------------------------------------------

    def __getitem__(self, id_: str):
        try:
            return self.values[id_]
        except KeyError:
            spec = load_spec()
            if id_ in spec:
                start = spec.start_value(spec[id_])
                if start is not None:
                    return spec[id_].start
            raise ParameterError(f"{self.source}: no value for {id_!r}{suggest(id_, self.values)}") from None

    def get(self, id_: str, default=None):
        if id_ in self.values:
            return self.values[id_]
        spec = load_spec()  # as __getitem__, without composing its error message (with suggestions) on a miss
        if id_ in spec and spec.start_value(spec[id_]) is not None:
            return spec[id_].start
        return default

    @property
    def cells_in_series(self) -> int:
        return int(self["pack.cells_in_series"])

    @property
    def cells_in_parallel(self) -> int:
        return int(self["pack.cells_in_parallel"])

    @property
    def capacity_ah(self) -> float:
        """Mean nominal capacity of one group (cell capacity times cells in parallel)."""
        cap = np.asarray(self["cell.capacity"], dtype=float)
        return float(np.mean(cap)) * self.cells_in_parallel

    def to_mapping(self) -> dict:
        """Nested groups, as written to a parameter file."""
        out: dict = {}
        for key, val in self.values.items():
            group, name = key.split(".", 1)
            out.setdefault(group, {})[name] = val.tolist() if isinstance(val, np.ndarray) else val
        if self.faults:
            out["faults"] = [f.to_record() for f in self.faults]
        return out


def _flatten(data: dict, source: str) -> dict:
    spec = load_spec()
    flat = {}
    for key, val in data.items():
        if isinstance(val, dict):
            for name, v in val.items():
                flat[f"{key}.{name}"] = v
        else:
            flat[key] = val
    for key in flat:
        if key not in spec:
            known = [v.id for v in spec.variables if v.causality in ("parameter", "structural") or v.where == "cells"]
            raise ParameterError(f"{source}: unknown parameter {key!r}{suggest(key, known)}; every parameter is listed in docs/variables.md")
        var = spec[key]
        if var.causality in ("input", "output") or (var.causality == "local" and var.id not in _SETTABLE_STATES):
            raise ParameterError(f"{source}: {key!r} is a {var.causality} of the twin, not a parameter")
    return flat


# states whose starting value a parameter set may give (ageing state of health)
_SETTABLE_STATES = {"cell.capacity_fade", "cell.resistance_growth"}


# --- building the kernel --------------------------------------------------------------------------


def _kernel_value(params: ParameterSet, var, raw, capacity_ah: float):
    spec = load_spec()
    what = f"{params.source}: {var.id}"
    if var.type == "enumeration":
        try:
            return spec.enumerations[var.enumeration].index(raw)
        except Exception:
            values = spec.enumerations[var.enumeration].values
            raise ParameterError(f"{what} = {raw!r}: expected one of {', '.join(values)}{suggest(str(raw), values)}") from None
    if var.type == "boolean":
        if isinstance(raw, bool) or raw in (0, 1):
            return float(bool(raw))
        raise ParameterError(f"{what} = {raw!r}: expected true or false")
    if isinstance(raw, str):
        if var.unit == "A":
            return parse_current(raw, capacity_ah, what)
        if var.unit == "s":
            return parse_duration(raw, what)
        if raw == "nan":
            return math.nan
        raise ParameterError(f"{what} = {raw!r}: expected a number in {var.unit}")
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ParameterError(f"{what} = {raw!r}: expected a number in {var.unit}")
    return float(raw)


def per_cell_values(params: ParameterSet, id_: str, n: int, capacity_ah: float) -> np.ndarray:
    """One kernel value per cell for a per-cell id (scalar broadcast, or a list of n)."""
    spec = load_spec()
    var = spec[id_]
    raw = params.get(id_)
    if raw is None:
        start = spec.start_value(var)
        return np.full(n, np.nan if start is None else float(start))
    if isinstance(raw, (list, tuple, np.ndarray)):
        if len(raw) != n:
            raise ParameterError(f"{params.source}: {id_} has {len(raw)} values but the pack has {n} cells; give one value or {n}")
        return np.array([_kernel_value(params, var, r, capacity_ah) for r in raw], dtype=float)
    return np.full(n, _kernel_value(params, var, raw, capacity_ah))


def temperature_sensor_mask(params: ParameterSet, n: int) -> np.ndarray:
    cells = params.get("pack.temperature_sensors")
    mask = np.zeros(n)
    if cells is None:
        cells = sorted({int(round(x)) for x in np.linspace(0, n - 1, min(4, n))})
    for c in cells:
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < n:
            raise ParameterError(f"{params.source}: pack.temperature_sensors has {c!r}; cells are 0 .. {n - 1}")
        mask[c] = 1.0
    return mask


def apply_spread(params: ParameterSet, capacity, resistance, soc, self_discharge):
    """Draw the cell-to-cell spread (seeded): relative normal on capacity and resistance, absolute
    normal on initial SOC (clipped to 0..1), log-normal with unit mean on self-discharge. All four
    are drawn every time, in this order, so changing one spread leaves the others' draws alone."""
    n = len(capacity)
    rng = np.random.default_rng(int(params["spread.seed"]))
    z = rng.standard_normal((4, n))
    s_cap, s_res, s_soc, s_sd = (float(params[f"spread.{k}"]) for k in ("capacity", "resistance", "soc", "self_discharge"))
    for name, s in (("capacity", s_cap), ("resistance", s_res), ("soc", s_soc), ("self_discharge", s_sd)):
        var = load_spec()[f"spread.{name}"]
        if not (var.min <= s <= var.max):
            raise ParameterError(f"{params.source}: spread.{name} = {s} is outside {var.min} .. {var.max}")
    capacity = capacity * np.maximum(1.0 + s_cap * z[0], 0.5)
    resistance = resistance * np.maximum(1.0 + s_res * z[1], 0.1)
    soc = np.clip(soc + s_soc * z[2], 0.0, 1.0)
    self_discharge = self_discharge * np.exp(s_sd * z[3] - 0.5 * s_sd**2)
    return capacity, resistance, soc, self_discharge


def _uniform_grid(points, name: str, source: str):
    """(first, step, n, resample?) for breakpoints; non-uniform ones are put on a uniform grid whose
    step divides every gap when possible (then the piecewise-linear table is reproduced exactly)."""
    x = np.asarray(points, dtype=float)
    if x.ndim != 1 or len(x) < 1 or not np.all(np.isfinite(x)):
        raise ParameterError(f"{source}: {name} must be a list of numbers")
    if len(x) == 1:
        return float(x[0]), 1.0, 1, False
    d = np.diff(x)
    if np.any(d <= 0):
        raise ParameterError(f"{source}: {name} must ascend strictly")
    if np.allclose(d, d[0], rtol=1e-9, atol=0):
        return float(x[0]), float(d[0]), len(x), False
    span = x[-1] - x[0]
    n_steps = int(round(span / d.min()))
    if n_steps + 1 > MAX_TABLE_POINTS:
        raise ParameterError(
            f"{source}: {name} is uneven and would need {n_steps + 1} evenly spaced points; "
            f"give it evenly spaced (at most {MAX_TABLE_POINTS} points)"
        )
    return float(x[0]), span / n_steps, n_steps + 1, True


def _table_values(params: ParameterSet, id_: str, soc, temps) -> np.ndarray:
    raw = params.get(id_)
    if raw is None:
        raise ParameterError(f"{params.source}: the cell table {id_} is missing")
    a = np.asarray(raw, dtype=float)
    if a.ndim == 0:
        a = np.full((len(temps), len(soc)), float(a))
    elif a.ndim == 1:
        if len(a) != len(soc):
            raise ParameterError(f"{params.source}: {id_} has {len(a)} values; cell.table_soc has {len(soc)}")
        a = np.tile(a, (len(temps), 1))
    elif a.shape != (len(temps), len(soc)):
        raise ParameterError(
            f"{params.source}: {id_} has shape {a.shape}; expected ({len(temps)} temperatures, {len(soc)} SOCs)"
        )
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{params.source}: {id_} has values that are not numbers")
    return a


def build_tables(params: ParameterSet):
    """(values (n_temp, n_soc, columns), soc_first, soc_step, temp_first, temp_step, n_rc)."""
    src = params.source
    soc = np.asarray(params["cell.table_soc"], dtype=float)
    temps = np.atleast_1d(np.asarray(params["cell.table_temperature"], dtype=float))
    n_rc = 0
    for r_key, tau_key in TABLE_RC_KEYS:
        has_r, has_tau = params.get(r_key) is not None, params.get(tau_key) is not None
        if has_r != has_tau:
            raise ParameterError(f"{src}: {r_key} and {tau_key} come together; give both or neither")
        if not has_r:
            break
        n_rc += 1
    for r_key, tau_key in TABLE_RC_KEYS[n_rc:]:
        if params.get(r_key) is not None:
            raise ParameterError(f"{src}: {r_key} is given but an earlier RC pair is missing")
    # column order of the C tables: OCV branches, R0, resistances, then time constants (csrc/twin.h)
    ids = ["cell.ocv_charge", "cell.ocv_discharge", "cell.r0"]
    ids += [r for r, _ in TABLE_RC_KEYS[:n_rc]] + [tau for _, tau in TABLE_RC_KEYS[:n_rc]]
    cols = np.stack([_table_values(params, i, soc, temps) for i in ids], axis=-1)
    s0, ds, ns, s_resample = _uniform_grid(soc, "cell.table_soc", src)
    t0, dt, nt, t_resample = _uniform_grid(temps, "cell.table_temperature", src)
    if s_resample or t_resample:
        s_new = s0 + ds * np.arange(ns)
        t_new = t0 + dt * np.arange(nt)
        tmp = np.empty((len(temps), ns, cols.shape[2]))
        for ti in range(len(temps)):
            for c in range(cols.shape[2]):
                tmp[ti, :, c] = np.interp(s_new, soc, cols[ti, :, c])
        out = np.empty((nt, ns, cols.shape[2]))
        for si in range(ns):
            for c in range(cols.shape[2]):
                out[:, si, c] = np.interp(t_new, temps, tmp[:, si, c]) if len(temps) > 1 else tmp[0, si, c]
        cols = out
    return np.ascontiguousarray(cols), s0, ds, t0, dt, n_rc


def build_kernel(params: ParameterSet, faults=None):
    """A checked, initialized ``twin._core.Kernel`` for this parameter set (and faults)."""
    from ._core import Kernel

    spec = load_spec()
    src = params.source
    n = params.cells_in_series
    if isinstance(n, bool) or not (1 <= n <= 65535):
        raise ParameterError(f"{src}: pack.cells_in_series = {n!r}; give 1 .. 65535")
    kernel = Kernel(n)
    capacity_ah = params.capacity_ah
    try:
        for var in spec.where("settings"):
            if var.id == "pack.cells_in_series":
                continue
            raw = params.get(var.id)
            if raw is None:
                continue  # keeps the spec start, or stays unset and check() names it
            vals = raw if var.length > 1 else [raw]
            if var.length > 1 and (not isinstance(raw, (list, tuple)) or len(raw) != var.length):
                raise ParameterError(f"{src}: {var.id} takes {var.length} values, got {raw!r}")
            for i, r in enumerate(vals):
                kernel.set(var.vr, i, _kernel_value(params, var, r, capacity_ah))
        per_cell = {}
        for var in spec.where("cells"):
            if var.causality == "parameter" or var.id in _SETTABLE_STATES:
                per_cell[var.id] = per_cell_values(params, var.id, n, capacity_ah)
        per_cell["cell.temperature_sensor"] = temperature_sensor_mask(params, n)
        cap, res, soc, sd = apply_spread(
            params, per_cell["cell.capacity"], per_cell["cell.resistance_factor"],
            per_cell["cell.initial_soc"], per_cell["cell.self_discharge"],
        )
        per_cell.update({"cell.capacity": cap, "cell.resistance_factor": res, "cell.initial_soc": soc,
                         "cell.self_discharge": sd})
        for id_, arr in per_cell.items():
            kernel.array(spec[id_].vr)[:] = arr
        kernel.set_tables(*build_tables(params))
        set_fault_events(kernel, params.faults if faults is None else faults, n, src)
        kernel.init()
    except KernelError as e:
        raise ParameterError(f"{src}: {e}") from None
    return kernel


def set_fault_events(kernel, faults, n: int, source: str) -> None:
    events = sorted((f.event(n, source) for f in faults), key=lambda e: e[0])
    if events:
        times, cells, vrs, values = zip(*events)
    else:
        times = cells = vrs = values = ()
    kernel.set_events(times, cells, vrs, values)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        return "nan" if math.isnan(x) else ("inf" if x == math.inf else ("-inf" if x == -math.inf else repr(x)))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise ParameterError(f"cannot write {v!r} to a parameter file")


def write_parameter_file(params: ParameterSet, path) -> None:
    """TOML (or JSON by suffix) that ParameterSet.from_file reads back to the same values."""
    path = Path(path)
    data = params.to_mapping()
    if path.suffix.lower() == ".json":
        text = json.dumps(data, indent=1)
    else:
        lines = [f"# twin parameter set, from {params.source}; units per key in docs/variables.md"]
        for group, values in data.items():
            if group == "faults":
                continue
            lines.append(f"\n[{group}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        for f in data.get("faults", []):
            lines.append("\n[[faults]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in f.items()]
        text = "\n".join(lines) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ParameterError(f"cannot write {path}: {e.strerror}") from None


__all__ = ["ParameterSet", "build_kernel", "build_tables", "write_parameter_file", "Fault"]
