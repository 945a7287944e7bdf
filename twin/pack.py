"""The simulated pack: a parameter set, its faults and the C kernel, stepped or run in bulk.

    >>> from twin import Pack, Experiment
    >>> pack = Pack()                                  # the default 16S EVE LF280K pack
    >>> result = pack.run(Experiment(["Charge at 0.5C until 3.55 V", "Rest for 1 hour"]))
    >>> result["cell.voltage"].shape                   # (samples, cells)

Bulk runs go into C a chunk at a time with the GIL released; ``step()`` advances one step for
streaming use. Every variable is read by its spec id (``pack["cell.soc"]`` is a live NumPy view).
"""

from __future__ import annotations

import numpy as np

from . import parameter_sets
from .errors import ExperimentError, KernelError
from .experiment import Experiment, Step
from .params import ParameterSet, build_kernel, set_fault_events
from .results import MemorySink, Result
from .spec import load_spec

CHUNK_VALUES = 1 << 21  # doubles recorded per chunk (16 MB)


def recordable(spec=None) -> list:
    """Spec variables a run can record: every per-cell and pack variable."""
    spec = spec or load_spec()
    return [v for v in spec.variables if v.where in ("cells", "pack") and v.causality in ("output", "local", "input")]


DEFAULT_RECORD = None  # None: everything recordable except the external inputs that are not driven


class Pack:
    """A pack of cells in series with its BMS, simulated by the C kernel."""

    def __init__(self, params=parameter_sets.DEFAULT, faults=None, **changes):
        base = params if isinstance(params, ParameterSet) else ParameterSet.load(params)
        self.params = base.updated(changes) if changes else base
        self.faults = tuple(self.params.faults if faults is None else faults)
        self.kernel = build_kernel(self.params, self.faults)
        self.spec = load_spec()
        self.n = self.kernel.n

    # --- reading and writing variables -------------------------------------------------------------

    def __getitem__(self, id_: str):
        """Per-cell variables as live NumPy views; pack variables and settings as floats."""
        var = self.spec[id_]
        if var.where == "cells":
            return self.kernel.array(var.vr)
        if var.where in ("pack", "settings") and var.length == 1:
            return self.kernel.get(var.vr, 0)
        if var.where == "settings":
            return [self.kernel.get(var.vr, i) for i in range(var.length)]
        raise KernelError(f"{id_} is a {var.where} entry, not a value of the running twin")

    def set(self, id_: str, value, cell: int | None = None) -> None:
        """Change a parameter or input while running (range-checked by the kernel)."""
        var = self.spec[id_]
        if var.where == "cells":
            cells = range(self.n) if cell is None else [cell]
            for i in cells:
                self.kernel.set(var.vr, i, _code(self.spec, var, value))
        else:
            self.kernel.set(var.vr, 0, _code(self.spec, var, value))
        if var.causality == "parameter":
            self.kernel.refresh()

    @property
    def time(self) -> float:
        return self.kernel.time

    @property
    def capacity_ah(self) -> float:
        return self.params.capacity_ah

    def state(self) -> bytes:
        """The whole twin as bytes (restore with ``restore``)."""
        return self.kernel.get_state()

    def restore(self, state: bytes) -> None:
        self.kernel.set_state(state)

    def reset(self) -> None:
        """Back to time 0 with the same parameters and faults."""
        set_fault_events(self.kernel, self.faults, self.n, self.params.source)
        self.kernel.init()

    # --- stepping --------------------------------------------------------------------------------

    def step(self, current: float, dt: float = 1.0, ambient: float | None = None, commands=None) -> None:
        """Advance one step of dt seconds with the pack current asked for (A, positive charging)."""
        k = self.kernel
        self._pack_current[0] = current
        if ambient is not None:
            self._ambient[0] = ambient
        if commands is not None:
            self["balancer.command"][:] = commands
        k.step(dt)

    @property
    def _pack_current(self):
        view = getattr(self, "_pc_view", None)
        if view is None:
            view = self._pc_view = self.kernel.scalar_view(self.spec["pack.current"].vr)
        return view

    @property
    def _ambient(self):
        view = getattr(self, "_amb_view", None)
        if view is None:
            view = self._amb_view = self.kernel.scalar_view(self.spec["pack.ambient_temperature"].vr)
        return view

    # --- bulk runs ----------------------------------------------------------------------------------

    def _records(self, record):
        if record is None:
            return recordable(self.spec)
        return [self.spec[r] if isinstance(r, str) else r for r in record]

    def run(self, what, dt: float = 1.0, *, ambient=None, commands=None, record=None, every: int = 1,
            sink=None, progress=None, obey_limits: bool = False) -> Result | None:
        """Run an Experiment (or list of step sentences) or a current profile (array of A per step).

        ambient: degC, a number or one value per step (profiles only). commands: (steps, cells)
        balancing commands for the external policy (profiles only). record: spec ids to keep
        (default: every cell and pack variable). every: keep every k-th sample. sink: where the
        samples go (default: memory, returned as a Result). progress(done_s, total_s): callback.
        """
        if not (isinstance(dt, (int, float)) and dt > 0 and np.isfinite(dt)):
            raise ExperimentError(f"the time step must be a positive number of seconds, got {dt!r}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ExperimentError(f"every must be a whole number of at least 1, got {every!r}")
        records = self._records(record)
        own_sink = sink is None
        sink = sink or MemorySink()
        sink.start(self, records)
        sink.add_initial(self._snapshot(records), self.time)
        if isinstance(what, (str, list, tuple, Experiment)) and not _is_numeric_sequence(what):
            experiment = what if isinstance(what, Experiment) else Experiment(what)
            if ambient is not None and not np.isscalar(ambient):
                raise ExperimentError("an experiment takes one ambient temperature; use a current profile for a varying one")
            if commands is not None:
                raise ExperimentError("balancing commands per step go with a current profile, not an experiment")
            if ambient is not None:
                self._ambient[0] = float(ambient)
            self._run_experiment(experiment, dt, records, every, sink, progress)
        else:
            self._run_profile(what, dt, ambient, commands, records, every, sink, progress, obey_limits)
        sink.finish()
        return sink.result() if own_sink else None

    def _snapshot(self, records):
        return {v.id: np.array(self[v.id], dtype=float, copy=True) for v in records}

    def _chunk_len(self, records, remaining: int, every: int) -> int:
        per_step = sum(self.n if v.where == "cells" else 1 for v in records) or 1
        length = max(every, (CHUNK_VALUES // per_step) // every * every)
        return int(min(remaining, length))

    def _run_chunks(self, n_steps, dt, records, every, sink, progress, step_index, total_s, done_s, **drive):
        """Run up to n_steps in chunks; returns (steps done, stop reason)."""
        done, reason = 0, "steps"
        current = drive.pop("current", None)
        ambient = drive.pop("ambient", None)
        commands = drive.pop("commands", None)
        while done < n_steps:
            length = self._chunk_len(records, n_steps - done, every)
            bufs = [(v, np.empty((length, self.n if v.where == "cells" else 1))) for v in records]
            sl = slice(done, done + length)
            steps, reason = self.kernel.run(
                dt, length,
                current=None if current is None else current[sl],
                ambient=None if ambient is None else ambient[sl],
                commands=None if commands is None else commands[sl],
                records=[(v.vr, b) for v, b in bufs], **drive,
            )
            first = self._global_steps
            self._global_steps += steps
            keep = np.arange(steps)[(first + np.arange(steps) + 1) % every == 0]
            if reason != "steps" and (steps - 1) not in keep:
                keep = np.append(keep, steps - 1)  # always keep the sample that ended a step
            times = self._t0 + (first + keep + 1) * dt
            data = {v.id: (b[keep] if v.where == "cells" else b[keep, 0]) for v, b in bufs}
            sink.add(times, data, step_index)
            done += steps
            if progress:
                progress(done_s + done * dt, total_s)
            if reason != "steps":
                break
        return done, reason

    def _run_profile(self, current, dt, ambient, commands, records, every, sink, progress, obey_limits=False):
        cur = np.asarray(current, dtype=float)
        if cur.ndim != 1 or len(cur) == 0:
            raise ExperimentError(f"a current profile is a 1-D list of amperes, one per step; got shape {cur.shape}")
        if not np.all(np.isfinite(cur)):
            bad = int(np.flatnonzero(~np.isfinite(cur))[0])
            raise ExperimentError(f"the current profile has a non-number at step {bad}")
        n = len(cur)
        amb = None
        if ambient is not None:
            amb = np.broadcast_to(np.asarray(ambient, dtype=float), (n,)).copy()
            if not np.all(np.isfinite(amb)):
                raise ExperimentError("the ambient temperature profile has non-numbers")
        cmd = None
        if commands is not None:
            cmd = np.asarray(commands, dtype=float)
            if cmd.shape != (n, self.n):
                raise ExperimentError(f"balancing commands must have shape ({n} steps, {self.n} cells), got {cmd.shape}")
            if not np.all(np.isin(cmd, (-1.0, 0.0, 1.0))):
                raise ExperimentError("balancing commands must be -1, 0 or +1")
        self._t0, self._global_steps = self.time, 0
        self._run_chunks(n, dt, records, every, sink, progress, 0, n * dt, 0.0,
                         kind="profile", current=cur, ambient=amb, commands=cmd, obey_limits=obey_limits)

    def _run_experiment(self, experiment, dt, records, every, sink, progress):
        max_charge = abs(self["limits.max_charge_current"])
        steps = experiment.parsed(self.capacity_ah, max_charge)
        total = sum(s.max_duration if s.duration is not None else 0.0 for s in steps) or None
        self._t0, self._global_steps = self.time, 0
        done_s = 0.0
        for index, step in enumerate(steps):
            n_steps = int(np.ceil(step.max_duration / dt - 1e-9))
            stop = dict(step.stop)
            if stop.pop("balanced", False):
                stop["max_voltage_spread"] = self["balancer.stop_delta"]
            if step.kind != "rest":
                stop["on_protection"] = True
            kind = {"rest": "current"}.get(step.kind, step.kind)
            start = self.time
            done, reason = self._run_chunks(
                n_steps, dt, records, every, sink, progress, index, total, done_s,
                kind=kind, value=step.value, current_limit=step.current_limit, stop=stop,
            )
            if reason == "steps" and step.duration is None:
                reason = "time cap (30 days)"
            sink.add_step(index, step.text, start, self.time, reason)
            done_s += done * dt


def _is_numeric_sequence(x) -> bool:
    if isinstance(x, np.ndarray):
        return True
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in x):
        return True
    return False


def _code(spec, var, value) -> float:
    if var.type == "enumeration":
        return float(spec.enumerations[var.enumeration].index(value))
    if isinstance(value, bool):
        return float(value)
    return float(value)


__all__ = ["Pack", "Experiment", "Step", "recordable"]
