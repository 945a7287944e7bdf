"""Conservation of charge and energy bookkeeping across cells and balancers."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from twin import Fault, Pack

from .conftest import simple_params

TOPOLOGIES = ["passive", "adjacent", "flying_capacitor", "cell_to_pack", "pack_to_cell"]


def _spread_pack(topology, eta=0.8, cells=6, **extra):
    socs = list(np.linspace(0.55, 0.75, cells))
    return Pack(simple_params(cells=cells, **{
        "cell.initial_soc": socs, "balancer.topology": topology, "balancer.mode": "always",
        "balancer.start_voltage": 0.0, "balancer.transfer_efficiency": eta, "balancer.channel_current": 2.0,
        "balancer.channels": 2, "balancer.bleed_resistance": 10.0, "balancer.decision_period": 5.0,
        "cell.self_discharge": [0.0, 0.01, 0.0, 0.02, 0.0, 0.0][:cells], **extra}))


@pytest.mark.parametrize("topology", TOPOLOGIES)
@pytest.mark.parametrize("eta_c", [1.0, 0.98])
def test_each_cell_charge_change_equals_its_currents(topology, eta_c):
    """Q_i dSOC_i = eta (I_pack - I_bleed,i + I_transfer,i - I_leak,i) dt, step by step."""
    pack = _spread_pack(topology, **{"cell.coulombic_efficiency": eta_c})
    profile = np.concatenate([np.full(300, 40.0), np.zeros(300), np.full(300, -25.0)])
    r = pack.run(profile, 2.0)
    q_as = 100.0 * 3600.0
    leak = np.array([0.0, 0.01, 0.0, 0.02, 0.0, 0.0])
    terminal = r["pack.applied_current"][1:, None] - r["balancer.bleed_current"][1:] + r["balancer.transfer_current"][1:]
    np.testing.assert_allclose(terminal, r["cell.current"][1:], atol=1e-12)
    total = terminal - leak
    eta = np.where(total > 0, eta_c, 1.0)
    np.testing.assert_allclose(np.diff(r["cell.soc"], axis=0) * q_as, eta * total * 2.0, rtol=1e-9, atol=1e-9)
    assert r["balancer.active_cells"].max() > 0, "the balancer must have worked in this test"


@pytest.mark.parametrize("topology", ["adjacent", "flying_capacitor"])
@pytest.mark.parametrize("eta", [1.0, 0.85, 0.5])
def test_cell_to_cell_transfer_delivers_efficiency_times_the_charge_taken(topology, eta):
    r = _spread_pack(topology, eta).run(np.zeros(2000), 1.0)
    taken = r["balancer.transfer_charge_out"][-1].sum()
    given_ = r["balancer.transfer_charge_in"][-1].sum()
    assert taken > 0.1
    assert given_ == pytest.approx(eta * taken, rel=1e-12)
    # per step: the transfer currents sum to minus the loss share of the channel currents
    steps_active = r["balancer.active_cells"][1:] > 0
    per_step = -r["balancer.transfer_current"][1:].sum(axis=1)
    ic = 2.0
    pairs = (r["balancer.active"][1:] > 0).sum(axis=1)
    np.testing.assert_allclose(per_step[steps_active], (1 - eta) * ic * pairs[steps_active], atol=1e-12)


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_energy_dissipated_equals_energy_taken_minus_energy_delivered(topology):
    """dE = sum_i V_i (I_bleed,i - I_transfer,i) dt, with the voltages the actuator saw."""
    r = _spread_pack(topology, 0.8).run(np.concatenate([np.zeros(600), np.full(600, 30.0)]), 1.0)
    v_prev = r["cell.voltage"][:-1]
    power = (v_prev * (r["balancer.bleed_current"][1:] - r["balancer.transfer_current"][1:])).sum(axis=1)
    np.testing.assert_allclose(np.diff(r["balancer.energy_dissipated"]) * 3600.0, power, rtol=1e-9, atol=1e-9)
    assert r["balancer.energy_dissipated"][-1] > 0


def test_cell_to_pack_and_pack_to_cell_keep_energy_efficiency():
    for topology in ("cell_to_pack", "pack_to_cell"):
        r = _spread_pack(topology, 0.9).run(np.zeros(500), 1.0)
        v_prev = r["cell.voltage"][:-1]
        tr = r["balancer.transfer_current"][1:]
        delivered = (v_prev * np.clip(tr, 0, None)).sum(axis=1)
        taken = (v_prev * np.clip(-tr, 0, None)).sum(axis=1)
        busy = taken > 0
        assert busy.any()
        # net energy accounting per step: what the pack lost is the converter loss
        loss = np.diff(r["balancer.energy_dissipated"])[busy] * 3600.0
        np.testing.assert_allclose(taken[busy] - delivered[busy], loss, rtol=1e-9)


def test_bleed_charge_is_the_integral_of_the_bleed_current():
    r = _spread_pack("passive").run(np.zeros(1500), 2.0)
    np.testing.assert_allclose(r["balancer.bleed_charge"][-1], r["balancer.bleed_current"][1:].sum(axis=0) * 2.0 / 3600.0, rtol=1e-12)
    assert r["balancer.charge_moved"][-1] == pytest.approx(r["balancer.bleed_charge"][-1].sum(), rel=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    profile=st.lists(st.floats(min_value=-150, max_value=150), min_size=2, max_size=40),
    topology=st.sampled_from(TOPOLOGIES),
    leak=st.floats(min_value=0.0, max_value=2.0),
)
def test_total_charge_is_conserved_for_any_profile(profile, topology, leak):
    """Sum over cells of the stored charge changes by N I_pack dt minus leaks, bleeding and
    converter losses (the charge that vanishes in a converter is (1 - eta) of what it moves)."""
    pack = _spread_pack(topology, 0.8, **{"balancer.decision_period": 1.0})
    pack.set("fault.leak_current", leak, cell=2)
    r = pack.run(np.repeat(profile, 15), 1.0)
    q = (r["cell.soc"] * 100.0 * 3600.0).sum(axis=1)
    leaks = 0.03 + leak
    expected = (pack.n * r["pack.applied_current"][1:] - r["balancer.bleed_current"][1:].sum(axis=1)
                + r["balancer.transfer_current"][1:].sum(axis=1) - leaks)
    np.testing.assert_allclose(np.diff(q), expected, rtol=1e-8, atol=1e-7)


def test_leak_fault_drains_only_its_cell_from_its_onset():
    pack = Pack(simple_params(cells=3, **{"cell.initial_soc": 0.5}), faults=[Fault(1, "leak_current", 2.0, "10 min")])
    r = pack.run(np.zeros(3600), 1.0)
    soc = r["cell.soc"]
    before = r.time <= 600
    assert np.all(soc[before, 1] == 0.5)
    lost = (0.5 - soc[-1, 1]) * 100.0 * 3600.0
    assert lost == pytest.approx(2.0 * 3000.0, rel=1e-9)
    assert np.all(soc[:, 0] == 0.5) and np.all(soc[:, 2] == 0.5)
