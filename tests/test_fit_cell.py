"""twin fit cell: parameters recovered from data the twin itself simulated (with measurement noise)
agree with the ones used, within the tolerances stated here and in docs/fitting.md."""

import numpy as np
import pytest

from twin.errors import FitError
from twin.fit_cell import fit_cell, identify_capacity
from twin.fit_model import SOC_GRID, bench_pack
from twin.params import ParameterSet

from .fit_synthetic import HPPC_CYCLE, OCV_TEST, lab_record, truth_cell

MID = (SOC_GRID >= 0.1) & (SOC_GRID <= 0.9)


@pytest.fixture(scope="module")
def truth():
    return truth_cell()


@pytest.fixture(scope="module")
def fitted(truth):
    ocv = lab_record(truth, OCV_TEST, "ocv", 0.99, seed=1)
    hppc = lab_record(truth, HPPC_CYCLE, "hppc", 0.98, seed=2, repeat=9)
    return fit_cell([ocv, hppc], truth)


def table(pset, key):
    return np.interp(SOC_GRID, np.asarray(pset["cell.table_soc"], float), np.asarray(pset[key], float))


def test_round_trip_recovers_ocv_resistances_and_time_constants(fitted, truth):
    p = fitted.params
    for key in ("cell.ocv_charge", "cell.ocv_discharge"):
        assert np.max(np.abs(table(p, key) - table(truth, key))[MID]) < 0.003  # 3 mV over 10-90 % SOC
    r0 = table(p, "cell.r0")[MID] / table(truth, "cell.r0")[MID]
    assert np.all(np.abs(r0 - 1) < 0.08)  # R0 within 8 %
    dc = sum(table(p, k) for k in ("cell.r0", "cell.r1", "cell.r2"))[MID]
    dc_truth = sum(table(truth, k) for k in ("cell.r0", "cell.r1", "cell.r2"))[MID]
    assert np.median(np.abs(dc / dc_truth - 1)) < 0.15  # total DC resistance within 15 % (median over SOC)
    assert p["cell.tau2"] == pytest.approx(truth["cell.tau2"], rel=0.25)
    assert 0.5 < p["cell.hysteresis_rate"] / truth["cell.hysteresis_rate"] < 2.0  # weakly identified: a factor 2
    for name in ("ocv", "hppc"):
        assert fitted.residuals[name]["rmse_mv"] < 2.0  # noise is 0.5 mV, ADC step 0.1 mV


def test_findings_say_what_was_identified_and_uncertainties_are_given(fitted):
    status = {f.parameter: f.status for f in fitted.findings}
    assert status["OCV branches"] == "identified" and status["R0"] == "identified"
    assert status["capacity"] == "assumed"  # no discharge between the voltage limits in these tests
    assert status["thermal"] == "not identified"
    r0 = fitted.estimates["R0 at SOC 0.5"]
    assert 0 < r0.sigma < 0.2 * r0.value


def test_the_fitted_set_runs_as_it_is(fitted):
    from twin import Experiment, Pack

    result = Pack(fitted.params).run(Experiment(["Discharge at 0.5C for 30 minutes", "Rest for 10 minutes"]))
    assert np.all(np.isfinite(result["cell.voltage"]))
    assert result["cell.voltage"].shape[1] == fitted.params.cells_in_series


def test_capacity_is_measured_from_a_discharge_between_the_voltage_limits(truth):
    rec = lab_record(truth, ["Charge at C/5 until 3.6 V", "Rest for 30 minutes", "Discharge at C/5 until 2.6 V"],
                     "capacity", 0.5, voltage_noise=0.0)
    q, how, anchor = identify_capacity([rec], None, (2.6, 3.6))
    start = anchor[1]
    counted = -np.sum(rec.current[start:][rec.current[start:] < 0]) / 3600.0
    assert q == pytest.approx(counted, rel=1e-6)
    assert how.startswith("measured")
    q2, how2, _ = identify_capacity([rec], None, (2.0, 3.6))
    assert how2.startswith("2.3 Ah") and "C/3 or slower discharge" in how2


def test_data_without_rests_pulses_or_low_rate_is_refused_plainly(truth):
    rec = lab_record(truth, ["Discharge at 0.5C for 90 minutes"], "cc", 0.9)
    with pytest.raises(FitError) as e:
        fit_cell([rec], truth)
    text = str(e.value)
    assert "nothing to identify" in text
    assert "needs a low-rate (<= C/10) charge and discharge or rests of >= 1 h at several SOC" in text
    assert "needs current pulses" in text


def test_pulses_alone_take_the_ocv_from_their_rests_and_say_hysteresis_is_not_identified(truth):
    hppc = lab_record(truth, HPPC_CYCLE, "hppc", 0.98, seed=2, repeat=4)
    out = fit_cell([hppc], truth, max_evaluations=40)
    status = {f.parameter: f for f in out.findings}
    assert status["OCV branches"].status == "weak" and "rests of >= 1 h" in status["OCV branches"].detail
    assert status["hysteresis"].status == "not identified"
    assert out.residuals["hppc"]["rmse_mv"] < 5.0


def test_a_multi_cell_file_must_pick_its_cell(truth):
    rec = lab_record(truth, OCV_TEST[:1], "two", 0.99)
    two = type(rec)(rec.name, rec.path, rec.time, rec.current, np.hstack([rec.voltage, rec.voltage]))
    with pytest.raises(FitError, match="pick one with --cell"):
        fit_cell([two], ParameterSet.load("a123_2p3ah_16s"))
    assert bench_pack(truth).n == 1


def test_tests_at_two_temperatures_give_tables_over_temperature(truth):
    cold = 10.0
    stack = {}
    for key in ("cell.ocv_charge", "cell.ocv_discharge", "cell.r0", "cell.r1", "cell.r2"):
        row = list(np.asarray(truth[key], float))
        factor = 1.0 if key.startswith("cell.ocv") else 1.8  # resistances rise in the cold
        stack[key] = [[x * factor for x in row], row]
    two = truth.updated({"cell.table_temperature": [cold, 25.0], **stack})
    low_rate = ["Discharge at C/10 for 8 hours", "Rest for 1 hour", "Charge at C/10 for 8 hours"]
    records = [lab_record(two, low_rate, "slow", 0.9, temperature=25.0),
               lab_record(two, HPPC_CYCLE, "hppc", 0.9, seed=2, repeat=4, temperature=25.0),
               lab_record(two, HPPC_CYCLE, "hppc_cold", 0.9, seed=3, repeat=4, temperature=cold)]
    out = fit_cell(records, truth, max_evaluations=12)
    temps = out.params["cell.table_temperature"]
    assert len(temps) == 2 and temps[0] == pytest.approx(cold, abs=0.5) and temps[1] == pytest.approx(25.0, abs=0.5)
    r0 = np.asarray(out.params["cell.r0"], float)
    probed = (SOC_GRID >= 0.55) & (SOC_GRID <= 0.9)  # where the four pulse cycles from 90 % SOC sit
    ratio = np.median(r0[0][probed] / r0[1][probed])
    assert ratio == pytest.approx(1.8, rel=0.1)
    assert {f.parameter: f.status for f in out.findings}["temperature dependence"] == "identified"
    assert any("borrowed from the fit at" in n for n in out.notes)  # the cold group has pulses only
