/* BMS protection and the limits a managed BMS sends to its inverter.
 *
 * Each protection channel watches one measured quantity. It trips once the trip condition has been
 * seen continuously for at least its delay (first sample seen: timer 0; each further sample adds
 * the step), and releases when the release condition is seen after the channel has been tripped
 * for at least its recovery time. Voltage and temperature channels release at their release value
 * with no recovery time (Libre Solar bms-firmware: OV reset 3.40 V, UV reset 3.10 V, 5 degC
 * temperature hysteresis). Current channels release when the current is back under the limit and
 * the recovery time has passed: the tripped direction carries no current, so a value threshold
 * alone would release at once.
 * A tripped charge-side channel (cell OV, charge OC, charge OT/UT) clears bms.charge_enable; a
 * discharge-side channel clears bms.discharge_enable; twin_step then stops current in that
 * direction. The three tiers of foxBMS 2 map onto this by running several twins' settings; one
 * tier (the one that opens the contactors) is modelled.
 *
 * Limits (the Pylontech-style CAN values 0x351 CVL, CCL, DCL):
 *   CVL = cells_in_series x limits.cell_charge_voltage; when the highest cell is above that cell
 *         voltage, CVL drops to the measured cell sum minus the excess, so a charger that holds
 *         CVL pulls the highest cell back rather than the pack average (the "cell voltage
 *         control" of dbus-serialbattery and similar managed BMSs).
 *   CCL = limits.max_charge_current x the fraction of the last limits.ccl_voltage step the
 *         highest cell has reached (3.30/3.45/3.50/3.55 V -> 100/50/5/0 % by default, DOMAIN.md);
 *         0 while charging is disabled.
 *   DCL = limits.max_discharge_current x the fraction of the last limits.dcl_voltage step the
 *         lowest cell has fallen to; 0 while discharging is disabled.
 */
#include <math.h>

#include "twin.h"

typedef struct {
    double value;    /* measured quantity */
    double limit;
    double release;
    double delay;
    double recovery; /* minimum tripped time before release */
    int over;        /* 1: trips above the limit, 0: below */
    double *tripped; /* output flag */
} channel;

static inline void update_channel(const channel *ch, double *timer, double *tripped_for, double dt)
{
    const double v = ch->value;
    if (*ch->tripped == 0.0) {
        int seen = v == v && (ch->over ? v > ch->limit : v < ch->limit);
        if (!seen) {
            *timer = -1.0;
            return;
        }
        *timer = *timer < 0.0 ? 0.0 : *timer + dt;
        if (*timer >= ch->delay * (1.0 - 1e-12)) {
            *ch->tripped = 1.0;
            *tripped_for = 0.0;
        }
    } else {
        int released;
        *tripped_for += dt;
        released = v != v || (ch->over ? v < ch->release : v > ch->release);
        if (released && *tripped_for >= ch->recovery * (1.0 - 1e-12)) {
            *ch->tripped = 0.0;
            *timer = -1.0;
        }
    }
}

void twin_protection_update(twin_pack *p, double dt)
{
    const twin_settings *s = p->s;
    twin_pack_vars *v = p->v;
    const double current = v->pack_current_measured;
    double *timer = p->in->prot_timer, *tripped_for = p->in->prot_tripped_for;
    /* idle time of the measured current (balancing modes, SOC-history rest) */
    p->in->idle_time = fabs(current) < s->balancer_idle_current ? p->in->idle_time + dt : 0.0;

    update_channel(&(channel){v->pack_max_cell_voltage, s->protection_cell_overvoltage,
                              s->protection_cell_overvoltage_release, s->protection_cell_overvoltage_delay,
                              0.0, 1, &v->protection_cell_overvoltage_tripped},
                   &timer[TWIN_PROT_CELL_OV], &tripped_for[TWIN_PROT_CELL_OV], dt);
    update_channel(&(channel){v->pack_min_cell_voltage, s->protection_cell_undervoltage,
                              s->protection_cell_undervoltage_release, s->protection_cell_undervoltage_delay,
                              0.0, 0, &v->protection_cell_undervoltage_tripped},
                   &timer[TWIN_PROT_CELL_UV], &tripped_for[TWIN_PROT_CELL_UV], dt);
    update_channel(&(channel){current, s->protection_charge_overcurrent, s->protection_charge_overcurrent,
                              s->protection_charge_overcurrent_delay,
                              s->protection_charge_overcurrent_recovery, 1,
                              &v->protection_charge_overcurrent_tripped},
                   &timer[TWIN_PROT_CHARGE_OC], &tripped_for[TWIN_PROT_CHARGE_OC], dt);
    update_channel(&(channel){-current, s->protection_discharge_overcurrent,
                              s->protection_discharge_overcurrent,
                              s->protection_discharge_overcurrent_delay,
                              s->protection_discharge_overcurrent_recovery, 1,
                              &v->protection_discharge_overcurrent_tripped},
                   &timer[TWIN_PROT_DISCHARGE_OC], &tripped_for[TWIN_PROT_DISCHARGE_OC], dt);
    update_channel(&(channel){v->pack_max_temperature, s->protection_charge_overtemperature,
                              s->protection_charge_overtemperature_release,
                              s->protection_charge_overtemperature_delay, 0.0, 1,
                              &v->protection_charge_overtemperature_tripped},
                   &timer[TWIN_PROT_CHARGE_OT], &tripped_for[TWIN_PROT_CHARGE_OT], dt);
    update_channel(&(channel){v->pack_min_temperature, s->protection_charge_undertemperature,
                              s->protection_charge_undertemperature_release,
                              s->protection_charge_undertemperature_delay, 0.0, 0,
                              &v->protection_charge_undertemperature_tripped},
                   &timer[TWIN_PROT_CHARGE_UT], &tripped_for[TWIN_PROT_CHARGE_UT], dt);
    update_channel(&(channel){v->pack_max_temperature, s->protection_discharge_overtemperature,
                              s->protection_discharge_overtemperature_release,
                              s->protection_discharge_overtemperature_delay, 0.0, 1,
                              &v->protection_discharge_overtemperature_tripped},
                   &timer[TWIN_PROT_DISCHARGE_OT], &tripped_for[TWIN_PROT_DISCHARGE_OT], dt);
    update_channel(&(channel){v->pack_min_temperature, s->protection_discharge_undertemperature,
                              s->protection_discharge_undertemperature_release,
                              s->protection_discharge_undertemperature_delay, 0.0, 0,
                              &v->protection_discharge_undertemperature_tripped},
                   &timer[TWIN_PROT_DISCHARGE_UT], &tripped_for[TWIN_PROT_DISCHARGE_UT], dt);

    v->bms_charge_enable = (v->protection_cell_overvoltage_tripped == 0.0 &&
                            v->protection_charge_overcurrent_tripped == 0.0 &&
                            v->protection_charge_overtemperature_tripped == 0.0 &&
                            v->protection_charge_undertemperature_tripped == 0.0)
                               ? 1.0
                               : 0.0;
    v->bms_discharge_enable = (v->protection_cell_undervoltage_tripped == 0.0 &&
                               v->protection_discharge_overcurrent_tripped == 0.0 &&
                               v->protection_discharge_overtemperature_tripped == 0.0 &&
                               v->protection_discharge_undertemperature_tripped == 0.0)
                                  ? 1.0
                                  : 0.0;
}

void twin_limits_update(twin_pack *p)
{
    const twin_settings *s = p->s;
    twin_pack_vars *v = p->v;
    const double vmax = v->pack_max_cell_voltage, vmin = v->pack_min_cell_voltage;
    const double target = s->limits_cell_charge_voltage;
    double cvl = target * (double)p->n, frac, sum = 0.0;
    int i;
    if (vmax > target) {
        for (i = 0; i < p->n; ++i) sum += p->c.cell_voltage_measured[i];
        sum -= vmax - target;
        cvl = sum < cvl ? sum : cvl;
    }
    v->bms_cvl = cvl > 0.0 ? cvl : 0.0;
    frac = 1.0;
    for (i = 0; i < 4; ++i)
        if (vmax >= s->limits_ccl_voltage[i]) frac = s->limits_ccl_fraction[i];
    v->bms_ccl = v->bms_charge_enable != 0.0 ? s->limits_max_charge_current * frac : 0.0;
    frac = 1.0;
    for (i = 0; i < 4; ++i)
        if (vmin <= s->limits_dcl_voltage[i]) frac = s->limits_dcl_fraction[i];
    v->bms_dcl = v->bms_discharge_enable != 0.0 ? s->limits_max_discharge_current * frac : 0.0;
}
