"""docs/fmu-variables.md: the FMU's variables, generated from the spec (``python -m twin.codegen``)."""

from __future__ import annotations

from .codegen import HEADER
from .fmu_description import UNITS
from .fmu_variables import ARRAY_SHIFT, CELLS_VR, FmuVariable, fmu_variables
from .spec import Spec, load_spec

_GROUPS = (
    ("Inputs", lambda v: v.causality == "input"),
    ("Outputs", lambda v: v.causality == "output"),
    ("Parameters", lambda v: v.causality in ("parameter", "structuralParameter")),
    ("States and internal variables (causality local)", lambda v: v.causality == "local"),
)

_INTRO = f"""\
# FMU variables

`twin fmu build --fmi 2|3 [--cells N] [--params FILE] -o Pack.fmu` compiles the twin into a
co-simulation FMU (binaries for this machine and C sources that `fmpy compile` or any importer
can build elsewhere). This page lists its variables as the model descriptions declare them; both
are generated from `twin/spec.toml` (`twin/fmu_variables.py` decides every FMI attribute).

## Names and value references

- **FMI 3.0**: one variable per spec id, value reference = the spec's `vr` (stable, append-only).
  Per-cell variables are arrays whose `<Dimension>` is the structural parameter
  `pack.cells_in_series` (vr {CELLS_VR}, `UInt64`, `min` = `max` = the built cell count); settings
  vectors have a fixed dimension. `time` (vr 0) is the independent variable.
- **FMI 2.0**: scalars keep the spec's `vr`. Arrays are expanded to `group.name[1]` ..
  `group.name[N]` (1-based, the Modelica convention) with value reference
  `(vr << {ARRAY_SHIFT}) + k - 1` for element `k`, so `cell.voltage[1]` is `260 << 16` = 17039360.
  `pack.cells_in_series` is a fixed `Integer` parameter with `min` = `max` = the built cell count.
- Types: real as `Float64` (FMI 2.0 `Real`), integer as `Int32` (`Integer`), boolean as `Boolean`,
  enumerations as enumeration types (FMI 3.0: get and set with `fmi3GetInt64`; FMI 2.0 with
  `fmi2GetInteger`). Every real has a unit defined in `<UnitDefinitions>` with its SI base units
  ({", ".join(f"`{u}`" for u in UNITS)}); temperatures in K are differences (`relativeQuantity`).

## What is baked in at build time

- The parameter set (`--params`, default `eve_lf280k_16s`; `--cells` overrides the cell count):
  its values are the start values of the parameters below, per cell where the spread makes cells
  differ (the same values `twin.Pack` uses). "set" in the start column means "from the parameter set".
- The cell tables (`cell.table_soc`, `cell.table_temperature`, `cell.ocv_*`, `cell.r*`, `cell.tau*`)
  and the faults of the parameter set (switched on at their onset, in seconds after the start):
  they are data in `sources/twin_fmu_data.c`, not variables. Build another FMU to change them.
- The pack builder's parameters (`spread.*`, `pack.temperature_sensors`) are realized into the
  per-cell start values and are not variables either.

## When values may be set

| causality | variability | may be set in |
|---|---|---|
| parameter | fixed | Instantiated, InitializationMode |
| parameter | tunable | Instantiated, InitializationMode, StepMode (checked together at the next `doStep`) |
| structuralParameter (FMI 3.0) | fixed | ConfigurationMode, and only to the built cell count |
| input | | Instantiated, InitializationMode, StepMode |
| local, initial exact | | Instantiated, InitializationMode (the starting state of health) |
| output, local (calculated) | | never |

A refused call (wrong state, unknown value reference, wrong type, wrong count, value out of its
range, NaN where a number is needed) returns an error status, logs through the FMI logger which
function, which variable and what is allowed, and changes nothing. The inputs
`measured.cell_voltage` and `measured.temperature` take NaN for "not measured". The residuals
feed through: reading `residual.*` after setting `measured.*` gives predicted minus the new
measurement. Every other output depends on no input at a communication point (`<ModelStructure>`
says so), so a controller that reads voltages and sets balancing commands forms no algebraic loop.

## Steps and states

- Any communication step: the FMU advances in internal steps of `fmu.internal_step` (default 1 s)
  and a shorter last one, so it lands exactly on the communication point; time is the host's
  communication points, so it does not drift.
- `canGetAndSetFMUstate`/`canSerializeFMUstate`: a state is the twin's whole memory block with a
  header (magic, layout version, cell count, build, sizes; serialized bytes add a checksum),
  checked when it is set or deserialized: a state of another build, cell count or layout, or
  damaged bytes, give an error, never a crash. A state saved after initialization is restored in
  StepMode (also from Terminated or Error, to rewind); one saved before initialization, before
  initialization ends.
- Instances share nothing: several in one process are independent.

## Divergence detector

The detector behind `twin replay` (`csrc/detect.c`, in the same kernel) also runs inside the FMU,
on the measured inputs, beside the twin. Fed a log sample by sample it raises the flags `twin
replay` raises on that log, at the same times (`tests/fmu/test_detector.py` checks it on the
development packs through FMPy).

- **One sample per communication step.** `doStep(t, h)` first hands the detector the inputs as
  they were set before the call, as its sample at the communication point `t`; then the twin
  steps. A sample is used only when `measured.cell_voltage` is given for every cell: with NaN
  (the start value: the twin running alone) or a cell missing, it is skipped and the detector's
  outputs keep their values. So `flag.*_time` are sample times in the FMU's time: start the FMU at
  the log's first time to get log times. A refused `doStep` feeds nothing.
- **What it reads.** `measured.cell_voltage`; `pack.current`, which is then the measured pack
  current (positive = charging); `measured.temperature` (NaN for cells without a sensor; the
  thermal check needs three sensors or more); and `balancer.command` as the BMS's balancing flags
  (`1`: the cell's bleed resistor was on).
- **The balancing flags are always `balancer.command`, whatever `balancer.policy` is.** The
  detector accounts for the charge the real BMS bled, so it must read what the real BMS commanded,
  and only an input carries that. With policy `external` the twin also bleeds as commanded; with
  the twin's own policies (`voltage_delta`, `soc_history`) the twin ignores `balancer.command` and
  only the detector reads it. The twin's `balancer.commanded` output is not used: it is what the
  twin's simulated BMS decided from the twin's own cells, not what the real BMS did (with the
  parameter set `twin replay` uses, the cells are identical and it bled nothing over the
  development logs, whose BMS had each bleed resistor on 1-2 % of the time). Without the logged
  flags the development packs show what goes wrong: a false leak on the healthy `pack_100` and on
  `pack_102`, and `pack_101`'s leak found a day late. Where no real BMS exists (the twin's own
  policy is the BMS under test), connect `balancer.commanded` to `balancer.command`.
- **Outputs.** Per cell `flag.*` (0/1) with `flag.*_time` (NaN: never), `estimate.*` with their
  `_sigma`, `detect.deviation`; for the pack `detect.samples`, `detect.runs`, `detect.gaps`,
  `detect.flags`. They change when a block of `detect.block` seconds (60 s) completes. A pause in
  the samples longer than five sample periods, and at least ten seconds longer than one (the
  measurements NaN for a while), is a gap: the detector closes its block, counts it in
  `detect.gaps` and bridges nothing.
- **Its parameters** (`detect.*`) are baked in from the parameter set like every other. To
  reproduce `twin replay` on a log, build with the set `twin replay` uses for it:
  `build_fmu("Pack.fmu", params=twin.replay.detector_parameters(twin.logs.LogReader(log, mapping).info))`.
  `detect.edge_current`, `detect.segment_current`, `detect.bleed_resistance` and
  `detect.nominal_resistance` (and the capacities, resistances and `balancer.bleed_resistance`
  they fall back on) are read when the detector starts, at initialization: set them before.
- **States.** The detector's memory is in the twin's block: `fmi*GetFMUstate`/`SetFMUstate` and
  serialized states carry it (a restored state detects on exactly as before); reset and
  re-initialization start it afresh (no flags, times and estimates NaN).
"""


def _start(spec: Spec, v: FmuVariable) -> str:
    if v.causality in ("output", "independent") or v.initial == "calculated":
        return ""
    if v.spec is not None and v.spec.causality == "structural":
        return "N (built)"
    raw = v.spec.start if v.spec is not None else None
    if raw is None:
        return "set"
    if isinstance(raw, list):
        return ", ".join(f"{x:g}" if isinstance(x, float) else str(x) for x in raw) + " (or set)"
    if isinstance(raw, float):
        raw = f"{raw:g}"
    return f"{raw}" + ("" if v.causality == "input" else " (or set)")


def _row(spec: Spec, v3: FmuVariable, v2: FmuVariable | None) -> str:
    dims = {"cells": "[N]", "vector": f"[{v3.length}]"}.get(v3.shape, "")
    if v2 is None:
        fmi2 = "(FMI 3.0 only)"
    elif v2.is_array:
        fmi2 = f"`{v2.id}[k]`: {v2.vr << ARRAY_SHIFT} + k-1, {v2.fmi2_type}"
    else:
        fmi2 = f"{v2.vr}, {v2.fmi2_type}"
    kind = v3.fmi_type if v3.fmi_type != "Enumeration" else f"Enumeration `{v3.enumeration}`"
    initial = v3.initial or ""
    unit = "" if v3.fmi_type not in ("Float64",) else v3.unit
    return (f"| `{v3.id}`{dims} | {v3.vr}, {kind} | {fmi2} | {v3.causality} | {v3.variability} | {initial} | "
            f"{unit} | {_start(spec, v3)} | {v3.description} |")


def docs_table(spec: Spec | None = None) -> str:
    spec = spec or load_spec()
    fmi3 = fmu_variables(3, spec)
    fmi2 = {v.id: v for v in fmu_variables(2, spec)}
    out = [f"<!-- {HEADER} -->", _INTRO]
    for title, wanted in _GROUPS:
        rows = [v for v in fmi3 if wanted(v)]
        out += [f"## {title}", "",
                "| name | FMI 3.0 vr, type | FMI 2.0 vr, type | causality | variability | initial | unit | start | description |",
                "|---|---|---|---|---|---|---|---|---|"]
        out += [_row(spec, v, fmi2.get(v.id)) for v in rows]
        out.append("")
    out += ["## Independent variable", "", "| name | FMI 3.0 vr, type | unit | description |", "|---|---|---|---|",
            "| `time` | 0, Float64 | s | Simulation time (FMI 3.0 only; FMI 2.0 has none) |", ""]
    return "\n".join(out)


__all__ = ["docs_table"]
