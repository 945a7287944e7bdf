"""One scenario with one firmware in the loop, in this process (``twin.validate`` isolates it).

The twin runs in C a chunk at a time (``twin._core.BmsLoop`` over csrc/firmware.c): a C firmware
is called through its function pointer without leaving C, a Python one through a trampoline. After
each chunk the checks (twin.validate_checks) read the records; a run of any length keeps a few
chunks' worth of memory.
"""

from __future__ import annotations

import math
import signal
import time as _time
from dataclasses import dataclass, field

import numpy as np

from .firmware import Firmware, FirmwareFault, open_session
from .validate_checks import FAST, SLOW, CheckResult, Context, Monitor
from .validate_protection import fmt_time

CHUNK_STEPS = 21600          # 6 h at 1 s: about 6 MB of records
SLOW_POINTS = 1500           # per-cell samples kept for the report
STOP_HIGH, STOP_LOW = 4.0, 2.0  # V: a true cell voltage past these ends the run (far outside LFP's use,
#                                 where the cell model stops meaning anything)
FAULT_TEXT = {
    "bad_balance": "returned balance = {value:g} for cell {cell} (allowed: -1, 0, +1)",
    "bad_charge_enable": "returned charge_enable = {value:g} (allowed: 0 or 1)",
    "bad_discharge_enable": "returned discharge_enable = {value:g} (allowed: 0 or 1)",
    "bad_cvl": "returned CVL = {value:g} V (it must be a finite number of volts, at least 0)",
    "bad_ccl": "returned CCL = {value:g} A (it must be a finite number of amperes, at least 0)",
    "bad_dcl": "returned DCL = {value:g} A (it must be a finite number of amperes, at least 0)",
}
FIRMWARE_CHECK = ("firmware.runs", "the firmware runs the whole scenario")


@dataclass
class ScenarioRun:
    """What one scenario gave with one firmware."""

    scenario: str
    description: str
    firmware: str              # as named on the command line
    firmware_name: str         # as the firmware names itself
    period: float
    results: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    plot: dict = field(default_factory=dict)
    wall_s: float = 0.0
    steps: int = 0

    @property
    def status(self) -> str:
        return "fail" if any(r.status == "fail" for r in self.results) else "pass"

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, "description": self.description, "firmware": self.firmware,
                "firmware_name": self.firmware_name, "period_s": self.period, "status": self.status,
                "checks": [r.to_dict() for r in self.results], "figures": self.figures,
                "wall_s": self.wall_s, "steps": self.steps}


def charger_resistance(params, n: int) -> float:
    """Ohm: the gain of the inverter's constant-voltage loop, the pack's DC resistance (R0 and every RC
    pair) at half charge and the pack's starting temperature. The one-step resistance the loop meets
    is about half of it, so each step corrects about half the error: no ringing, a lag of a few mV
    per cell while the top-of-charge OCV climbs; it stays stable while the cells are less than twice
    as resistive as at the start (some 20 K colder, with the default tables)."""
    from .params import build_tables, per_cell_values

    values, soc0, dsoc, temp0, dtemp, n_rc = build_tables(params)
    socs = soc0 + dsoc * np.arange(values.shape[1])
    temps = temp0 + dtemp * np.arange(values.shape[0])
    r_dc = np.sum(values[..., 2:3 + n_rc], axis=-1)                   # (temperatures, SOCs)
    at_half = np.array([np.interp(0.5, socs, row) for row in r_dc])
    r = float(np.interp(float(params["pack.initial_temperature"]), temps, at_half)) if len(temps) > 1 else float(at_half[0])
    factor = float(np.mean(per_cell_values(params, "cell.resistance_factor", n, params.capacity_ah)))
    return n * r * factor / params.cells_in_parallel + float(params["pack.busbar_resistance"]) * (n - 1)


def context_for(scenario, pack, period: float) -> Context:
    """Checks' context: margins from the twin's sensor settings (3 sigma of noise plus one ADC step)."""
    p = pack.params
    g = lambda k: float(p[k])  # noqa: E731
    return Context(
        n_cells=pack.n, capacity_ah=pack.capacity_ah, dt=scenario.step, period=period,
        sensor_delay=scenario.sensor_delay, start_time=0.0,
        voltage_margin=3 * g("sensor.voltage_noise") + g("sensor.voltage_resolution") + 1e-6,
        temperature_margin=3 * g("sensor.temperature_noise") + g("sensor.temperature_resolution") + 1e-6,
        current_margin=3 * g("sensor.current_noise") + g("sensor.current_resolution") + 1e-6,
        expect_full_charge=scenario.expect_full_charge, skip=scenario.skip)


def firmware_failure(text: str, at: float) -> CheckResult:
    return CheckResult(*FIRMWARE_CHECK, "fail", text, None, "", at)


def _fault_result(fault, session, loop) -> CheckResult:
    kind, cell, value, at, status = fault
    if kind == "controller_error":
        detail = session.describe_error(loop)
        if session.__class__.__name__ == "CSession":
            text = f"twin_fw_step returned {status} at {fmt_time(at)}" + (f": {detail}" if detail else "")
        else:
            text = f"the firmware {detail} at {fmt_time(at)}"
    elif kind in ("cell_high", "cell_low"):
        way = "above" if kind == "cell_high" else "below"
        bound = STOP_HIGH if kind == "cell_high" else STOP_LOW
        what = "overcharged" if kind == "cell_high" else "overdischarged"
        text = (f"the run was stopped at {fmt_time(at)}: cell {cell}'s true voltage went {way} {bound:.1f} V "
                f"({value:.3f} V), where an LFP cell is long destroyed: the firmware let it be {what}")
    else:
        text = f"the firmware {FAULT_TEXT[kind].format(value=value, cell=cell)} at {fmt_time(at)}"
    return firmware_failure(text, at)


def _key(spec, name: str):
    return name if name.startswith(("monitor.", "fw.")) else spec[name].vr


def run_scenario(firmware: Firmware, scenario, limits, period: float | None = None, progress_address: int = 0,
                 chunk_steps: int = CHUNK_STEPS) -> ScenarioRun:
    """Run one scenario with the firmware in the loop and check it against the limits."""
    from ._core import BmsLoop
    from .pack import Pack

    started = _time.perf_counter()
    pack = Pack(scenario.loop_params())
    n, dt = pack.n, scenario.step
    if firmware.kind == "fmu":
        from .firmware_fmu import run_fmu_scenario

        return run_fmu_scenario(firmware, scenario, limits, pack, period, progress_address)
    run = ScenarioRun(scenario.name, scenario.description, firmware.text, firmware.label, period or dt)
    try:
        session = open_session(firmware, n, period or max(1.0, dt))
    except FirmwareFault as e:
        monitor = Monitor(limits, context_for(scenario, pack, period or dt))
        run.results = monitor.results(firmware_failure(f"the firmware did not start: {e}", 0.0))
        return run
    try:
        run.firmware_name = session.name
        period_steps = max(1, int(round(session.period / dt)))
        run.period = period_steps * dt
        ctx = context_for(scenario, pack, run.period)
        monitor = Monitor(limits, ctx)
        request, ambient = scenario.drive()
        total = len(request)
        monitor.plan(total)
        slow_every = max(1, total // SLOW_POINTS)
        loop = BmsLoop(pack.kernel, period_steps, int(round(scenario.sensor_delay / dt)), scenario.obey_limits,
                       charger_resistance(pack.params, n), STOP_HIGH, STOP_LOW, progress_address)
        session.attach(loop)
        loop.start()
        ended = None
        spec = pack.spec
        for a in range(0, total, chunk_steps):
            req = request[a:a + chunk_steps]
            m = len(req)
            fast = {name: np.empty(m) for name in FAST}
            before = loop.steps
            rows = (before + m) // slow_every - before // slow_every
            slow = {name: np.empty((max(rows, 1), n)) for name in SLOW}
            done = loop.run(dt, req, ambient[a:a + m], records=[(_key(spec, FAST[k]), v) for k, v in fast.items()],
                            slow=[(_key(spec, SLOW[k]), v) for k, v in slow.items()], slow_every=slow_every)
            chunk = {k: v[:done] for k, v in fast.items()}
            chunk["time"] = (before + 1 + np.arange(done)) * dt
            monitor.feed(chunk)
            rows_done = (before + done) // slow_every - before // slow_every
            first = (before // slow_every + 1) * slow_every
            monitor.feed_cells((first + slow_every * np.arange(rows_done)) * dt, {k: v[:rows_done] for k, v in slow.items()})
            if loop.fault is not None:
                ended = _fault_result(loop.fault, session, loop)
                break
        run.results = monitor.results(ended)
        run.figures = monitor.figures_dict()
        run.plot = monitor.plot_data()
        run.steps = int(loop.steps)
    finally:
        session.close()
    run.wall_s = _time.perf_counter() - started
    return run


SIGNALS = {getattr(signal, n): n for n in ("SIGSEGV", "SIGABRT", "SIGBUS", "SIGFPE", "SIGILL", "SIGKILL", "SIGTERM")
           if hasattr(signal, n)}
SIGNAL_WORDS = {"SIGSEGV": "segmentation fault: a bad pointer or an array overrun", "SIGABRT": "abort(): an assert "
                "or abort in the firmware", "SIGBUS": "bus error", "SIGFPE": "arithmetic exception (integer division "
                "by zero?)", "SIGILL": "illegal instruction", "SIGKILL": "killed", "SIGTERM": "terminated"}


def crash_text(exitcode: int, at: float) -> str:
    """What a dead scenario process's exit code says, for a firmware engineer."""
    where = f"at {fmt_time(at)}" if at is not None and math.isfinite(at) and at >= 0 else "before its first control period"
    if exitcode is not None and exitcode < 0:
        name = SIGNALS.get(-exitcode, f"signal {-exitcode}")
        return f"the firmware crashed with {name} ({SIGNAL_WORDS.get(name, 'a fatal signal')}) {where}"
    return f"the firmware ended the process (exit status {exitcode}) {where}"


__all__ = ["run_scenario", "ScenarioRun", "crash_text", "charger_resistance", "firmware_failure"]
