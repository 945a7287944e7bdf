"""A pulse test whose stated SOC is off: its windows are replayed where its rests sit on the OCV, and
rests where its curve does not follow the OCV test's place nothing (twin.fit_placement)."""

import numpy as np
import pytest

from twin.fit_cell import fit_cell
from twin.fit_model import SOC_GRID
from twin.fit_placement import REST_AGREEMENT, place_windows

from .fit_synthetic import HPPC_CYCLE, OCV_TEST, lab_record, truth_cell

Q = 2.3
DT = 10.0


def _rests_and_discharges(rest_voltages):
    """Rests of 2000 s, each followed by a 0.1C discharge of 1 h (0.1 of capacity), at DT."""
    current, voltage = [], []
    for v in rest_voltages:
        current += [0.0] * 200 + [-0.1 * Q] * 360
        voltage += [v] * 200 + [v - 0.05] * 360
    return np.array(current), np.array(voltage)


def test_rests_place_their_windows_and_a_plateau_the_ocv_lacks_places_nothing():
    mean = 3.0 + 0.5 * SOC_GRID  # an OCV steep enough that every mV places the SOC to 0.2 %
    true_soc = [0.9, 0.8, 0.7, 0.6]
    volts = [3.0 + 0.5 * s for s in true_soc]
    volts[0] = volts[1]  # the cell sits on a plateau the OCV test does not have between its first two rests
    current, voltage = _rests_and_discharges(volts)
    stated = 0.7  # 0.2 below where the cell is
    soc = stated + np.r_[0.0, np.cumsum(current[1:])] * DT / 3600.0 / Q
    placement = place_windows(current, voltage, DT, soc, mean, Q)
    assert placement is not None
    ends = [199 + 560 * k for k in range(4)]
    for k in (1, 2, 3):
        assert placement.soc[ends[k]] == pytest.approx(true_soc[k], abs=0.002)
    assert placement.kept[ends[2]] and placement.kept[ends[3]]
    assert not placement.kept[ends[0]]  # moved with the others it misses the OCV by 50 mV: the plateau
    assert not placement.kept[ends[1]]  # on the OCV, but next to the plateau
    assert any("left out" in n for n in placement.notes)
    for first, last, s0 in placement.segments:
        assert 0.0 <= s0 <= 1.0 and placement.soc[first] == pytest.approx(s0)
    assert place_windows(current, voltage, DT, soc, mean, Q, span=(0.0, 0.3)) is None  # no rest the OCV can judge


def test_rests_on_the_ocv_at_the_stated_soc_change_nothing():
    mean = 3.0 + 0.5 * SOC_GRID
    current, voltage = _rests_and_discharges([3.0 + 0.5 * s + 0.8 * REST_AGREEMENT for s in (0.9, 0.8, 0.7)])
    soc = 0.9 + np.r_[0.0, np.cumsum(current[1:])] * DT / 3600.0 / Q
    assert place_windows(current, voltage, DT, soc, mean, Q) is None


def test_rests_anywhere_within_the_hysteresis_band_change_nothing():
    # a cell with a 40 mV branch gap rests 20 mV below the mean after discharging: that is hysteresis,
    # not a wrong SOC (read against the mean alone it would move the pulses by 0.04 of SOC)
    mean = 3.0 + 0.5 * SOC_GRID
    band = (mean - 0.020, mean + 0.020)
    current, voltage = _rests_and_discharges([3.0 + 0.5 * s - 0.020 for s in (0.9, 0.8, 0.7)])
    soc = 0.9 + np.r_[0.0, np.cumsum(current[1:])] * DT / 3600.0 / Q
    assert place_windows(current, voltage, DT, soc, mean, Q, band=band) is None
    assert place_windows(current, voltage, DT, soc, mean, Q) is not None


@pytest.fixture(scope="module")
def truth():
    # the round-trip cell with a slow pair that one-hour rests can identify (its own 3246 s cannot be,
    # whatever the SOC): this test is about where pulses are replayed, not about that pair
    return truth_cell().updated({"cell.tau2": 300.0})


def test_a_pulse_test_with_a_wrong_stated_soc_gives_the_resistances_of_one_stated_right(truth):
    ocv = lab_record(truth, OCV_TEST, "ocv", 0.99, seed=1)
    right = lab_record(truth, HPPC_CYCLE, "hppc", 0.8, seed=2, repeat=7)
    wrong = lab_record(truth, HPPC_CYCLE, "hppc", 0.8, seed=2, repeat=7)
    wrong.initial_soc = 0.98  # as if the protocol said 98 % but the cell started at 80 %
    ref = fit_cell([ocv, right], truth)
    out = fit_cell([ocv, wrong], truth)
    assert not any("where the OCV places its rests" in n for n in ref.notes)
    assert any("where the OCV places its rests" in n for n in out.notes)
    probed = (SOC_GRID >= 0.15) & (SOC_GRID <= 0.75)  # where the seven cycles from 80 % SOC sit

    def table(pset, key):
        return np.interp(SOC_GRID, np.asarray(pset["cell.table_soc"], float), np.asarray(pset[key], float))[probed]

    assert np.all(np.abs(table(out.params, "cell.r0") / table(ref.params, "cell.r0") - 1) < 0.10)
    assert np.median(np.abs(table(out.params, "cell.r0") / table(truth, "cell.r0") - 1)) < 0.05
    dc, dc_ref = (sum(table(p, k) for k in ("cell.r0", "cell.r1", "cell.r2")) for p in (out.params, ref.params))
    assert np.median(np.abs(dc / dc_ref - 1)) < 0.06
    assert out.params["cell.tau2"] == pytest.approx(ref.params["cell.tau2"], rel=0.1)
    assert out.params["cell.tau2"] == pytest.approx(truth["cell.tau2"], rel=0.25)
    assert out.residuals["hppc"]["rmse_mv"] < 2.0
