"""Parsing of the quantities people write: durations ('2 h', '30 min'), currents ('0.5C', '140 A')."""

from __future__ import annotations

import re

from .errors import ParameterError

_DURATION_UNITS = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_DURATION = re.compile(rf"^\s*({_NUMBER})\s*([a-zA-Z]+)\s*$")
_C_RATE = re.compile(rf"^\s*(?:C\s*/\s*({_NUMBER})|({_NUMBER})\s*C)\s*$")
_AMPS = re.compile(rf"^\s*({_NUMBER})\s*(m?A)\s*$")


def parse_duration(text, what: str = "duration") -> float:
    """Seconds from a number (seconds) or a string like '2 h', '30 min', '1.5 hours'."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if re.fullmatch(rf"\s*{_NUMBER}\s*", str(text)):
        return float(text)  # a bare number is seconds
    m = _DURATION.match(str(text))
    if not m or m.group(2).lower() not in _DURATION_UNITS:
        raise ParameterError(f"{what}: cannot read {text!r} as a duration; write e.g. '90 s', '30 min', '2 hours'")
    return float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]


def parse_current(text, capacity_ah: float, what: str = "current") -> float:
    """Amperes from a number (A), '140 A', '500 mA', '0.5C' or 'C/20' (of capacity_ah)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text)
    m = _C_RATE.match(s)
    if m:
        rate = 1.0 / float(m.group(1)) if m.group(1) else float(m.group(2))
        return rate * capacity_ah
    m = _AMPS.match(s)
    if m:
        return float(m.group(1)) * (1e-3 if m.group(2) == "mA" else 1.0)
    raise ParameterError(f"{what}: cannot read {text!r} as a current; write e.g. '140 A', '0.5C' or 'C/20'")
