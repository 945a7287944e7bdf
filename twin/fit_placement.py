"""Where a pulse test's windows sit on the OCV when its rests say the stated SOC is off.

A pulse test is fitted relative to the voltage before each pulse, so an SOC error does not enter its
residuals directly. It still decides *where* on the OCV the model replays each pulse, and the RC
resistances follow the OCV slope there (twin.fit_cell_model): a pulse replayed on a knee that the
cell was not on asks for polarization the cell did not show, and the fit answers by shrinking and
slowing the slope-shaped pairs everywhere. When the rests of >= 30 min that the measured OCV can
judge lie outside the OCV's hysteresis band at the stated SOC (between the discharge and the charge
branch, where a rest may sit) by more than REST_AGREEMENT, the record is replayed shifted
by the median over its rests of (SOC where the OCV places the rest - counted SOC), from where the
shifted SOC enters 0..1. A rest places the windows before it only when it and its neighbouring rests
all land, after the shift, within REST_AGREEMENT of the OCV and inside the SOC range the OCV was
measured over; the others are left out of the fit (the record's curve there is not the OCV test's,
e.g. a plateau it does not have, and a window next to such a stretch is not trusted either).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .fit_checks import find_features, runs
from .fit_model import SOC_GRID

PLACING_REST_S = 1800.0  # a rest this long has relaxed to within a few mV of the OCV
REST_AGREEMENT = 0.010  # V; rest against OCV, several times the relaxation left and the sensor noise


@dataclass
class Placement:
    """Segments [(first sample, last sample, SOC at the first)], the SOC the replay sees at every sample
    (NaN outside the segments), and which samples lie in windows whose rest places them."""

    segments: list
    soc: np.ndarray
    kept: np.ndarray
    notes: list = field(default_factory=list)


def rest_ends(current, dt: float, q: float) -> list:
    """Last sample of every rest of >= PLACING_REST_S."""
    return [b - 1 for a, b, d in find_features(current, dt, q).rests if d >= PLACING_REST_S]


def place_windows(current, voltage, dt: float, soc, mean, q: float, span=(0.0, 1.0), band=None) -> Placement | None:
    """Placement of a pulse record by its rests against the mean OCV (on SOC_GRID, measured over the SOC
    range span); None when the rests agree with the OCV at the counted SOC (soc: stated SOC plus counted
    charge, per sample) or none can be judged. band: (lower, upper) OCV on SOC_GRID, the hysteresis
    band a rest may sit in (default: the mean alone)."""
    from .fit_cell_model import interp_ext

    lower, upper = (mean, mean) if band is None else band

    def miss(v, s):
        """How far a rest voltage lies outside the band at SOC s (0 inside)."""
        return np.maximum.reduce([interp_ext(s, SOC_GRID, lower) - v, v - interp_ext(s, SOC_GRID, upper),
                                  np.zeros(np.shape(v))])

    ends = np.array(rest_ends(current, dt, q), int)
    if not len(ends):
        return None
    lo, hi = span
    ocv_lo, ocv_hi = interp_ext(np.array([lo, hi]), SOC_GRID, mean)
    v_rest, s_rest = voltage[ends], soc[ends]
    placeable = (v_rest >= ocv_lo) & (v_rest <= ocv_hi)  # rests the measured OCV can place
    judged = placeable & (s_rest >= lo) & (s_rest <= hi)
    if not judged.any():
        return None
    if np.max(miss(v_rest[judged], s_rest[judged])) <= REST_AGREEMENT:
        return None
    placed = np.interp(v_rest, np.maximum.accumulate(mean), SOC_GRID)
    shift = float(np.median((placed - s_rest)[placeable]))
    moved = s_rest + shift
    agrees = ((moved >= lo) & (moved <= hi)
              & (miss(v_rest, np.clip(moved, 0.0, 1.0)) <= REST_AGREEMENT))
    # a rest places the pulses before it only where the record's curve follows the OCV on both sides of it
    trusted = agrees & np.r_[True, agrees[:-1]] & np.r_[agrees[1:], True]
    n = len(current)
    shifted = soc + shift
    inside = (shifted >= 0.0) & (shifted <= 1.0)
    out = np.where(inside, shifted, np.nan)
    segments = [(int(a), int(b) - 1, float(shifted[a])) for a, b in runs(inside) if b - a > 1]
    # the windows before rest k (after rest k-1) are placed by it; the tail after the last rest by that one
    owner = np.minimum(np.searchsorted(ends, np.arange(n)), len(ends) - 1)
    kept = trusted[owner] & inside
    for a, _, _ in segments:
        kept[a] = False  # a segment's first sample is its initial state
    notes = [f"its rests sit {1000 * np.min(v_rest[judged] - interp_ext(s_rest[judged], SOC_GRID, mean)):+.0f} .. "
             f"{1000 * np.max(v_rest[judged] - interp_ext(s_rest[judged], SOC_GRID, mean)):+.0f} mV from the OCV at the "
             f"SOC counted from its start: its pulses are replayed {shift:+.3f} from that SOC, where the OCV places its "
             f"rests (the median over them)"]
    dropped = [f"{s:.3f}" for s, t in zip(s_rest, trusted) if not t]
    if dropped:
        notes.append(f"the pulses before its rests at counted SOC {', '.join(dropped)} are left out: moved so, those rests "
                     f"or their neighbours miss the OCV by more than {1000 * REST_AGREEMENT:.0f} mV or leave the SOC range "
                     f"it was measured over (the cell's curve there is not the OCV test's)")
    if not segments or not kept.any():
        return None
    return Placement(segments, out, kept, notes)


def replay_segments(replay, p, **options) -> dict:
    """replay.run over a prepared record (twin.fit_cell.Prepared), in its segments when it has them;
    samples outside every segment are NaN."""
    if not p.segments:
        return replay.run(p.current, p.dt, p.soc0, p.h0, **options)
    out = None
    for a, b, s0 in p.segments:
        o = replay.run(p.current[a:b + 1], p.dt, s0, p.h0, **options)
        if out is None:
            out = {k: np.full((len(p.current),) + v.shape[1:], np.nan) for k, v in o.items()}
        for k, v in o.items():
            out[k][a:b + 1] = v
    return out
