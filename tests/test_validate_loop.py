"""The firmware loop in C (csrc/firmware.c through twin._core.BmsLoop): what the firmware reads,
when it is called, how its decisions reach the twin, how the inverter obeys them."""

import numpy as np
import pytest

from twin import Pack
from twin._core import BmsLoop, bms_check_decisions, bms_inverter_current
from twin.validate_run import charger_resistance
from twin.validate_scenarios import PROTECTION_OFF


def loop_pack(**changes):
    return Pack(**{**PROTECTION_OFF, **changes})


class Recorder:
    """A Python controller that keeps what it read and returns fixed decisions."""

    def __init__(self, loop, balance=None, ce=1.0, de=1.0, cvl=60.0, ccl=140.0, dcl=280.0):
        self.loop, self.seen = loop, []
        self.balance, self.decisions = balance, (ce, de, cvl, ccl, dcl)

    def __call__(self, time, dt, current, voltage):
        self.seen.append((time, dt, current, voltage, self.loop.cell_voltage.copy(), self.loop.cell_temperature.copy()))
        if self.balance is not None:
            self.loop.balance[:] = self.balance
        return self.decisions


def make_loop(pack, period=1, delay=0, obey=True, **kw):
    loop = BmsLoop(pack.kernel, period, delay, obey, charger_resistance(pack.params, pack.n), 4.0, 2.0)
    rec = Recorder(loop, **kw)
    loop.use_python(rec)
    loop.start()
    return loop, rec


def test_inverter_obeys_enables_and_limits():
    f = bms_inverter_current
    # charging: stopped when disabled, else within CCL and the CV loop
    assert f(0, 1, 60, 100, 100, 50.0, 52.0, 0.0, True, 0.01) == 0.0
    assert f(1, 1, 60, 20, 100, 50.0, 52.0, 0.0, True, 0.01) == 20.0
    assert f(1, 1, 52.1, 100, 100, 50.0, 52.0, 5.0, True, 0.01) == pytest.approx(15.0)  # 5 + 0.1 V / 0.01 Ohm
    assert f(1, 1, 51.0, 100, 100, 50.0, 52.0, 5.0, True, 0.01) == 0.0  # above CVL: the charger does not discharge
    # discharging: stopped when disabled, else within DCL; CVL does not matter
    assert f(1, 0, 60, 100, 100, -50.0, 52.0, 0.0, True, 0.01) == 0.0
    assert f(1, 1, 0.0, 0, 30, -50.0, 52.0, 0.0, True, 0.01) == -30.0
    # an inverter that ignores the limits still cannot push through an open FET
    assert f(1, 1, 0.0, 0, 0, 50.0, 52.0, 0.0, False, 0.01) == 50.0
    assert f(0, 1, 0.0, 0, 0, 50.0, 52.0, 0.0, False, 0.01) == 0.0
    assert f(1, 0, 0.0, 0, 0, -50.0, 52.0, 0.0, False, 0.01) == 0.0


@pytest.mark.parametrize("decisions, expected", [
    ((np.zeros(4), 1, 1, 56.8, 140, 280), None),
    ((np.array([0, 0, 2.0, 0]), 1, 1, 56.8, 140, 280), ("bad_balance", 2, 2.0)),
    ((np.zeros(4), 0.5, 1, 56.8, 140, 280), ("bad_charge_enable", None, 0.5)),
    ((np.zeros(4), 1, 1, np.nan, 140, 280), ("bad_cvl", None, np.nan)),
    ((np.zeros(4), 1, 1, 56.8, -1.0, 280), ("bad_ccl", None, -1.0)),
    ((np.zeros(4), 1, 1, 56.8, 140, np.inf), ("bad_dcl", None, np.inf)),
])
def test_decisions_are_checked(decisions, expected):
    got = bms_check_decisions(*decisions)
    if expected is None:
        assert got is None
    else:
        assert got[:2] == expected[:2]
        assert got[2] == expected[2] or (np.isnan(got[2]) and np.isnan(expected[2]))


def test_firmware_reads_the_readings_of_delay_steps_ago_every_period():
    pack = loop_pack(**{"sensor.voltage_noise": 0.0005})
    loop, rec = make_loop(pack, period=3, delay=2)
    request = np.r_[np.zeros(5), np.full(25, 100.0)]
    rows = np.empty((30, 1)), np.empty((30, pack.n))
    loop.run(1.0, request, records=[(pack.spec["pack.current_measured"].vr, rows[0]),
                                    (pack.spec["cell.voltage_measured"].vr, rows[1])])
    times = [s[0] for s in rec.seen]
    assert times == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 27.0]
    assert all(s[1] == 3.0 for s in rec.seen[1:])
    current, voltage = rows[0][:, 0], rows[1]
    for t, _, seen_current, _, seen_voltage, _ in rec.seen[2:]:
        k = int(t) - 2 - 1  # the reading taken at time t - 2 is row t - 3 (rows start after the first step)
        assert seen_current == current[k]
        np.testing.assert_array_equal(seen_voltage, voltage[k])


def test_balance_decisions_drive_the_bleed_resistors():
    pack = loop_pack()
    balance = np.zeros(pack.n)
    balance[[2, 9]] = 1
    loop, _ = make_loop(pack, balance=balance)
    bleed = np.empty((10, pack.n))
    loop.run(1.0, np.zeros(10), records=[(pack.spec["balancer.bleed_current"].vr, bleed)])
    v = pack["cell.voltage"]
    r = pack["balancer.bleed_resistance"]
    assert bleed[-1, 2] == pytest.approx(v[2] / r, rel=1e-3) and bleed[-1, 9] == pytest.approx(v[9] / r, rel=1e-3)
    assert np.count_nonzero(bleed[-1]) == 2


def test_charger_holds_the_pack_at_cvl_from_below():
    pack = loop_pack(**{"cell.initial_soc": 0.97})
    cvl = 16 * 3.45
    loop, _ = make_loop(pack, cvl=cvl, ccl=140.0)
    v = np.empty((3600, 1))
    loop.run(1.0, np.full(3600, 140.0), records=[(pack.spec["pack.voltage"].vr, v)])
    v = v[:, 0]
    assert v.max() <= cvl + 16 * 0.002      # at most 2 mV per cell past CVL, while the top knee climbs
    assert abs(v[-1] - cvl) < 2e-3          # and it settles there
    assert pack["pack.applied_current"] < 140.0  # the current tapered


def test_disabled_charging_stops_charge_current_not_discharge():
    pack = loop_pack()
    loop, _ = make_loop(pack, ce=0.0)
    applied = np.empty((20, 1))
    loop.run(1.0, np.r_[np.full(10, 50.0), np.full(10, -50.0)],
             records=[(pack.spec["pack.applied_current"].vr, applied)])
    assert np.all(applied[:10] == 0.0) and np.all(applied[10:] == -50.0)


def test_a_cell_beyond_the_model_stops_the_run_with_its_index():
    pack = loop_pack(**{"cell.initial_soc": 0.99})
    loop = BmsLoop(pack.kernel, 1, 0, False, 1.0, 3.6, 2.0)
    loop.use_python(Recorder(loop))
    loop.start()
    done = loop.run(1.0, np.full(7200, 140.0))
    kind, cell, value, at, _ = loop.fault
    assert kind == "cell_high" and value > 3.6 and 0 < done < 7200 and at == done
    assert pack["cell.voltage"][cell] == value


def test_a_python_exception_stops_the_run_as_a_controller_error():
    pack = loop_pack()
    loop = BmsLoop(pack.kernel, 1, 0, True, 1.0, 4.0, 2.0)

    def broken(time, dt, current, voltage):
        if time >= 5:
            raise ZeroDivisionError("division by zero")
        return 1.0, 1.0, 56.0, 10.0, 10.0

    loop.use_python(broken)
    loop.start()
    done = loop.run(1.0, np.zeros(20))
    assert done == 5 and loop.fault[0] == "controller_error" and loop.fault[3] == 5.0
    assert isinstance(loop.error, ZeroDivisionError)


def test_records_and_slow_records_line_up_across_chunks():
    pack = loop_pack()
    loop, _ = make_loop(pack)
    fast, slow = [], []
    for _ in range(3):
        f, s = np.empty((7, 1)), np.empty((7 // 3 + 1, pack.n))
        before = loop.steps
        loop.run(1.0, np.full(7, 10.0), records=[("monitor.request", f)],
                 slow=[(pack.spec["cell.soc"].vr, s)], slow_every=3)
        fast.append(f[:, 0])
        slow.append(s[:(before + 7) // 3 - before // 3])
    assert np.all(np.concatenate(fast) == 10.0)
    assert np.concatenate(slow).shape == (7, pack.n)  # steps 3, 6, ..., 21
    assert np.all(np.diff(np.concatenate(slow)[:, 0]) > 0)  # charging: every slow row later than the last
