"""BMS logs: the canonical layout, mapping files for foreign layouts, chunked reading, and the
errors a bad log gets (each naming the file and the channel)."""

import h5py
import numpy as np
import pytest

from twin.errors import LogError
from twin.logs import LogReader, Mapping, write_canonical

CELLS = 4


def _canonical(path, n=500, cells=CELLS, **extra):
    t = np.arange(n, dtype=float)
    current = np.sin(t / 50.0) * 10.0
    volts = 3.3 + 0.001 * np.arange(cells)[None, :] + 0.01 * np.sin(t / 30.0)[:, None]
    temps = 25.0 + 0.01 * t[:, None] * np.ones((1, 2))
    balancing = np.zeros((n, cells))
    balancing[100:200, 1] = 1
    kw = dict(temperature=temps, temperature_cells=[0, 3], pack_voltage=volts.sum(axis=1), balancing=balancing,
              capacity_ah=100.0, bleed_resistance_ohm=33.0)
    kw.update(extra)
    write_canonical(path, t, current, volts, **kw)
    return t, current, volts, temps, balancing


def _read_all(path, mapping=None, size=1 << 16):
    with LogReader(path, mapping) as r:
        chunks = list(r.chunks(size))
        info = r.info
    names = ("time", "current", "cell_voltage", "temperature", "pack_voltage", "balancing")
    return info, {k: np.concatenate([getattr(c, k) for c in chunks]) for k in names if getattr(chunks[0], k) is not None}


def test_canonical_log_round_trips_in_any_chunk_size(tmp_path):
    path = tmp_path / "log.h5"
    t, current, volts, temps, balancing = _canonical(path)
    info, whole = _read_all(path)
    assert (info.samples, info.cells, info.capacity_ah, info.bleed_resistance_ohm) == (500, CELLS, 100.0, 33.0)
    assert info.temperature_cells == [0, 3] and info.sample_period_s == 1.0 and info.gaps == []
    np.testing.assert_array_equal(whole["time"], t)
    np.testing.assert_allclose(whole["current"], current, rtol=1e-6)
    np.testing.assert_allclose(whole["cell_voltage"], volts, rtol=1e-6)
    np.testing.assert_allclose(whole["temperature"], temps, rtol=1e-6)
    np.testing.assert_array_equal(whole["balancing"], balancing)
    _, small = _read_all(path, size=7)
    for k in whole:
        np.testing.assert_array_equal(small[k], whole[k])


def test_canonical_file_says_its_units_and_sign(tmp_path):
    path = tmp_path / "log.h5"
    _canonical(path)
    with h5py.File(path) as f:
        assert f.attrs["format"] == "twin-log-1" and f.attrs["current_sign"] == "charge_positive"
        assert f["current"].attrs["unit"] == "A" and f["current"].attrs["sign"] == "charge_positive"
        assert f["cell_voltage"].attrs["unit"] == "V" and f["temperature"].attrs["unit"] == "degC"
        assert f["cell_voltage"].chunks is not None and f["cell_voltage"].compression == "gzip"


def _foreign(path, n=300):
    """A BMS's own layout: ms, mA discharge-positive, mV cell-by-time, kelvin."""
    t = np.arange(n) * 1000.0
    with h5py.File(path, "w") as f:
        g = f.create_group("bms")
        g.create_dataset("ts_ms", data=t)
        g.create_dataset("ibat_ma", data=np.full(n, -2500.0))  # 2.5 A charging, discharge positive
        g.create_dataset("vcell_mv", data=np.full((CELLS, n), 3300.0) + np.arange(CELLS)[:, None])
        g.create_dataset("tcell_k", data=np.full((n, 2), 298.15))
        g.attrs["ncell"] = CELLS
    return t


FOREIGN_MAPPING = """
[log]
cells_in_series = "@bms:ncell"
nominal_capacity_ah = 50.0
[time]
dataset = "/bms/ts_ms"
unit = "ms"
[current]
dataset = "/bms/ibat_ma"
unit = "mA"
sign = "discharge_positive"
[cell_voltage]
dataset = "/bms/vcell_mv"
unit = "mV"
layout = "cell_by_time"
[temperature]
dataset = "/bms/tcell_k"
unit = "K"
cells = [1, 2]
"""


def test_a_mapping_reads_a_foreign_layout_into_seconds_amperes_volts_and_celsius(tmp_path):
    path, mapping = tmp_path / "bms.h5", tmp_path / "bms.toml"
    _foreign(path)
    mapping.write_text(FOREIGN_MAPPING)
    info, x = _read_all(path, mapping)
    assert (info.cells, info.capacity_ah, info.temperature_cells) == (CELLS, 50.0, [1, 2])
    np.testing.assert_allclose(x["time"][:3], [0.0, 1.0, 2.0])
    np.testing.assert_allclose(x["current"], 2.5)
    np.testing.assert_allclose(x["cell_voltage"][0], [3.300, 3.301, 3.302, 3.303])
    np.testing.assert_allclose(x["temperature"], 25.0)


def test_scale_and_offset_apply_before_the_unit(tmp_path):
    path = tmp_path / "log.h5"
    _canonical(path)
    m = Mapping.canonical()
    m.channels["current"].scale, m.channels["current"].offset = 2.0, 1.0
    with LogReader(path) as r:
        plain = next(r.chunks()).current
    with LogReader(path, m) as r:
        np.testing.assert_allclose(next(r.chunks()).current, 2.0 * plain + 1.0, rtol=1e-6)


def test_gaps_are_found_and_placed(tmp_path):
    path = tmp_path / "log.h5"
    t = np.r_[np.arange(100.0), np.arange(100.0) + 1000.0]
    write_canonical(path, t, np.zeros(200), np.full((200, 2), 3.3))
    with LogReader(path) as r:
        for _ in r.chunks(64):
            pass
        gaps = r.info.gaps
    assert [(g.index, g.start_s, g.end_s) for g in gaps] == [(100, 99.0, 1000.0)]


# --- bad logs ---------------------------------------------------------------------------------------


def _error(path, mapping=None, read=True) -> str:
    with pytest.raises(LogError) as e:
        with LogReader(path, mapping) as r:
            if read:
                for _ in r.chunks(64):
                    pass
    return str(e.value)


def test_missing_dataset_names_file_channel_and_a_close_name(tmp_path):
    path = tmp_path / "log.h5"
    _canonical(path)
    m = Mapping.canonical()
    m.channels["cell_voltage"].dataset = "/cell_voltages"
    msg = _error(path, m, read=False)
    assert str(path) in msg and "cell_voltage" in msg and "did you mean '/cell_voltage'" in msg


def test_missing_file_and_not_hdf5(tmp_path):
    assert "does not exist" in _error(tmp_path / "nope.h5", read=False)
    bad = tmp_path / "text.h5"
    bad.write_text("time,current\n")
    assert "not a readable HDF5 file" in _error(bad, read=False)


def test_time_going_backwards_names_the_sample(tmp_path):
    path = tmp_path / "log.h5"
    t = np.arange(200.0)
    t[150] = 10.0
    write_canonical(path, t, np.zeros(200), np.full((200, 2), 3.3))
    msg = _error(path)
    assert "time goes backwards" in msg and "sample 150" in msg and str(path) in msg


def test_a_long_nan_run_names_channel_and_column_a_short_one_is_bridged(tmp_path):
    path = tmp_path / "log.h5"
    v = np.full((300, 3), 3.3)
    v[100:105, 2] = np.nan
    write_canonical(path, np.arange(300.0), np.zeros(300), v)
    _read_all(path)  # 5 missing samples: bridged
    v[100:160, 2] = np.nan  # 60 in a row, across a chunk boundary at 128
    write_canonical(path, np.arange(300.0), np.zeros(300), v)
    msg = _error(path)
    assert "cell_voltage[:, 2]" in msg and "60 non-numbers in a row from sample 100" in msg


def test_wrong_shapes_are_refused(tmp_path):
    path = tmp_path / "log.h5"
    with h5py.File(path, "w") as f:
        f["time"] = np.arange(10.0)
        f["current"] = np.zeros(10)
        f["cell_voltage"] = np.full(10, 3.3)
    assert "must be 2-D (samples, cells)" in _error(path, read=False)
    with h5py.File(path, "w") as f:
        f["time"] = np.arange(10.0)
        f["current"] = np.zeros(9)
        f["cell_voltage"] = np.full((10, 2), 3.3)
    assert "channel current (/current) has 9 samples; time has 10" in _error(path, read=False)


def test_declared_cell_count_must_match_the_columns(tmp_path):
    path = tmp_path / "log.h5"
    _canonical(path)
    with h5py.File(path, "a") as f:
        f.attrs["cells_in_series"] = 16
    assert "cells_in_series is 16 but cell_voltage has 4 columns" in _error(path, read=False)


def test_balancing_flags_must_be_switch_states(tmp_path):
    path = tmp_path / "log.h5"
    bal = np.zeros((200, CELLS))
    bal[50, 0] = 7
    _canonical(path, n=200, balancing=bal)
    assert "balancing (/balancing) must hold 0 and 1" in _error(path)


def test_temperature_sensors_need_their_cells(tmp_path):
    path = tmp_path / "log.h5"
    _canonical(path)
    with h5py.File(path, "a") as f:
        del f["temperature"].attrs["cells"]
    assert "which cells the 2 temperature sensors sit on" in _error(path, read=False)


@pytest.mark.parametrize("text, expected", [
    ("[time]\nunit = 'fortnight'\n[current]\n[cell_voltage]\n", "unit 'fortnight' is unknown; use one of s, ms, us, min, h"),
    ("[time]\n[current]\nsign = 'up'\n[cell_voltage]\n", "sign must be 'charge_positive' or 'discharge_positive'"),
    ("[time]\n[current]\n", "the mapping needs a [cell_voltage] table"),
    ("[time]\n[current]\n[cell_voltage]\n[tempreature]\n", "unknown table [tempreature] (did you mean 'temperature'?)"),
    ("[time]\n[current]\n[cell_voltage]\nscale = 'big'\n", "scale and offset must be numbers"),
    ("[time\n", "not valid TOML"),
])
def test_bad_mapping_files_say_what_is_wrong(tmp_path, text, expected):
    mapping = tmp_path / "m.toml"
    mapping.write_text(text)
    with pytest.raises(LogError) as e:
        Mapping.from_file(mapping)
    assert expected in str(e.value) and str(mapping) in str(e.value)


def test_a_log_written_in_pieces_reads_as_one(tmp_path):
    from twin.logs import CanonicalWriter

    whole, pieces = tmp_path / "whole.h5", tmp_path / "pieces.h5"
    t, current, volts, temps, balancing = _canonical(whole, n=1000)
    with CanonicalWriter(pieces, CELLS, temperature_cells=[0, 3], capacity_ah=100.0, bleed_resistance_ohm=33.0) as w:
        for a, b in ((0, 10), (10, 700), (700, 1000)):
            w.append(t[a:b], current[a:b], volts[a:b], temperature=temps[a:b], pack_voltage=volts[a:b].sum(axis=1),
                     balancing=balancing[a:b])
        with pytest.raises(LogError, match="every piece must give the same channels"):
            w.append(t[:5] + 2000, current[:5], volts[:5])
    (ia, xa), (ib, xb) = _read_all(whole), _read_all(pieces)
    assert (ia.samples, ia.cells, ia.temperature_cells) == (ib.samples, ib.cells, ib.temperature_cells)
    for k in xa:
        np.testing.assert_array_equal(xa[k], xb[k])


def test_resolution_must_be_a_decimal_step_of_a_stored_channel(tmp_path):
    with pytest.raises(LogError, match="power of ten"):
        write_canonical(tmp_path / "a.h5", [0.0], [0.0], [[3.3]], resolution={"cell_voltage": 0.002})
    with pytest.raises(LogError, match="only current, cell_voltage"):
        write_canonical(tmp_path / "b.h5", [0.0], [0.0], [[3.3]], resolution={"time": 0.001})


# --- integer-coded readings (twin/log_packing.py) and older logs -------------------------------------

STEPS = {"cell_voltage": 0.001, "temperature": 0.1, "current": 0.001, "pack_voltage": 0.001}


def test_readings_on_a_step_are_stored_as_counts_and_read_back_on_that_step(tmp_path):
    """mV and 0.1 degC fit int16, mA and the pack's mV need int32; each says what a count is worth.
    A reading on the step reads back as the step times the count (the nearest double, within one
    ulp of the decimal); one off the step is rounded to it; a missing one is missing_value, bridged."""
    path = tmp_path / "log.h5"
    t, current, volts, temps, balancing = _canonical(path, resolution=STEPS)
    with h5py.File(path) as f:
        kinds = {k: (f[k].dtype, f[k].attrs["scale_factor"], f[k].attrs["missing_value"]) for k in STEPS}
        assert f["balancing"].dtype == np.int8 and "scale_factor" not in f["balancing"].attrs
        assert f["cell_voltage"].attrs["unit"] == "V" and f["cell_voltage"].shuffle is False
    assert kinds == {"cell_voltage": (np.int16, 0.001, -32768), "temperature": (np.int16, 0.1, -32768),
                     "current": (np.int32, 0.001, -2**31), "pack_voltage": (np.int32, 0.001, -2**31)}
    info, x = _read_all(path)
    np.testing.assert_array_equal(x["cell_voltage"], np.rint(volts * 1000) * 0.001)
    np.testing.assert_allclose(x["cell_voltage"], volts, atol=0.0005 + 1e-12, rtol=0)
    np.testing.assert_allclose(x["temperature"], temps, atol=0.05 + 1e-12, rtol=0)
    np.testing.assert_allclose(x["current"], current, atol=0.0005 + 1e-12, rtol=0)
    np.testing.assert_array_equal(x["balancing"], balancing)
    np.testing.assert_array_equal(x["time"], t)

    v = np.full((300, 3), 3.3)
    v[100:105, 2] = np.nan
    write_canonical(path, np.arange(300.0), np.zeros(300), v, resolution=STEPS)
    with h5py.File(path) as f:
        assert (f["cell_voltage"][100:105, 2] == -32768).all()
    _, x = _read_all(path)
    assert np.isnan(x["cell_voltage"][100:105, 2]).all() and np.isfinite(x["cell_voltage"]).sum() == 900 - 5
    v[100:160, 2] = np.nan
    write_canonical(path, np.arange(300.0), np.zeros(300), v, resolution=STEPS)
    assert "cell_voltage[:, 2] (/cell_voltage) has 60 non-numbers in a row from sample 100" in _error(path)


def test_a_reading_that_does_not_fit_its_counts_is_refused_when_written(tmp_path):
    with pytest.raises(LogError, match=r"cell_voltage: 40\.0 at sample 1, column 0 does not fit int16 counts of 0\.001"):
        write_canonical(tmp_path / "a.h5", [0.0, 1.0], [0.0, 0.0], [[3.3], [40.0]], resolution=STEPS)
    with pytest.raises(LogError, match="current: inf at sample 1 does not fit int32"):
        write_canonical(tmp_path / "b.h5", [0.0, 1.0], [0.0, np.inf], [[3.3], [3.3]], resolution=STEPS)


def test_older_logs_in_float32_and_through_the_scale_offset_filter_read_as_before(tmp_path):
    """What twin wrote before integer coding: float32, gzip and shuffle, with or without HDF5's
    scale-offset filter. Each reading is the stored float32, widened: exactly what it always was."""
    t, current, volts, temps, balancing = (np.arange(500.0), np.round(np.sin(np.arange(500) / 50.0) * 10, 3),
                                           np.round(3.3 + 0.01 * np.sin(np.arange(500) / 30.0)[:, None]
                                                    + 0.001 * np.arange(CELLS)[None, :], 3),
                                           np.round(25.0 + 0.01 * np.arange(500)[:, None] * np.ones((1, 2)), 1),
                                           np.zeros((500, CELLS), np.int8))
    for scaleoffset in (None, {"current": 3, "cell_voltage": 3, "temperature": 1}):
        path = tmp_path / f"old-{scaleoffset is None}.h5"
        with h5py.File(path, "w") as f:
            f.attrs.update(format="twin-log-1", cells_in_series=CELLS, current_sign="charge_positive")
            data = {"time": t, "current": current.astype(np.float32), "cell_voltage": volts.astype(np.float32),
                    "temperature": temps.astype(np.float32), "balancing": balancing}
            for name, x in data.items():
                so = (scaleoffset or {}).get(name)
                f.create_dataset(name, data=x, chunks=(128,) + x.shape[1:], compression="gzip", compression_opts=4,
                                 shuffle=True, **({} if so is None else {"scaleoffset": so}))
            f["temperature"].attrs["cells"] = [0, 3]
            stored = {k: f[k][:] for k in data}
        _, x = _read_all(path, size=100)
        for name in data:
            np.testing.assert_array_equal(x[name], stored[name].astype(np.float64), err_msg=name)
            assert x[name].dtype == np.float64
        np.testing.assert_allclose(x["cell_voltage"], volts, atol=1e-6)


@pytest.mark.parametrize("attrs, expected", [
    ({}, "/cell_voltage (int16) holds integers but has no scale_factor attribute"),
    ({"scale_factor": "0.001"}, "/cell_voltage (int16): attribute scale_factor is '0.001'; it must be one finite number"),
    ({"scale_factor": np.nan}, "attribute scale_factor is nan; it must be one finite number"),
    ({"scale_factor": [0.001, 0.002]}, "attribute scale_factor is [0.001, 0.002]; it must be one finite number"),
    ({"scale_factor": 0.0}, "/cell_voltage (int16): scale_factor is 0"),
    ({"scale_factor": 0.001, "add_offset": np.inf}, "attribute add_offset is inf"),
    ({"scale_factor": 0.001, "missing_value": 0.5}, "missing_value is 0.5, which no int16 count can equal"),
    ({"scale_factor": 0.001, "missing_value": 40000}, "missing_value is 40000.0, which no int16 count can equal"),
])
def test_an_integer_dataset_that_does_not_say_what_a_count_is_worth_is_refused(tmp_path, attrs, expected):
    path = tmp_path / "log.h5"
    _canonical(path)
    with h5py.File(path, "a") as f:
        volts = f["cell_voltage"][:]
        del f["cell_voltage"]
        ds = f.create_dataset("cell_voltage", data=np.rint(volts * 1000).astype(np.int16))
        for k, v in attrs.items():
            ds.attrs[k] = v
    msg = _error(path, read=False)
    assert str(path) in msg and expected in msg, msg


def test_a_canonical_log_written_by_hand_in_counts_with_an_offset_reads_in_volts(tmp_path):
    """The attributes as another tool would write them: uint16 counts of 0.1 mV above 2 V."""
    path = tmp_path / "log.h5"
    _, _, volts, _, _ = _canonical(path)
    with h5py.File(path, "a") as f:
        del f["cell_voltage"]
        counts = np.rint((volts - 2.0) / 1e-4).astype(np.uint16)
        counts[7, 1] = 65535
        ds = f.create_dataset("cell_voltage", data=counts)
        ds.attrs.update(unit="V", scale_factor=1e-4, add_offset=2.0, missing_value=np.uint16(65535))
    _, x = _read_all(path)
    assert np.isnan(x["cell_voltage"][7, 1]) and np.isnan(x["cell_voltage"]).sum() == 1
    np.testing.assert_allclose(x["cell_voltage"][8:], volts[8:], atol=0.5e-4 + 1e-9, rtol=0)


def test_a_mapping_file_reads_integers_by_its_own_scale(tmp_path):
    """Attributes are the canonical layout's rule: a mapped log reads as the mapping says, as before."""
    path, mapping = tmp_path / "bms.h5", tmp_path / "bms.toml"
    with h5py.File(path, "w") as f:
        f["t"] = np.arange(10.0)
        f["i"] = np.zeros(10)
        f["v"] = np.full((10, 2), 3300, dtype=np.int16)
        f["v"].attrs["scale_factor"] = 0.001  # ignored: the mapping says mV
    mapping.write_text('[time]\ndataset = "/t"\n[current]\ndataset = "/i"\n[cell_voltage]\ndataset = "/v"\nunit = "mV"\n')
    _, x = _read_all(path, mapping)
    np.testing.assert_array_equal(x["cell_voltage"], 3300 * 1e-3)


def test_an_integer_coded_log_is_a_current_profile_in_amperes(tmp_path):
    from twin.profiles import read_profile

    path = tmp_path / "log.h5"
    t, current, *_ = _canonical(path, resolution=STEPS)
    amps, dt = read_profile(path)
    assert dt == 1.0
    np.testing.assert_allclose(amps, current, atol=0.0005 + 1e-12, rtol=0)
