"""The FMU's variables: what each spec variable becomes in FMI 2.0 and FMI 3.0.

One function, ``fmu_variables``, decides every FMI attribute (name, value reference, type,
causality, variability, initial, dimensions) from ``twin/spec.toml``. The model descriptions
(``twin.fmu_description``), the C variable table the adapter enforces (``twin.fmu_data``) and
``docs/fmu-variables.md`` are all written from its answer, so they cannot disagree.

Value references (stable, explicit, derived from the spec's append-only ``vr``):

- FMI 3.0: one value reference per spec id, the spec ``vr``. Per-cell variables are arrays whose
  dimension is the structural parameter ``pack.cells_in_series`` (vr 10); settings vectors have a
  fixed dimension. ``time`` (the independent variable) has vr 0, which the spec never uses.
- FMI 2.0: scalars keep the spec ``vr``. Arrays (per-cell variables and settings vectors) are
  expanded to ``group.name[1]`` .. ``group.name[N]`` (1-based, the Modelica convention) with
  ``vr = (spec_vr << 16) + i`` for the 0-based element i. Spec vrs are below 65536, so these never
  collide with a scalar's vr.

Exposed: settings, per-cell and pack variables of the kernel, and the adapter's parameters. Not
exposed: the cell tables (baked into the binary at build time) and the builder parameters (the
spread is realized into the per-cell starts at build time).
"""

from __future__ import annotations

from dataclasses import dataclass

from .params import _SETTABLE_STATES
from .spec import Spec, Variable, load_spec

EXPOSED = ("settings", "cells", "pack", "adapter")
ARRAY_SHIFT = 16  # FMI 2.0: vr = (spec_vr << ARRAY_SHIFT) + element
CELLS_VR = 10  # pack.cells_in_series: the dimension of every per-cell array in FMI 3.0
TIME_VR = 0

# Local states whose starting value may be set before initialization (the state of health): the set
# a parameter file may give (twin.params). Every other local is computed by the twin's
# initialization, so it is initial="calculated" and cannot be set.
SETTABLE_STATES = frozenset(_SETTABLE_STATES)

_FMI2_TYPES = {"Float64": "Real", "Int32": "Integer", "UInt64": "Integer", "Boolean": "Boolean",
               "Enumeration": "Enumeration"}


@dataclass(frozen=True)
class FmuVariable:
    """One variable of the FMU (an array in FMI 3.0 when ``shape`` is not 'scalar')."""

    id: str
    vr: int
    fmi_type: str  # FMI 3.0 type name: Float64, Int32, UInt64, Boolean, Enumeration
    causality: str  # FMI: parameter, structuralParameter, input, output, local, independent
    variability: str  # FMI: fixed, tunable, discrete, continuous
    initial: str | None  # exact, calculated, or None where the standard forbids the attribute
    shape: str  # scalar | cells | vector
    length: int  # elements of a vector (1 for scalars, 0 for per-cell arrays)
    description: str
    unit: str
    min: float | None = None
    max: float | None = None
    enumeration: str | None = None
    nan_allowed: bool = False  # NaN is a legal value: "not measured" (inputs), "use the fallback" (optional)
    spec: Variable | None = None

    @property
    def fmi2_type(self) -> str:
        return _FMI2_TYPES[self.fmi_type]

    @property
    def is_array(self) -> bool:
        return self.shape != "scalar"

    def elements(self, n_cells: int) -> int:
        return n_cells if self.shape == "cells" else self.length

    def fmi2_scalars(self, n_cells: int) -> list[tuple[str, int, int]]:
        """(name, value reference, 0-based element) of each FMI 2.0 scalar."""
        if not self.is_array:
            return [(self.id, self.vr, 0)]
        return [(f"{self.id}[{i + 1}]", fmi2_vr(self.vr, i), i) for i in range(self.elements(n_cells))]

    def bounds(self, n_cells: int) -> tuple:
        """(min, max) as declared; the cell count is pinned to the built one (it lays out the memory)."""
        if self.spec is not None and self.spec.causality == "structural":
            return n_cells, n_cells
        return self.min, self.max

    @property
    def relative_quantity(self) -> bool:
        """Temperatures in K are differences (degC is the unit of absolute temperatures)."""
        return self.unit == "K"


def fmi2_vr(spec_vr: int, element: int) -> int:
    """FMI 2.0 value reference of element (0-based) of an array variable."""
    return (spec_vr << ARRAY_SHIFT) + element


def _fmi_type(v: Variable, fmi_version: int) -> str:
    if v.type == "real":
        return "Float64"
    if v.type == "boolean":
        return "Boolean"
    if v.type == "enumeration":
        return "Enumeration"
    # FMI 3.0 array dimensions refer to structural parameters of type UInt64
    return "UInt64" if (v.causality == "structural" and fmi_version == 3) else "Int32"


def _causality(v: Variable, fmi_version: int) -> str:
    if v.causality == "structural":
        # FMI 2.0 has no structural parameters: a fixed parameter that accepts only the built count
        return "structuralParameter" if fmi_version == 3 else "parameter"
    return v.causality


def _variability(v: Variable) -> str:
    if v.causality == "structural":
        return "fixed"
    return v.variability


def _initial(v: Variable) -> str | None:
    if v.causality in ("parameter", "structural"):
        return "exact"
    if v.causality == "input":
        return None  # inputs carry a start value and no initial attribute
    if v.causality == "output":
        return "calculated"
    return "exact" if v.id in SETTABLE_STATES else "calculated"


def _from_spec(spec: Spec, v: Variable, fmi_version: int) -> FmuVariable:
    if v.where == "cells":
        shape, length = "cells", 0
    elif v.length > 1:
        shape, length = "vector", v.length
    else:
        shape, length = "scalar", 1
    lo, hi = v.min, v.max
    if v.type == "enumeration":
        lo, hi = 0, len(spec.enumerations[v.enumeration].values) - 1
    elif v.type == "boolean":
        lo = hi = None
    return FmuVariable(
        id=v.id, vr=v.vr, fmi_type=_fmi_type(v, fmi_version), causality=_causality(v, fmi_version),
        variability=_variability(v), initial=_initial(v), shape=shape, length=length,
        description=v.description, unit=v.unit, min=lo, max=hi, enumeration=v.enumeration,
        nan_allowed=v.optional or (v.causality == "input" and v.start == "nan"), spec=v,
    )


def time_variable() -> FmuVariable:
    return FmuVariable(id="time", vr=TIME_VR, fmi_type="Float64", causality="independent",
                       variability="continuous", initial=None, shape="scalar", length=1,
                       description="Simulation time", unit="s")


def fmu_variables(fmi_version: int, spec: Spec | None = None) -> list[FmuVariable]:
    """Every variable of an FMI 2.0 or 3.0 FMU, in spec order (FMI 3.0: ``time`` first)."""
    if fmi_version not in (2, 3):
        raise ValueError(f"FMI version must be 2 or 3, got {fmi_version!r}")
    spec = spec or load_spec()
    out = [time_variable()] if fmi_version == 3 else []
    out += [_from_spec(spec, v, fmi_version) for v in spec.variables if v.where in EXPOSED]
    return out


__all__ = ["FmuVariable", "fmu_variables", "fmi2_vr", "SETTABLE_STATES", "CELLS_VR", "ARRAY_SHIFT"]
