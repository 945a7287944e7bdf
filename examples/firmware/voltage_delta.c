/* voltage_delta.c: a passive-balancing BMS firmware for an LFP pack, in the loop of `twin validate`.
 *
 * The decision logic of a small BMS, with its hardware layer (AFE driver, FETs, CAN) stubbed out:
 * what the twin gives it through twin_firmware.h stands in for the ADC readings, and what it
 * returns stands in for the balancing switches, the charge/discharge FETs and the CAN frame
 * 0x351 (CVL, CCL, DCL) to the inverter.
 *
 *   protection  eight channels, each tripping when its reading stays past the limit for the delay
 *               and releasing at the release value (current channels after a recovery time):
 *               Libre Solar bms-firmware LFP defaults (DOMAIN.md): OV 3.65 V (EVE LF280K charge
 *               cut-off) / 3.40 V, 2 s; UV 2.50 V / 3.10 V, 2 s; over-current 1C, 320 ms, 60 s
 *               recovery; charge window 0..45 degC, discharge -20..45 degC, 5 K hysteresis, 2 s.
 *   balancing   bleed every cell more than 10 mV above the lowest (stop below 5 mV) while
 *               charging and the highest cell reads above 3.40 V; highest first, never two
 *               adjacent cells (the bq769x0 rule), not above 50 degC. (Libre Solar 10 mV delta;
 *               start voltage at the top of the 3.3-3.4 V range DOMAIN.md gives, where LFP cell
 *               voltages differ by charge rather than by noise.)
 *   limits      CVL = 3.55 V x cells, pulled down by the highest cell's excess over 3.55 V; CCL
 *               steps down with the highest cell (3.30/3.45/3.50/3.55 V -> 100/50/5/0 % of 0.5C,
 *               DOMAIN.md), zero outside the charge window; DCL steps down with the lowest cell
 *               (3.00/2.90/2.80/2.70 V -> 100/50/10/0 % of 1C).
 *
 * Build:  cc -shared -fPIC -O2 -I"$(twin validate --include-dir)" voltage_delta.c -o voltage_delta.so
 * or let twin do it:  twin validate --firmware examples/firmware/voltage_delta.c ...
 * The capacity (CAPACITY_AH) is compiled in, as in a real BMS build for one pack.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin_firmware.h"

#ifndef CAPACITY_AH
#define CAPACITY_AH 280.0
#endif
/* over-voltage: trip after this long above the limit */
#ifndef OV_DELAY_S
#define OV_DELAY_S 2.0
#endif

#define MAX_CELLS 64
#ifndef FIRMWARE_NAME
#define FIRMWARE_NAME "voltage_delta 1.0"
#endif

/* --- protection channels ------------------------------------------------------------------------ */

enum { OV, UV, CHG_OC, DSG_OC, CHG_OT, CHG_UT, DSG_OT, DSG_UT, N_CHANNELS };

typedef struct {
    double limit, release, delay, recovery;
    int over;            /* 1: trips above the limit */
    int charge_side;     /* 1: opens the charge path, 0: the discharge path */
} channel_config;

static const channel_config CONFIG[N_CHANNELS] = {
    [OV] = {3.65, 3.40, OV_DELAY_S, 0.0, 1, 1},
    [UV] = {2.50, 3.10, 2.0, 0.0, 0, 0},
    [CHG_OC] = {1.0 * CAPACITY_AH, 1.0 * CAPACITY_AH, 0.32, 60.0, 1, 1},
    [DSG_OC] = {1.0 * CAPACITY_AH, 1.0 * CAPACITY_AH, 0.32, 60.0, 1, 0},
    [CHG_OT] = {45.0, 40.0, 2.0, 0.0, 1, 1},
    [CHG_UT] = {0.0, 5.0, 2.0, 0.0, 0, 1},
    [DSG_OT] = {45.0, 40.0, 2.0, 0.0, 1, 0},
    [DSG_UT] = {-20.0, -15.0, 2.0, 0.0, 0, 0},
};

typedef struct {
    double held;         /* s the trip condition has held; < 0: not seen */
    double tripped_for;  /* s since the trip */
    int tripped;
} channel_state;

/* --- balancing and limits ------------------------------------------------------------------------ */

#define BAL_START_VOLTAGE 3.40
#define BAL_START_DELTA 0.010
#define BAL_STOP_DELTA 0.005
#define BAL_MAX_TEMPERATURE 50.0
#define BAL_IDLE_CURRENT 0.1 /* A: below this discharge current the pack counts as resting */

#define CELL_CHARGE_VOLTAGE 3.55
#define MAX_CHARGE_CURRENT (0.5 * CAPACITY_AH)
#define MAX_DISCHARGE_CURRENT (1.0 * CAPACITY_AH)
static const double CCL_VOLTAGE[4] = {3.30, 3.45, 3.50, 3.55}, CCL_FRACTION[4] = {1.0, 0.5, 0.05, 0.0};
static const double DCL_VOLTAGE[4] = {3.00, 2.90, 2.80, 2.70}, DCL_FRACTION[4] = {1.0, 0.5, 0.1, 0.0};

typedef struct {
    int n;
    channel_state ch[N_CHANNELS];
    int bleeding[MAX_CELLS];
} bms;

void *twin_fw_create(twin_fw_setup *setup)
{
    bms *b;
    if (setup->abi_version != TWIN_FW_ABI_VERSION) {
        snprintf(setup->error, sizeof setup->error, "built for twin firmware ABI %d, twin speaks %d",
                 TWIN_FW_ABI_VERSION, setup->abi_version);
        return NULL;
    }
    if (setup->n_cells < 2 || setup->n_cells > MAX_CELLS) {
        snprintf(setup->error, sizeof setup->error, "this build handles 2 to %d cells, not %d", MAX_CELLS,
                 setup->n_cells);
        return NULL;
    }
    b = calloc(1, sizeof *b);
    if (b == NULL) return NULL;
    b->n = setup->n_cells;
    for (int k = 0; k < N_CHANNELS; ++k) b->ch[k].held = -1.0;
    snprintf(setup->name, sizeof setup->name, "%s", FIRMWARE_NAME);
    return b;
}

void twin_fw_destroy(void *fw) { free(fw); }

/* One channel over one period: trips once its condition has held for the delay (first sample
 * seen: 0 s), releases at the release value once tripped for the recovery time. A missing reading
 * (NaN) neither trips nor holds a trip. */
static void update_channel(const channel_config *c, channel_state *s, double value, double dt)
{
    if (!s->tripped) {
        int seen = !isnan(value) && (c->over ? value > c->limit : value < c->limit);
        if (!seen) {
            s->held = -1.0;
            return;
        }
        s->held = s->held < 0.0 ? 0.0 : s->held + dt;
        if (s->held >= c->delay - 1e-9) {
            s->tripped = 1;
            s->tripped_for = 0.0;
        }
    } else {
        int released = isnan(value) || (c->over ? value < c->release : value > c->release);
        s->tripped_for += dt;
        if (released && s->tripped_for >= c->recovery - 1e-9) {
            s->tripped = 0;
            s->held = -1.0;
        }
    }
}

static double step_fraction(double v, const double *at, const double *fraction, int rising)
{
    double f = 1.0;
    for (int i = 0; i < 4; ++i)
        if (rising ? v >= at[i] : v <= at[i]) f = fraction[i];
    return f;
}

int twin_fw_step(void *fw, const twin_fw_inputs *in, twin_fw_outputs *out)
{
    bms *b = fw;
    const int n = b->n;
    double vmax = -INFINITY, vmin = INFINITY, tmax = NAN, tmin = NAN, sum = 0.0;
    double value[N_CHANNELS];
    int charge_ok = 1, discharge_ok = 1;

    for (int i = 0; i < n; ++i) {
        const double v = in->cell_voltage[i], t = in->cell_temperature[i];
        vmax = v > vmax ? v : vmax;
        vmin = v < vmin ? v : vmin;
        sum += v;
        if (!isnan(t)) {
            tmax = isnan(tmax) || t > tmax ? t : tmax;
            tmin = isnan(tmin) || t < tmin ? t : tmin;
        }
    }

    /* protection */
    value[OV] = vmax;
    value[UV] = vmin;
    value[CHG_OC] = in->pack_current;
    value[DSG_OC] = -in->pack_current;
    value[CHG_OT] = value[DSG_OT] = tmax;
    value[CHG_UT] = value[DSG_UT] = tmin;
    for (int k = 0; k < N_CHANNELS; ++k) {
        update_channel(&CONFIG[k], &b->ch[k], value[k], in->dt);
        if (b->ch[k].tripped) {
            if (CONFIG[k].charge_side) charge_ok = 0;
            else discharge_ok = 0;
        }
    }
    out->charge_enable = charge_ok;
    out->discharge_enable = discharge_ok;

    /* balancing: candidates by the delta with hysteresis, then highest first without neighbours */
    {
        const int allowed = in->pack_current > -BAL_IDLE_CURRENT && vmax > BAL_START_VOLTAGE &&
                            !(tmax > BAL_MAX_TEMPERATURE);
        int want[MAX_CELLS], order[MAX_CELLS], wanted = 0;
        for (int i = 0; i < n; ++i) {
            const double d = in->cell_voltage[i] - vmin;
            want[i] = allowed && (b->bleeding[i] ? d > BAL_STOP_DELTA : d > BAL_START_DELTA);
            wanted += want[i];
            order[i] = i;
            out->balance[i] = 0;
        }
        for (int i = 1; i < n && wanted; ++i) { /* insertion sort, highest voltage first */
            int k = order[i], j = i - 1;
            while (j >= 0 && in->cell_voltage[order[j]] < in->cell_voltage[k]) {
                order[j + 1] = order[j];
                --j;
            }
            order[j + 1] = k;
        }
        for (int r = 0; r < n && wanted; ++r) {
            const int i = order[r];
            if (want[i] && !(i > 0 && out->balance[i - 1]) && !(i + 1 < n && out->balance[i + 1]))
                out->balance[i] = 1;
        }
        for (int i = 0; i < n; ++i) b->bleeding[i] = out->balance[i];
    }

    /* limits for the inverter (Pylontech 0x351) */
    {
        double cvl = CELL_CHARGE_VOLTAGE * n;
        if (vmax > CELL_CHARGE_VOLTAGE) { /* hold the highest cell, not the average, at the target */
            const double pulled = sum - (vmax - CELL_CHARGE_VOLTAGE);
            cvl = pulled < cvl ? pulled : cvl;
        }
        out->cvl = cvl > 0.0 ? cvl : 0.0;
        out->ccl = charge_ok ? MAX_CHARGE_CURRENT * step_fraction(vmax, CCL_VOLTAGE, CCL_FRACTION, 1) : 0.0;
        out->dcl = discharge_ok ? MAX_DISCHARGE_CURRENT * step_fraction(vmin, DCL_VOLTAGE, DCL_FRACTION, 0) : 0.0;
        if (tmin < CONFIG[CHG_UT].limit || tmax > CONFIG[CHG_OT].limit) out->ccl = 0.0;
    }
    return 0;
}
