"""What a record holds for identification: rests, low-rate segments, current steps, relaxations,
and what it cannot give.

Each parameter group needs a kind of test; when the data lacks it, the finding says so plainly and
names the test that would identify it:

==================  ===========================================  =============================================
parameter           identified from                              missing: the test to run
==================  ===========================================  =============================================
OCV branches        low-rate (<= C/10) charge and discharge       a low-rate (<= C/10) charge and discharge, or
                    segments, or rests of >= 1 h                  rests of >= 1 h at several SOC
hysteresis          a low-rate charge *and* discharge over the    a low-rate charge and a discharge over the
                    same SOC range; its rate from the transition  same SOC range
                    after a reversal
R0                  current steps of >= 0.2C                      current pulses (HPPC: 1C for 10-30 s)
RC pairs            rests of >= 60 s after >= C/20 flowed         pulses followed by rests of >= 1 min
capacity            a discharge from the upper to the lower       a C/3 or slower discharge from full (charged
                    voltage limit                                 to the upper limit) to the lower limit
==================  ===========================================  =============================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import FitError

REST_C_RATE = 0.01  # |I| below this C-rate counts as rest
LOW_RATE = 0.1  # C-rate of an OCV-grade low-rate segment
LOW_RATE_MIN_S = 1800.0
OCV_SPAN = 0.2  # a low-rate segment over at least this fraction of capacity traces an OCV branch
LONG_REST_S = 3600.0
STEP_C_RATE = 0.2  # a current step of at least this C-rate identifies R0
RELAXATION_MIN_S = 60.0
RELAXATION_C_RATE = 0.05  # a rest after a current of at least this shows the RC pairs relaxing


@dataclass
class Finding:
    parameter: str
    status: str  # "identified", "weak", "not identified", "assumed"
    detail: str

    def line(self) -> str:
        return f"{self.parameter}: {self.status} - {self.detail}"


@dataclass
class Features:
    """Index ranges [start, stop) into a record, found from its current (A) and the cell capacity."""

    rests: list = field(default_factory=list)
    low_rate: list = field(default_factory=list)  # (start, stop, sign)
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # first sample after a step
    relaxations: list = field(default_factory=list)  # (start, stop) rests right after current flowed
    soc_span: float = 0.0  # fraction of capacity between the emptiest and fullest point

    @property
    def long_rests(self) -> list:
        return [r for r in self.rests if r[2] >= LONG_REST_S]

    def low_rate_span(self, sign: int, dt: float, current, capacity_ah: float) -> float:
        return sum(abs(float(np.sum(current[a:b]))) * dt / 3600.0 / capacity_ah for a, b, s in self.low_rate if s == sign)


def runs(mask: np.ndarray) -> list:
    """[(start, stop)] of the runs of True."""
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def find_features(current: np.ndarray, dt: float, capacity_ah: float) -> Features:
    i = np.asarray(current, dtype=float)
    rest_a = REST_C_RATE * capacity_ah
    rest = np.abs(i) < rest_a
    f = Features()
    f.rests = [(a, b, (b - a) * dt) for a, b in runs(rest)]
    for sign in (1, -1):
        low = (sign * i >= rest_a) & (sign * i <= LOW_RATE * capacity_ah * 1.05)
        # bridge single noisy samples, then keep the long runs
        for a, b in runs(low):
            span = abs(float(np.sum(i[a:b]))) * dt / 3600.0 / capacity_ah
            if (b - a) * dt >= LOW_RATE_MIN_S and span >= OCV_SPAN:
                f.low_rate.append((a, b, sign))
    f.low_rate.sort()
    jump = np.abs(np.diff(i)) >= STEP_C_RATE * capacity_ah
    f.steps = np.flatnonzero(jump) + 1
    for a, b, d in f.rests:
        if a > 0 and d >= RELAXATION_MIN_S and abs(i[a - 1]) >= RELAXATION_C_RATE * capacity_ah:
            f.relaxations.append((int(a), int(b)))
    charge = np.cumsum(i) * dt / 3600.0
    f.soc_span = float((charge.max() - charge.min()) / capacity_ah) if len(i) else 0.0
    return f


def check_clipping(x: np.ndarray, what: str, path: str, unit: str) -> None:
    """Refuse a channel that sits exactly at its extreme while it is noisy elsewhere: a clipped sensor."""
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    for c in range(x.shape[1]):
        col = x[:, c]
        steady = np.mean(col[1:] == col[:-1])
        if steady > 0.5:  # a clean, piecewise-constant signal (a cycler's set point, a simulation)
            continue
        for extreme in (col.max(), col.min()):
            at = col == extreme
            if extreme == 0 or at.sum() < max(20, 0.005 * len(col)):
                continue
            longest = max(b - a for a, b in runs(at))
            if longest >= 10:
                where = f"{what}[:, {c}]" if x.shape[1] > 1 else what
                raise FitError(
                    f"{path}: {where} looks clipped at {extreme:g} {unit}: {int(at.sum())} samples sit exactly there "
                    f"(up to {longest} in a row) while it is noisy elsewhere. Charge counting and resistances would be "
                    f"wrong; record with a sensor range above what the test reaches"
                )


def cell_findings(records, capacity_ah: float, capacity_source: str) -> tuple[list, dict]:
    """Findings for a single-cell fit over all records, and the features of each record."""
    feats = {}
    for rec in records:
        check_clipping(rec.current, "current", rec.path, "A")
        check_clipping(rec.voltage, "cell voltage", rec.path, "V")
        feats[rec.name] = find_features(rec.current, rec.dt, capacity_ah)
    out = []
    chg = sum(f.low_rate_span(1, r.dt, r.current, capacity_ah) for r, f in zip(records, feats.values()))
    dis = sum(f.low_rate_span(-1, r.dt, r.current, capacity_ah) for r, f in zip(records, feats.values()))
    long_rests = sum(len(f.long_rests) for f in feats.values())
    if chg >= 0.3 and dis >= 0.3:
        out.append(Finding("OCV branches", "identified", f"low-rate charge over {100 * chg:.0f} % and discharge over "
                                                          f"{100 * dis:.0f} % of capacity"))
    elif chg >= 0.3 or dis >= 0.3:
        which, other = ("discharge", "charge") if dis >= 0.3 else ("charge", "discharge")
        out.append(Finding("OCV branches", "weak", f"only a low-rate {which}: the {other} branch is taken equal to it "
                                                   f"(no hysteresis); needs a low-rate (<= C/10) {other} too"))
    elif long_rests >= 3:
        out.append(Finding("OCV branches", "weak", f"from {long_rests} rests of >= 1 h only (one branch, no hysteresis); "
                                                   f"a low-rate (<= C/10) charge and discharge identify both branches"))
    else:
        out.append(Finding("OCV branches", "not identified", "no low-rate segment of >= 30 min and fewer than 3 rests "
                                                             "of >= 1 h; needs a low-rate (<= C/10) charge and discharge "
                                                             "or rests of >= 1 h at several SOC"))
    if chg >= 0.3 and dis >= 0.3:
        out.append(Finding("hysteresis", "weak", "branch gap from the low-rate charge and discharge; its rate from the "
                                                 "transition after the reversal, one event in most tests: weakly identified"))
    else:
        out.append(Finding("hysteresis", "not identified", "needs a low-rate charge and a discharge over the same SOC range"))
    n_steps = sum(len(f.steps) for f in feats.values())
    step_socs = n_steps
    if n_steps >= 2:
        out.append(Finding("R0", "identified", f"{step_socs} current steps of >= {STEP_C_RATE:g}C"))
    else:
        out.append(Finding("R0", "not identified", f"no current steps of >= {STEP_C_RATE:g}C; needs current pulses "
                                                   f"(HPPC: 1C for 10-30 s with rests between)"))
    n_relax = sum(len(f.relaxations) for f in feats.values())
    if n_relax >= 2:
        out.append(Finding("RC pairs", "identified", f"{n_relax} rests of >= {RELAXATION_MIN_S:.0f} s after current flowed"))
    else:
        out.append(Finding("RC pairs", "not identified", "no rest of >= 1 min right after a current step; needs pulses "
                                                         "followed by rests (HPPC)"))
    out.append(Finding("capacity", "identified" if capacity_source.startswith("measured") else "assumed", capacity_source))
    return out, feats


def status(findings, parameter: str) -> str:
    for f in findings:
        if f.parameter == parameter:
            return f.status
    return "not identified"
