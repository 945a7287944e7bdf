"""Generated files stay in sync with twin/spec.toml, and the C table agrees with the spec."""

from twin import codegen
from twin._core import Kernel
from twin.spec import load_spec

from .conftest import ROOT


def test_generated_files_are_up_to_date():
    stale = [str(p.relative_to(ROOT)) for p, text in codegen.generated_files(ROOT).items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    assert not stale, f"run `python -m twin.codegen`; stale: {stale}"


def test_every_kernel_variable_is_reachable_by_its_value_reference():
    spec = load_spec()
    k = Kernel(3)
    for v in spec.variables:
        if v.where == "cells":
            assert k.array(v.vr).shape == (3,)
        elif v.where in ("pack", "settings"):
            for i in range(v.length):
                k.get(v.vr, i)  # raises if the C table does not know it


def test_value_references_are_unique_and_ids_well_formed():
    spec = load_spec()
    vrs = [v.vr for v in spec.variables]
    assert len(vrs) == len(set(vrs))
    for v in spec.variables:
        assert v.id == v.id.lower() and " " not in v.id and v.id.count(".") == 1


def test_labels_derive_from_id_and_unit():
    spec = load_spec()
    assert spec["cell.voltage"].label == "Cell voltage [V]"
    assert spec["balancer.energy_dissipated"].label == "Balancer energy dissipated [Wh]"
    assert spec["cell.soc"].label == "Cell soc"
