"""Faults injected into cells at a time: the labelled data the detector is tested against.

Each kind sets one of the spec's per-cell ``fault.*`` variables from its onset on:

=====================  ==============================  =========  ===========================================
kind                   variable                        unit       what it does
=====================  ==============================  =========  ===========================================
leak_current           fault.leak_current              A          micro-short: extra current drains the cell
series_resistance      fault.series_resistance         Ohm        loose busbar or ageing inside the sensed path
capacity_loss          fault.capacity_loss             1          fraction of the capacity lost
voltage_offset         fault.voltage_offset            V          the voltage reading is offset
voltage_gain_error     fault.voltage_gain_error        1          the voltage reading has a gain error
temperature_offset     fault.temperature_offset        K          the temperature reading is offset
balancer_stuck         fault.balancer_stuck            on / off   the balancing switch conducts always / never
=====================  ==============================  =========  ===========================================

A current-sensor offset or gain error is not a cell fault: set ``sensor.current_offset`` and
``sensor.current_gain_error``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ParameterError, suggest
from .spec import load_spec
from .units import parse_duration

KINDS = (
    "leak_current",
    "series_resistance",
    "capacity_loss",
    "voltage_offset",
    "voltage_gain_error",
    "temperature_offset",
    "balancer_stuck",
)


@dataclass(frozen=True)
class Fault:
    """A fault of one cell (0-based) from ``onset`` seconds on."""

    cell: int
    kind: str
    value: object
    onset: float = 0.0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ParameterError(f"unknown fault kind {self.kind!r}{suggest(self.kind, KINDS)}; kinds: {', '.join(KINDS)}")
        object.__setattr__(self, "onset", parse_duration(self.onset, f"fault {self.kind} onset"))

    @property
    def variable(self):
        return load_spec()[f"fault.{self.kind}"]

    def kernel_value(self) -> float:
        var = self.variable
        if var.type == "enumeration":
            return float(load_spec().enumerations[var.enumeration].index(self.value))
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise ParameterError(f"fault {self.kind} on cell {self.cell}: value {self.value!r} must be a number in {var.unit}")
        return float(self.value)

    def event(self, n_cells: int, source: str = "faults"):
        if isinstance(self.cell, bool) or not isinstance(self.cell, int) or not 0 <= self.cell < n_cells:
            raise ParameterError(f"{source}: fault {self.kind} is on cell {self.cell!r}; the pack has cells 0 .. {n_cells - 1}")
        return (self.onset, self.cell, self.variable.vr, self.kernel_value())

    def to_record(self) -> dict:
        return {"cell": self.cell, "kind": self.kind, "value": self.value, "onset": self.onset}


def faults_from_records(records, source: str) -> tuple:
    out = []
    if not isinstance(records, list):
        raise ParameterError(f"{source}: 'faults' must be a list of tables ([[faults]] in TOML)")
    for k, r in enumerate(records):
        if not isinstance(r, dict):
            raise ParameterError(f"{source}: faults[{k}] must be a table with cell, kind, value and onset")
        extra = set(r) - {"cell", "kind", "value", "onset"}
        if extra or not {"cell", "kind", "value"} <= set(r):
            raise ParameterError(f"{source}: faults[{k}] needs cell, kind, value (and optionally onset); got {sorted(r)}")
        try:
            out.append(Fault(r["cell"], r["kind"], r["value"], r.get("onset", 0.0)))
        except ParameterError as e:
            raise ParameterError(f"{source}: faults[{k}]: {e}") from None
    return tuple(out)
