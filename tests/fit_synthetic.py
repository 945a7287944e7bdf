"""Data the twin itself simulates, for the fit round trips: lab tests of one cell and a pack log,
measured through the twin's own sensor model (noise, ADC rounding, current-sensor offset)."""

from pathlib import Path

import numpy as np

from twin.fit_data import Record
from twin.fit_model import bench_pack
from twin.params import ParameterSet

OCV_TEST = ["Discharge at C/20 for 19 hours", "Rest for 2 hours", "Charge at C/20 for 19 hours"]
HPPC_CYCLE = ["Rest for 30 seconds", "Discharge at 1C for 30 seconds", "Rest for 40 seconds",
              "Charge at 0.75C for 10 seconds", "Rest for 40 seconds", "Discharge at 0.1C for 1 hour", "Rest for 1 hour"]


TRUTH_CELL = Path(__file__).resolve().parent / "data" / "fit_truth_cell.toml"


def truth_cell() -> ParameterSet:
    """A fitted cell frozen as a test file (tests/data/fit_truth_cell.toml), as one cell: the structure
    the fit assumes, with realistic values and a hysteresis gap (the shipped set, refitted whenever
    the fit improves, may have none to recover)."""
    from twin.fit_model import resized

    return resized(ParameterSet.from_file(TRUTH_CELL), 1)


def lab_record(pset, steps, name, initial_soc, voltage_noise=0.0005, seed=1, repeat=1, temperature=25.0) -> Record:
    from twin.experiment import Experiment

    pack = bench_pack(pset, **{"sensor.voltage_noise": voltage_noise, "sensor.voltage_resolution": 1e-4,
                               "sensor.seed": seed, "cell.initial_soc": initial_soc, "pack.initial_temperature": temperature})
    res = pack.run(Experiment(steps, repeat), 1.0, ambient=temperature,
                   record=["pack.applied_current", "cell.voltage_measured", "cell.temperature"])
    current = np.r_[0.0, res["pack.applied_current"][1:]]
    return Record(name, f"{name} (simulated)", res.time, current, res["cell.voltage_measured"],
                  res["cell.temperature"], (0,), None, float(pset["cell.capacity"]), None, initial_soc)


def duty_profile(days: float, capacity_ah: float, seed: int = 3) -> np.ndarray:
    """An off-grid day at 1 Hz (A, charge positive): night base load with 20 s spikes, a cloudy
    midday charge, an evening load; the daily charge and discharge balance."""
    rng = np.random.default_rng(seed)
    n = int(days * 86400)
    t = np.arange(n) % 86400 / 3600.0
    i = np.where(t < 9, -0.02, 0.0) + np.where((t >= 18), -0.07, 0.0)
    sun = (t >= 9) & (t < 16)
    clouds = np.repeat(rng.uniform(0.5, 1.0, n // 600 + 1), 600)[:n]
    i = i + sun * 0.22 * np.sin(np.pi * (t - 9) / 7) * clouds
    spikes = np.zeros(n)
    for start in rng.choice(n - 30, size=int(days * 40), replace=False):
        spikes[start:start + 20] = -rng.uniform(0.3, 0.6)
    i = (i + spikes) * capacity_ah
    # balance the day: scale the charge so the net charge per day is zero
    pos = i.clip(min=0).sum()
    if pos > 0:
        i = np.where(i > 0, i * (-i.clip(max=0).sum() / pos), i)
    return i


def pack_record(pset, current, name="pack", seed=5) -> Record:
    pack = bench_pack(pset, cells=int(pset["pack.cells_in_series"]),
                      **{"balancer.topology": "passive", "balancer.policy": "voltage_delta", "sensor.seed": seed})
    res = pack.run(current, 1.0, record=["pack.current_measured", "cell.voltage_measured", "balancer.active"])
    cur = np.r_[res["pack.current_measured"][1], res["pack.current_measured"][1:]]
    return Record(name, f"{name} (simulated)", res.time, cur, res["cell.voltage_measured"], None, (),
                  np.abs(res["balancer.active"]), float(np.mean(pset["cell.capacity"])), float(pset["balancer.bleed_resistance"]))
