"""Each limit of `twin validate`: a firmware that keeps it passes, one that breaks it fails with a
sentence saying what, where and when. Firmware here is small Python written for each case."""

import functools
import math
from pathlib import Path

import numpy as np
import pytest

from twin.firmware import Decision, Firmware
from twin.validate_checks import Context, Excursions, TopOfCharge
from twin.validate_limits import Limits
from twin.validate_protection import Latch
from twin.validate_run import run_scenario
from twin.validate_scenarios import from_mapping

PROTECTION = {"cell_overvoltage": {"limit": "3.65 V", "release": "3.40 V", "delay": "2 s"},
              "cell_undervoltage": {"limit": "2.50 V", "release": "3.10 V", "delay": "2 s"}}


class Bms:
    """A configurable little BMS: over/under-voltage protection, fixed limits, optional mistakes."""

    def __init__(self, n, ov_delay=2.0, latch=False, off_at=None, bleed=(), bleed_always=False, cvl=3.55,
                 ccl=100.0, dcl=100.0, ccl_rule=True):
        self.n, self.ov_delay, self.latch, self.off_at = n, ov_delay, latch, off_at
        self.bleed, self.bleed_always, self.cvl, self.ccl, self.dcl, self.ccl_rule = bleed, bleed_always, cvl, ccl, dcl, ccl_rule
        self.ov_held = self.uv_held = -1.0
        self.ov = self.uv = False

    def __call__(self, r):
        vmax, vmin = r.cell_voltage.max(), r.cell_voltage.min()
        self.ov_held = (0.0 if self.ov_held < 0 else self.ov_held + r.dt) if vmax > 3.65 else -1.0
        self.uv_held = (0.0 if self.uv_held < 0 else self.uv_held + r.dt) if vmin < 2.50 else -1.0
        self.ov = (self.ov or self.ov_held >= self.ov_delay) and (self.latch or vmax >= 3.40)
        self.uv = (self.uv or self.uv_held >= 2.0) and vmin <= 3.10
        charge = not self.ov and not (self.off_at is not None and self.off_at <= r.time < self.off_at + 30)
        balance = np.zeros(self.n, dtype=int)
        if self.bleed_always or r.pack_current > 0:
            balance[list(self.bleed)] = 1
        ccl = self.ccl if charge and (not self.ccl_rule or vmax < 3.55) else 0.0
        dcl = self.dcl if not self.uv and (not self.ccl_rule or vmin > 2.8) else 0.0
        return Decision(balance, charge, not self.uv, self.cvl * self.n, ccl, dcl)


def run(limits: dict, drive, firmware=Bms, **scenario):
    s = from_mapping({"name": "case", "drive": drive, **scenario}, Path("case.toml"))
    fw = Firmware.from_callable(firmware if isinstance(firmware, functools.partial) else firmware)
    r = run_scenario(fw, s, Limits.from_mapping(limits, "case limits"))
    return {c.id: c for c in r.results}, r


OVERCHARGE = dict(drive=[{"charge": "0.3C", "for": "40 min"}, {"discharge": "0.3C", "for": "40 min"}],
                  inverter_obeys_limits=False, parameters={"cell.initial_soc": 0.985, "spread.soc": 0.0})


# --- the protection replay itself, on known answers ------------------------------------------------------

def test_latch_trips_after_the_delay_and_releases_at_the_release_value():
    t = np.arange(1.0, 21.0)
    x = np.where((t >= 5) & (t < 15), 1.0, 0.0)
    tripped = Latch(0.5, 0.2, 2.0, 0.0).feed(t, x)
    assert t[tripped].tolist() == [7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0]
    # chunk by chunk, cut anywhere, the same answer
    for cut in range(1, 20):
        latch = Latch(0.5, 0.2, 2.0, 0.0)
        again = np.r_[latch.feed(t[:cut], x[:cut]), latch.feed(t[cut:], x[cut:])]
        assert np.array_equal(again, tripped), cut


def test_latch_holds_a_trip_for_the_recovery_time():
    t = np.arange(1.0, 21.0)
    x = np.where((t >= 5) & (t < 7), 10.0, 0.0)  # over the limit for two samples only
    tripped = Latch(5.0, 5.0, 0.0, 6.0).feed(t, x)
    assert t[tripped].tolist() == [5.0, 6.0, 7.0, 8.0, 9.0, 10.0]  # released at 11 = trip + 6 s
    assert not Latch(5.0, 5.0, 3.0, 0.0).feed(t, x).any()          # too short for a 3 s delay


# --- protection: in time, late, never, spurious, not released --------------------------------------------

def test_an_over_voltage_trip_within_its_delay_passes_and_shows_the_delay():
    got, _ = run({"protection": PROTECTION}, **OVERCHARGE)
    c = got["protection.cell_overvoltage"]
    assert c.status == "pass" and "observed trip delays 2 s" in c.message
    assert got["protection.charge_spurious"].status == "pass"


def test_a_late_over_voltage_trip_fails_with_the_delay_it_took():
    got, _ = run({"protection": PROTECTION}, firmware=functools.partial(Bms, ov_delay=30.0), **OVERCHARGE)
    c = got["protection.cell_overvoltage"]
    assert c.status == "fail"
    assert "above the 3.650 V limit since" in c.message and "and charging was still enabled" in c.message
    assert "the firmware stopped charging 30 s after the crossing" in c.message


def test_a_missing_over_voltage_trip_fails():
    got, _ = run({"protection": PROTECTION}, firmware=functools.partial(Bms, ov_delay=math.inf), **OVERCHARGE)
    assert got["protection.cell_overvoltage"].status == "fail"
    # the charger pushed the cell past 4 V, where the run stops
    assert "the firmware had not stopped charging when the run ended at 00:" in got["protection.cell_overvoltage"].message


def test_charging_stopped_without_cause_is_a_spurious_trip():
    got, _ = run({"protection": PROTECTION}, firmware=functools.partial(Bms, off_at=600.0),
                 drive=[{"charge": "0.1C", "for": "20 min"}])
    c = got["protection.charge_spurious"]
    assert c.status == "fail" and c.time == pytest.approx(601.0)  # the first step with charging off
    assert c.message.startswith("charging was disabled at 00:10:00 while no charge-side limit was crossed: highest "
                                "cell reading 3.")
    assert "cell over-voltage limit 3.650 V" in c.message and "(30 s disabled without cause in all)" in c.message


def test_a_trip_that_never_releases_is_reported_as_such():
    got, _ = run({"protection": PROTECTION}, firmware=functools.partial(Bms, latch=True),
                 drive=OVERCHARGE["drive"] + [{"rest": "1 h"}], inverter_obeys_limits=False,
                 parameters=OVERCHARGE["parameters"])
    c = got["protection.charge_spurious"]
    assert c.status == "fail" and "charging stayed disabled after the cell over-voltage trip should have released" in c.message


# --- the cells' window, balancing ----------------------------------------------------------------------

def test_cell_excursions_are_allowed_up_to_max_time_outside():
    def chunk(seconds_above):
        t = np.arange(1.0, 61.0)
        v = np.where((t > 10) & (t <= 10 + seconds_above), 3.7, 3.4)
        return {"time": t, "vmax": v, "vmax_cell": np.full(60, 4.0)}

    for above, status in ((5, None), (6, "fail")):
        check = Excursions("cells.max_voltage", "", "vmax", "vmax_cell", 3.65, 1, 5.0, "V", 3)
        check.feed(chunk(above), 1.0)
        r = check.results(60.0)[0]
        assert (r.status == "fail") == (status == "fail")
    assert r.message.startswith("cell 4 was above 3.650 V from 00:00:11 for more than 5 s")


def test_top_of_charge_spread_and_time_to_balance_on_known_days():
    ctx = Context(n_cells=4, capacity_ah=100.0, dt=60.0, period=60.0)
    check = TopOfCharge(ctx, 3.45, 0.030, 3 * 86400.0)
    spreads = [0.080, 0.045, 0.028, 0.025, 0.020]
    t = np.arange(1, 5 * 1440 + 1) * 60.0
    vmax = np.full(t.size, 3.35)
    vmin = np.full(t.size, 3.30)
    for day, s in enumerate(spreads):  # a peak at 14:00 each day, with that spread
        k = day * 1440 + 14 * 60
        vmax[k], vmin[k] = 3.50, 3.50 - s
    check.feed({"time": t, "read_vmax": vmax, "read_vmin": vmin, "read_vmax_cell": np.zeros(t.size)}, 60.0)
    spread, ttb = check.results(t[-1])
    assert spread.status == "pass" and spread.value == pytest.approx(20.0)
    assert ttb.status == "pass" and ttb.value == pytest.approx(2 * 86400 + 14 * 3600 + 60)  # from day 3's top
    late = TopOfCharge(ctx, 3.45, 0.030, 2 * 86400.0)
    late.feed({"time": t, "read_vmax": vmax, "read_vmin": vmin, "read_vmax_cell": np.zeros(t.size)}, 60.0)
    assert late.results(t[-1])[1].message.startswith("balanced only from 2 d 14:01:00")


def test_a_pack_that_never_tops_out_fails_only_when_a_full_charge_was_expected():
    limits = {"balancing": {"top_of_charge_voltage": "3.45 V", "max_top_of_charge_spread": "30 mV"}}
    drive = [{"rest": "10 min"}]
    got, _ = run(limits, drive=drive)
    assert got["balancing.top_of_charge_spread"].status == "skip"
    got, _ = run(limits, drive=drive, expect_full_charge=True)
    c = got["balancing.top_of_charge_spread"]
    assert c.status == "fail" and c.message.startswith("the pack never topped out: the highest cell read at most 3.")


def test_balancing_current_adjacent_cells_and_bleeding_while_discharging():
    limits = {"balancing": {"max_balancing_current": "150 mA", "no_adjacent": True,
                            "balance_while_discharging": False}}
    fw = functools.partial(Bms, bleed=(4, 5), bleed_always=True)
    got, _ = run(limits, firmware=fw, drive=[{"charge": "0.1C", "for": "2 min"}, {"discharge": "0.1C", "for": "2 min"}],
                 parameters={"balancer.bleed_resistance": 10.0})
    assert got["balancing.current"].status == "fail"
    assert got["balancing.current"].message.startswith("cell 4 carried 0.329 A of balancing current at 00:00:01 (limit "
                                                       "0.15 A)")
    assert got["balancing.no_adjacent"].message.startswith("cells 4 and 5 were commanded to bleed together at 00:00:01")
    c = got["balancing.while_discharging"]
    assert c.status == "fail" and c.message.startswith("2 cells were bleeding from 00:02:01 while the pack discharged "
                                                       "at 28.0 A")
    got, _ = run(limits, firmware=functools.partial(Bms, bleed=(4, 6)),
                 drive=[{"charge": "0.1C", "for": "2 min"}, {"discharge": "0.1C", "for": "2 min"}])
    assert all(got[k].status == "pass" for k in ("balancing.current", "balancing.no_adjacent", "balancing.while_discharging"))


def test_energy_dissipated_per_day_and_thermal_rise():
    limits = {"balancing": {"max_energy_dissipated_per_day": "1 Wh", "max_thermal_rise": "0.05 K"}}
    fw = functools.partial(Bms, bleed=tuple(range(0, 16, 2)), bleed_always=True)
    got, r = run(limits, firmware=fw, drive=[{"rest": "2 h"}])
    energy = got["balancing.energy_per_day"]
    # eight 33 Ohm resistors at about 3.3 V for 2 h: 8 x 3.3^2 / 33 x 2 = 5.3 Wh
    assert energy.status == "fail" and energy.value == pytest.approx(8 * 3.3**2 / 33 * 2, rel=0.05)
    assert energy.message.startswith(f"balancing burned {energy.value:.3g} Wh on day 1 (limit 1 Wh per day)")
    assert got["balancing.thermal_rise"].status == "fail" and "warmer than the ambient alone" in got["balancing.thermal_rise"].message
    got, _ = run(limits, drive=[{"rest": "2 h"}])
    assert got["balancing.energy_per_day"].status == "pass" and got["balancing.thermal_rise"].status == "pass"


# --- charge limits ------------------------------------------------------------------------------------

def test_charge_limits_consistent_with_the_cells():
    limits = {"charge_limits": {"max_cvl_per_cell": "3.55 V", "max_ccl": "90 A", "ccl_zero_above": "3.60 V",
                                "dcl_zero_below": "2.70 V"}}
    got, _ = run(limits, **OVERCHARGE)
    assert got["charge_limits.max_cvl"].status == "pass" and got["charge_limits.max_ccl"].status == "fail"
    assert got["charge_limits.max_ccl"].message == "CCL was 100.0 A at 00:00:01 (limit 90 A) (1 s in all)" or \
        got["charge_limits.max_ccl"].message.startswith("CCL was 100.0 A at 00:00:01 (limit 90 A)")
    assert got["charge_limits.ccl_zero_above"].status == "pass"
    bad = functools.partial(Bms, cvl=3.6, ccl=50.0, ccl_rule=False, ov_delay=math.inf)
    got, _ = run(limits, firmware=bad, **OVERCHARGE)
    assert got["charge_limits.max_cvl"].message.startswith("CVL was 57.60 V at 00:00:01, above 16 x 3.550 V = 56.80 V")
    c = got["charge_limits.ccl_zero_above"]
    assert c.status == "fail" and "while the highest cell (cell " in c.message and "above 3.600 V since" in c.message


def test_ccl_must_be_zero_while_charging_is_disabled_and_below_freezing():
    limits = {"charge_limits": {"ccl_zero_below_temperature": "0 degC"}}
    fw = functools.partial(Bms, off_at=60.0, ccl_rule=False)

    class KeepsCcl(Bms):  # disables charging but keeps advertising CCL
        def __call__(self, r):
            d = super().__call__(r)
            d.ccl = 100.0
            return d

    got, _ = run(limits, firmware=functools.partial(KeepsCcl, off_at=60.0), drive=[{"charge": "0.1C", "for": "3 min"}])
    c = got["charge_limits.ccl_zero_when_disabled"]
    assert c.status == "fail" and "CCL was 100.0 A at 00:01:" in c.message and "charging disabled" in c.message
    got, _ = run(limits, firmware=fw, drive=[{"charge": "0.1C", "for": "3 min"}], ambient=-5,
                 parameters={"pack.initial_temperature": -5})
    c = got["charge_limits.ccl_zero_below_temperature"]
    assert c.status == "fail" and "while the coldest sensor (cell 0) read -5.0 degC, below 0.0 degC" in c.message


def test_a_scenario_skip_list_turns_checks_into_skipped():
    got, _ = run({"protection": PROTECTION, "charge_limits": {"max_ccl": "90 A"}}, drive=[{"rest": "1 min"}],
                 skip=["charge_limits"])
    assert got["charge_limits.max_ccl"].status == "skip" and got["protection.cell_overvoltage"].status == "pass"
