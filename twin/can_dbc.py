"""The DBC files twin ships for CAN: the Pylontech-style inverter frames, extended with per-cell
frames, and the frames `twin live --publish` sends with the twin's own view.

The shipped files in twin/data/can/ are generated here (``python -m twin.can_dbc``), for any
number of cells and temperature sensors; a test fails when a shipped file is stale. All signals
are little-endian (Intel), as in the Pylontech protocol.

Pylontech-style inverter frames (DOMAIN.md "Talking to inverters"; byte layout as sent by
Pylontech US-series and Pytes batteries, setfirelabs.com "Pylontech battery CAN comms"):

    0x351  charge voltage limit (0.1 V), charge and discharge current limits (0.1 A),
           discharge voltage limit (0.1 V)
    0x355  SOC, SOH (%)
    0x356  pack voltage (0.01 V), current (0.1 A, positive = charging), temperature (0.1 degC)
    0x35C  byte 0: bit 7 charge enable, bit 6 discharge enable, bit 5 request force charge

Extension (ids 0x3C0-0x3C4, outside the ranges Pylontech, SMA and Victron's extended set use:
0x351-0x35F, 0x370-0x37F). One sample of the BMS is one TWIN_SAMPLE frame followed by its data
frames; each frame carries the sample's 8-bit counter, so the receiver can tell a late frame
(an older counter) from a current one:

    0x3C0 TWIN_SAMPLE        counter, the BMS's uptime (ms, 32 bit: wraps after 49.7 days)
    0x3C1 TWIN_PACK          counter, pack current (IEEE-754 single, A, positive = charging),
                             pack voltage (1 mV, 24 bit)
    0x3C2 TWIN_CELL_VOLTAGE  multiplexed: group g carries cells 3g+1..3g+3 (1 mV each)
    0x3C3 TWIN_TEMPERATURE   multiplexed: group g carries sensors 3g+1..3g+3 (0.1 degC each)
    0x3C4 TWIN_BALANCING     multiplexed: group g carries the bleed flags of cells 48g+1..48g+48

The current is sent as measured, in single precision: 0x356's 0.1 A is too coarse for the
detector's resistance estimates on small cells (0.1 A is 4 % C of a 2.3 Ah cell).

The twin's view (0x3D0-0x3D3), sent by `twin live --publish`:

    0x3D0 TWIN_VIEW_LIMITS   CVL, CCL, DCL as the twin's BMS rule computes them from the measured
                             cells (0x351's layout)
    0x3D1 TWIN_VIEW_FLAG     one raised flag: kind, cell (0-based), magnitude (float, the unit of
                             the kind: mA, mOhm, %, mV, mA, K)
    0x3D2 TWIN_VIEW_STATUS   flags raised, samples seen, samples dropped as incomplete
    0x3D3 TWIN_VIEW_DEVIATION multiplexed: each cell's voltage against the pack median as the
                             detector sees it (0.1 mV, signed), three cells per group
"""

from __future__ import annotations

import math

SAMPLE_ID, PACK_ID, CELL_V_ID, TEMP_ID, BAL_ID = 0x3C0, 0x3C1, 0x3C2, 0x3C3, 0x3C4
VIEW_LIMITS_ID, VIEW_FLAG_ID, VIEW_STATUS_ID, VIEW_DEVIATION_ID = 0x3D0, 0x3D1, 0x3D2, 0x3D3
PER_FRAME = 3        # 16-bit values per multiplexed frame (after the group and counter bytes)
BITS_PER_FRAME = 48  # balancing flags per frame
FLAG_KINDS = ("self_discharge", "resistance", "capacity", "voltage_sensor", "balancer", "thermal")
FLAG_UNITS = ("mA", "mOhm", "%", "mV", "mA", "K")


def _sig(name, start, length, scale=1, offset=0, lo=0, hi=None, unit="", signed=False, mux="", receiver="TWIN"):
    if hi is None:
        hi = (2 ** length - 1) * scale + offset if not signed else (2 ** (length - 1) - 1) * scale + offset
    sign = "-" if signed else "+"
    m = f" {mux}" if mux else ""
    return f' SG_ {name}{m} : {start}|{length}@1{sign} ({_num(scale)},{_num(offset)}) [{_num(lo)}|{_num(hi)}] "{unit}" {receiver}'


def _num(x) -> str:
    if float(x).is_integer():
        return str(int(x))
    return repr(float(x)) if len(repr(float(x))) < 16 else f"{x:.10g}"


def pylontech_twin_dbc(cells: int = 16, sensors: int = 4) -> str:
    """The DBC text for a pack of `cells` cells in series with `sensors` temperature sensors."""
    if not 1 <= cells <= 255 * PER_FRAME:
        raise ValueError(f"cells must be 1..{255 * PER_FRAME}, got {cells}")
    if not 0 <= sensors <= 255 * PER_FRAME:
        raise ValueError(f"sensors must be 0..{255 * PER_FRAME}, got {sensors}")
    width = max(2, len(str(max(cells, sensors))))
    num = lambda k: f"{k:0{width}d}"  # noqa: E731
    out = ['VERSION ""', "", "NS_ :", "    CM_", "    BA_DEF_", "    BA_", "    VAL_", "    BA_DEF_DEF_",
           "    SIG_VALTYPE_", "", "BS_:", "", "BU_: BMS TWIN INVERTER", ""]
    comments, starts, floats, cycles, values = [], [], [], [], []

    def message(frame_id, name, dlc, sender, signals, comment, cycle_ms=1000):
        out.append(f"BO_ {frame_id} {name}: {dlc} {sender}")
        out.extend(signals)
        out.append("")
        comments.append(f'CM_ BO_ {frame_id} "{comment}";')
        cycles.append(f'BA_ "GenMsgCycleTime" BO_ {frame_id} {cycle_ms};')

    # --- Pylontech-style inverter frames ---
    message(0x351, "PYLON_LIMITS", 8, "BMS", [
        _sig("ChargeVoltageLimit", 0, 16, 0.1, unit="V", receiver="INVERTER"),
        _sig("ChargeCurrentLimit", 16, 16, 0.1, signed=True, lo=0, unit="A", receiver="INVERTER"),
        _sig("DischargeCurrentLimit", 32, 16, 0.1, signed=True, lo=0, unit="A", receiver="INVERTER"),
        _sig("DischargeVoltageLimit", 48, 16, 0.1, unit="V", receiver="INVERTER"),
    ], "Charge voltage limit (CVL), charge and discharge current limits (CCL, DCL)")
    message(0x355, "PYLON_SOC", 4, "BMS", [
        _sig("StateOfCharge", 0, 16, 1, hi=100, unit="%", receiver="INVERTER"),
        _sig("StateOfHealth", 16, 16, 1, hi=100, unit="%", receiver="INVERTER"),
    ], "State of charge and health")
    starts.append(f'BA_ "GenSigStartValue" SG_ {0x355} StateOfHealth 100;')
    message(0x356, "PYLON_PACK", 6, "BMS", [
        _sig("PackVoltage", 0, 16, 0.01, signed=True, lo=0, unit="V", receiver="INVERTER"),
        _sig("PackCurrent", 16, 16, 0.1, signed=True, lo=-3276.8, unit="A", receiver="INVERTER"),
        _sig("PackTemperature", 32, 16, 0.1, signed=True, lo=-3276.8, unit="degC", receiver="INVERTER"),
    ], "Pack voltage, current (positive = charging) and temperature")
    message(0x35C, "PYLON_REQUEST", 2, "BMS", [
        _sig("ChargeEnable", 7, 1, receiver="INVERTER"),
        _sig("DischargeEnable", 6, 1, receiver="INVERTER"),
        _sig("RequestForceCharge", 5, 1, receiver="INVERTER"),
    ], "Charge and discharge enable, force-charge request")
    starts += [f'BA_ "GenSigStartValue" SG_ {0x35C} ChargeEnable 1;',
               f'BA_ "GenSigStartValue" SG_ {0x35C} DischargeEnable 1;']

    # --- extension: one BMS sample ---
    counter = lambda: _sig("Counter", 8, 8)  # noqa: E731
    message(SAMPLE_ID, "TWIN_SAMPLE", 5, "BMS", [
        _sig("Counter", 0, 8),
        _sig("Uptime", 8, 32, 0.001, unit="s"),
    ], "Opens one BMS sample: its counter (repeated by the sample's data frames) and the BMS's uptime")
    message(PACK_ID, "TWIN_PACK", 8, "BMS", [
        _sig("Counter", 0, 8),
        _sig("Current", 8, 32, 1, lo=-1e6, hi=1e6, unit="A"),
        _sig("PackVoltage", 40, 24, 0.001, unit="V"),
    ], "Pack current as measured (IEEE single, positive = charging) and pack voltage")
    floats.append(f"SIG_VALTYPE_ {PACK_ID} Current : 1;")
    comments.append(f'CM_ SG_ {PACK_ID} Current "Pack current as measured, positive = charging";')

    groups = math.ceil(cells / PER_FRAME)
    sigs = [_sig("CellGroup", 0, 8, hi=255, mux="M"), counter()]
    for k in range(cells):
        g, j = divmod(k, PER_FRAME)
        sigs.append(_sig(f"CellVoltage{num(k + 1)}", 16 + 16 * j, 16, 0.001, unit="V", mux=f"m{g}"))
    message(CELL_V_ID, "TWIN_CELL_VOLTAGE", 8, "BMS", sigs,
            f"Cell voltages, {PER_FRAME} per frame: group g carries cells {PER_FRAME}g+1..{PER_FRAME}g+{PER_FRAME} "
            f"({groups} groups)")
    if sensors:
        sigs = [_sig("SensorGroup", 0, 8, hi=255, mux="M"), counter()]
        for k in range(sensors):
            g, j = divmod(k, PER_FRAME)
            sigs.append(_sig(f"Temperature{num(k + 1)}", 16 + 16 * j, 16, 0.1, signed=True, lo=-3276.8,
                             unit="degC", mux=f"m{g}"))
        message(TEMP_ID, "TWIN_TEMPERATURE", 8, "BMS", sigs,
                f"Temperature sensors, {PER_FRAME} per frame (group g carries sensors {PER_FRAME}g+1..)")
    sigs = [_sig("BalanceGroup", 0, 8, hi=255, mux="M"), counter()]
    for k in range(cells):
        g, j = divmod(k, BITS_PER_FRAME)
        sigs.append(_sig(f"Balancing{num(k + 1)}", 16 + j, 1, mux=f"m{g}"))
    message(BAL_ID, "TWIN_BALANCING", 8, "BMS", sigs,
            f"1 while the BMS commands a cell's bleed resistor on, {BITS_PER_FRAME} cells per frame")

    # --- the twin's view ---
    message(VIEW_LIMITS_ID, "TWIN_VIEW_LIMITS", 8, "TWIN", [
        _sig("ChargeVoltageLimit", 0, 16, 0.1, unit="V", receiver="BMS"),
        _sig("ChargeCurrentLimit", 16, 16, 0.1, signed=True, lo=0, unit="A", receiver="BMS"),
        _sig("DischargeCurrentLimit", 32, 16, 0.1, signed=True, lo=0, unit="A", receiver="BMS"),
        _sig("DischargeVoltageLimit", 48, 16, 0.1, unit="V", receiver="BMS"),
    ], "CVL, CCL, DCL as the twin's BMS rule computes them from the measured cells (layout of 0x351)")
    message(VIEW_FLAG_ID, "TWIN_VIEW_FLAG", 8, "TWIN", [
        _sig("Kind", 0, 8, hi=len(FLAG_KINDS) - 1, receiver="BMS"),
        _sig("Cell", 8, 16, receiver="BMS"),
        _sig("Magnitude", 24, 32, 1, lo=-1e9, hi=1e9, receiver="BMS"),
    ], "One flag the twin has raised: kind, cell (0-based), magnitude in the unit of the kind", cycle_ms=0)
    floats.append(f"SIG_VALTYPE_ {VIEW_FLAG_ID} Magnitude : 1;")
    kinds = " ".join(f'{i} "{k}"' for i, k in enumerate(FLAG_KINDS))
    values.append(f"VAL_ {VIEW_FLAG_ID} Kind {kinds} ;")
    comments.append(f'CM_ SG_ {VIEW_FLAG_ID} Magnitude "{", ".join(f"{k}: {u}" for k, u in zip(FLAG_KINDS, FLAG_UNITS))}";')
    message(VIEW_STATUS_ID, "TWIN_VIEW_STATUS", 8, "TWIN", [
        _sig("FlagCount", 0, 8, receiver="BMS"),
        _sig("Samples", 8, 32, receiver="BMS"),
        _sig("IncompleteSamples", 40, 24, receiver="BMS"),
    ], "The twin's state: flags raised, samples seen, samples dropped as incomplete")
    sigs = [_sig("CellGroup", 0, 8, hi=255, mux="M", receiver="BMS"), _sig("Counter", 8, 8, receiver="BMS")]
    for k in range(cells):
        g, j = divmod(k, PER_FRAME)
        sigs.append(_sig(f"Deviation{num(k + 1)}", 16 + 16 * j, 16, 0.0001, signed=True, lo=-3.2768, unit="V",
                         mux=f"m{g}", receiver="BMS"))
    message(VIEW_DEVIATION_ID, "TWIN_VIEW_DEVIATION", 8, "TWIN", sigs,
            "Each cell's voltage against the pack median, as the detector sees it")

    out += comments
    out += ['BA_DEF_ BO_ "GenMsgCycleTime" INT 0 65535;', 'BA_DEF_ SG_ "GenSigStartValue" FLOAT -1e9 1e9;',
            'BA_DEF_DEF_ "GenMsgCycleTime" 0;', 'BA_DEF_DEF_ "GenSigStartValue" 0;']
    out += cycles + starts + values + floats
    return "\n".join(out) + "\n"


def shipped(cells: int = 16, sensors: int = 4) -> str:
    """File name of the shipped DBC for this pack shape."""
    return f"pylontech-twin-{cells}s.dbc"


SHIPPED = ((16, 4),)  # (cells, sensors) of the DBC files shipped in twin/data/can/


def main():  # regenerate the shipped files
    from pathlib import Path

    here = Path(__file__).parent / "data" / "can"
    here.mkdir(parents=True, exist_ok=True)
    for cells, sensors in SHIPPED:
        (here / shipped(cells, sensors)).write_text(pylontech_twin_dbc(cells, sensors), encoding="utf-8")
        print(f"wrote {here / shipped(cells, sensors)}")


if __name__ == "__main__":
    main()
