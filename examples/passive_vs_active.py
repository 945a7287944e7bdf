"""A 16S pack, cycled once a day, balanced passively or actively: how fast, and at what cost.

The same pack (the default EVE LF280K 16S set, commissioned with a 0.5 % SOC spread per cell, about
8 Ah between the emptiest and the fullest cell) is charged to 3.55 V and discharged to 2.9 V every
day for 30 days, with
  - no balancer,
  - a passive bleed balancer, 33 Ohm (~100 mA), only while charging (Libre Solar style),
  - an active flying-capacitor balancer, 1 A from the highest to the lowest cell at 80 %
    efficiency (JK BMS style).
Printed are the figures an operator watches at the top of each charge: the cell voltage spread
and the spread of the charge each cell still lacks to full, the day the top-of-charge spread
first falls under 20 mV, and the energy the balancer burned.

    python examples/passive_vs_active.py
"""

import numpy as np

from twin import Experiment, Pack

DAYS = 30
CYCLE = ["Charge at 0.3C until 3.55 V", "Hold at 3.55 V until C/20", "Rest for 2 hours",
         "Discharge at 0.2C until 2.9 V", "Rest for 4 hours"]
TOP_OF_CHARGE = 1  # the hold step ends at the top of each charge
COMMON = {"spread.soc": 0.005, "spread.seed": 3}
BALANCERS = {
    "none": {"balancer.topology": "none"},
    "passive 100 mA": {"balancer.topology": "passive", "balancer.mode": "charging"},
    "active 1 A": {"balancer.topology": "flying_capacitor", "balancer.channel_current": 1.0,
                   "balancer.transfer_efficiency": 0.8, "balancer.mode": "always"},
}


def main():
    print(f"{'balancer':16s} {'top spread day 1 -> 30':>24s} {'to-full spread':>17s} {'< 20 mV on':>11s} {'burned':>9s}")
    for name, settings in BALANCERS.items():
        pack = Pack(**COMMON, **settings)
        result = pack.run(Experiment(CYCLE, repeat=DAYS), dt=10.0,
                          record=["pack.cell_voltage_spread", "cell.soc", "cell.present_capacity",
                                  "balancer.energy_dissipated"])
        tops = result.step_ends(TOP_OF_CHARGE)
        spread_mv = 1000 * result["pack.cell_voltage_spread"][tops]
        to_full = (1 - result["cell.soc"][tops]) * result["cell.present_capacity"][tops]
        to_full_spread = to_full.max(axis=1) - to_full.min(axis=1)
        below = np.flatnonzero(spread_mv < 20.0)
        day = f"day {below[0] + 1}" if len(below) else "never"
        print(f"{name:16s} {spread_mv[0]:10.0f} -> {spread_mv[-1]:4.0f} mV {to_full_spread[0]:6.2f} -> {to_full_spread[-1]:4.2f} Ah"
              f" {day:>11s} {result['balancer.energy_dissipated'][-1]:6.1f} Wh")


if __name__ == "__main__":
    main()
