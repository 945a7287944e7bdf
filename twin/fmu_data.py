"""The parameter set baked into an FMU, and the C source that carries it.

``bake`` turns a parameter set into kernel values exactly as ``Pack`` does (it builds the kernel
with ``twin.params.build_kernel``, so the spread is realized, C-rates are resolved and the tables
are put on their uniform grid the same way) and reads them back. ``c_source`` writes them, with the
FMU's variable table, into ``twin_fmu_data.c`` (the declarations are in ``fmu/twin_fmu.h``). The
model description takes its start values from the same ``Baked`` object, so the XML and the binary
agree value for value.

Tables and scheduled faults are fixed at build time; they are not FMU variables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import FmuError, ParameterError
from .fmu_variables import FmuVariable, fmu_variables
from .params import ParameterSet, build_kernel, build_tables
from .spec import load_spec
from .units import parse_duration

# what the C adapter implements for each variable that does not live in the kernel's block
_ROLES = {"fmu.internal_step": "FMU_ROLE_INTERNAL_STEP", "time": "FMU_ROLE_TIME"}
_C_TYPES = {"Float64": "FMU_FLOAT64", "Int32": "FMU_INT32", "UInt64": "FMU_UINT64", "Boolean": "FMU_BOOLEAN",
            "Enumeration": "FMU_ENUMERATION"}
_C_CAUSALITY = {"parameter": "FMU_PARAMETER", "structuralParameter": "FMU_STRUCTURAL_PARAMETER",
                "input": "FMU_INPUT", "output": "FMU_OUTPUT", "local": "FMU_LOCAL", "independent": "FMU_INDEPENDENT"}
_C_VARIABILITY = {"fixed": "FMU_FIXED", "tunable": "FMU_TUNABLE", "discrete": "FMU_DISCRETE",
                  "continuous": "FMU_CONTINUOUS"}


@dataclass(frozen=True)
class Baked:
    """Kernel values of one parameter set, for one FMU build."""

    source: str
    n_cells: int
    starts: dict  # spec id -> list of kernel values (one per element) for every variable with a start
    tables: tuple  # (values (n_temp, n_soc, columns), soc_first, soc_step, temp_first, temp_step, n_rc)
    events: tuple  # (time, cell, vr, value), sorted by time

    def start(self, var: FmuVariable) -> list | None:
        return self.starts.get(var.id)


def _internal_step(params: ParameterSet) -> float:
    var = load_spec()["fmu.internal_step"]
    raw = params.get(var.id)
    value = parse_duration(raw, f"{params.source}: {var.id}") if isinstance(raw, str) else raw
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (var.min <= value <= var.max):
        raise ParameterError(f"{params.source}: {var.id} = {raw!r}; give {var.min:g} .. {var.max:g} s")
    return float(value)


def bake(params: ParameterSet) -> Baked:
    """Check a parameter set the way the kernel does and read back every start value."""
    build_kernel(params)  # every check the Python path makes, faults included
    kernel = build_kernel(params, faults=())  # values before any fault event is applied
    n = kernel.n
    starts = {}
    for var in fmu_variables(3):
        if var.causality in ("output", "independent") or var.initial == "calculated":
            continue
        if var.id == "fmu.internal_step":
            starts[var.id] = [_internal_step(params)]
        elif var.shape == "cells":
            starts[var.id] = [float(x) for x in kernel.array(var.vr)]
        else:
            starts[var.id] = [kernel.get(var.vr, i) for i in range(var.length)]
    events = tuple(sorted((f.event(n, params.source) for f in params.faults), key=lambda e: e[0]))
    return Baked(params.source, n, starts, build_tables(params), events)


# --- C source ---------------------------------------------------------------------------------------


def c_double(x: float) -> str:
    """A C literal that reads back to exactly x."""
    x = float(x)
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "HUGE_VAL" if x > 0 else "-HUGE_VAL"
    return repr(x)


def _bound(x) -> str:
    return "TWIN_NONE" if x is None else c_double(x)


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _var_rows(variables: list[FmuVariable], n_cells: int) -> list[str]:
    rows = []
    for v in sorted(variables, key=lambda v: v.vr):
        lo, hi = v.bounds(n_cells)
        if v.spec is not None and v.spec.where == "adapter" and v.id not in _ROLES:
            raise FmuError(f"twin/spec.toml declares the adapter variable {v.id!r}, which fmu/ does not implement")
        rows.append(
            f"    {{{_c_string(v.id)}, {v.vr}u, {_C_TYPES[v.fmi_type]}, {_C_CAUSALITY[v.causality]}, "
            f"{_C_VARIABILITY[v.variability]}, {int(v.initial == 'exact')}, {v.length}, {int(v.nan_allowed)}, "
            f"{_bound(lo)}, {_bound(hi)}, {_c_string(v.unit)}, {_ROLES.get(v.id, 'FMU_ROLE_KERNEL')}}},"
        )
    return rows


def _start_rows(baked: Baked, variables: list[FmuVariable]) -> list[str]:
    """Settings, per-cell parameters and starting states: what the kernel's defaults do not give."""
    rows = []
    for v in variables:
        if v.spec is None or v.spec.where not in ("settings", "cells") or v.causality == "input":
            continue
        if v.causality == "structuralParameter" or v.spec.causality == "structural":
            continue  # the block is laid out for it
        for i, x in enumerate(baked.start(v) or []):
            rows.append(f"    {{{v.vr}u, {i}, {c_double(x)}}},")
    return rows


def _chunks(values, per_line: int = 6) -> list[str]:
    items = [c_double(x) for x in values]
    return ["    " + ", ".join(items[k:k + per_line]) + "," for k in range(0, len(items), per_line)]


def c_source(baked: Baked, fmi_version: int, token: str) -> str:
    """twin_fmu_data.c for this build."""
    variables = fmu_variables(fmi_version)
    values, s0, ds, t0, dt, n_rc = baked.tables
    n_temp, n_soc = values.shape[0], values.shape[1]
    starts = _start_rows(baked, variables)
    internal_step = baked.starts["fmu.internal_step"][0]
    lines = [
        "/* GENERATED by `twin fmu build` (twin/fmu_data.py) from twin/spec.toml and the parameter set",
        f"   {baked.source.replace('*/', '* /')}: do not edit; build the FMU again instead. */",
        "#include <math.h>",
        "#include <stddef.h>",
        "",
        '#include "twin_fmu.h"',
        "",
        "/* The FMU's variables, sorted by value reference (twin/fmu_variables.py decides each attribute). */",
        "static const twin_fmu_var vars[] = {",
        *_var_rows(variables, baked.n_cells),
        "};",
        "",
        "/* Parameter values of the set, in kernel form, applied over the spec defaults. */",
        "static const twin_fmu_start starts[] = {",
        *(starts or ["    {0u, 0, 0.0},"]),
        "};",
        "",
        f"/* Cell tables: {n_temp} temperatures x {n_soc} SOCs x {values.shape[2]} columns (csrc/twin.h). */",
        "static const double table_values[] = {",
        *_chunks(np.ascontiguousarray(values).ravel()),
        "};",
        "",
    ]
    if baked.events:
        lines += ["/* Faults of the parameter set: time s, cell (0-based), vr of the fault.* array, value. */",
                  "static const twin_fault_event events[] = {"]
        lines += [f"    {{{c_double(t)}, {c}, {vr}u, {c_double(x)}}}," for t, c, vr, x in baked.events]
        lines += ["};", ""]
    lines += [
        "const twin_fmu_data twin_fmu_baked = {",
        f"    {_c_string(token)},",
        f"    {fmi_version},",
        f"    {baked.n_cells},",
        f"    {c_double(internal_step)},",
        "    starts,",
        f"    {len(starts)}L,",
        f"    {{{n_soc}, {n_temp}, {n_rc}, {c_double(s0)}, {c_double(ds)}, {c_double(t0)}, {c_double(dt)}, table_values}},",
        "    events," if baked.events else "    NULL,",
        f"    {len(baked.events)}L,",
        "    vars,",
        f"    {len(variables)},",
        "};",
        "",
    ]
    return "\n".join(lines)


__all__ = ["Baked", "bake", "c_source", "c_double"]
