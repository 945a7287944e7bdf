"""Reading data for twin fit: CSV through a column mapping, and bad data refused with a plain message."""

import numpy as np
import pytest

from twin.errors import FitError
from twin.fit_checks import cell_findings, check_clipping
from twin.fit_data import Record, read_record, shift_voltage, voltage_lag

MAPPING = """
[log]
nominal_capacity_ah = 2.3
[time]
column = "t_ms"
unit = "ms"
[current]
column = "I_mA"
unit = "mA"
sign = "discharge_positive"
[cell_voltage]
column = "U_mV"
unit = "mV"
[temperature]
column = "T_K"
unit = "K"
cells = [0]
"""


def _csv(path, n=400, step_ms=1000):
    rows = ["t_ms,I_mA,U_mV,T_K"]
    for k in range(n):
        rows.append(f"{k * step_ms},{1150.0 if k >= 100 else 0.0},{3300.0 - (5.0 if k >= 100 else 0.0)},298.15")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_csv_with_a_column_mapping_is_read_in_the_twins_units_and_sign(tmp_path):
    mapping = tmp_path / "columns.toml"
    mapping.write_text(MAPPING)
    rec = read_record(_csv(tmp_path / "test.csv"), mapping)
    assert rec.dt == pytest.approx(1.0)
    assert rec.current[0] == 0.0 and rec.current[200] == pytest.approx(-1.15)  # discharge is negative in the twin
    assert rec.voltage[200, 0] == pytest.approx(3.295)
    assert rec.temperature[0, 0] == pytest.approx(25.0)
    assert rec.capacity_ah == 2.3


def test_csv_needs_a_mapping_and_names_a_misspelt_column(tmp_path):
    path = _csv(tmp_path / "test.csv")
    with pytest.raises(FitError, match="column mapping"):
        read_record(path)
    bad = tmp_path / "bad.toml"
    bad.write_text(MAPPING.replace('"U_mV"', '"U_mv"'))
    with pytest.raises(FitError, match="did you mean 'U_mV'"):
        read_record(path, bad)
    nosign = tmp_path / "nosign.toml"
    nosign.write_text(MAPPING.replace('sign = "discharge_positive"', ""))
    with pytest.raises(FitError, match="must state sign"):
        read_record(path, nosign)


def test_uneven_short_and_clipped_data_are_refused(tmp_path):
    mapping = tmp_path / "columns.toml"
    mapping.write_text(MAPPING)
    with pytest.raises(FitError, match="only 50 samples"):
        read_record(_csv(tmp_path / "short.csv", n=50), mapping)
    path = _csv(tmp_path / "uneven.csv")
    text = path.read_text().splitlines()
    text[150] = text[150].replace(text[150].split(",")[0], str(int(text[150].split(",")[0]) + 300), 1)
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(FitError, match="not evenly spaced"):
        read_record(path, mapping)
    rng = np.random.default_rng(1)
    current = rng.normal(0.0, 0.003, 3000)
    for start in (500, 1500, 2500):
        current[start:start + 30] += -5.0  # 30 s pulses of -5 A through a sensor that reads down to -4 A
    current = np.clip(current, -4.0, 4.0)
    with pytest.raises(FitError, match="looks clipped at -4 A"):
        check_clipping(current, "current", "log.h5", "A")
    check_clipping(np.repeat([0.0, -2.3, 0.0], 700), "current", "clean.h5", "A")  # a clean set point is not clipping


def test_findings_name_the_test_that_would_identify_what_is_missing():
    n = 7200
    current = np.r_[np.zeros(600), np.full(n - 600, -1.15)]  # a rest, then a 0.5C discharge: no pulses, no low rate
    rec = Record("cc", "cc.h5", np.arange(n, dtype=float), current, np.full((n, 1), 3.3), capacity_ah=2.3)
    findings, _ = cell_findings([rec], 2.3, "2.3 Ah, given")
    text = {f.parameter: f for f in findings}
    assert text["OCV branches"].status == "not identified"
    assert "needs a low-rate (<= C/10) charge and discharge or rests of >= 1 h at several SOC" in text["OCV branches"].detail
    assert text["R0"].status == "not identified" and "needs current pulses" in text["R0"].detail
    assert "HPPC" in text["RC pairs"].detail


def test_a_lag_between_voltage_and_current_is_found_and_taken_out():
    rng = np.random.default_rng(2)
    n = 20000
    current = np.zeros(n)
    for s in rng.choice(n - 100, 60, replace=False):
        current[s:s + 20] = -1.0
    voltage = 3.3 + 0.03 * current + rng.normal(0, 0.0005, n)
    lagged = np.r_[voltage[7:], np.full(7, 3.3)]  # the voltage channel runs 7 samples ahead
    rec = Record("lag", "lag.h5", np.arange(n, dtype=float), current, lagged[:, None])
    assert voltage_lag(rec.current, rec.voltage, 1.0) == -7
    fixed = shift_voltage(rec, -7)
    assert np.allclose(fixed.voltage[:, 0], voltage[7:]) and np.allclose(fixed.current, current[7:])
    assert voltage_lag(fixed.current, fixed.voltage, 1.0) == 0
