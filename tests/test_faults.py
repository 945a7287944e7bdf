"""Each injected fault shows the signature DOMAIN.md gives it (the detector's labelled data)."""

import numpy as np
import pytest

from twin import Fault, Pack
from twin.errors import ParameterError

from .conftest import simple_params


def _twins(fault, profile, cells=4, **extra):
    params = simple_params(cells=cells, **{"cell.initial_soc": 0.5, "sensor.voltage_resolution": 0.0, **extra})
    healthy = Pack(params).run(profile)
    faulty = Pack(params, faults=[fault]).run(profile)
    return healthy, faulty


def test_series_resistance_residual_is_proportional_to_current():
    profile = np.concatenate([np.full(100, 50.0), np.zeros(100), np.full(100, -100.0)])
    healthy, faulty = _twins(Fault(2, "series_resistance", 2e-3, 0.0), profile)
    residual = faulty["cell.voltage"][:, 2] - healthy["cell.voltage"][:, 2]
    np.testing.assert_allclose(residual, 2e-3 * faulty["cell.current"][:, 2], atol=1e-12)
    np.testing.assert_allclose(faulty["cell.voltage"][:, 0], healthy["cell.voltage"][:, 0], atol=1e-15)


def test_voltage_sensor_offset_is_in_the_reading_only():
    profile = np.full(200, 20.0)
    healthy, faulty = _twins(Fault(1, "voltage_offset", 0.015, 50.0), profile)
    np.testing.assert_array_equal(faulty["cell.voltage"], healthy["cell.voltage"])
    diff = faulty["cell.voltage_measured"][:, 1] - healthy["cell.voltage_measured"][:, 1]
    assert np.all(diff[faulty.time <= 50] == 0)
    np.testing.assert_allclose(diff[faulty.time > 50], 0.015, atol=1e-12)


def test_voltage_sensor_gain_error_scales_the_reading():
    healthy, faulty = _twins(Fault(0, "voltage_gain_error", 0.01, 0.0), np.full(50, 10.0))
    np.testing.assert_allclose(faulty["cell.voltage_measured"][:, 0], 1.01 * healthy["cell.voltage"][:, 0], rtol=1e-14)


def test_capacity_loss_makes_larger_swings_for_the_same_charge():
    profile = np.full(1800, 50.0)
    healthy, faulty = _twins(Fault(3, "capacity_loss", 0.2, 0.0), profile)
    d_healthy = healthy["cell.soc"][-1, 3] - 0.5
    d_faulty = faulty["cell.soc"][-1, 3] - 0.5
    assert d_faulty == pytest.approx(d_healthy / 0.8, rel=1e-12)
    assert faulty["cell.present_capacity"][-1, 3] == pytest.approx(80.0)


def test_temperature_sensor_offset_is_in_the_reading_only():
    params_extra = {"pack.temperature_sensors": [0, 1, 2, 3]}
    healthy, faulty = _twins(Fault(1, "temperature_offset", 5.0, 0.0), np.zeros(10), **params_extra)
    np.testing.assert_array_equal(faulty["cell.temperature"], healthy["cell.temperature"])
    np.testing.assert_allclose(faulty["cell.temperature_measured"][:, 1] - healthy["cell.temperature_measured"][:, 1], 5.0, atol=0.05)


def test_current_sensor_error_is_common_to_the_pack_reading():
    params = simple_params(cells=2, **{"sensor.current_gain_error": 0.01, "sensor.current_offset": 0.2,
                                        "sensor.current_resolution": 0.0, "cell.initial_soc": 0.5})
    r = Pack(params).run(np.full(10, 50.0))
    np.testing.assert_allclose(r["pack.current_measured"][1:], 50.7)
    np.testing.assert_allclose(r["pack.applied_current"][1:], 50.0)


def test_bad_faults_are_refused():
    with pytest.raises(ParameterError, match="unknown fault kind 'leak'.*leak_current"):
        Fault(0, "leak", 0.1)
    with pytest.raises(ParameterError, match="cells 0 .. 3"):
        Pack(simple_params(cells=4), faults=[Fault(4, "leak_current", 0.1)])
    with pytest.raises(ParameterError, match=r"fault.leak_current\[1\] = -1"):
        Pack(simple_params(cells=4), faults=[Fault(1, "leak_current", -1.0)])


def test_residuals_are_predicted_minus_measured_where_measured():
    pack = Pack(simple_params(cells=3, **{"cell.initial_soc": 0.5}))
    assert np.isnan(pack["residual.cell_voltage"]).all()
    pack["measured.cell_voltage"][:] = [3.25, np.nan, 3.20]
    pack["measured.temperature"][:] = [np.nan, 24.0, np.nan]
    pack.step(0.0)
    np.testing.assert_allclose(pack["residual.cell_voltage"][[0, 2]], pack["cell.voltage"][[0, 2]] - [3.25, 3.20])
    assert np.isnan(pack["residual.cell_voltage"][1])
    assert pack["residual.temperature"][1] == pytest.approx(pack["cell.temperature"][1] - 24.0)
