"""Duty profiles and labelled logs simulated by the twin itself.

``solar_profile`` is an off-grid day: a night base load with spikes, a midday solar charge under
passing clouds, an evening load, so that a pack cycles between about a third full and full and
crosses the steep parts of the LFP OCV curve every day. ``simulate_log`` runs a pack through it
with an inverter that obeys the BMS's charge and discharge limits (DVCC), measures it like a BMS
(noise, ADC steps, current-sensor error) and writes a canonical log; the injected faults and the
sensor errors are stored in the ``truth`` attribute, which the detector never reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .faults import Fault
from .logs import CanonicalWriter
from .pack import Pack
from .params import ParameterSet


def solar_profile(capacity_ah: float, days: float, dt: float = 1.0, seed: int = 0, charge_c: float = 0.3,
                  night_c: float = 0.025, evening_c: float = 0.08, start_day: int = 0) -> np.ndarray:
    """Pack current (A, positive charging) for `days` of off-grid duty at step dt (s), from day
    `start_day`. Each day is drawn from its own seed, so a long duty can be made a day at a time and
    is the same however it is cut."""
    n = int(round(days * 86400.0 / dt))
    per_day = int(round(86400.0 / dt))
    out = np.empty(n)
    first = start_day
    for k in range(0, n, per_day):
        day = first + k // per_day
        out[k:k + per_day] = _solar_day(capacity_ah, dt, seed, day, charge_c, night_c, evening_c)[:n - k]
    return out


def _solar_day(capacity_ah, dt, seed, day, charge_c, night_c, evening_c) -> np.ndarray:
    rng = np.random.default_rng([seed, day])
    n = int(round(86400.0 / dt))
    t = np.arange(n) * dt
    hour = t / 3600.0
    current = -night_c * capacity_ah * np.ones(n)
    # appliances switching: a kettle, a pump, a microwave: 0.05-0.3C for half a minute to five minutes
    for start in rng.uniform(0, n * dt, size=30):
        k0 = int(start / dt)
        current[k0:k0 + int(rng.uniform(30, 300) / dt)] -= rng.uniform(0.05, 0.3) * capacity_ah
    # midday sun with clouds (a smooth random attenuation), a little different every day
    sun = np.clip(np.sin(np.pi * (hour - 7.0) / 11.0), 0.0, None)
    knots = np.arange(0, n * dt + 1800, 1800)
    clouds = np.interp(t, knots, rng.uniform(0.55, 1.0, size=len(knots)))
    current += charge_c * capacity_ah * sun * clouds * rng.uniform(0.85, 1.0)
    current -= np.where((hour >= 18.0) & (hour < 22.5), evening_c * capacity_ah, 0.0)
    return current


def ambient_profile(days: float, dt: float = 1.0, mean_c: float = 25.0, swing_k: float = 5.0,
                    start_day: int = 0) -> np.ndarray:
    """Daily ambient swing, warmest mid-afternoon."""
    t = (start_day * 86400.0) + np.arange(int(round(days * 86400.0 / dt))) * dt
    return mean_c + swing_k * np.sin(2 * np.pi * (t / 86400.0 - 0.375))


@dataclass
class LogScenario:
    """What to simulate: a pack, its faults, its BMS's measurement errors."""

    params: object = "eve_lf280k_16s"
    days: float = 3.0
    dt: float = 1.0
    faults: tuple = ()
    seed: int = 0
    initial_soc: float = 0.6
    current_gain_error: float | None = None  # None: drawn within +-0.5 %
    current_offset_c: float | None = None    # offset as a C-rate; None: drawn within +-0.1 %C
    voltage_noise: float = 0.001
    temperature_noise: float = 0.2
    changes: dict = field(default_factory=dict)
    compact: bool = False  # store readings as integer counts of their measurement steps, as a BMS logs them


def simulate_log(path, scenario: LogScenario) -> dict:
    """Simulate `scenario`, write a canonical log to `path`, return the truth (also stored in the log).
    The pack runs a day at a time, each day appended to the log: any length fits in memory."""
    rng = np.random.default_rng(scenario.seed + 1000)
    base = scenario.params if isinstance(scenario.params, ParameterSet) else ParameterSet.load(scenario.params)
    cap = base.capacity_ah
    gain = scenario.current_gain_error if scenario.current_gain_error is not None else float(rng.uniform(-0.005, 0.005))
    offset = (scenario.current_offset_c if scenario.current_offset_c is not None else float(rng.uniform(-0.001, 0.001))) * cap
    changes = {
        "cell.initial_soc": scenario.initial_soc,
        "spread.seed": scenario.seed,
        "sensor.voltage_noise": scenario.voltage_noise,
        "sensor.voltage_resolution": 0.001,
        "sensor.temperature_noise": scenario.temperature_noise,
        "sensor.temperature_resolution": 0.1,
        "sensor.current_gain_error": gain,
        "sensor.current_offset": offset,
        "sensor.current_noise": 0.0005 * cap,
        "sensor.current_resolution": 0.0002 * cap,
        "sensor.seed": scenario.seed,
        **scenario.changes,
    }
    pack = Pack(base, faults=list(scenario.faults), **changes)
    record = ["cell.voltage_measured", "cell.temperature_measured", "pack.current_measured", "pack.voltage",
              "balancer.commanded", "cell.soc", "bms.charge_enable", "bms.discharge_enable"]
    sensors = [i for i in range(pack.n) if pack["cell.temperature_sensor"][i] > 0.5]
    truth = {
        "faults": [f.to_record() for f in scenario.faults],
        "current_gain_error": gain,
        "current_offset_a": offset,
        "parameters": base.source,
        "seed": scenario.seed,
    }
    resolution = ({"cell_voltage": 0.001, "temperature": 0.1, "pack_voltage": 0.001, "current": 0.001}
                  if scenario.compact else None)
    attrs = {"truth": json.dumps(truth), "source": "simulated by twin.scenarios.simulate_log"}
    with CanonicalWriter(path, pack.n, sensors, cap, float(pack["balancer.bleed_resistance"]), attrs,
                         resolution) as log:
        day, left = 0, scenario.days
        while left > 1e-9:
            days = min(1.0, left)
            profile = solar_profile(cap, days, scenario.dt, seed=scenario.seed, start_day=day)
            ambient = ambient_profile(days, scenario.dt, start_day=day)
            r = pack.run(profile, scenario.dt, ambient=ambient, record=record, obey_limits=True)
            keep = slice(0 if day == 0 else 1, None)  # each run repeats the state it starts from
            log.append(r.time[keep], r["pack.current_measured"][keep], r["cell.voltage_measured"][keep],
                       temperature=r["cell.temperature_measured"][keep][:, sensors],
                       pack_voltage=r["pack.voltage"][keep], balancing=r["balancer.commanded"][keep],
                       states={"charge_enable": r["bms.charge_enable"][keep],
                               "discharge_enable": r["bms.discharge_enable"][keep]})
            day, left = day + 1, left - days
    truth["soc_final"] = pack["cell.soc"].tolist()
    return truth


__all__ = ["solar_profile", "ambient_profile", "LogScenario", "simulate_log", "Fault"]
