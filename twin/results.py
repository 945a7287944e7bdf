"""Results of a run: samples in memory, and the figures an operator asks for."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


PROTECTIONS = (
    "cell_overvoltage", "cell_undervoltage", "charge_overcurrent", "discharge_overcurrent",
    "charge_overtemperature", "charge_undertemperature", "discharge_overtemperature", "discharge_undertemperature",
)


class Sink:
    """Receives a run's samples chunk by chunk (memory, HDF5 file)."""

    def start(self, pack, records) -> None: ...
    def add_initial(self, data: dict, time: float) -> None: ...
    def add(self, times, data: dict, step_index: int) -> None: ...
    def add_step(self, index: int, text: str, start: float, end: float, reason: str) -> None: ...
    def finish(self) -> None: ...


class MemorySink(Sink):
    def start(self, pack, records):
        self.pack = pack
        self.ids = [v.id for v in records]
        self.times, self.step_index, self.chunks, self.steps = [], [], {i: [] for i in self.ids}, []

    def add_initial(self, data, time):
        self.add(np.array([time]), {k: np.asarray(v)[None, ...] for k, v in data.items()}, -1)

    def add(self, times, data, step_index):
        self.times.append(np.asarray(times, dtype=float))
        self.step_index.append(np.full(len(times), step_index, dtype=np.int32))
        for k in self.ids:
            self.chunks[k].append(data[k])

    def add_step(self, index, text, start, end, reason):
        self.steps.append({"index": index, "step": text, "start_s": start, "end_s": end, "reason": reason})

    def finish(self):
        pass

    def result(self) -> "Result":
        data = {k: np.concatenate(v) for k, v in self.chunks.items()}
        return Result(
            time=np.concatenate(self.times),
            data=data,
            step_index=np.concatenate(self.step_index),
            steps=self.steps,
            params=self.pack.params,
            cells=self.pack.n,
        )


@dataclass
class Result:
    """Samples of one run: ``result["cell.voltage"]`` is (samples, cells), pack variables (samples,)."""

    time: np.ndarray
    data: dict
    step_index: np.ndarray
    steps: list
    params: object
    cells: int
    _spec: object = field(default=None, repr=False)

    def __getitem__(self, id_: str) -> np.ndarray:
        try:
            return self.data[id_]
        except KeyError:
            from .errors import TwinError, suggest

            raise TwinError(f"{id_!r} was not recorded{suggest(id_, self.data)}") from None

    def __contains__(self, id_):
        return id_ in self.data

    def step_ends(self, step: int | None = None) -> np.ndarray:
        """Sample index at which each experiment step ended (only those of protocol line `step`
        of each repeat when given, counting from 0)."""
        idx = np.flatnonzero(np.diff(self.step_index) != 0)
        ends = np.append(idx[self.step_index[idx] >= 0], len(self.step_index) - 1)
        ends = ends[self.step_index[ends] >= 0]
        if step is None:
            return ends
        per_repeat = len({s["step"] for s in self.steps}) if self.steps else 1
        lines = [s["index"] for s in self.steps]
        wanted = {i for i in lines if i % per_repeat == step}
        return np.array([e for e in ends if self.step_index[e] in wanted], dtype=int)

    def time_to_balance(self, soc_spread: float = 0.005) -> float | None:
        """Seconds from the start until the SOC spread first falls to soc_spread and stays there;
        None if it never does."""
        spread = self["pack.soc_spread"]
        above = np.flatnonzero(spread > soc_spread)
        if len(above) == 0:
            return 0.0
        last = above[-1]
        if last == len(spread) - 1:
            return None
        return float(self.time[last + 1] - self.time[0])

    def protection_trips(self) -> dict:
        """How many times each protection tripped (rising edges)."""
        out = {}
        for name in PROTECTIONS:
            key = f"protection.{name}_tripped"
            if key in self.data:
                x = self.data[key] > 0.5
                out[name] = int(np.count_nonzero(x[1:] & ~x[:-1]) + (1 if x[0] else 0))
        return out

    def summary(self) -> dict:
        """The figures an operator watches, for the terminal and the HDF5 attributes."""
        s = {"duration_s": float(self.time[-1] - self.time[0]), "cells_in_series": self.cells}
        if "pack.soc_spread" in self.data:
            s["soc_spread_start"] = float(self["pack.soc_spread"][0])
            s["soc_spread_end"] = float(self["pack.soc_spread"][-1])
            s["time_to_balance_s"] = self.time_to_balance()
        if "pack.cell_voltage_spread" in self.data:
            s["max_cell_voltage_spread_v"] = float(np.max(self["pack.cell_voltage_spread"]))
        if "cell.voltage" in self.data:
            v = self["cell.voltage"]
            s["max_cell_voltage_v"] = float(np.max(v))
            s["min_cell_voltage_v"] = float(np.min(v))
        if "cell.temperature" in self.data:
            t = self["cell.temperature"]
            s["max_temperature_c"] = float(np.max(t))
        if "balancer.energy_dissipated" in self.data:
            s["balancing_energy_dissipated_wh"] = float(self["balancer.energy_dissipated"][-1] - self["balancer.energy_dissipated"][0])
            s["balancing_charge_moved_ah"] = float(self["balancer.charge_moved"][-1] - self["balancer.charge_moved"][0])
        if "balancer.bleed_charge" in self.data:
            s["bleed_charge_ah"] = (self["balancer.bleed_charge"][-1] - self["balancer.bleed_charge"][0]).tolist()
        if "pack.voltage" in self.data and "pack.applied_current" in self.data and len(self.time) > 1:
            p = self["pack.voltage"] * self["pack.applied_current"]
            dt = np.diff(self.time)
            s["energy_charged_wh"] = float(np.sum(np.clip(p[1:], 0, None) * dt) / 3600.0)
            s["energy_discharged_wh"] = float(np.sum(np.clip(-p[1:], 0, None) * dt) / 3600.0)
        s["protection_trips"] = self.protection_trips()
        s["steps"] = self.steps
        return s
