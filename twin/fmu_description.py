"""FMI 2.0 and 3.0 model descriptions (and the FMI 3.0 build description) of a twin FMU.

Every variable, its attributes and its start value come from ``twin.fmu_variables`` and the baked
parameter set (``twin.fmu_data.Baked``); nothing here is written by hand per variable.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from . import __version__
from .fmu_data import Baked
from .fmu_variables import FmuVariable, fmi2_vr, fmu_variables
from .spec import load_spec

# SI base-unit exponents (and factor/offset to SI) of every unit the spec uses.
UNITS = {
    "1": {},
    "V": {"kg": 1, "m": 2, "s": -3, "A": -1},
    "A": {"A": 1},
    "Ohm": {"kg": 1, "m": 2, "s": -3, "A": -2},
    "s": {"s": 1},
    "K": {"K": 1},
    "degC": {"K": 1, "offset": 273.15},
    "A.h": {"s": 1, "A": 1, "factor": 3600},
    "W.h": {"kg": 1, "m": 2, "s": -2, "factor": 3600},
    "W": {"kg": 1, "m": 2, "s": -3},
    "J/K": {"kg": 1, "m": 2, "s": -2, "K": -1},
    "K/W": {"kg": -1, "m": -2, "s": 3, "K": 1},
    "1/h": {"s": -1, "factor": 1 / 3600},
}

LOG_CATEGORIES = {
    "logEvents": "Initialization and other steps of the FMU's life (only with logging on)",
    "logStatusWarning": "Warnings (always reported)",
    "logStatusError": "Errors: refused calls and values, naming the variable and what is allowed (always reported)",
}

DEFAULT_EXPERIMENT = {"startTime": "0", "stopTime": "3600", "stepSize": "1"}


def _num(x: float) -> str:
    """xs:double text that reads back to exactly x."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "INF" if x > 0 else "-INF"
    return repr(x)


def _start_text(var: FmuVariable, value: float) -> str:
    if var.fmi_type == "Float64":
        return _num(value)
    if var.fmi_type == "Boolean":
        return "true" if value else "false"
    return str(int(value))


def _bounds(var: FmuVariable, n_cells: int) -> dict:
    out = {}
    if var.fmi_type in ("Float64", "Int32", "UInt64"):
        for key, x in zip(("min", "max"), var.bounds(n_cells)):
            if x is not None:
                out[key] = _num(x) if var.fmi_type == "Float64" else str(int(x))
    return out


def _units_element(parent: ET.Element, used: set) -> None:
    defs = ET.SubElement(parent, "UnitDefinitions")
    for name, base in UNITS.items():
        if name not in used:
            continue
        unit = ET.SubElement(defs, "Unit", name=name)
        ET.SubElement(unit, "BaseUnit", {k: _num(v) if k in ("factor", "offset") else str(v) for k, v in base.items()})


def _types_element(parent: ET.Element, fmi_version: int) -> None:
    types = ET.SubElement(parent, "TypeDefinitions")
    for e in load_spec().enumerations.values():
        if fmi_version == 2:
            holder = ET.SubElement(ET.SubElement(types, "SimpleType", name=e.name, description=e.description),
                                   "Enumeration")
        else:
            holder = ET.SubElement(types, "EnumerationType", name=e.name, description=e.description)
        for code, item in enumerate(e.values):
            ET.SubElement(holder, "Item", name=item, value=str(code))


def _common_head(root: ET.Element, variables: list[FmuVariable], fmi_version: int) -> None:
    used = {v.unit for v in variables if v.fmi_type == "Float64"}
    unknown = used - set(UNITS)
    if unknown:
        raise ValueError(f"units without an FMI definition in twin/fmu_description.py: {sorted(unknown)}")
    _units_element(root, used)
    _types_element(root, fmi_version)
    cats = ET.SubElement(root, "LogCategories")
    for name, text in LOG_CATEGORIES.items():
        ET.SubElement(cats, "Category", name=name, description=text)
    ET.SubElement(root, "DefaultExperiment", DEFAULT_EXPERIMENT)


def _type_attributes(var: FmuVariable, n_cells: int) -> dict:
    attrs = {}
    if var.fmi_type == "Enumeration":
        attrs["declaredType"] = var.enumeration
    if var.fmi_type == "Float64":
        attrs["unit"] = var.unit
        if var.relative_quantity:
            attrs["relativeQuantity"] = "true"
    attrs.update(_bounds(var, n_cells))
    return attrs


def _header_attributes(var: FmuVariable) -> dict:
    attrs = {"causality": var.causality, "variability": var.variability}
    if var.initial is not None:
        attrs["initial"] = var.initial
    return attrs


def _outputs_dependencies(var: FmuVariable) -> str | None:
    """The input a residual feeds through from; every other output depends on no input (its value at
    a communication point comes from the state the step left)."""
    if var.causality != "output":
        return None
    if var.id == "residual.cell_voltage":
        return "measured.cell_voltage"
    if var.id == "residual.temperature":
        return "measured.temperature"
    return ""


def _root(fmi_version: int, token: str, baked: Baked) -> ET.Element:
    token_attr = "guid" if fmi_version == 2 else "instantiationToken"
    return ET.Element("fmiModelDescription", {
        "fmiVersion": f"{fmi_version}.0",
        "modelName": "twin",
        token_attr: token,
        "description": f"{baked.n_cells}S LiFePO4 pack with its BMS balancer and protection (twin digital twin), "
                       f"parameter set {baked.source}",
        "generationTool": f"twin {__version__}",
        "version": __version__,
        "license": "Apache-2.0",
        "variableNamingConvention": "structured",
        **({"numberOfEventIndicators": "0"} if fmi_version == 2 else {}),
    })


def fmi2_description(model_identifier: str, baked: Baked, token: str, sources: list[str]) -> str:
    n = baked.n_cells
    variables = fmu_variables(2)
    root = _root(2, token, baked)
    cs = ET.SubElement(root, "CoSimulation", {
        "modelIdentifier": model_identifier, "needsExecutionTool": "false",
        "canHandleVariableCommunicationStepSize": "true", "canInterpolateInputs": "false",
        "maxOutputDerivativeOrder": "0", "canRunAsynchronuously": "false",
        "canBeInstantiatedOnlyOncePerProcess": "false", "canNotUseMemoryManagementFunctions": "false",
        "canGetAndSetFMUstate": "true", "canSerializeFMUstate": "true", "providesDirectionalDerivative": "false",
    })
    files = ET.SubElement(cs, "SourceFiles")
    for name in sources:
        ET.SubElement(files, "File", name=name)
    _common_head(root, variables, 2)
    model_vars = ET.SubElement(root, "ModelVariables")
    index = {}  # FMI 2.0 name -> 1-based position, for the model structure
    outputs = []
    for var in variables:
        start = baked.start(var) if var.causality != "output" and var.initial != "calculated" else None
        for name, vr, element in var.fmi2_scalars(n):
            description = var.description + (f" (cell {element + 1})" if var.shape == "cells" else "")
            sv = ET.SubElement(model_vars, "ScalarVariable", {"name": name, "valueReference": str(vr),
                                                              "description": description, **_header_attributes(var)})
            attrs = _type_attributes(var, n)
            if var.spec is not None and var.spec.causality == "structural":
                attrs["start"] = str(n)
            elif start is not None:
                attrs["start"] = _start_text(var, start[element])
            ET.SubElement(sv, var.fmi2_type, attrs)
            index[name] = len(index) + 1
            if var.causality == "output":
                outputs.append((name, var, element))
    structure = ET.SubElement(root, "ModelStructure")
    outs = ET.SubElement(structure, "Outputs")
    for name, var, element in outputs:
        source = _outputs_dependencies(var)
        attrs = {"index": str(index[name]), "dependencies": ""}
        if source:
            attrs["dependencies"] = str(index[f"{source}[{element + 1}]"])
            attrs["dependenciesKind"] = "constant"  # predicted minus measured: factor -1
        ET.SubElement(outs, "Unknown", attrs)
    initial = ET.SubElement(structure, "InitialUnknowns")
    for name, _, _ in outputs:
        ET.SubElement(initial, "Unknown", index=str(index[name]))
    return _serialize(root)


def fmi3_description(model_identifier: str, baked: Baked, token: str) -> str:
    n = baked.n_cells
    variables = fmu_variables(3)
    by_id = {v.id: v for v in variables}
    root = _root(3, token, baked)
    ET.SubElement(root, "CoSimulation", {
        "modelIdentifier": model_identifier, "needsExecutionTool": "false",
        "canBeInstantiatedOnlyOncePerProcess": "false", "canGetAndSetFMUState": "true",
        "canSerializeFMUState": "true", "providesDirectionalDerivatives": "false",
        "providesAdjointDerivatives": "false", "providesPerElementDependencies": "false",
        "canHandleVariableCommunicationStepSize": "true", "maxOutputDerivativeOrder": "0",
        "providesIntermediateUpdate": "false", "mightReturnEarlyFromDoStep": "false",
        "canReturnEarlyAfterIntermediateUpdate": "false", "hasEventMode": "false",
        "providesEvaluateDiscreteStates": "false",
    })
    _common_head(root, variables, 3)
    model_vars = ET.SubElement(root, "ModelVariables")
    for var in variables:
        attrs = {"name": var.id, "valueReference": str(var.vr), "description": var.description,
                 **_header_attributes(var), **_type_attributes(var, n)}
        start = baked.start(var) if var.causality not in ("output", "independent") and var.initial != "calculated" else None
        if var.spec is not None and var.spec.causality == "structural":
            attrs["start"] = str(n)
        elif start is not None:
            attrs["start"] = " ".join(_start_text(var, x) for x in start)
        element = ET.SubElement(model_vars, var.fmi_type, attrs)
        if var.shape == "cells":
            ET.SubElement(element, "Dimension", valueReference=str(by_id["pack.cells_in_series"].vr))
        elif var.shape == "vector":
            ET.SubElement(element, "Dimension", start=str(var.length))
    structure = ET.SubElement(root, "ModelStructure")
    outputs = [v for v in variables if v.causality == "output"]
    for var in outputs:
        source = _outputs_dependencies(var)
        attrs = {"valueReference": str(var.vr), "dependencies": str(by_id[source].vr) if source else ""}
        if source:
            attrs["dependenciesKind"] = "constant"
        ET.SubElement(structure, "Output", attrs)
    for var in outputs:
        ET.SubElement(structure, "InitialUnknown", valueReference=str(var.vr))
    return _serialize(root)


def fmi3_build_description(model_identifier: str, sources: list[str]) -> str:
    """sources/buildDescription.xml: what `fmpy compile` and other importers compile."""
    root = ET.Element("fmiBuildDescription", fmiVersion="3.0")
    config = ET.SubElement(root, "BuildConfiguration", modelIdentifier=model_identifier,
                           description="C99 sources: the twin kernel, the FMI 3.0 adapter and the baked parameter set")
    files = ET.SubElement(config, "SourceFileSet", language="C99")
    for name in sources:
        ET.SubElement(files, "SourceFile", name=name)
    ET.SubElement(config, "Library", name="m", external="true", description="the C math library (-lm)")
    return _serialize(root)


def _serialize(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["fmi2_description", "fmi3_description", "fmi3_build_description", "UNITS", "fmi2_vr"]
