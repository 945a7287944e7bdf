"""BMS protection: thresholds, delays, releases, enables, and the limits sent to the inverter.

Measured values are steered through the sensor faults (a voltage or temperature offset on one
cell's reading) so that each threshold is crossed at a known step. A fault switched on at t acts
from the step that starts at t, so the BMS first reads it at t + dt.
"""

import numpy as np
import pytest

from twin import Fault, Pack

from .conftest import simple_params

DT = 0.25


def _pack(**extra):
    return Pack(simple_params(cells=3, **{"cell.initial_soc": 0.5, "sensor.voltage_resolution": 0.0,
                                           "sensor.temperature_resolution": 0.0, **extra}))


def _trip_times(result, name):
    x = result[f"protection.{name}_tripped"] > 0.5
    on = result.time[1:][x[1:] & ~x[:-1]]
    off = result.time[1:][~x[1:] & x[:-1]]
    return list(on), list(off)


def test_cell_overvoltage_trips_after_its_delay_and_releases_below_its_release():
    # OCV is 3.25 V; an offset lifts cell 1's reading above 3.65 V at 10 s and below 3.40 V at 20 s
    faults = [Fault(1, "voltage_offset", 0.45, 10.0), Fault(1, "voltage_offset", 0.1, 20.0)]
    pack = Pack(_pack().params, faults=faults)
    r = pack.run(np.zeros(int(40 / DT)), DT)
    on, off = _trip_times(r, "cell_overvoltage")
    assert on == [pytest.approx(10.0 + DT + 2.0)]  # read first at 10 s + dt, then held for the 2 s delay
    assert off == [pytest.approx(20.0 + DT)]
    assert r["bms.charge_enable"][(r.time > 12) & (r.time < 20)].max() == 0.0
    assert r["bms.discharge_enable"].min() == 1.0


def test_a_short_excursion_does_not_trip():
    faults = [Fault(0, "voltage_offset", 0.45, 10.0), Fault(0, "voltage_offset", 0.0, 11.5)]
    r = Pack(_pack().params, faults=faults).run(np.zeros(int(30 / DT)), DT)
    assert _trip_times(r, "cell_overvoltage") == ([], [])


def test_cell_undervoltage_trips_and_releases():
    faults = [Fault(2, "voltage_offset", -0.80, 5.0), Fault(2, "voltage_offset", 0.0, 30.0)]
    r = Pack(_pack().params, faults=faults).run(np.zeros(int(40 / DT)), DT)
    on, off = _trip_times(r, "cell_undervoltage")
    assert on == [pytest.approx(5.0 + DT + 2.0)] and off == [pytest.approx(30.0 + DT)]
    assert r["bms.discharge_enable"][(r.time > 7.5) & (r.time < 30)].max() == 0.0


def test_tripped_direction_carries_no_current_the_other_does():
    faults = [Fault(1, "voltage_offset", 0.45, 0.0)]
    pack = Pack(_pack().params, faults=faults)
    charge = pack.run(np.full(40, 10.0), DT)
    assert charge["pack.applied_current"][-10:].max() == 0.0
    discharge = pack.run(np.full(40, -10.0), DT)
    assert np.all(discharge["pack.applied_current"][1:] == -10.0)


def test_charge_overcurrent_trips_after_its_delay_and_recovers_after_its_recovery_time():
    pack = _pack(**{"protection.charge_overcurrent": 100.0, "protection.charge_overcurrent_delay": 0.32,
                    "protection.charge_overcurrent_recovery": 5.0, "sensor.current_resolution": 0.0})
    dt = 0.1
    profile = np.concatenate([np.full(10, 50.0), np.full(200, 150.0)])
    r = pack.run(profile, dt)
    on, off = _trip_times(r, "charge_overcurrent")
    first_seen = 1.1  # the 150 A step flows over 1.0 .. 1.1 s and is read at 1.1 s
    assert on[0] == pytest.approx(first_seen + 0.4)  # first sample at which 0.32 s have been seen
    assert off[0] == pytest.approx(on[0] + 5.0)
    stopped = (r.time > on[0] + 1e-9) & (r.time <= off[0] + 1e-9)
    assert r["pack.applied_current"][stopped].max() == 0.0
    assert len(on) >= 2  # the load still asks 150 A after the recovery: it trips again


def test_discharge_overcurrent_uses_the_magnitude():
    pack = _pack(**{"protection.discharge_overcurrent": 80.0, "protection.discharge_overcurrent_delay": 0.0,
                    "sensor.current_resolution": 0.0})
    r = pack.run(np.concatenate([np.full(4, -70.0), np.full(4, -90.0)]), 1.0)
    on, _ = _trip_times(r, "discharge_overcurrent")
    assert on == [pytest.approx(5.0)]


@pytest.mark.parametrize("name, offset, release_offset", [
    ("charge_overtemperature", 21.0, 14.0),        # 46 degC trips at > 45, releases below 40
    ("discharge_overtemperature", 21.0, 14.0),
    ("charge_undertemperature", -26.0, -19.0),     # -1 degC trips below 0, releases above 5
    ("discharge_undertemperature", -46.0, -39.0),  # -21 degC trips below -20, releases above -15
])
def test_temperature_protections_trip_after_delay_and_release_with_hysteresis(name, offset, release_offset):
    faults = [Fault(0, "temperature_offset", offset, 10.0), Fault(0, "temperature_offset", release_offset, 30.0)]
    pack = Pack(_pack(**{"pack.temperature_sensors": [0, 2]}).params, faults=faults)
    r = pack.run(np.zeros(int(40 / DT)), DT)
    on, off = _trip_times(r, name)
    assert on == [pytest.approx(10.0 + DT + 2.0)] and off == [pytest.approx(30.0 + DT)]
    enable = "bms.charge_enable" if name.startswith("charge") else "bms.discharge_enable"
    assert r[enable][(r.time > 12.5) & (r.time < 30)].max() == 0.0


def test_unsensed_cells_cannot_trip_temperature_protection():
    faults = [Fault(1, "temperature_offset", 40.0, 0.0)]
    pack = Pack(_pack(**{"pack.temperature_sensors": [0, 2]}).params, faults=faults)
    r = pack.run(np.zeros(20), 1.0)
    assert np.isnan(r["cell.temperature_measured"][:, 1]).all()
    assert r["protection.charge_overtemperature_tripped"].max() == 0.0


@pytest.mark.parametrize("vmax, fraction", [(3.25, 1.0), (3.31, 1.0), (3.46, 0.5), (3.51, 0.05), (3.56, 0.0)])
def test_charge_current_limit_steps_down_as_the_highest_cell_rises(vmax, fraction):
    pack = Pack(_pack(**{"limits.max_charge_current": 100.0, "protection.cell_overvoltage": 4.0,
                         "protection.cell_overvoltage_release": 3.9}).params,
                faults=[Fault(0, "voltage_offset", vmax - 3.25, 0.0)])
    assert pack["bms.ccl"] == pytest.approx(100.0 * fraction)


def test_charge_voltage_limit_backs_off_when_a_cell_is_above_its_target():
    pack = _pack()
    assert pack["bms.cvl"] == pytest.approx(3 * 3.55)
    high = Pack(pack.params, faults=[Fault(0, "voltage_offset", 0.40, 0.0)])  # one cell reads 3.65 V
    assert high["bms.cvl"] == pytest.approx(3.25 * 3 + 0.40 - (3.65 - 3.55))


@pytest.mark.parametrize("vmin, fraction", [(3.25, 1.0), (2.95, 1.0), (2.85, 0.5), (2.75, 0.1), (2.65, 0.0)])
def test_discharge_current_limit_steps_down_as_the_lowest_cell_falls(vmin, fraction):
    pack = Pack(_pack(**{"limits.max_discharge_current": 200.0, "protection.cell_undervoltage": 2.0,
                         "protection.cell_undervoltage_release": 2.5}).params,
                faults=[Fault(0, "voltage_offset", vmin - 3.25, 0.0)])
    assert pack["bms.dcl"] == pytest.approx(200.0 * fraction)


def test_limits_are_zero_while_the_direction_is_disabled():
    pack = Pack(_pack().params, faults=[Fault(0, "voltage_offset", 0.45, 0.0)])
    pack.run(np.zeros(20), 1.0)
    assert pack["bms.ccl"] == 0.0 and pack["bms.dcl"] > 0.0


def test_an_inverter_obeying_the_limits_never_exceeds_ccl_or_dcl():
    """DVCC: with obey_limits the asked current is cut to the CCL (charging) and the DCL
    (discharging) the BMS computed before each step; without it, the profile is applied as is."""
    params = _pack(**{"limits.max_charge_current": 100.0, "limits.max_discharge_current": 100.0}).params
    asked = np.r_[np.full(30, 150.0), np.full(30, -150.0)]
    obeying = Pack(params, faults=[Fault(0, "voltage_offset", 0.21, 0.0)])  # reads 3.46 V: CCL at 50 %
    r = obeying.run(asked, 1.0, obey_limits=True, record=["pack.current", "bms.ccl", "bms.dcl"])
    assert np.all(r["pack.current"][1:31] <= 50.0 + 1e-9)
    assert np.all(r["pack.current"][31:] >= -100.0 - 1e-9)
    assert r["pack.current"][1] == pytest.approx(50.0) and r["pack.current"][-1] == pytest.approx(-100.0)
    ignoring = Pack(params, faults=[Fault(0, "voltage_offset", 0.21, 0.0)]).run(asked, 1.0, record=["pack.current"])
    assert ignoring["pack.current"][1] == pytest.approx(150.0)
