"""HDF5 output of simulations: one dataset per spec variable, written chunk by chunk.

Layout (docs/simulation-file.md): ``/time`` (s) and ``/step_index`` (experiment step, -1 for the
initial sample); every recorded variable at its spec path, ``/cell/voltage`` (samples, cells),
``/pack/voltage`` (samples,), with attributes ``unit``, ``description``, ``label`` and ``vr``.
Root attributes: ``format``, ``twin_version``, ``cells_in_series``, ``current_sign``,
``parameter_set`` (the parameters as JSON, so the file says what made it), ``faults``, ``steps``
and ``summary`` (JSON). Datasets are chunked and gzip-compressed with the shuffle filter.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from . import __version__
from .errors import TwinError
from .results import Sink

FORMAT = "twin-simulation-1"
CHUNK_ROWS = 4096


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return str(o)


class Hdf5Sink(Sink):
    """Writes a run to an HDF5 file as it goes (memory stays bounded whatever the length)."""

    def __init__(self, path, extra_attrs: dict | None = None):
        self.path = Path(path)
        self.extra = extra_attrs or {}
        self.steps = []
        self.summary_source = None

    def start(self, pack, records):
        try:
            self.file = h5py.File(self.path, "w")
        except OSError as e:
            raise TwinError(f"cannot write {self.path}: {e}") from None
        f = self.file
        self.pack = pack
        f.attrs["format"] = FORMAT
        f.attrs["twin_version"] = __version__
        f.attrs["cells_in_series"] = pack.n
        f.attrs["current_sign"] = "charge_positive"
        f.attrs["parameter_source"] = pack.params.source
        f.attrs["parameter_set"] = json.dumps(pack.params.to_mapping(), default=_json_default)
        f.attrs["faults"] = json.dumps([fl.to_record() for fl in pack.faults], default=_json_default)
        for k, v in self.extra.items():
            f.attrs[k] = v
        opts = dict(compression="gzip", compression_opts=4, shuffle=True)
        self.time = f.create_dataset("time", shape=(0,), maxshape=(None,), dtype="f8", chunks=(CHUNK_ROWS,), **opts)
        self.time.attrs.update(unit="s", description="Time since the start of the run", label="Time [s]")
        self.step_index = f.create_dataset("step_index", shape=(0,), maxshape=(None,), dtype="i4", chunks=(CHUNK_ROWS,), **opts)
        self.step_index.attrs["description"] = "Experiment step of each sample (index into the steps attribute; -1: initial state)"
        self.datasets = {}
        for v in records:
            shape = (0, pack.n) if v.where == "cells" else (0,)
            maxshape = (None, pack.n) if v.where == "cells" else (None,)
            chunks = (max(1, min(CHUNK_ROWS, (1 << 18) // pack.n)), pack.n) if v.where == "cells" else (CHUNK_ROWS,)
            ds = f.create_dataset(v.hdf5_path, shape=shape, maxshape=maxshape, dtype="f8", chunks=chunks, **opts)
            ds.attrs.update(unit=v.unit, description=v.description, label=v.label, vr=v.vr)
            if v.where == "cells":
                ds.attrs["dims"] = "time, cell (0-based)"
            self.datasets[v.id] = ds

    def _append(self, ds, values):
        n0 = ds.shape[0]
        ds.resize(n0 + len(values), axis=0)
        ds[n0:] = values

    def add_initial(self, data, time):
        self.add(np.array([time]), {k: np.asarray(v)[None, ...] for k, v in data.items()}, -1)

    def add(self, times, data, step_index):
        self._append(self.time, np.asarray(times, dtype=float))
        self._append(self.step_index, np.full(len(times), step_index, dtype=np.int32))
        for k, ds in self.datasets.items():
            self._append(ds, data[k])

    def add_step(self, index, text, start, end, reason):
        self.steps.append({"index": index, "step": text, "start_s": start, "end_s": end, "reason": reason})

    def finish(self):
        self.file.attrs["steps"] = json.dumps(self.steps)
        self.file.close()


def write_summary(path, summary: dict) -> None:
    with h5py.File(path, "a") as f:
        f.attrs["summary"] = json.dumps(summary, default=_json_default)


def read_simulation(path) -> dict:
    """{id: array} plus 'time' of a twin simulation file (for tests and quick looks)."""
    from .spec import load_spec

    out = {}
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != FORMAT:
            raise TwinError(f"{path} is not a twin simulation file (format attribute {f.attrs.get('format')!r})")
        out["time"] = f["time"][:]
        for v in load_spec().variables:
            if v.hdf5_path in f:
                out[v.id] = f[v.hdf5_path][:]
    return out
