"""Limits for ``twin validate``, in the terms a buyer writes into a BMS specification.

A limits file is TOML; every key is optional and a check runs only for what the file gives.
Quantities carry their unit ("3.65 V", "30 mV", "0.5C", "150 mA", "45 degC", "5 K", "30 Wh",
"2 s", "7 days"); a bare number is in SI units (V, A, degC, K, Wh, s)::

    [cells]                          # the cells' safe window, on the twin's true cell states
    max_voltage = "3.65 V"
    min_voltage = "2.50 V"
    max_temperature = "55 degC"
    max_time_outside = "5 s"         # longest excursion tolerated (default 0)

    [balancing]
    top_of_charge_voltage = "3.45 V" # a day tops out when its highest reading reaches this
    max_top_of_charge_spread = "30 mV"
    time_to_balance = "10 days"
    max_balancing_current = "150 mA"
    max_balancing_cells = 8
    no_adjacent = true               # never two neighbouring bleed switches on (bq769x0)
    balance_while_discharging = false
    max_energy_dissipated_per_day = "60 Wh"
    max_thermal_rise = "5 K"         # hottest cell over ambient

    [protection.cell_overvoltage]    # every channel: limit, release, delay (+ recovery, min_delay)
    limit = "3.65 V"
    release = "3.40 V"
    delay = "2 s"

    [charge_limits]
    max_cvl_per_cell = "3.55 V"
    max_ccl = "0.5C"
    ccl_zero_above = "3.60 V"
    dcl_zero_below = "2.80 V"
    ccl_zero_below_temperature = "0 degC"

docs/validation.md says what each check measures and how it decides.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ParameterError, ValidationError, read_toml, suggest
from .units import parse_duration

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z°%/]*)\s*$")
UNITS = {
    "voltage": {"": 1.0, "V": 1.0, "mV": 1e-3},
    "current": {"": 1.0, "A": 1.0, "mA": 1e-3},
    "temperature": {"": 1.0, "degC": 1.0, "°C": 1.0},
    "kelvin": {"": 1.0, "K": 1.0, "degC": 1.0, "°C": 1.0},
    "energy": {"": 1.0, "Wh": 1.0, "kWh": 1e3, "mWh": 1e-3},
    "percent": {"": 1.0, "%": 1.0},
    "count": {"": 1.0},
}
EXAMPLES = {"voltage": "'3.65 V' or '30 mV'", "current": "'140 A', '150 mA' or '0.5C'",
            "temperature": "'45 degC'", "kelvin": "'5 K'", "energy": "'30 Wh'", "duration": "'2 s' or '7 days'",
            "percent": "'10 %'", "count": "a whole number", "flag": "true or false"}


@dataclass(frozen=True)
class Current:
    """A current written in amperes or as a C-rate of the pack's capacity."""

    amps: float = 0.0
    c_rate: float = 0.0

    def at(self, capacity_ah: float) -> float:
        return self.amps + self.c_rate * capacity_ah

    def __str__(self) -> str:
        return f"{self.c_rate:g}C" if self.c_rate else f"{self.amps:g} A"


def quantity(value, kind: str, where: str):
    """The value of `value` in SI for a quantity of `kind`; ValidationError naming where."""
    if kind == "flag":
        if not isinstance(value, bool):
            raise ValidationError(f"{where}: {value!r} is not {EXAMPLES[kind]}")
        return value
    if kind == "duration":
        try:
            seconds = parse_duration(value, where)
        except ParameterError as e:
            raise ValidationError(str(e)) from None
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValidationError(f"{where}: a duration must be a finite number of seconds >= 0, got {value!r}")
        return seconds
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError(f"{where}: {value!r} is not a quantity; write e.g. {EXAMPLES[kind]}")
    if isinstance(value, (int, float)):
        number, unit = float(value), ""
    else:
        m = _QUANTITY.match(value)
        if kind == "current" and m is None:
            c = re.match(rf"^\s*({_NUMBER})\s*C\s*$", value)
            if c:
                return Current(c_rate=float(c.group(1)))
        if m is None:
            raise ValidationError(f"{where}: cannot read {value!r}; write e.g. {EXAMPLES[kind]}")
        number, unit = float(m.group(1)), m.group(2)
        if kind == "current" and unit == "C":
            return Current(c_rate=number)
    if unit not in UNITS[kind]:
        raise ValidationError(f"{where}: unit {unit!r} does not fit; write e.g. {EXAMPLES[kind]}")
    if not math.isfinite(number):
        raise ValidationError(f"{where}: {value!r} is not a finite number")
    si = number * UNITS[kind][unit]
    if kind == "current":
        return Current(amps=si)
    if kind == "count" and (si != int(si) or si < 0):
        raise ValidationError(f"{where}: {value!r} must be a whole number >= 0")
    return int(si) if kind == "count" else si


# --- the file's shape ---------------------------------------------------------------------------------

CELLS = {"max_voltage": "voltage", "min_voltage": "voltage", "max_temperature": "temperature",
         "min_temperature": "temperature", "max_time_outside": "duration"}
BALANCING = {"top_of_charge_voltage": "voltage", "max_top_of_charge_spread": "voltage",
             "time_to_balance": "duration", "max_balancing_current": "current", "max_balancing_cells": "count",
             "no_adjacent": "flag", "balance_while_discharging": "flag", "idle_current": "current",
             "max_energy_dissipated": "energy", "max_energy_dissipated_per_day": "energy",
             "max_thermal_rise": "kelvin"}
CHARGE_LIMITS = {"max_cvl_per_cell": "voltage", "min_cvl_per_cell": "voltage", "max_ccl": "current",
                 "max_dcl": "current", "ccl_zero_above": "voltage", "dcl_zero_below": "voltage",
                 "ccl_zero_below_temperature": "temperature", "ccl_zero_above_temperature": "temperature",
                 "dcl_zero_below_temperature": "temperature", "dcl_zero_above_temperature": "temperature",
                 "zero_when_disabled": "flag", "zero_current": "current", "tolerance": "duration"}
PROTECTION_COMMON = {"tolerance": "duration", "startup": "duration", "voltage_margin": "voltage",
                     "temperature_margin": "kelvin", "current_margin": "current"}
REGRESSION = {"top_of_charge_spread": "voltage", "time_to_balance": "duration",
              "energy_dissipated_per_day": "percent", "thermal_rise": "kelvin", "max_cell_voltage": "voltage",
              "min_cell_voltage": "voltage"}
REGRESSION_DEFAULTS = {"top_of_charge_spread": 0.002, "time_to_balance": 43200.0, "energy_dissipated_per_day": 10.0,
                       "thermal_rise": 0.5, "max_cell_voltage": 0.005, "min_cell_voltage": 0.005}

# The twin's protection channels (csrc/protection.c), each with what it watches, which way it trips
# and which path it opens. Quantity kinds give the units of limit and release.
CHANNELS = {
    "cell_overvoltage": ("voltage", "highest cell reading", +1, "charge"),
    "cell_undervoltage": ("voltage", "lowest cell reading", -1, "discharge"),
    "charge_overcurrent": ("current", "charge current", +1, "charge"),
    "discharge_overcurrent": ("current", "discharge current", +1, "discharge"),
    "charge_overtemperature": ("temperature", "hottest temperature reading", +1, "charge"),
    "charge_undertemperature": ("temperature", "coldest temperature reading", -1, "charge"),
    "discharge_overtemperature": ("temperature", "hottest temperature reading", +1, "discharge"),
    "discharge_undertemperature": ("temperature", "coldest temperature reading", -1, "discharge"),
}
CHANNEL_KEYS = ("limit", "release", "delay", "recovery", "min_delay")
SECTIONS = ("cells", "balancing", "protection", "charge_limits", "regression")


@dataclass(frozen=True)
class ProtectionLimit:
    """One channel: trips when its reading stays past `limit` for `delay`, releases past `release`
    once tripped for `recovery` (the semantics of csrc/protection.c)."""

    channel: str
    limit: object       # float, or Current for the current channels
    release: object
    delay: float
    recovery: float = 0.0
    min_delay: float = 0.0

    @property
    def kind(self) -> str:
        return CHANNELS[self.channel][0]

    @property
    def watches(self) -> str:
        return CHANNELS[self.channel][1]

    @property
    def direction(self) -> int:
        return CHANNELS[self.channel][2]

    @property
    def side(self) -> str:
        return CHANNELS[self.channel][3]

    @property
    def label(self) -> str:
        return self.channel.replace("_", " ").replace("overv", "over-v").replace("underv", "under-v") \
            .replace("overc", "over-c").replace("overt", "over-t").replace("undert", "under-t")


@dataclass
class Limits:
    source: str
    cells: dict = field(default_factory=dict)
    balancing: dict = field(default_factory=dict)
    protection: dict = field(default_factory=dict)        # channel -> ProtectionLimit
    protection_settings: dict = field(default_factory=dict)
    charge_limits: dict = field(default_factory=dict)
    regression: dict = field(default_factory=lambda: dict(REGRESSION_DEFAULTS))

    @classmethod
    def from_file(cls, path) -> "Limits":
        p = Path(path)
        return cls.from_mapping(read_toml(p, ValidationError, "limits file"), str(p))

    @classmethod
    def from_mapping(cls, data: dict, source: str) -> "Limits":
        for key in data:
            if key not in SECTIONS:
                raise ValidationError(f"{source}: unknown table [{key}]{suggest(key, SECTIONS)}; tables: "
                                      f"{', '.join(SECTIONS)}")
        out = cls(source)
        out.cells = _section(data, "cells", CELLS, source)
        out.balancing = _section(data, "balancing", BALANCING, source)
        out.charge_limits = _section(data, "charge_limits", CHARGE_LIMITS, source)
        out.regression.update(_section(data, "regression", REGRESSION, source))
        protection = data.get("protection", {})
        if not isinstance(protection, dict):
            raise ValidationError(f"{source}: [protection] must be a table")
        common = {k: v for k, v in protection.items() if not isinstance(v, dict)}
        out.protection_settings = _section({"protection": common}, "protection", PROTECTION_COMMON, source)
        for name, table in protection.items():
            if not isinstance(table, dict):
                continue
            if name not in CHANNELS:
                raise ValidationError(f"{source}: unknown protection channel [protection.{name}]"
                                      f"{suggest(name, CHANNELS)}; channels: {', '.join(CHANNELS)}")
            out.protection[name] = _channel(name, table, source)
        out._check(source)
        return out

    def _check(self, source: str) -> None:
        c = self.cells
        if "max_voltage" in c and "min_voltage" in c and not c["min_voltage"] < c["max_voltage"]:
            raise ValidationError(f"{source}: [cells] min_voltage must be below max_voltage")
        b = self.balancing
        if "time_to_balance" in b and "max_top_of_charge_spread" not in b:
            raise ValidationError(f"{source}: [balancing] time_to_balance needs max_top_of_charge_spread "
                                  "(balanced means: every later top of charge within that spread)")
        if ("max_top_of_charge_spread" in b) and "top_of_charge_voltage" not in b:
            raise ValidationError(f"{source}: [balancing] max_top_of_charge_spread needs top_of_charge_voltage "
                                  "(the highest-cell reading at which a day counts as topped out, e.g. '3.45 V')")


def _section(data: dict, name: str, schema: dict, source: str) -> dict:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ValidationError(f"{source}: [{name}] must be a table")
    out = {}
    for key, value in table.items():
        if key not in schema:
            raise ValidationError(f"{source}: unknown key {key!r} in [{name}]{suggest(key, schema)}; keys: "
                                  f"{', '.join(schema)}")
        out[key] = quantity(value, schema[key], f"{source}: [{name}] {key}")
    return out


def _channel(name: str, table: dict, source: str) -> ProtectionLimit:
    kind, _, direction, _ = CHANNELS[name]
    where = f"{source}: [protection.{name}]"
    for key in table:
        if key not in CHANNEL_KEYS:
            raise ValidationError(f"{where}: unknown key {key!r}{suggest(key, CHANNEL_KEYS)}; keys: "
                                  f"{', '.join(CHANNEL_KEYS)}")
    for key in ("limit", "delay"):
        if key not in table:
            raise ValidationError(f"{where} needs {key} (e.g. limit = {EXAMPLES[kind]}, delay = '2 s')")
    limit = quantity(table["limit"], kind, f"{where} limit")
    if "release" in table:
        release = quantity(table["release"], kind, f"{where} release")
    elif kind == "current":
        release = limit  # a current channel releases when the current is back under the limit
    else:
        raise ValidationError(f"{where} needs release (the reading at which the path may close again)")
    delay = quantity(table["delay"], "duration", f"{where} delay")
    recovery = quantity(table.get("recovery", 0.0), "duration", f"{where} recovery")
    min_delay = quantity(table.get("min_delay", 0.0), "duration", f"{where} min_delay")
    if kind != "current":
        wrong = release > limit if direction > 0 else release < limit
        if wrong:
            side = "above" if direction > 0 else "below"
            raise ValidationError(f"{where}: release {table['release']!r} must not be {side} limit "
                                  f"{table['limit']!r} (the channel releases on the safe side of its limit)")
    if min_delay > delay:
        raise ValidationError(f"{where}: min_delay must not exceed delay")
    return ProtectionLimit(name, limit, release, delay, recovery, min_delay)


__all__ = ["Limits", "ProtectionLimit", "Current", "quantity", "CHANNELS"]
