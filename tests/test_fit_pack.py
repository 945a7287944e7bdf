"""twin fit pack: per-cell capacity, R0, initial SOC and self-discharge relative to the peers,
recovered from a log the twin itself simulated (sensor noise, ADC step, current-sensor offset,
passive balancing), within the tolerances stated here and in docs/fitting.md."""

import numpy as np
import pytest

from twin.errors import FitError
from twin.fit_data import Record
from twin.fit_pack import fit_pack
from twin.params import ParameterSet

from .fit_synthetic import duty_profile, pack_record

CELLS = 8
LEAKY = 3


@pytest.fixture(scope="module")
def pack_truth():
    rng = np.random.default_rng(7)
    base = ParameterSet.load("a123_2p3ah_16s").updated({"pack.cells_in_series": CELLS, "pack.temperature_sensors": [0, 7]})
    leak = [0.0001] * CELLS
    leak[LEAKY] = 0.0046  # 0.2 %C, the dev packs' self-discharge fault
    truth = base.updated({"cell.capacity": (2.3 * (1 + 0.015 * rng.standard_normal(CELLS))).tolist(),
                          "cell.resistance_factor": (1 + 0.1 * rng.standard_normal(CELLS)).tolist(),
                          "cell.initial_soc": (0.55 + 0.015 * rng.standard_normal(CELLS)).tolist(),
                          "cell.self_discharge": leak, "sensor.current_offset": 0.002, "sensor.current_noise": 0.003})
    return base, truth, pack_record(truth, duty_profile(2.0, 2.3))


def rel(x):
    return np.asarray(x) / np.median(x) - 1


def centred(x):
    return np.asarray(x) - np.median(x)


def _check(out, truth, tol=1.0):
    pc = out.per_cell
    assert np.max(np.abs(rel(pc["capacity_ah"]) - rel(truth["cell.capacity"]))) < 0.005 * tol  # 0.5 % of capacity
    assert np.max(np.abs(rel(pc["resistance_factor"]) - rel(truth["cell.resistance_factor"]))) < 0.02 * tol  # 2 % of R
    assert np.max(np.abs(centred(pc["initial_soc"]) - centred(truth["cell.initial_soc"]))) < 0.003 * tol  # 0.3 % SOC
    assert np.max(np.abs(centred(pc["self_discharge_a"]) - centred(truth["cell.self_discharge"]))) < 0.0003 * tol  # 0.3 mA


def test_round_trip_recovers_each_cell_against_its_peers(pack_truth):
    base, truth, record = pack_truth
    out = fit_pack(record, base)
    _check(out, truth)
    assert any(f"cell {LEAKY} stands out: self-discharge" in n for n in out.notes)
    assert sum("stands out" in n for n in out.notes) == 1
    assert out.params["cell.capacity"] == pytest.approx(list(out.per_cell["capacity_ah"]))
    assert all(r["rmse_mv"] < 1.0 for r in out.residuals.values())


def test_a_voltage_channel_running_ahead_of_the_current_is_aligned_first(pack_truth):
    base, truth, record = pack_truth
    k = 6
    ahead = Record(record.name, record.path, record.time, record.current,
                   np.vstack([record.voltage[k:], np.repeat(record.voltage[-1:], k, axis=0)]),
                   balancing=record.balancing, capacity_ah=record.capacity_ah, bleed_resistance_ohm=record.bleed_resistance_ohm)
    out = fit_pack(ahead, base)
    assert any("lead the current by 6 s" in n for n in out.notes)
    _check(out, truth, tol=2.0)


def test_a_short_log_is_refused(pack_truth):
    base, _, record = pack_truth
    n = 3600
    short = Record("short", "short.h5", record.time[:n], record.current[:n], record.voltage[:n])
    with pytest.raises(FitError, match="too short to tell cells apart"):
        fit_pack(short, base)
