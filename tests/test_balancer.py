"""Balancing policies (who decides) and actuators (what current flows), including stuck switches.

The simple cells have OCV = 3.0 V + 0.5 V x SOC, so a SOC of 0.70 reads 3.350 V and each 0.002 of
SOC is 1 mV.
"""

import numpy as np
import pytest

from twin import Fault, Pack

from .conftest import simple_params


def _pack(socs, **extra):
    settings = {"cell.initial_soc": socs, "balancer.topology": "passive", "balancer.mode": "always",
                "balancer.start_voltage": 3.30, "balancer.start_delta": 0.010, "balancer.stop_delta": 0.005,
                "balancer.bleed_resistance": 33.0, "balancer.decision_period": 1.0, "sensor.voltage_resolution": 0.0}
    settings.update(extra)
    return Pack(simple_params(cells=len(socs), **settings))


def _mv(*millivolts):
    """SOCs whose OCVs are 3.350 V plus the given millivolts."""
    return [0.70 + 0.002 * m for m in millivolts]


def _bleeding(pack, seconds=3, current=0.0):
    r = pack.run(np.full(seconds, current), 1.0)
    return (r["balancer.bleed_current"][-1] > 0).astype(int).tolist()


def test_cells_more_than_start_delta_above_the_lowest_bleed():
    assert _bleeding(_pack(_mv(0, 8, 20, 30))) == [0, 0, 1, 1]


def test_bleed_current_is_cell_voltage_over_the_resistor():
    pack = _pack(_mv(0, 30))
    r = pack.run(np.zeros(5), 1.0)
    np.testing.assert_allclose(r["balancer.bleed_current"][1:, 1], r["cell.voltage"][:-1, 1] / 33.0, rtol=1e-12)


def test_no_balancing_below_the_start_voltage():
    pack = _pack([0.40, 0.44, 0.48], **{"balancer.start_voltage": 3.30})  # 3.20 .. 3.24 V
    assert _bleeding(pack) == [0, 0, 0]


def test_release_has_hysteresis():
    """A bleeding cell goes on until it is within stop_delta of the lowest, not start_delta."""
    pack = _pack(_mv(0, 12))  # 0.1 A: 1 mV of OCV is 0.2 Ah here, so 7 mV take about 14 h
    r = pack.run(np.zeros(3 * 24 * 360), 10.0)
    bleeding = r["balancer.bleed_current"][1:, 1] > 0
    delta_seen = (r["cell.voltage_measured"][:-1, 1] - r["cell.voltage_measured"][:-1, 0])  # what each decision saw
    assert bleeding[0] and not bleeding[-1]
    stop = np.flatnonzero(~bleeding)[0]
    assert delta_seen[stop] <= 0.005 < delta_seen[stop - 1]
    assert np.all(delta_seen[:stop] > 0.005)
    assert delta_seen[stop - 1] < 0.010  # it kept going below start_delta


def test_max_cells_takes_the_highest_first():
    pack = _pack(_mv(0, 20, 40, 30, 25), **{"balancer.max_cells": 2})
    assert _bleeding(pack) == [0, 0, 1, 1, 0]


def test_no_adjacent_never_bleeds_neighbours_together():
    pack = _pack(_mv(0, 20, 25, 30, 0), **{"balancer.no_adjacent": True})
    assert _bleeding(pack) == [0, 1, 0, 1, 0]


def test_charging_mode_bleeds_only_while_charging():
    pack = _pack(_mv(0, 30), **{"balancer.mode": "charging"})
    assert _bleeding(pack, current=0.0) == [0, 0]
    assert _bleeding(pack, current=5.0) == [0, 1]
    assert _bleeding(pack, current=-5.0) == [0, 0]


def test_idle_mode_waits_for_the_idle_delay():
    pack = _pack(_mv(0, 30), **{"balancer.mode": "idle", "balancer.idle_delay": 60.0})
    r = pack.run(np.concatenate([np.full(10, -5.0), np.zeros(100)]), 1.0)
    bleeding = r["balancer.bleed_current"][:, 1] > 0
    first = r.time[np.flatnonzero(bleeding)[0]]
    # the step from 10 to 11 s carries no current: idle 60 s at 70 s, bleeding over 70 .. 71 s
    assert first == pytest.approx(71.0)


def test_decisions_hold_for_the_decision_period():
    pack = _pack(_mv(0, 30), **{"balancer.decision_period": 20.0, "balancer.mode": "charging"})
    r = pack.run(np.concatenate([np.zeros(5), np.full(40, 5.0)]), 1.0)
    bleeding = r["balancer.bleed_current"][:, 1] > 0
    assert r.time[np.flatnonzero(bleeding)[0]] == pytest.approx(21.0)  # decisions at 0, 20, 40 s


def test_hot_pack_does_not_balance():
    pack = _pack(_mv(0, 30), **{"pack.temperature_sensors": [0]})
    pack2 = Pack(pack.params, faults=[Fault(0, "temperature_offset", 50.0, 0.0)])  # reads 75 degC > 70
    assert _bleeding(pack2) == [0, 0]


def test_stuck_on_bleeds_without_command_and_stuck_off_never_bleeds():
    pack = Pack(_pack(_mv(0, 0, 30, 0)).params,
                faults=[Fault(0, "balancer_stuck", "on", 0.0), Fault(2, "balancer_stuck", "off", 0.0)])
    assert _bleeding(pack) == [1, 0, 0, 0]
    r = pack.run(np.zeros(3600), 1.0)
    assert r["cell.soc"][-1, 0] < r["cell.soc"][-1, 1]


def test_external_commands_drive_the_switches():
    pack = _pack(_mv(0, 0, 0), **{"balancer.policy": "external"})
    commands = np.zeros((10, 3))
    commands[3:7, 1] = 1
    r = pack.run(np.zeros(10), 1.0, commands=commands)
    np.testing.assert_array_equal(r["balancer.bleed_current"][1:, 1] > 0, commands[:, 1] > 0)
    assert np.all(r["balancer.bleed_current"][:, [0, 2]] == 0)


def test_commanded_output_is_what_the_policy_asked_not_what_a_stuck_switch_did():
    """balancer.commanded is the BMS's decision (the logged balancing flag of a real BMS); the bleed
    current is what the switch did. They differ exactly on stuck switches."""
    pack = Pack(_pack(_mv(0, 0, 30, 30), **{"balancer.max_cells": 4}).params,
                faults=[Fault(0, "balancer_stuck", "on", 0.0), Fault(2, "balancer_stuck", "off", 0.0)])
    r = pack.run(np.zeros(5), 1.0)
    assert r["balancer.commanded"][-1].tolist() == [0, 0, 1, 1]
    assert (r["balancer.bleed_current"][-1] > 0).tolist() == [True, False, False, True]


def test_soc_history_policy_bleeds_the_surplus_read_after_rest():
    """foxBMS history strategy: after the rest time, OCV -> SOC, bleed each cell's surplus."""
    socs = [0.60, 0.62, 0.65]
    pack = _pack(socs, **{"balancer.policy": "soc_history", "balancer.rest_time": 600.0,
                          "balancer.soc_start_delta": 0.005, "balancer.bleed_resistance": 5.0,
                          "balancer.start_voltage": 0.0})
    r = pack.run(np.zeros(12 * 3600), 1.0)
    # nothing before the rest time
    assert r["balancer.bleed_current"][r.time <= 600].max() == 0
    bled = r["balancer.bleed_charge"][-1]
    capacity = 100.0
    np.testing.assert_allclose(bled, (np.array(socs) - 0.60) * capacity, rtol=0.01, atol=0.002)
    assert r["pack.soc_spread"][-1] < 0.001


@pytest.mark.parametrize("topology", ["flying_capacitor", "adjacent", "cell_to_pack", "pack_to_cell"])
def test_active_balancers_shrink_the_spread_with_less_loss_than_bleeding(topology):
    socs = [0.60, 0.66, 0.62, 0.70, 0.64]
    settings = {"balancer.topology": topology, "balancer.channel_current": 2.0, "balancer.transfer_efficiency": 0.9,
                "balancer.start_voltage": 0.0}
    r = _pack(socs, **settings).run(np.zeros(20 * 3600), 5.0)
    assert r["pack.soc_spread"][-1] < 0.25 * r["pack.soc_spread"][0]
    passive = _pack(socs, **{"balancer.bleed_resistance": 1.65, "balancer.start_voltage": 0.0}).run(np.zeros(20 * 3600), 5.0)
    # what active balancing loses is far below what passive balancing burns for the same job
    assert r["balancer.energy_dissipated"][-1] < 0.5 * passive["balancer.energy_dissipated"][-1]


def test_flying_capacitor_moves_from_the_highest_to_the_lowest():
    pack = _pack(_mv(10, 0, 30, 20), **{"balancer.topology": "flying_capacitor", "balancer.channel_current": 1.0,
                                         "balancer.transfer_efficiency": 0.8, "balancer.start_voltage": 0.0})
    r = pack.run(np.zeros(2), 1.0)
    np.testing.assert_allclose(r["balancer.transfer_current"][-1], [0.0, 0.8, -1.0, 0.0])
    np.testing.assert_array_equal(r["balancer.active"][-1], [0, -1, 1, 0])


def test_adjacent_shuttles_pair_neighbours_by_largest_difference():
    pack = _pack(_mv(0, 30, 0, 12), **{"balancer.topology": "adjacent", "balancer.channel_current": 1.0,
                                        "balancer.transfer_efficiency": 1.0, "balancer.start_voltage": 0.0})
    r = pack.run(np.zeros(2), 1.0)
    # 1 -> 0 or 1 -> 2 (both 30 mV; the lower index wins), then 3 -> 2
    np.testing.assert_allclose(r["balancer.transfer_current"][-1], [1.0, -1.0, 1.0, -1.0])
