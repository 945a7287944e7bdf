"""The twin's variable and parameter declarations, read from ``spec.toml``.

``spec.toml`` is the one place where every parameter and variable is declared (id, value reference,
unit, causality, bounds, description). The C tables in ``csrc/twin_spec.[ch]``, the FMU model
descriptions, the documentation table and the HDF5 dataset names all derive from it; see
``twin.codegen``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from .errors import SpecError

WHERES = ("settings", "cells", "pack", "table", "builder", "adapter")
CAUSALITIES = ("parameter", "structural", "input", "output", "local")
VARIABILITIES = ("fixed", "tunable", "discrete", "continuous")
TYPES = ("real", "integer", "boolean", "enumeration")

_UNIT_LABELS = {"A.h": "Ah", "W.h": "Wh", "1": ""}


@dataclass(frozen=True)
class Variable:
    """One declared parameter or variable."""

    id: str
    vr: int
    where: str
    causality: str
    variability: str
    type: str
    unit: str
    description: str
    start: object = None
    min: float | None = None
    max: float | None = None
    length: int = 1
    enumeration: str | None = None
    optional: bool = False  # NaN is allowed and means "use the documented fallback"

    @property
    def c_name(self) -> str:
        """Name of the C struct field or array (the id with '.' replaced by '_')."""
        return self.id.replace(".", "_")

    @property
    def group(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split(".", 1)[1]

    @property
    def label(self) -> str:
        """Human label derived from id and unit, e.g. 'Cell voltage [V]'."""
        words = f"{self.group} {self.name}".replace("_", " ")
        text = words[0].upper() + words[1:]
        unit = _UNIT_LABELS.get(self.unit, self.unit)
        return f"{text} [{unit}]" if unit else text

    @property
    def hdf5_path(self) -> str:
        """Dataset path in twin's HDF5 files: '/cell/voltage' for 'cell.voltage'."""
        return "/" + self.id.replace(".", "/")


@dataclass(frozen=True)
class Enumeration:
    name: str
    description: str
    values: tuple[str, ...]

    def index(self, value) -> int:
        """Integer code of an enumeration value given by name or code."""
        if isinstance(value, bool):
            raise SpecError(f"{self.name}: expected one of {', '.join(self.values)}, got {value!r}")
        if isinstance(value, int):
            if 0 <= value < len(self.values):
                return value
        elif isinstance(value, str) and value in self.values:
            return self.values.index(value)
        raise SpecError(f"{self.name}: expected one of {', '.join(self.values)}, got {value!r}")


@dataclass(frozen=True)
class Spec:
    variables: tuple[Variable, ...]
    enumerations: dict[str, Enumeration] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "_by_id", {v.id: v for v in self.variables})

    def __getitem__(self, id_: str) -> Variable:
        try:
            return self._by_id[id_]
        except KeyError:
            from .errors import suggest

            raise SpecError(f"unknown variable {id_!r}{suggest(id_, self._by_id)}") from None

    def __contains__(self, id_: str) -> bool:
        return id_ in self._by_id

    def where(self, where: str) -> list[Variable]:
        return [v for v in self.variables if v.where == where]

    def start_value(self, var: Variable):
        """The spec's start value in kernel form (enumerations as codes, 'nan' as NaN)."""
        s = var.start
        if s is None:
            return None
        if var.type == "enumeration":
            return self.enumerations[var.enumeration].index(s)
        if isinstance(s, str) and s == "nan":
            return math.nan
        if isinstance(s, bool):
            return int(s)
        return s


def _parse(data: dict) -> Spec:
    enums = {}
    for name, e in data.get("enumerations", {}).items():
        enums[name] = Enumeration(name, e["description"], tuple(e["values"]))
    seen_ids, seen_vrs, out = set(), set(), []
    for raw in data["variable"]:
        v = Variable(**raw)
        where = f"spec.toml variable {v.id!r}"
        if v.id in seen_ids:
            raise SpecError(f"{where}: declared twice")
        if v.vr in seen_vrs:
            raise SpecError(f"{where}: value reference {v.vr} already used")
        if not (1 <= v.vr < 65536):
            raise SpecError(f"{where}: value reference must be 1..65535")
        if v.where not in WHERES or v.causality not in CAUSALITIES:
            raise SpecError(f"{where}: bad 'where' or 'causality'")
        if v.variability not in VARIABILITIES or v.type not in TYPES:
            raise SpecError(f"{where}: bad 'variability' or 'type'")
        if v.type == "enumeration" and v.enumeration not in enums:
            raise SpecError(f"{where}: unknown enumeration {v.enumeration!r}")
        if "." not in v.id:
            raise SpecError(f"{where}: ids are group.name")
        seen_ids.add(v.id)
        seen_vrs.add(v.vr)
        out.append(v)
    return Spec(tuple(out), enums)


@lru_cache(maxsize=1)
def load_spec() -> Spec:
    """The spec shipped with the package."""
    text = resources.files("twin").joinpath("spec.toml").read_text(encoding="utf-8")
    return _parse(tomllib.loads(text))
