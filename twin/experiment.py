"""Experiments written like a lab protocol.

Steps (case does not matter; currents as A, mA or C-rates of the pack capacity; powers as W or kW;
durations as s, min, h, days)::

    Charge at 0.5C until 3.55 V            until the highest cell reaches 3.55 V
    Charge at 140 A for 30 minutes
    Charge at 0.2C for 5 hours or until 3.6 V
    Discharge at 1C until 2.8 V            until the lowest cell falls to 2.8 V
    Discharge at 3 kW for 1 hour           constant power at the pack terminals
    Discharge at 100 A until pack 48 V     pack-voltage end condition
    Hold at 3.55 V until C/20              constant voltage on the highest cell
    Hold pack at 56.8 V until 5 A or 2 hours
    Rest for 2 hours
    Rest for 1 day or until balanced       until the measured cell spread is below
                                           balancer.stop_delta

Every step that asks for current also ends when the BMS's protection stops that current
("protection"). A step needs a duration or an end condition; with only an end condition it is
capped at 30 days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ExperimentError, ParameterError, read_toml
from .units import parse_current, parse_duration

MAX_STEP_S = 30 * 86400.0
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_CURRENT = rf"(?:{_NUM}\s*C|C\s*/\s*{_NUM}|{_NUM}\s*m?A)"
_POWER = rf"{_NUM}\s*k?W"
_DURATION = rf"{_NUM}\s*[a-zA-Z]+"


@dataclass(frozen=True)
class Step:
    """One parsed step. kind: current, power, cell_voltage, pack_voltage or rest."""

    text: str
    kind: str
    value: float = 0.0  # A (current: signed), W (power: signed), V (holds)
    current_limit: float = 0.0
    duration: float | None = None
    stop: dict = field(default_factory=dict)

    @property
    def max_duration(self) -> float:
        return self.duration if self.duration is not None else MAX_STEP_S


def _power(text: str) -> float:
    m = re.fullmatch(rf"\s*({_NUM})\s*(k?W)\s*", text)
    return float(m.group(1)) * (1000.0 if m.group(2) == "kW" else 1.0)


def _parse_ends(text: str, step: str, capacity_ah: float, direction: int):
    """Duration and stop conditions from '... for X', '... until Y', '... for X or until Y'."""
    duration, stop = None, {}
    for part in re.split(r"\s+or\s+", text.strip()):
        part = part.strip()
        m = re.fullmatch(r"(?:for\s+)(.+)", part)
        if m:
            duration = parse_duration(m.group(1), f"step {step!r}")
            continue
        m = re.fullmatch(r"(?:until\s+)?(.+)", part)
        cond = m.group(1).strip()
        if cond.lower() == "balanced":
            stop["balanced"] = True
            continue
        mv = re.fullmatch(rf"(pack\s+)?({_NUM})\s*(m?V)", cond)
        if mv:
            volts = float(mv.group(2)) * (1e-3 if mv.group(3) == "mV" else 1.0)
            if mv.group(1):
                stop["max_pack_voltage" if direction > 0 else "min_pack_voltage"] = volts
            else:
                stop["max_cell_voltage" if direction > 0 else "min_cell_voltage"] = volts
            continue
        if re.fullmatch(_CURRENT, cond):
            stop["min_abs_current"] = abs(parse_current(cond, capacity_ah, f"step {step!r}"))
            continue
        if re.fullmatch(_DURATION, cond) and not part.startswith("until"):
            duration = parse_duration(cond, f"step {step!r}")
            continue
        raise ExperimentError(
            f"step {step!r}: cannot read the end condition {part!r}; write 'for 2 hours', 'until 3.55 V', "
            "'until pack 56 V', 'until C/20' (holds) or 'until balanced' (rests)"
        )
    return duration, stop


def parse_step(text: str, capacity_ah: float, max_charge_current: float) -> Step:
    """One protocol line; capacity_ah resolves C-rates, max_charge_current limits holds."""
    if not isinstance(text, str) or not text.strip():
        raise ExperimentError(f"an experiment step must be a sentence like 'Rest for 1 hour', got {text!r}")
    s = " ".join(text.split())
    try:
        m = re.fullmatch(rf"(?i)(charge|discharge)\s+at\s+({_CURRENT}|{_POWER})\s+(.+)", s)
        if m:
            direction = 1 if m.group(1).lower() == "charge" else -1
            amount = m.group(2)
            duration, stop = _parse_ends(m.group(3), s, capacity_ah, direction)
            if "min_abs_current" in stop:
                raise ExperimentError(f"step {s!r}: a current end condition belongs to 'Hold at ... V until ...'")
            if re.fullmatch(rf"\s*{_POWER}\s*", amount):
                step = Step(s, "power", direction * abs(_power(amount)), 0.0, duration, stop)
            else:
                step = Step(s, "current", direction * abs(parse_current(amount, capacity_ah, f"step {s!r}")), 0.0, duration, stop)
        else:
            m = re.fullmatch(rf"(?i)hold\s+(pack\s+)?at\s+({_NUM})\s*V\s+(.+)", s)
            if m:
                duration, stop = _parse_ends(m.group(3), s, capacity_ah, 1)
                kind = "pack_voltage" if m.group(1) else "cell_voltage"
                step = Step(s, kind, float(m.group(2)), max_charge_current, duration, stop)
            else:
                m = re.fullmatch(r"(?i)rest\s+(.+)", s)
                if not m:
                    raise ExperimentError(
                        f"cannot read the step {s!r}; steps start with Charge at, Discharge at, Hold at, "
                        "Hold pack at, or Rest (see 'twin simulate --help')"
                    )
                duration, stop = _parse_ends(m.group(1), s, capacity_ah, 1)
                if set(stop) - {"balanced"}:
                    raise ExperimentError(f"step {s!r}: a rest ends after a time or when balanced")
                step = Step(s, "rest", 0.0, 0.0, duration, stop)
    except ParameterError as e:
        raise ExperimentError(str(e)) from None
    if step.duration is None and not step.stop:
        raise ExperimentError(f"step {s!r} never ends: give a duration ('for 2 hours') or an end condition ('until 3.55 V')")
    if step.duration is not None and not step.duration > 0:
        raise ExperimentError(f"step {s!r}: the duration must be positive")
    return step


@dataclass(frozen=True)
class Experiment:
    """A list of protocol steps, repeated ``repeat`` times."""

    steps: tuple
    repeat: int = 1

    def __init__(self, steps, repeat: int = 1):
        if isinstance(steps, str):
            steps = [steps]
        steps = tuple(steps)
        if not steps:
            raise ExperimentError("an experiment needs at least one step")
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise ExperimentError(f"repeat must be a whole number of at least 1, got {repeat!r}")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "repeat", repeat)

    def parsed(self, capacity_ah: float, max_charge_current: float) -> list[Step]:
        one = [parse_step(t, capacity_ah, max_charge_current) for t in self.steps]
        return one * self.repeat

    @classmethod
    def from_file(cls, path) -> "Experiment":
        """TOML: ``steps = ["...", ...]`` and optionally ``repeat = N``."""
        from pathlib import Path

        p = Path(path)
        data = read_toml(p, ExperimentError, "experiment file")
        extra = set(data) - {"steps", "repeat"}
        if extra or "steps" not in data:
            raise ExperimentError(f"{p}: an experiment file has 'steps' (a list of sentences) and optionally 'repeat'")
        return cls(data["steps"], data.get("repeat", 1))
