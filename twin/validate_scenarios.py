"""Scenarios for ``twin validate``: what the pack goes through while the firmware runs it.

A scenario file is TOML; a suite is a directory of them (every ``*.toml``, in name order) or one
file with several ``[[scenario]]`` tables::

    name = "commissioning imbalance"
    description = "cells assembled 1-3 % apart; ten solar days"
    params = "eve_lf280k_16s"        # parameter set: a name or a file (relative to this file)
    step = "1 s"                     # the twin's step
    sensor_delay = "0 s"             # the firmware reads values this old
    inverter_obeys_limits = true     # a DVCC inverter keeps to CVL, CCL, DCL (false: it ignores them)
    expect_full_charge = true        # if the pack never tops out, the top-of-charge check fails
    ambient = 25                     # degC; or { mean = 25, swing = 5 } for a daily swing
    skip = ["balancing"]             # checks this scenario does not judge (ids or groups)
    repeat = 1                       # run the drive segments this many times

    [parameters]                     # changes to the parameter set (docs/variables.md)
    "spread.soc" = 0.02
    "sensor.voltage_noise" = 0.001

    [[faults]]                       # faults switched on at a time (twin.faults)
    cell = 3
    kind = "leak_current"
    value = 0.05
    onset = "1 day"

    [[drive]]                        # what the charger and the loads ask for, in order
    solar = "10 days"                # off-grid days (twin.scenarios.solar_profile): charge, night,
    charge = "0.3C"                  # evening load; optional charge, night, evening, seed
    [[drive]]
    rest = "3 h"
    [[drive]]
    charge = "0.5C"                  # a constant request for a time (also discharge = ...,
    for = "4 h"                      # current = "-20 A")
    [[drive]]
    profile = "load.csv"             # a current profile (twin.profiles: CSV or HDF5)

Each drive segment may set its own ``ambient``. The inverter turns the request into current
within what the firmware allows (docs/validation.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ExperimentError, ParameterError, ValidationError, read_toml, suggest
from .faults import faults_from_records
from .params import ParameterSet
from .units import parse_current
from .validate_limits import quantity

SCENARIO_KEYS = ("name", "description", "params", "step", "sensor_delay", "inverter_obeys_limits",
                 "expect_full_charge", "ambient", "skip", "repeat", "parameters", "faults", "drive")
DRIVE_KINDS = ("solar", "rest", "charge", "discharge", "current", "profile")
DRIVE_KEYS = {"solar": ("solar", "charge", "night", "evening", "seed", "ambient"),
              "rest": ("rest", "ambient"),
              "charge": ("charge", "for", "ambient"),
              "discharge": ("discharge", "for", "ambient"),
              "current": ("current", "for", "ambient"),
              "profile": ("profile", "ambient")}

# The twin's own protection out of reach: in the loop, the firmware is the BMS.
PROTECTION_OFF = {
    "protection.cell_overvoltage": 10.0, "protection.cell_overvoltage_release": 9.9,
    "protection.cell_undervoltage": 0.0, "protection.cell_undervoltage_release": 0.1,
    "protection.charge_overcurrent": 1e6, "protection.discharge_overcurrent": 1e6,
    "protection.charge_overtemperature": 300.0, "protection.charge_overtemperature_release": 299.0,
    "protection.discharge_overtemperature": 300.0, "protection.discharge_overtemperature_release": 299.0,
    "protection.charge_undertemperature": -100.0, "protection.charge_undertemperature_release": -99.0,
    "protection.discharge_undertemperature": -100.0, "protection.discharge_undertemperature_release": -99.0,
    "balancer.policy": "external",
}


@dataclass
class Segment:
    kind: str
    seconds: float
    current: float = 0.0          # A, for constant segments
    options: dict = field(default_factory=dict)
    ambient: object = None        # None: the scenario's


@dataclass
class Scenario:
    """One scenario, resolved: parameters (with faults), step, drive and ambient."""

    name: str
    source: str
    params: ParameterSet
    description: str = ""
    step: float = 1.0
    sensor_delay: float = 0.0
    obey_limits: bool = True
    expect_full_charge: bool = False
    ambient: object = 25.0
    segments: list = field(default_factory=list)
    skip: tuple = ()              # check ids (or their prefixes, e.g. "balancing") this scenario does not judge
    twin_fmu: object = None       # the twin FMU built for a firmware FMU (twin.firmware_fmu)

    @property
    def duration(self) -> float:
        return sum(s.seconds for s in self.segments)

    @property
    def steps(self) -> int:
        return sum(_steps(s.seconds, self.step) for s in self.segments)

    def loop_params(self) -> ParameterSet:
        """The parameter set the twin runs with: the scenario's, its own protection off, external balancing."""
        return self.params.updated(PROTECTION_OFF)

    def drive(self) -> tuple[np.ndarray, np.ndarray]:
        """(requested current A, ambient degC), one value per step."""
        from .scenarios import solar_profile

        cap = self.params.capacity_ah
        currents, ambients, t0 = [], [], 0.0
        for seg in self.segments:
            n = _steps(seg.seconds, self.step)
            if seg.kind == "solar":
                o = seg.options
                days = n * self.step / 86400.0
                cur = solar_profile(cap, days, self.step, seed=o.get("seed", 0), charge_c=o.get("charge", 0.3),
                                    night_c=o.get("night", 0.025), evening_c=o.get("evening", 0.08))[:n]
            elif seg.kind == "profile":
                cur = seg.options["profile"][:n]
            else:
                cur = np.full(n, seg.current)
            amb = seg.ambient if seg.ambient is not None else self.ambient
            if isinstance(amb, dict):  # twin.scenarios.ambient_profile's law, from this segment's start
                t = t0 + np.arange(n) * self.step
                a = amb["mean"] + amb["swing"] * np.sin(2 * np.pi * (t / 86400.0 - 0.375))
            else:
                a = np.full(n, float(amb))
            currents.append(cur)
            ambients.append(a)
            t0 += n * self.step
        return np.concatenate(currents), np.concatenate(ambients)


def _steps(seconds: float, step: float) -> int:
    return max(1, int(round(seconds / step)))


# --- reading files ----------------------------------------------------------------------------------

def load_suite(path) -> list[Scenario]:
    """Every scenario of a file or a directory of files."""
    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob("*.toml"))
        if not files:
            raise ValidationError(f"scenario directory {p} holds no .toml files")
    elif p.is_file():
        files = [p]
    else:
        raise ValidationError(f"scenarios {p}: no such file or directory")
    out = []
    for f in files:
        out.extend(load_file(f))
    names = [s.name for s in out]
    for name in names:
        if names.count(name) > 1:
            raise ValidationError(f"{p}: two scenarios are named {name!r}; names must differ (they name the test cases)")
    return out


def load_file(path) -> list[Scenario]:
    p = Path(path)
    data = read_toml(p, ValidationError, "scenario file")
    if "scenario" in data:
        if set(data) != {"scenario"} or not isinstance(data["scenario"], list):
            raise ValidationError(f"{p}: a suite file holds only [[scenario]] tables")
        return [from_mapping(d, p, k) for k, d in enumerate(data["scenario"])]
    return [from_mapping(data, p)]


def from_mapping(data: dict, path: Path, index: int | None = None) -> Scenario:
    src = f"{path}" + (f" [[scenario]] {index + 1}" if index is not None else "")
    for key in data:
        if key not in SCENARIO_KEYS:
            raise ValidationError(f"{src}: unknown key {key!r}{suggest(key, SCENARIO_KEYS)}; keys: {', '.join(SCENARIO_KEYS)}")
    name = data.get("name", Path(path).stem if index is None else f"{Path(path).stem}-{index + 1}")
    base_dir = Path(path).parent
    try:
        params = _params(data, base_dir, src)
    except ParameterError as e:
        raise ValidationError(f"{src}: {e}") from None
    step = _duration(data.get("step", 1.0), f"{src}: step")
    if not step > 0:
        raise ValidationError(f"{src}: step must be positive, got {data.get('step')!r}")
    s = Scenario(str(name), src, params, str(data.get("description", "")), step,
                 _duration(data.get("sensor_delay", 0.0), f"{src}: sensor_delay"),
                 _flag(data.get("inverter_obeys_limits", True), f"{src}: inverter_obeys_limits"),
                 _flag(data.get("expect_full_charge", False), f"{src}: expect_full_charge"),
                 _ambient(data.get("ambient", 25.0), f"{src}: ambient"))
    drive = data.get("drive")
    if not isinstance(drive, list) or not drive:
        raise ValidationError(f"{src}: needs at least one [[drive]] segment (solar, rest, charge, discharge, current "
                              "or profile)")
    s.segments = [_segment(d, k, params, base_dir, src) for k, d in enumerate(drive)]
    repeat = data.get("repeat", 1)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= 10000:
        raise ValidationError(f"{src}: repeat must be a whole number from 1 to 10000, got {repeat!r}")
    s.segments = s.segments * repeat
    s.skip = _skip(data.get("skip", []), src)
    if not _whole(s.sensor_delay, step):
        raise ValidationError(f"{src}: sensor_delay {s.sensor_delay:g} s is not a whole number of {step:g} s steps")
    for k, seg in enumerate(s.segments):
        if seg.kind == "profile" and not math.isclose(seg.options["dt"], step, rel_tol=1e-6):
            raise ValidationError(f"{src}: [[drive]] {k + 1}: the profile's step is {seg.options['dt']:g} s, the "
                                  f"scenario's {step:g} s; set step = {seg.options['dt']:g} or resample the profile")
    return s


def _whole(seconds: float, step: float) -> bool:
    return abs(seconds / step - round(seconds / step)) < 1e-6


def _params(data: dict, base_dir: Path, src: str) -> ParameterSet:
    name = data.get("params", "eve_lf280k_16s")
    candidate = base_dir / str(name)
    base = ParameterSet.load(candidate if candidate.suffix.lower() in (".toml", ".json") and candidate.exists() else name)
    changes = data.get("parameters", {})
    if not isinstance(changes, dict):
        raise ValidationError(f"{src}: [parameters] must be a table of parameter ids and values")
    faults = faults_from_records(data.get("faults", []), src)
    params = base.updated(changes, faults=base.faults + tuple(faults), source=f"{base.source} as {src} changes it")
    from .params import build_kernel

    build_kernel(params.updated(PROTECTION_OFF))  # every value checked now, not in the middle of a suite
    return params


def _skip(value, src: str) -> tuple:
    from .validate_limits import SECTIONS

    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{src}: skip must be a list of check ids or groups, e.g. [\"balancing\"]")
    for v in value:
        if v.split(".")[0] not in (*SECTIONS, "firmware"):
            raise ValidationError(f"{src}: skip {v!r}: check ids start with one of {', '.join(SECTIONS)}")
    return tuple(value)


def _duration(value, where: str) -> float:
    return quantity(value, "duration", where)


def _flag(value, where: str) -> bool:
    return quantity(value, "flag", where)


def _ambient(value, where: str):
    if isinstance(value, dict):
        extra = set(value) - {"mean", "swing"}
        if extra or "mean" not in value:
            raise ValidationError(f"{where}: write a temperature in degC, or {{ mean = 25, swing = 5 }}")
        out = {"mean": value["mean"], "swing": value.get("swing", 0.0)}
        for k, v in out.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValidationError(f"{where}: {k} must be a number (degC, K)")
        return {k: float(v) for k, v in out.items()}
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -60 <= value <= 120:
        raise ValidationError(f"{where}: {value!r} must be a temperature in degC between -60 and 120")
    return float(value)


def _segment(d, k: int, params: ParameterSet, base_dir: Path, src: str) -> Segment:
    where = f"{src}: [[drive]] {k + 1}"
    if not isinstance(d, dict):
        raise ValidationError(f"{where} must be a table")
    kinds = [kind for kind in DRIVE_KINDS if kind in d and not (kind == "charge" and "solar" in d)]
    if len(kinds) != 1:
        raise ValidationError(f"{where}: give one of {', '.join(DRIVE_KINDS[:-1])} or {DRIVE_KINDS[-1]}; got "
                              f"{', '.join(sorted(d)) or 'nothing'}")
    kind = kinds[0]
    for key in d:
        if key not in DRIVE_KEYS[kind]:
            raise ValidationError(f"{where}: unknown key {key!r} for a {kind} segment{suggest(key, DRIVE_KEYS[kind])}; "
                                  f"keys: {', '.join(DRIVE_KEYS[kind])}")
    ambient = _ambient(d["ambient"], f"{where} ambient") if "ambient" in d else None
    cap = params.capacity_ah
    try:
        if kind == "solar":
            options = {"seed": d.get("seed", 0)}
            for key in ("charge", "night", "evening"):
                if key in d:
                    options[key] = parse_current(d[key], cap, f"{where} {key}") / cap
            if isinstance(options["seed"], bool) or not isinstance(options["seed"], int):
                raise ValidationError(f"{where}: seed must be a whole number")
            return Segment(kind, _duration(d["solar"], f"{where} solar"), options=options, ambient=ambient)
        if kind == "rest":
            return Segment(kind, _duration(d["rest"], f"{where} rest"), 0.0, ambient=ambient)
        if kind == "profile":
            from .profiles import read_profile

            current, dt = read_profile(base_dir / str(d["profile"]))
            if dt is None:
                raise ValidationError(f"{where}: {d['profile']} has no time column; add one (s) so that its step is known")
            return Segment(kind, len(current) * dt, options={"profile": current, "dt": dt}, ambient=ambient)
        if "for" not in d:
            raise ValidationError(f"{where}: a {kind} segment needs for = '<duration>'")
        amps = parse_current(d[kind], cap, f"{where} {kind}")
        if kind == "charge":
            amps = abs(amps)
        elif kind == "discharge":
            amps = -abs(amps)
        return Segment(kind, _duration(d["for"], f"{where} for"), amps, ambient=ambient)
    except (ParameterError, ExperimentError) as e:
        raise ValidationError(str(e)) from None


__all__ = ["Scenario", "Segment", "load_suite", "load_file", "PROTECTION_OFF"]
