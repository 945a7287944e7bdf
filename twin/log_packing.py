"""Integer-coded channels of the canonical log layout (docs/log-format.md).

A BMS measures on a step and sends integers: cell voltages in mV (or 0.1 mV), temperatures in
0.1 degC, current in mA or 10 mA. A canonical log may keep them so, with the attributes of the
netCDF CF conventions saying what one count is worth, in the dataset's `unit`::

    value = raw x scale_factor + add_offset        (add_offset: 0 when absent)

and `missing_value`, the count that stands for no reading (read as NaN). Tools that know CF
(xarray, netCDF readers) decode such a dataset by themselves; twin.logs.LogReader decodes it as it
reads, and refuses an integer dataset that does not say what a count is worth.

Stored this way a 16S log is half the size of float32 and a little smaller than float32 through
HDF5's scale-offset filter, and its cell voltages read nearly three times as fast as through that
filter, which rebuilds every float with a call to powf: integers need only inflating and one
multiplication.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import LogError

ATTRIBUTES = ("scale_factor", "add_offset", "missing_value")
# The largest magnitude a channel is stored for (in its canonical unit): the narrowest integer type
# that holds it on the channel's step is used (cell voltages in mV and temperatures in 0.1 degC fit
# int16; current in mA and pack voltage in mV need int32).
SPAN = {"current": 10_000.0, "cell_voltage": 10.0, "temperature": 1_000.0, "pack_voltage": 2_000.0}


@dataclass(frozen=True)
class Packing:
    """How a dataset's stored values become values in its unit (see the module docstring)."""

    scale: float = 1.0
    offset: float = 0.0
    missing: int | float | None = None

    @classmethod
    def of(cls, ds, path) -> "Packing | None":
        """What the dataset `ds` (h5py) declares; None for a float dataset that declares nothing.
        A LogError naming the file and the dataset for an integer dataset without a usable
        scale_factor, or any of the three attributes that is not one finite number."""
        attrs = ds.attrs
        integer = ds.dtype.kind in "iu"
        if not integer and not any(k in attrs for k in ATTRIBUTES):
            return None
        unit = attrs.get("unit", "its unit")
        unit = unit.decode() if isinstance(unit, bytes) else unit
        where = f"{path}: {ds.name} ({ds.dtype})"
        if "scale_factor" not in attrs:
            if integer:
                raise LogError(f"{where} holds integers but has no scale_factor attribute, so what one count is worth "
                               f"is unknown. The canonical layout reads integer-coded datasets as raw x scale_factor "
                               f"+ add_offset, in {unit}: add the attribute (e.g. 0.001 for millivolt counts of a V "
                               f"channel), or write the log with twin.logs.CanonicalWriter(resolution=...)")
            scale = 1.0
        else:
            scale = _number(attrs["scale_factor"], where, "scale_factor")
            if scale == 0.0:
                raise LogError(f"{where}: scale_factor is 0; it must be what one count is worth, in {unit}")
        offset = _number(attrs["add_offset"], where, "add_offset") if "add_offset" in attrs else 0.0
        missing = None
        if "missing_value" in attrs:
            missing = _number(attrs["missing_value"], where, "missing_value")
            if integer and (missing != math.floor(missing) or not np.iinfo(ds.dtype).min <= missing <= np.iinfo(ds.dtype).max):
                raise LogError(f"{where}: missing_value is {missing!r}, which no {ds.dtype} count can equal; "
                               f"it must be the integer that stands for no reading")
            if integer:
                missing = int(missing)  # compared with the counts as they are, not as floats
        return cls(scale, offset, missing)

    @classmethod
    def for_step(cls, name: str, step: float) -> tuple["Packing", np.dtype]:
        """The packing and integer type a writer stores channel `name` with, measured on `step`."""
        counts = SPAN[name] / step
        dtype = next(np.dtype(t) for t in (np.int16, np.int32, np.int64) if counts < np.iinfo(t).max)
        return cls(float(step), 0.0, int(np.iinfo(dtype).min)), dtype

    def encode(self, values, dtype, where: str) -> np.ndarray:
        """Values (in the unit) as counts of `dtype`: NaN becomes missing_value; a value that does not
        fit (or is infinite) is a LogError naming `where`."""
        x = np.asarray(values, dtype=np.float64)
        counts = np.rint((x - self.offset) / self.scale)
        nan = np.isnan(counts)
        info = np.iinfo(dtype)
        bad = ~nan & ~((counts > info.min) & (counts <= info.max))
        if bad.any():
            k = np.unravel_index(int(np.flatnonzero(bad)[0]), x.shape)
            at = f"sample {k[0]}" + (f", column {k[1]}" if len(k) > 1 else "")
            raise LogError(f"{where}: {float(x[k])!r} at {at} does not fit {np.dtype(dtype)} counts of {self.scale:g} "
                           f"(at most {info.max * self.scale:g} in magnitude); store a coarser step")
        if nan.any():
            counts[nan] = self.missing
        return counts.astype(dtype)

    def decode(self, raw) -> np.ndarray:
        """Stored values as float64 in the unit, NaN where a reading is missing."""
        x = np.multiply(raw, self.scale, dtype=np.float64)
        if self.offset:
            x += self.offset
        if self.missing is not None:
            x[raw == self.missing] = np.nan
        return x


def _number(value, where: str, key: str) -> float:
    v = np.asarray(value)
    if v.size != 1 or v.dtype.kind not in "iuf" or not np.isfinite(v.reshape(-1)[0]):
        shown = value.tolist() if hasattr(value, "tolist") else value
        raise LogError(f"{where}: attribute {key} is {shown!r}; it must be one finite number")
    return float(v.reshape(-1)[0])
