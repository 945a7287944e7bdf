"""A BMS written in Python balances the twin FMU in an FMPy co-simulation.

The twin is built as an FMI 3.0 FMU (16S EVE LF280K pack, one cell assembled 3 % fuller than the
others) and run in FMPy with ``balancer.policy = external``: every minute a small controller reads
the cell voltages the twin's BMS measures and commands the 33 Ohm bleed resistors, the way a BMS
firmware would (above 3.35 V, while charging or resting: bleed cells more than 10 mV above the
lowest, stop below 5 mV, never two adjacent cells). Each day an "inverter" charges at 0.2C until a
cell reaches 3.45 V, holds that cell at 3.45 V for four hours (absorption), then discharges at 0.2C
for three hours. The same days run again without the controller, for comparison.

    python examples/fmu_bms_controller.py                 # builds the FMU (a few seconds)
    python examples/fmu_bms_controller.py --fmu Pack.fmu  # or uses one built with `twin fmu build`
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from fmpy import extract, read_model_description
from fmpy.fmi3 import FMU3Slave

from twin.fmu_build import build_fmu
from twin.params import ParameterSet

STEP = 60.0  # s between controller decisions (communication step); the FMU steps 1 s inside
START_V, START_DELTA, STOP_DELTA, TOP_V = 3.35, 0.010, 0.005, 3.45
CHARGE_A, DISCHARGE_A, HOLD_GAIN = 56.0, -56.0, 1000.0  # 0.2C; A per V above the held cell voltage
FULL_CELL = 6


class Twin:
    """The FMU in FMPy, reached by variable name."""

    def __init__(self, path: Path):
        md = read_model_description(str(path))
        self.vr = {v.name: v.valueReference for v in md.modelVariables}
        self.n = int(md.modelVariables[[v.name for v in md.modelVariables].index("pack.cells_in_series")].start)
        self.fmu = FMU3Slave(guid=md.guid, unzipDirectory=extract(str(path)),
                             modelIdentifier=md.coSimulation.modelIdentifier)
        self.fmu.instantiate()
        self.fmu.enterInitializationMode(startTime=0.0)
        self.fmu.setInt64([self.vr["balancer.policy"]], [2])  # external: the controller decides
        self.fmu.exitInitializationMode()
        self.time = 0.0

    def cells(self, name: str) -> np.ndarray:
        return np.array(self.fmu.getFloat64([self.vr[name]], nValues=self.n))

    def value(self, name: str) -> float:
        return self.fmu.getFloat64([self.vr[name]])[0]

    def step(self, current: float, commands: np.ndarray) -> None:
        self.fmu.setFloat64([self.vr["pack.current"]], [current])
        self.fmu.setInt32([self.vr["balancer.command"]], [int(c) for c in commands])
        self.fmu.doStep(self.time, STEP)
        self.time += STEP

    def close(self):
        self.fmu.terminate()
        self.fmu.freeInstance()


def controller(voltages: np.ndarray, bleeding: np.ndarray, current: float) -> np.ndarray:
    """The Python BMS: which cells bleed next minute (1) and which do not (0)."""
    vmin = voltages.min()
    if voltages.max() < START_V or current < 0.0:
        return np.zeros_like(bleeding)
    wants = np.where(bleeding > 0, voltages > vmin + STOP_DELTA, voltages > vmin + START_DELTA)
    out = np.zeros_like(bleeding)
    for i in np.argsort(-voltages):  # highest first, never two neighbours (the bq769x0 rule)
        if wants[i] and not (i > 0 and out[i - 1]) and not (i + 1 < len(out) and out[i + 1]):
            out[i] = 1
    return out


def run_days(path: Path, days: int, balance: bool) -> list[dict]:
    twin, out = Twin(path), []
    commands = np.zeros(twin.n)
    for day in range(days):
        phase, t_day, top_spread = "charge", twin.time, np.nan
        while twin.time < t_day + 86400.0:
            voltages = twin.cells("cell.voltage_measured")
            if phase == "charge" and voltages.max() >= TOP_V:
                phase, until = "absorb", twin.time + 4 * 3600
            elif phase == "absorb" and twin.time >= until:
                phase, until, top_spread = "discharge", twin.time + 3 * 3600, np.ptp(voltages)
            elif phase == "discharge" and twin.time >= until:
                phase = "idle"
            if phase == "absorb":  # hold the highest cell at TOP_V
                current = float(np.clip(HOLD_GAIN * (TOP_V - voltages.max()), 0.0, CHARGE_A))
            else:
                current = {"charge": CHARGE_A, "discharge": DISCHARGE_A}.get(phase, 0.0)
            if balance:
                commands = controller(voltages, commands, current)
            twin.step(current, commands)
        soc, capacity = twin.cells("cell.soc"), twin.cells("cell.present_capacity")
        charge = soc * capacity
        out.append({"day": day + 1, "top_spread_mv": 1000 * top_spread, "soc_spread": 100 * np.ptp(soc),
                    "surplus_ah": charge[FULL_CELL] - np.median(charge),
                    "bled_ah": twin.value("balancer.charge_moved"), "bled_wh": twin.value("balancer.energy_dissipated")})
    twin.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fmu", type=Path, help="an FMI 3.0 twin FMU of 16 cells (default: build one)")
    ap.add_argument("--days", type=int, default=12)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.fmu
        if path is None:
            soc = [0.5] * 16
            soc[FULL_CELL] = 0.53
            params = ParameterSet.load("eve_lf280k_16s").updated(
                {"cell.initial_soc": soc, "spread.soc": 0.002}, source=f"eve_lf280k_16s, cell {FULL_CELL + 1} 3 % fuller")
            path = build_fmu(Path(tmp) / "Pack.fmu", fmi_version=3, params=params).path
        with_bms, without = run_days(path, args.days, True), run_days(path, args.days, False)
    print(f"{'':>4} {'spread after absorption':>25}  {f'cell {FULL_CELL + 1} surplus':>17}  {'SOC spread':>15}  bled by the BMS")
    print(f"{'day':>4} {'with BMS':>12} {'without':>12}  {'with':>8} {'without':>8}  {'with':>7} {'without':>7}")
    for a, b in zip(with_bms, without):
        print(f"{a['day']:4d} {a['top_spread_mv']:9.1f} mV {b['top_spread_mv']:9.1f} mV  {a['surplus_ah']:5.2f} Ah "
              f"{b['surplus_ah']:5.2f} Ah  {a['soc_spread']:5.2f} % {b['soc_spread']:5.2f} %  "
              f"{a['bled_ah']:5.2f} Ah {a['bled_wh']:5.1f} Wh")
    first, last = with_bms[0], with_bms[-1]
    print(f"the Python BMS took cell {FULL_CELL + 1}'s surplus from {first['surplus_ah']:.1f} Ah to "
          f"{last['surplus_ah']:.1f} Ah and the spread after absorption from {first['top_spread_mv']:.0f} mV to "
          f"{last['top_spread_mv']:.0f} mV in {len(with_bms)} days (without it: {without[-1]['top_spread_mv']:.0f} mV)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
