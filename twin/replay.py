"""Replay a recorded BMS log through the twin's divergence detector and report, per cell, what
diverges from its peers and its own history (see csrc/detect.c for the estimators).

    >>> from twin.replay import replay
    >>> result = replay("pack.h5", mapping="examples/mappings/dev-pack.toml")
    >>> [(f.cell, f.kind, f.first_flagged_s) for f in result.flags]

The log is read in chunks and fed to the C detector with the GIL released; memory stays bounded
whatever the log's length (the series kept for plots are decimated to ``max_points``).
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, parameter_sets
from .errors import LogError
from .logs import LogReader, Mapping
from .params import ParameterSet, build_kernel
from .spec import load_spec

KINDS = ("self_discharge", "resistance", "capacity", "voltage_sensor", "balancer", "thermal")
SERIES = ("detect.deviation", "estimate.charge_offset", "estimate.resistance_change", "estimate.voltage_offset",
          "estimate.temperature_offset", "estimate.leak_current")
# R0 x capacity of LFP cells, ohm x Ah (EVE LF280K: 0.175 mOhm x 280 Ah): the resistance scale assumed
# for a logged cell when no parameter set describes it
LFP_R0_AH = 0.049
DEFAULT_MAX_POINTS = 600


@dataclass
class Flag:
    cell: int
    kind: str
    first_flagged_s: float
    magnitude: dict
    evidence: str


@dataclass
class ReplayResult:
    path: str
    cells: int
    samples: int
    start_s: float
    end_s: float
    capacity_ah: float
    gaps: list
    runs: int
    flags: list
    series: dict = field(repr=False)
    seconds: float = 0.0
    parameters: str = ""

    @property
    def status(self) -> str:
        return "flagged" if self.flags else "healthy"

    @property
    def samples_per_second(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else math.inf

    def to_dict(self, series: bool = False) -> dict:
        out = {
            "log": self.path,
            "status": self.status,
            "cells": self.cells,
            "samples": self.samples,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "capacity_ah": self.capacity_ah,
            "parameters": self.parameters,
            "charge_offset_runs": self.runs,
            "gaps": [asdict(g) for g in self.gaps],
            "flags": [asdict(f) for f in self.flags],
            "twin_version": __version__,
        }
        if series:
            out["series"] = {k: np.asarray(v).tolist() for k, v in self.series.items()}
        return out


def detector_parameters(info, params=None, overrides=None) -> ParameterSet:
    """The parameter set the detector runs with: the given one, or the default scaled to the log's
    cells, capacity and bleed resistor; then `overrides` ({id: value}, e.g. {"detect.sigmas": 6})."""
    pset = ParameterSet.load(params) if params is not None and not isinstance(params, ParameterSet) else params
    changes = {"pack.cells_in_series": info.cells, "spread.capacity": 0.0, "spread.resistance": 0.0,
               "spread.soc": 0.0, "spread.self_discharge": 0.0, "pack.temperature_sensors": list(range(info.cells))}
    if pset is None:
        pset = parameter_sets.get(parameter_sets.DEFAULT)
        if info.capacity_ah:
            changes["detect.nominal_resistance"] = LFP_R0_AH / info.capacity_ah
    if info.capacity_ah:
        changes["cell.capacity"] = info.capacity_ah / pset.cells_in_parallel
    if info.bleed_resistance_ohm:
        changes["detect.bleed_resistance"] = info.bleed_resistance_ohm
    changes.update(overrides or {})
    return pset.updated(changes, source=f"{pset.source} (scaled to {Path(info.path).name}: cells, capacity, bleed)")


def replay(path, mapping=None, params=None, progress=None, chunk: int = 1 << 16,
           max_points: int = DEFAULT_MAX_POINTS, overrides=None) -> ReplayResult:
    """Run the detector over one log. progress(done_samples, total_samples) is called per chunk;
    overrides ({id: value}) change single parameters, e.g. {"detect.sigmas": 6.0}."""
    spec = load_spec()
    started = _time.perf_counter()
    with LogReader(path, mapping) as reader:
        info = reader.info
        pset = detector_parameters(info, params, overrides)
        kernel = build_kernel(pset)
        n = info.cells
        span = max(info.end_s - info.start_s, 1.0)
        total_blocks = span / float(pset["detect.block"]) + 2
        every = max(1, int(math.ceil(total_blocks / max_points)))
        kept = {k: [] for k in ("time", *SERIES)}
        block_counter = 0
        done = 0
        period = max(info.sample_period_s, 1e-9) if info.sample_period_s else None
        blocks_max = int(chunk * period / pset["detect.block"]) + 4 if period else chunk
        bufs = [(spec[k].vr, np.empty((blocks_max, n))) for k in SERIES]  # reused chunk to chunk
        temps_all = np.full((chunk, n), np.nan) if "temperature" in info.channels else None
        for c in reader.chunks(chunk, reuse=True, optional=("temperature", "balancing")):
            m = len(c.time)
            temps = None
            if c.temperature is not None:
                temps = temps_all[:m]
                temps[:, info.temperature_cells] = c.temperature
            bal = None if c.balancing is None else c.balancing.reshape(m, n)
            blocks, times = kernel.detect_run(c.time, c.current, c.cell_voltage, temps, bal, records=bufs)
            got = min(blocks, blocks_max)
            idx = np.arange(got)
            keep = idx[(block_counter + idx) % every == 0]
            block_counter += got
            kept["time"].append(times[keep])
            for (vr, buf), k in zip(bufs, SERIES):
                kept[k].append(buf[keep])  # (fancy indexing copies)
            done += m
            if progress:
                progress(done, info.samples)
        series = {k: (np.concatenate(v) if v else np.empty((0,) if k == "time" else (0, n))) for k, v in kept.items()}
        flags = _flags(kernel, spec, n)
        return ReplayResult(
            path=str(path), cells=n, samples=info.samples, start_s=info.start_s, end_s=info.end_s,
            capacity_ah=float(pset.capacity_ah), gaps=list(info.gaps), runs=int(kernel.get(spec["detect.runs"].vr)),
            flags=flags, series=series, seconds=_time.perf_counter() - started, parameters=pset.source,
        )


def _arr(kernel, spec, id_):
    return kernel.array(spec[id_].vr).copy()


def _flags(kernel, spec, n) -> list:
    get = lambda k: _arr(kernel, spec, k)  # noqa: E731
    leak, leak_s = get("estimate.leak_current"), get("estimate.leak_current_sigma")
    dq, dq_s = get("estimate.charge_offset"), get("estimate.charge_offset_sigma")
    dr, dr_s = get("estimate.resistance_change"), get("estimate.resistance_change_sigma")
    voff, voff_s = get("estimate.voltage_offset"), get("estimate.voltage_offset_sigma")
    cap, cap_s = get("estimate.capacity_change"), get("estimate.capacity_change_sigma")
    tdep, bleed = get("estimate.temperature_offset"), get("estimate.bleed_error")
    leak_bound = get("estimate.leak_current_lower_bound")
    leak_first = get("flag.self_discharge_time")
    flag_of = lambda kind: get(f"flag.{kind}")  # noqa: E731
    out = []
    for kind in KINDS:
        flag, when = get(f"flag.{kind}"), get(f"flag.{kind}_time")
        for i in np.flatnonzero(flag > 0.5):
            i = int(i)
            if kind == "self_discharge":
                bound = bool(leak_bound[i] > 0.5)
                mag = {"leak_ma": 1e3 * leak[i], "leak_ma_sigma": 1e3 * leak_s[i], "leak_ma_is_lower_bound": bound,
                       "charge_lost_mah": -1e3 * dq[i], "charge_lost_mah_sigma": 1e3 * dq_s[i]}
                rate = (f"a leak of at least {1e3 * leak[i]:.1f} mA (the charge lost since the last landmark where "
                        f"it was calm, over the time since: it may have started later)" if bound else
                        f"a leak of {1e3 * leak[i]:.1f} +- {1e3 * leak_s[i]:.1f} mA, measured between two landmarks")
                ev = (f"its charge fell {-1e3 * dq[i]:.0f} +- {1e3 * dq_s[i]:.0f} mAh against its peers, measured "
                      f"where the pack crossed a steep part of the OCV curve (balancing bleed accounted): {rate}")
            elif kind == "resistance":
                mag = {"added_mohm": 1e3 * dr[i], "added_mohm_sigma": 1e3 * dr_s[i]}
                ev = (f"its voltage steps at current edges, against the median cell, grew by "
                      f"{1e3 * dr[i]:.2f} +- {1e3 * dr_s[i]:.2f} mOhm from its baseline")
            elif kind == "voltage_sensor":
                mag = {"offset_mv": 1e3 * voff[i], "offset_mv_sigma": 1e3 * voff_s[i]}
                ev = (f"its reading jumped by {1e3 * voff[i]:+.1f} mV between two samples with no current step, and "
                      f"stayed there while the cell itself did not change; its readings are corrected from then on")
            elif kind == "balancer":
                state = "stuck_on" if bleed[i] > 0 else "stuck_off"
                mag = {"state": state, "bleed_error_ma": 1e3 * bleed[i]}
                seen = (f" (first flagged as a leak at {leak_first[i] / 3600:.1f} h, until its rate was measured)"
                        if np.isfinite(leak_first[i]) and flag_of("self_discharge")[i] < 0.5 else "")
                ev = (f"it loses charge at {1e3 * bleed[i]:.0f} mA, the current of its bleed resistor, while its flag "
                      f"was off{seen}" if state == "stuck_on" else
                      f"it kept the charge its balancing flag said was bled ({-1e3 * bleed[i]:.0f} mA short)")
            elif kind == "capacity":
                mag = {"change_percent": 100 * cap[i], "change_percent_sigma": 100 * cap_s[i]}
                ev = f"its charge swings against its peers grew with depth of discharge: {100 * cap[i]:+.1f} % capacity"
            else:
                mag = {"departure_k": tdep[i]}
                ev = f"its temperature sensor reads {tdep[i]:+.1f} K from the other sensors' median, against its own baseline"
            mag = {k: (v if isinstance(v, (bool, str)) else round(float(v), 4)) for k, v in mag.items()}
            out.append(Flag(i, kind, float(when[i]), mag, ev))
    out.sort(key=lambda f: (f.first_flagged_s, f.cell))
    return out


def find_logs(items) -> list:
    """Paths from arguments that are files, directories (their *.h5 and *.hdf5) or globs."""
    import glob

    found = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found += sorted(list(p.glob("*.h5")) + list(p.glob("*.hdf5")))
        elif any(ch in str(item) for ch in "*?["):
            found += [Path(x) for x in sorted(glob.glob(str(item)))]
        elif p.exists():
            found.append(p)
        else:
            raise LogError(f"log file {item} does not exist")
    if not found:
        raise LogError(f"no logs found in {', '.join(map(str, items))} (directories are searched for *.h5)")
    return found


def replay_dict(path, mapping=None, params=None) -> dict:
    """replay() as a plain dict, errors included: what fleet workers send back."""
    from .errors import TwinError

    try:
        r = replay(path, mapping, params)
        d = r.to_dict()
        d["samples_per_second"] = r.samples_per_second
        return d
    except TwinError as e:
        return {"log": str(path), "status": "error", "error": str(e), "flags": []}


def replay_fleet(paths, mapping=None, params=None, workers: int | None = None, scheduler: str | None = None,
                 progress=None) -> list:
    """Replay many logs in parallel: local worker processes, or a Dask cluster at `scheduler`."""
    paths = [str(p) for p in paths]
    if isinstance(mapping, Mapping):
        raise LogError("a fleet replay takes a mapping file path, so that workers can read it")
    mapping = None if mapping is None else str(mapping)
    params = None if params is None else (params if isinstance(params, str) else str(params))
    if scheduler:
        try:
            from dask.distributed import Client
        except ImportError:
            raise LogError("a Dask scheduler needs dask.distributed: pip install 'twin[fleet]'") from None
        with Client(scheduler) as client:
            futures = client.map(replay_dict, paths, mapping=mapping, params=params, pure=False)
            return _gather([f.result for f in futures], progress)
    if workers == 1 or len(paths) == 1:
        return _gather([lambda p=p: replay_dict(p, mapping, params) for p in paths], progress)
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(replay_dict, p, mapping, params) for p in paths]
        return _gather([f.result for f in futures], progress)


def _gather(results, progress) -> list:
    """Call each of `results` (a log's result, when ready) in order, telling progress(done, total)."""
    out = []
    for k, result in enumerate(results):
        out.append(result())
        if progress:
            progress(k + 1, len(results))
    return out
