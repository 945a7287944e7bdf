"""Current profiles from files: CSV (a 'current' column, optionally 'time') or HDF5 ('/current',
optionally '/time', such as a canonical log, integer-coded or not). Current in A, positive
charging; time in s, evenly spaced."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .errors import ExperimentError


def _values(ds, path) -> np.ndarray:
    """A dataset's values in its unit: counts decoded when they say what a count is worth
    (twin/log_packing.py); plain numbers as they are."""
    from .log_packing import ATTRIBUTES, Packing

    if not any(k in ds.attrs for k in ATTRIBUTES):
        return np.asarray(ds[:], dtype=float)
    return Packing.of(ds, path).decode(ds[:])


def _check_time(time, path, current):
    if time is None:
        return None
    t = np.asarray(time, dtype=float)
    if t.shape != current.shape:
        raise ExperimentError(f"{path}: time has {t.size} values, current has {current.size}")
    if len(t) < 2:
        return None
    d = np.diff(t)
    if not np.all(np.isfinite(t)) or np.any(d <= 0):
        bad = int(np.flatnonzero(~(d > 0))[0]) if np.any(~(d > 0)) else 0
        raise ExperimentError(f"{path}: time must increase; it does not after sample {bad}")
    if not np.allclose(d, d[0], rtol=1e-6, atol=1e-9):
        raise ExperimentError(f"{path}: time steps must be even (found {d.min():g} .. {d.max():g} s); resample the profile first")
    return float(d[0])


def read_profile(path) -> tuple[np.ndarray, float | None]:
    """(current per step in A, step in s or None when the file has no time)."""
    p = Path(path)
    if not p.exists():
        raise ExperimentError(f"profile file {p} does not exist")
    if p.suffix.lower() in (".h5", ".hdf5"):
        import h5py

        try:
            with h5py.File(p, "r") as f:
                if "current" not in f:
                    raise ExperimentError(f"{p}: no '/current' dataset (amperes, positive charging)")
                current, time = _values(f["current"], p), (_values(f["time"], p) if "time" in f else None)
        except OSError as e:
            raise ExperimentError(f"{p}: not a readable HDF5 file ({e})") from None
    else:
        try:
            with p.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise ExperimentError(f"{p}: cannot read as CSV ({e})") from None
        if not rows or "current" not in rows[0]:
            raise ExperimentError(f"{p}: needs a header row with a 'current' column (A, positive charging), and optionally 'time' (s)")
        try:
            current = np.array([float(r["current"]) for r in rows])
            time = np.array([float(r["time"]) for r in rows]) if "time" in rows[0] else None
        except (TypeError, ValueError) as e:
            raise ExperimentError(f"{p}: a value is not a number ({e})") from None
    if current.ndim != 1 or len(current) == 0:
        raise ExperimentError(f"{p}: current must be a non-empty list of numbers")
    if not np.all(np.isfinite(current)):
        raise ExperimentError(f"{p}: current has a non-number at sample {int(np.flatnonzero(~np.isfinite(current))[0])}")
    return current, _check_time(time, p, current)
