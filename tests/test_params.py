"""Parameter sets: loading, checking, units, spread, tables, writing back."""

import json

import numpy as np
import pytest

from twin import Pack, ParameterSet
from twin.errors import ParameterError
from twin.params import build_tables, write_parameter_file

from .conftest import simple_params


def test_default_set_loads_by_name_and_is_a_16s_280ah_pack(default_params):
    pack = Pack(default_params)
    assert pack.n == 16
    assert default_params.capacity_ah == 280.0
    assert pack["protection.charge_overcurrent"] == pytest.approx(280.0)  # "1C"
    assert pack["limits.max_charge_current"] == pytest.approx(140.0)  # "0.5C"
    v = pack["cell.voltage"]
    assert np.all((v > 3.2) & (v < 3.35))


def test_every_default_value_has_a_source_in_the_docstring():
    from twin.parameter_sets import eve_lf280k

    doc = eve_lf280k.__doc__
    for key in eve_lf280k.parameters():
        assert key in doc, f"{key} has no source row in the eve_lf280k docstring"


def test_unknown_key_is_named_with_a_suggestion(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('base = "eve_lf280k_16s"\n[cell]\ncapacty = 100\n')
    with pytest.raises(ParameterError, match=r"p.toml.*'cell.capacty'.*did you mean 'cell.capacity'"):
        ParameterSet.load(f)


def test_out_of_range_value_is_named_with_its_range(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('base = "eve_lf280k_16s"\n[balancer]\nstart_delta = -0.01\n')
    with pytest.raises(ParameterError, match=r"balancer.start_delta = -0.01 \[V\] is outside the allowed range 0 .. 2"):
        Pack(ParameterSet.load(f))


def test_per_cell_value_out_of_range_names_the_cell():
    params = simple_params(cells=3, **{"cell.capacity": [100.0, -1.0, 100.0]})
    with pytest.raises(ParameterError, match=r"cell.capacity\[1\] = -1"):
        Pack(params)


def test_missing_value_says_to_set_it(tmp_path):
    f = tmp_path / "p.json"
    data = ParameterSet.load("eve_lf280k_16s").to_mapping()
    del data["cell"]["heat_capacity"]
    f.write_text(json.dumps(data))
    with pytest.raises(ParameterError, match="cell.heat_capacity has no value"):
        Pack(ParameterSet.load(f))


def test_wrong_list_length_is_explained():
    with pytest.raises(ParameterError, match="cell.initial_soc has 2 values but the pack has 4 cells"):
        Pack(simple_params(cells=4, **{"cell.initial_soc": [0.5, 0.5]}))


def test_bad_enumeration_value_lists_the_choices():
    with pytest.raises(ParameterError, match="balancer.topology = 'pasive'.*passive.*did you mean 'passive'"):
        Pack(simple_params(**{"balancer.topology": "pasive"}))


def test_crossed_thresholds_are_refused():
    with pytest.raises(ParameterError, match="cell_overvoltage_release .* must be below protection.cell_overvoltage"):
        Pack(simple_params(**{"protection.cell_overvoltage_release": 3.7}))


def test_currents_take_c_rates_and_durations_take_units():
    params = simple_params(**{"protection.charge_overcurrent": "2C", "limits.max_charge_current": "C/4",
                              "balancer.idle_delay": "45 min", "balancer.idle_current": "500 mA"})
    pack = Pack(params)
    assert pack["protection.charge_overcurrent"] == pytest.approx(200.0)
    assert pack["limits.max_charge_current"] == pytest.approx(25.0)
    assert pack["balancer.idle_delay"] == pytest.approx(2700.0)
    assert pack["balancer.idle_current"] == pytest.approx(0.5)


def test_write_and_read_back_give_the_same_pack(tmp_path, default_params):
    for suffix in (".toml", ".json"):
        path = tmp_path / f"pack{suffix}"
        write_parameter_file(default_params, path)
        again = ParameterSet.load(path)
        a, b = Pack(default_params), Pack(again)
        profile = np.full(600, 100.0)
        np.testing.assert_array_equal(a.run(profile)["cell.voltage"], b.run(profile)["cell.voltage"])


def test_spread_is_seeded_and_reproducible(default_params):
    a = Pack(default_params)["cell.capacity"].copy()
    b = Pack(default_params)["cell.capacity"].copy()
    c = Pack(default_params, **{"spread.seed": 7})["cell.capacity"].copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert 0.003 < np.std(a) / np.mean(a) < 0.03


def test_changing_one_spread_keeps_the_other_draws(default_params):
    a = Pack(default_params)
    b = Pack(default_params, **{"spread.capacity": 0.05})
    np.testing.assert_array_equal(a["cell.resistance_factor"], b["cell.resistance_factor"])
    np.testing.assert_array_equal(a["cell.initial_soc"], b["cell.initial_soc"])


def test_uneven_breakpoints_on_a_finer_even_grid_are_reproduced_exactly():
    soc = [0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0]
    ocv = [2.5, 3.1, 3.2, 3.3, 3.33, 3.36, 3.5]
    params = simple_params(**{"cell.table_soc": soc, "cell.ocv_charge": ocv, "cell.ocv_discharge": ocv})
    values, s0, ds, *_ = build_tables(params)
    grid = s0 + ds * np.arange(values.shape[1])
    assert ds == pytest.approx(0.05)
    np.testing.assert_allclose(values[0, :, 0], np.interp(grid, soc, ocv), atol=1e-15)
    np.testing.assert_allclose(values[0, [0, 1, 2, 10, 18, 19, 20], 0], ocv, atol=1e-15)


def test_table_shape_mismatch_is_explained():
    with pytest.raises(ParameterError, match="cell.r0 has shape"):
        Pack(simple_params(**{"cell.r0": [[1e-3, 1e-3], [1e-3, 1e-3]]}))


def test_unknown_named_set_suggests():
    with pytest.raises(ParameterError, match="did you mean 'eve_lf280k_16s'"):
        ParameterSet.load("eve_lf280k_16")
