"""The model descriptions: names, value references, types, units, starts and structure, from the spec."""

import zipfile

import numpy as np
import pytest

from twin import Pack
from twin.fmu_variables import fmi2_vr, fmu_variables
from twin.spec import load_spec

from ..conftest import ROOT


def test_fmi3_arrays_are_sized_by_the_structural_cell_count(fmu3):
    cells = fmu3.by_name["pack.cells_in_series"]
    assert (cells.type, cells.causality, cells.variability) == ("UInt64", "structuralParameter", "fixed")
    assert cells.start == "16" and cells.valueReference == 10
    xml = zipfile.ZipFile(fmu3.path).read("modelDescription.xml").decode()
    assert '<UInt64 name="pack.cells_in_series" valueReference="10"' in xml
    assert 'min="16" max="16" start="16"' in xml[xml.index('name="pack.cells_in_series"'):][:600]
    voltage = fmu3.by_name["cell.voltage"]
    assert voltage.valueReference == 260 and voltage.shape == (16,)
    assert voltage.dimensions[0].valueReference == 10 and voltage.dimensions[0].start is None
    ccl = fmu3.by_name["limits.ccl_voltage"]
    assert ccl.shape == (4,) and ccl.dimensions[0].start == 4
    time = fmu3.by_name["time"]
    assert (time.valueReference, time.causality) == (0, "independent")


def test_fmi2_expands_arrays_to_indexed_scalars(fmu2):
    names = [v.name for v in fmu2.md.modelVariables]
    assert "cell.voltage" not in names and "time" not in names
    for k in range(1, 17):
        v = fmu2.by_name[f"cell.voltage[{k}]"]
        assert v.valueReference == (260 << 16) + k - 1 == fmi2_vr(260, k - 1)
    assert "cell.voltage[17]" not in fmu2.by_name
    assert [fmu2.by_name[f"limits.ccl_voltage[{k}]"].valueReference for k in (1, 4)] == [103 << 16, (103 << 16) + 3]
    assert fmu2.by_name["pack.voltage"].valueReference == 410
    cells = fmu2.by_name["pack.cells_in_series"]
    assert (cells.type, cells.causality, cells.start, cells.min, cells.max) == ("Integer", "parameter", "16", "16", "16")


def test_every_exposed_spec_variable_keeps_its_value_reference(built):
    spec = load_spec()
    vrs = {v.valueReference for v in built.md.modelVariables}
    for var in spec.variables:
        exposed = var.where in ("settings", "cells", "pack", "adapter")
        if built.version == 3 or not (var.where == "cells" or var.length > 1):
            assert (var.vr in vrs) == exposed, var.id
        else:
            assert (fmi2_vr(var.vr, 0) in vrs) == exposed and var.vr not in vrs, var.id
    assert not any(v.name.startswith(("spread.", "cell.table", "cell.ocv_charge", "cell.tau")) for v in built.md.modelVariables)


def test_units_are_defined_by_their_si_base_units(built):
    units = {u.name: u.baseUnit for u in built.md.unitDefinitions}
    assert (units["degC"].K, units["degC"].offset) == (1, 273.15)
    assert (units["A.h"].A, units["A.h"].s, units["A.h"].factor) == (1, 1, 3600.0)
    assert (units["W.h"].kg, units["W.h"].m, units["W.h"].s, units["W.h"].factor) == (1, 2, -2, 3600.0)
    assert (units["V"].kg, units["V"].m, units["V"].s, units["V"].A) == (1, 2, -3, -1)
    assert (units["Ohm"].A, units["J/K"].K, units["K/W"].s) == (-2, -1, 3)
    reals = [v for v in built.md.modelVariables if v.type in ("Real", "Float64")]
    assert all(v.unit in units for v in reals)
    xml = zipfile.ZipFile(built.path).read("modelDescription.xml").decode()
    name = "residual.temperature" if built.version == 3 else "residual.temperature[1]"
    element = xml[xml.index(f'name="{name}"'):]
    assert 'unit="K" relativeQuantity="true"' in element[:element.index(">", element.index("unit="))]


def test_enumerations_booleans_and_integers_keep_their_types(built):
    topology = built.elements("balancer.topology")[0]
    assert topology.type == "Enumeration" and topology.declaredType.name == "balancer_topology"
    assert [item.name for item in topology.declaredType.items] == list(load_spec().enumerations["balancer_topology"].values)
    assert topology.start == "1"  # passive
    assert built.type("bms.charge_enable") == "Boolean" and built.type("cell.temperature_sensor") == "Boolean"
    assert built.type("balancer.command") == ("Integer" if built.version == 2 else "Int32")
    assert built.type("fault.balancer_stuck") == "Enumeration"


def test_start_values_are_the_baked_parameter_set_with_the_spread_realized(built):
    pack = Pack()
    capacity = [float(v.start) for v in built.elements("cell.capacity")] if built.version == 2 else \
        [float(x) for x in built.by_name["cell.capacity"].start.split()]
    np.testing.assert_array_equal(capacity, pack["cell.capacity"])  # the same draw, bit for bit
    assert len(set(capacity)) == 16
    assert float(built.elements("protection.charge_overcurrent")[0].start) == 280.0  # "1C" resolved
    assert float(built.elements("balancer.bleed_resistance")[0].start) == 33.0
    assert float(built.elements("fmu.internal_step")[0].start) == 1.0
    measured = built.elements("measured.cell_voltage")[0]
    assert measured.causality == "input" and measured.start.split()[0] == "NaN"


def test_causality_variability_and_initial_follow_the_standard(built):
    def attrs(name):
        v = built.elements(name)[0]
        return v.causality, v.variability, v.initial, v.start

    assert attrs("pack.current") == ("input", "continuous", "exact", "0.0")  # inputs: start, no initial attribute
    assert attrs("cell.voltage")[:3] == ("output", "continuous", "calculated") and attrs("cell.voltage")[3] is None
    assert attrs("cell.soc")[:3] == ("local", "continuous", "calculated") and attrs("cell.soc")[3] is None
    assert attrs("cell.capacity_fade")[:3] == ("local", "continuous", "exact")  # starting state of health
    assert attrs("balancer.start_delta")[:3] == ("parameter", "tunable", "exact")
    assert attrs("cell.initial_soc")[:3] == ("parameter", "fixed", "exact")


def test_only_the_residuals_feed_through_from_inputs(built):
    deps = {u.variable.name: u for u in built.md.outputs}
    residual = deps["residual.cell_voltage" if built.version == 3 else "residual.cell_voltage[5]"]
    assert [v.name for v in residual.dependencies] == \
        ["measured.cell_voltage" if built.version == 3 else "measured.cell_voltage[5]"]
    assert residual.dependenciesKind == ["constant"]
    voltage = deps["cell.voltage" if built.version == 3 else "cell.voltage[1]"]
    assert voltage.dependencies == []
    outputs = {v.name for v in built.md.modelVariables if v.causality == "output"}
    assert set(deps) == outputs == {u.variable.name for u in built.md.initialUnknowns}


def test_the_docs_list_every_fmu_variable():
    text = (ROOT / "docs" / "fmu-variables.md").read_text(encoding="utf-8")
    for v in fmu_variables(3):
        assert f"`{v.id}`" in text, v.id
    assert "(vr << 16) + k - 1" in text


@pytest.mark.parametrize("version", [2, 3])
def test_fmu_variables_decide_each_attribute_once(version):
    variables = fmu_variables(version)
    assert len({v.vr for v in variables}) == len(variables)
    assert all(v.fmi_type != "Float64" or v.unit for v in variables)
    assert all(v.variability != "continuous" or v.fmi_type == "Float64" for v in variables)
