"""Shared fixtures: the default pack and small packs with simple, exactly solvable cells."""

from pathlib import Path

import numpy as np
import pytest

from twin.params import ParameterSet

ROOT = Path(__file__).resolve().parent.parent


def simple_params(cells=4, **changes) -> ParameterSet:
    """A pack of identical cells with a linear OCV, constant resistances and no temperature
    dependence, so that voltages have closed forms. Spread, ageing and self-discharge off."""
    soc = [0.0, 1.0]
    base = {
        "pack.cells_in_series": cells,
        "cell.capacity": 100.0,
        "cell.table_soc": soc,
        "cell.table_temperature": [25.0],
        "cell.ocv_charge": [3.0, 3.5],
        "cell.ocv_discharge": [3.0, 3.5],
        "cell.r0": 1e-3,
        "cell.r1": 2e-3,
        "cell.tau1": 30.0,
        "cell.self_discharge": 0.0,
        "cell.hysteresis_rate": 0.0,
        "spread.capacity": 0.0,
        "spread.resistance": 0.0,
        "spread.soc": 0.0,
        "spread.self_discharge": 0.0,
        "ageing.capacity_fade_per_cycle": 0.0,
        "ageing.capacity_fade_per_year": 0.0,
        "balancer.topology": "none",
    }
    pset = ParameterSet.load("eve_lf280k_16s")
    values = {k: v for k, v in pset.values.items() if not k.startswith("cell.r2") and not k.startswith("cell.tau2")}
    values.update(base)
    values.update({k.replace("__", "."): v for k, v in changes.items()})
    return ParameterSet(values, "simple test pack")


@pytest.fixture
def default_params():
    return ParameterSet.load("eve_lf280k_16s")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
