"""CAN mapping files and the shipped DBC: resolution of signals, conversions, refusals that teach."""

import sys

import pytest

pytest.importorskip("cantools")

from twin.can_dbc import SHIPPED, pylontech_twin_dbc, shipped  # noqa: E402
from twin.can_mapping import CanMapping, shipped_dir  # noqa: E402
from twin.errors import CanError  # noqa: E402

from .conftest import ROOT  # noqa: E402

BASE = """
[can]
dbc = "pylontech-twin-16s.dbc"
sample = "TWIN_SAMPLE"
counter = "Counter"
[log]
cells_in_series = 16
[time]
signal = "TWIN_SAMPLE.Uptime"
[current]
signal = "TWIN_PACK.Current"
[cell_voltage]
signal = "TWIN_CELL_VOLTAGE.CellVoltage{number:02d}"
"""


def load(tmp_path, text):
    p = tmp_path / "m.toml"
    p.write_text(text)
    return CanMapping.load(p)


def test_shipped_dbc_files_are_generated_from_can_dbc():
    for cells, sensors in SHIPPED:
        assert (shipped_dir() / shipped(cells, sensors)).read_text() == pylontech_twin_dbc(cells, sensors), \
            "stale: run python -m twin.can_dbc"


def test_shipped_mapping_resolves_every_channel_to_its_frames():
    m = CanMapping.load()
    assert m.cells == 16 and m.temperature_cells == [0, 5, 10, 15]
    assert m.channels["cell_voltage"].signals[0] == ("TWIN_CELL_VOLTAGE", "CellVoltage01")
    assert m.channels["cell_voltage"].signals[15] == ("TWIN_CELL_VOLTAGE", "CellVoltage16")
    # 16 cells at 3 per frame: 6 multiplexed groups; the sample frame opens, it is not expected
    keys = m.expected_keys(("cell_voltage",))
    assert keys == {(0x3C2, g) for g in range(6)}
    assert (0x3C0, None) not in m.expected_keys()
    example = CanMapping.load(ROOT / "examples" / "can" / "dev-pack-can.toml")
    assert example.capacity_ah == 2.3 and example.dbc_path.name == "pylontech-twin-16s.dbc"


def test_a_dbc_for_other_pack_shapes_decodes_round_trip():
    import cantools

    db = cantools.database.load_string(pylontech_twin_dbc(cells=100, sensors=7), database_format="dbc")
    cells = db.get_message_by_name("TWIN_CELL_VOLTAGE")
    data = cells.encode({"CellGroup": 33, "Counter": 9, "CellVoltage100": 3.456}, strict=False)
    assert cells.decode(data) == {"CellGroup": 33, "Counter": 9, "CellVoltage100": 3.456}
    bal = db.get_message_by_name("TWIN_BALANCING")
    data = bal.encode({"BalanceGroup": 2, "Counter": 1, **{f"Balancing{k:03d}": int(k == 99) for k in range(97, 101)}},
                      strict=False)
    assert bal.decode(data)["Balancing099"] == 1 and bal.decode(data)["Balancing100"] == 0


def test_conversions_follow_replay_units_and_invert():
    m = CanMapping({"can": {"dbc": "pylontech-twin-16s.dbc"}, "log": {"cells_in_series": 16},
                    "current": {"signal": "PYLON_PACK.PackCurrent", "sign": "discharge_positive", "unit": "mA",
                                "scale": 2.0},
                    "cell_voltage": {"signal": "CellVoltage{number:02d}", "unit": "mV"},
                    "temperature": {"signals": ["Temperature01"], "unit": "K", "cells": [3]}}, "inline")
    cur, v, t = m.channels["current"], m.channels["cell_voltage"], m.channels["temperature"]
    assert cur.convert(1000.0) == pytest.approx(-2.0)  # 1000 x 2 mA, discharge positive -> -2 A
    assert v.convert(3301.0) == pytest.approx(3.301)
    assert t.convert(298.15) == pytest.approx(25.0)
    for ch, x in ((cur, 1.234), (v, 3.2), (t, -5.5)):
        assert ch.convert(ch.invert(x)) == pytest.approx(x)
    assert m.time_channel is None  # no [time]: the arrival time


@pytest.mark.parametrize("edit, message", [
    (("[cell_voltage]", "[cel_voltage]"), "unknown table [cel_voltage] (did you mean 'cell_voltage'?)"),
    (('signal = "TWIN_PACK.Current"', 'signal = "TWIN_PACK.Curent"'), "has no signal 'Curent' (did you mean 'Current'?)"),
    (('signal = "TWIN_PACK.Current"', 'signal = "TWIN_PAK.Current"'), "message 'TWIN_PAK' is not in"),
    (('signal = "TWIN_PACK.Current"', 'signal = "Counter"'), "signal 'Counter' is in TWIN_SAMPLE, TWIN_PACK"),
    (('signal = "TWIN_PACK.Current"', 'signal = "PackVoltage"'), "write MESSAGE.PackVoltage"),
    (('signal = "TWIN_CELL_VOLTAGE.CellVoltage{number:02d}"', 'signals = ["CellVoltage01", "CellVoltage02"]'),
     "[cell_voltage] maps 2 signals; the pack has 16 cells"),
    (('CellVoltage{number:02d}"', 'CellVoltage01"'), "is per cell: its signal needs {number}"),
    (('dbc = "pylontech-twin-16s.dbc"', 'dbc = "mine.dbc"'), "DBC file mine.dbc not found"),
    (('counter = "Counter"', 'countr = "Counter"'), "unknown key 'countr' in [can] (did you mean 'counter'?)"),
    (('sample = "TWIN_SAMPLE"', 'sample = "TWIN_SAMPEL"'), "did you mean 'TWIN_SAMPLE'?"),
    (("[current]\n", "[current]\nunit = \"kA\"\n"), "[current] unit 'kA' is unknown; use one of A, mA"),
])
def test_bad_mappings_are_refused_with_the_fix(tmp_path, edit, message):
    with pytest.raises(CanError) as e:
        load(tmp_path, BASE.replace(*edit))
    assert message in str(e.value)


def test_temperature_sensors_need_their_cells(tmp_path):
    text = BASE + '[temperature]\nsignal = "TWIN_TEMPERATURE.Temperature{number:02d}"\n'
    with pytest.raises(CanError, match=r"maps 4 sensors; give cells = \[...\]"):
        load(tmp_path, text)
    assert load(tmp_path, text + "cells = [1, 2, 3, 4]\n").temperature_cells == [1, 2, 3, 4]


def test_a_bad_dbc_file_and_unknown_names_are_clean_errors(tmp_path):
    (tmp_path / "bad.dbc").write_text("BO_ this is not a DBC\n")
    with pytest.raises(CanError, match="bad.dbc: not a readable DBC file"):
        load(tmp_path, BASE.replace("pylontech-twin-16s.dbc", "bad.dbc"))
    with pytest.raises(CanError, match="does not exist.*mappings twin ships: pylontech-twin-16s"):
        CanMapping.load("pylontech-twin-8s")


def test_missing_cantools_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cantools", None)
    with pytest.raises(CanError, match=r"pip install 'twin\[can\]'"):
        CanMapping.load()
