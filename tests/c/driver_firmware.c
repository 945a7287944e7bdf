/* Firmware-in-the-loop scenarios (csrc/firmware.c): a small BMS controller written here runs the pack
 * closed loop through twin_bms_run, with the loop's ring and reading/decision arrays in allocations of
 * exactly their size. Besides what the sanitizers watch, each run checks what twin.h promises: the
 * controller reads what the twin measured delay_steps steps before the instant (the delay ring), every
 * period_steps steps, with dt the time since the previous instant; the inverter keeps to the enables,
 * CCL and DCL; decisions act from the step that starts at their instant; the monitor values describe
 * the state; records and slow records land in their rows; and every kind of stop (a controller error,
 * each invalid decision, a cell beyond the stop voltages) ends the run with its cell and value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

/* --- the controller ------------------------------------------------------------------------------------ */

/* how the controller misbehaves at its spoil_at instant */
enum {
    SPOIL_NONE = 0, SPOIL_STATUS, SPOIL_BALANCE, SPOIL_CHARGE_ENABLE, SPOIL_DISCHARGE_ENABLE, SPOIL_CVL, SPOIL_CCL, SPOIL_DCL
};

typedef struct controller_ctx {
    int n;
    long instants, max_instants;
    double *seen;      /* max_instants x (2 n + 2): the readings of each instant (as the ring stores them) */
    double *seen_time; /* max_instants: io.time */
    double *seen_dt;   /* max_instants: io.dt */
    double cvl_per_cell, ccl, dcl;
    long spoil_at;     /* instant at which to misbehave (-1: never) */
    int spoil;
    double spoil_value;
} controller_ctx;

/* Passive balancing of every cell 3 mV above the lowest (never two neighbours), charge stopped
 * above 3.60 V and discharge below 2.70 V, CVL from cvl_per_cell. */
static int controller(void *vctx, twin_bms_io *io)
{
    controller_ctx *c = (controller_ctx *)vctx;
    const int n = c->n;
    double vmin = HUGE_VAL, vmax = -HUGE_VAL, tmax = -HUGE_VAL;
    int i;
    CHECK(c->instants < c->max_instants, "instant %ld: more instants than the run has steps", c->instants);
    CHECK(io->dt > 0.0, "instant %ld: dt %.17g", c->instants, io->dt);
    memcpy(c->seen + (size_t)c->instants * (size_t)(2 * n + 2), io->cell_voltage, (size_t)n * sizeof(double));
    memcpy(c->seen + (size_t)c->instants * (size_t)(2 * n + 2) + n, io->cell_temperature, (size_t)n * sizeof(double));
    c->seen[(size_t)c->instants * (size_t)(2 * n + 2) + 2 * (size_t)n] = io->pack_current;
    c->seen[(size_t)c->instants * (size_t)(2 * n + 2) + 2 * (size_t)n + 1] = io->pack_voltage;
    c->seen_time[c->instants] = io->time;
    c->seen_dt[c->instants] = io->dt;
    for (i = 0; i < n; ++i) {
        vmin = fmin(vmin, io->cell_voltage[i]), vmax = fmax(vmax, io->cell_voltage[i]);
        if (io->cell_temperature[i] == io->cell_temperature[i]) tmax = fmax(tmax, io->cell_temperature[i]);
    }
    for (i = 0; i < n; ++i)
        io->balance[i] = io->cell_voltage[i] > vmin + 0.003 && !(i > 0 && io->balance[i - 1] == 1.0) ? 1.0 : 0.0;
    io->charge_enable = vmax < 3.60 && tmax < 55.0 ? 1.0 : 0.0;
    io->discharge_enable = vmin > 2.70 ? 1.0 : 0.0;
    io->cvl = c->cvl_per_cell * n;
    io->ccl = c->ccl;
    io->dcl = c->dcl;
    if (c->instants++ == c->spoil_at) {
        switch (c->spoil) {
        case SPOIL_STATUS: return 42;
        case SPOIL_BALANCE: io->balance[n - 1] = c->spoil_value; break;
        case SPOIL_CHARGE_ENABLE: io->charge_enable = c->spoil_value; break;
        case SPOIL_DISCHARGE_ENABLE: io->discharge_enable = c->spoil_value; break;
        case SPOIL_CVL: io->cvl = c->spoil_value; break;
        case SPOIL_CCL: io->ccl = c->spoil_value; break;
        case SPOIL_DCL: io->dcl = c->spoil_value; break;
        default: break;
        }
    }
    return 0;
}

/* --- the loop -------------------------------------------------------------------------------------------- */

/* The twin's own protection out of reach and the balancer external: the firmware is the BMS
 * (as twin/validate_scenarios.py's PROTECTION_OFF). */
static void protection_off(twin_pack *p, void *ctx)
{
    static const struct {
        const char *id;
        double value;
    } off[] = {
        {"protection.cell_overvoltage", 10.0}, {"protection.cell_overvoltage_release", 9.9},
        {"protection.cell_undervoltage", 0.0}, {"protection.cell_undervoltage_release", 0.1},
        {"protection.charge_overcurrent", 1e6}, {"protection.discharge_overcurrent", 1e6},
        {"protection.charge_overtemperature", 300.0}, {"protection.charge_overtemperature_release", 299.0},
        {"protection.discharge_overtemperature", 300.0}, {"protection.discharge_overtemperature_release", 299.0},
        {"protection.charge_undertemperature", -100.0}, {"protection.charge_undertemperature_release", -99.0},
        {"protection.discharge_undertemperature", -100.0}, {"protection.discharge_undertemperature_release", -99.0},
        {"balancer.policy", TWIN_BALANCER_POLICY_EXTERNAL},
    };
    size_t k;
    (void)ctx;
    for (k = 0; k < sizeof off / sizeof *off; ++k) set_value(p, off[k].id, 0, off[k].value);
}

typedef struct loop_case {
    long period_steps, delay_steps, slow_every;
    long steps[2];     /* two twin_bms_run calls of these lengths, one after the other */
    int obey_limits;
    double dt, stop_high, stop_low;
    double request_c[2]; /* request of each call, in C (group capacity per hour) */
    double ambient_swing; /* degC: the ambient swings this much about 25 degC step by step (0: left as it is) */
} loop_case;

typedef struct loop_run {
    driver_pack dp;
    twin_bms_loop L;
    controller_ctx c;
    long total, done[2];
    double cap;
    double *start_readings; /* 2 n + 2, as twin_bms_start stored them */
    double *request;        /* total */
    double *ambient;        /* total, or NULL */
    /* per step (rows over both calls) */
    double *applied, *pack_v, *measured_v, *measured_t, *measured_i, *charge_enable, *discharge_enable, *ccl, *dcl, *cvl;
    double *slow_v; /* slow rows x n */
    long slow_rows[2];
} loop_run;

/* The sum of every cell's resistances at the start: at least the pack's DC resistance keeps the
 * constant-voltage loop from overshooting (twin.h). */
static double pack_resistance(const twin_pack *p)
{
    double r = 0.0;
    int i;
    for (i = 0; i < p->n; ++i) r += p->x.r0[i] + p->x.rc_r1[i] + p->x.rc_r2[i] + p->x.rc_r3[i];
    return r > 0.0 ? r : 1e-3 * p->n;
}

static void loop_open(loop_run *r, const driver_variant *v, const loop_case *lc)
{
    const int n = v->data->n_cells;
    const size_t ns = (size_t)n;
    long k;
    memset(r, 0, sizeof *r);
    CHECK(pack_open(&r->dp, v->data, LAYOUT_SPLIT, protection_off, NULL, NULL, 0) == 0, "the loop's pack was refused");
    r->cap = r->dp.p.c.cell_capacity[0] * r->dp.p.s->pack_cells_in_parallel;
    r->total = lc->steps[0] + lc->steps[1];
    r->L.period_steps = lc->period_steps;
    r->L.delay_steps = lc->delay_steps;
    r->L.obey_limits = lc->obey_limits;
    r->L.charger_resistance = pack_resistance(&r->dp.p);
    r->L.stop_max_cell_voltage = lc->stop_high;
    r->L.stop_min_cell_voltage = lc->stop_low;
    r->L.controller = controller;
    r->L.ctx = &r->c;
    r->L.ring = alloc_doubles((size_t)(lc->delay_steps + 1) * (2 * ns + 2));
    r->L.io.cell_voltage = alloc_doubles(ns);
    r->L.io.cell_temperature = alloc_doubles(ns);
    r->L.io.balance = alloc_doubles(ns);
    r->c.n = n;
    r->c.max_instants = r->total / lc->period_steps + 2;
    r->c.seen = alloc_doubles((size_t)r->c.max_instants * (2 * ns + 2));
    r->c.seen_time = alloc_doubles((size_t)r->c.max_instants);
    r->c.seen_dt = alloc_doubles((size_t)r->c.max_instants);
    r->c.cvl_per_cell = 3.45;
    r->c.ccl = 0.3 * r->cap;
    r->c.dcl = 0.5 * r->cap;
    r->c.spoil_at = -1;
    r->request = alloc_doubles((size_t)r->total);
    for (k = 0; k < r->total; ++k) r->request[k] = r->cap * lc->request_c[k < lc->steps[0] ? 0 : 1];
    if (lc->ambient_swing != 0.0) {
        r->ambient = alloc_doubles((size_t)r->total);
        for (k = 0; k < r->total; ++k) r->ambient[k] = 25.0 + lc->ambient_swing * sin((double)k / 20.0);
    }
    r->applied = alloc_doubles((size_t)r->total);
    r->pack_v = alloc_doubles((size_t)r->total);
    r->measured_i = alloc_doubles((size_t)r->total);
    r->charge_enable = alloc_doubles((size_t)r->total);
    r->discharge_enable = alloc_doubles((size_t)r->total);
    r->cvl = alloc_doubles((size_t)r->total);
    r->ccl = alloc_doubles((size_t)r->total);
    r->dcl = alloc_doubles((size_t)r->total);
    r->measured_v = alloc_doubles((size_t)r->total * ns);
    r->measured_t = alloc_doubles((size_t)r->total * ns);
    r->slow_v = alloc_doubles((size_t)(r->total / lc->slow_every) * ns);
    r->start_readings = alloc_doubles(2 * ns + 2);
    memcpy(r->start_readings, r->dp.p.c.cell_voltage_measured, ns * sizeof(double));
    memcpy(r->start_readings + n, r->dp.p.c.cell_temperature_measured, ns * sizeof(double));
    r->start_readings[2 * n] = r->dp.p.v->pack_current_measured;
    r->start_readings[2 * n + 1] = r->dp.p.v->pack_voltage;
    twin_bms_start(&r->dp.p, &r->L);
}

static void loop_close(loop_run *r)
{
    free(r->L.ring), free(r->L.io.cell_voltage), free(r->L.io.cell_temperature), free(r->L.io.balance);
    free(r->c.seen), free(r->c.seen_time), free(r->c.seen_dt), free(r->request), free(r->ambient), free(r->start_readings);
    free(r->applied), free(r->pack_v), free(r->measured_i), free(r->charge_enable), free(r->discharge_enable);
    free(r->cvl), free(r->ccl), free(r->dcl), free(r->measured_v), free(r->measured_t), free(r->slow_v);
    pack_close(&r->dp);
}

/* Both calls, each recording into its rows of the run's buffers. */
static void loop_go(loop_run *r, const loop_case *lc)
{
    twin_pack *p = &r->dp.p;
    const size_t n = (size_t)p->n;
    long at = 0;
    int call;
    for (call = 0; call < 2; ++call) {
        twin_record rec[12], slow;
        const double *src[10];
        double *dst[10];
        const long slow_before = r->L.steps / lc->slow_every;
        int k;
        src[0] = &p->v->pack_applied_current, dst[0] = r->applied;
        src[1] = &p->v->pack_voltage, dst[1] = r->pack_v;
        src[2] = &p->v->pack_current_measured, dst[2] = r->measured_i;
        src[3] = &r->L.io.charge_enable, dst[3] = r->charge_enable;
        src[4] = &r->L.io.discharge_enable, dst[4] = r->discharge_enable;
        src[5] = &r->L.io.cvl, dst[5] = r->cvl;
        src[6] = &r->L.io.ccl, dst[6] = r->ccl;
        src[7] = &r->L.io.dcl, dst[7] = r->dcl;
        for (k = 0; k < 8; ++k) rec[k].src = src[k], rec[k].count = 1, rec[k].dst = dst[k] + at;
        rec[8].src = p->c.cell_voltage_measured, rec[8].count = p->n, rec[8].dst = r->measured_v + (size_t)at * n;
        rec[9].src = p->c.cell_temperature_measured, rec[9].count = p->n, rec[9].dst = r->measured_t + (size_t)at * n;
        slow.src = p->c.cell_voltage, slow.count = p->n, slow.dst = r->slow_v + (size_t)slow_before * n;
        CHECK(twin_bms_run(p, &r->L, lc->dt, lc->steps[call], r->request + at, r->ambient ? r->ambient + at : NULL, rec, 10,
                           &slow, 1, lc->slow_every,
                           &r->done[call]) == TWIN_OK,
              "twin_bms_run call %d refused", call);
        CHECK(r->done[call] >= 0 && r->done[call] <= lc->steps[call], "call %d: %ld steps done of %ld", call,
              r->done[call], lc->steps[call]);
        r->slow_rows[call] = r->L.steps / lc->slow_every - slow_before;
        at += r->done[call];
        CHECK(r->L.steps == at, "the loop counts %ld steps, %ld were done", r->L.steps, at);
        if (r->L.fault != TWIN_BMS_RUNNING) break;
    }
}

/* What every run owes, whatever stopped it. */
static void loop_checks(const loop_run *r, const loop_case *lc)
{
    const twin_pack *p = &r->dp.p;
    const int n = p->n;
    const size_t row = (size_t)(2 * n + 2);
    const long steps = r->L.steps;
    const double dt = lc->dt, period = (double)lc->period_steps * lc->dt;
    /* the last decisions were taken (not refused): they are in balancer.command and the monitor */
    const int decided = r->L.fault == TWIN_BMS_RUNNING || r->L.fault >= TWIN_BMS_CELL_HIGH;
    double vmax = -HUGE_VAL, vmin = HUGE_VAL, commanded = 0.0;
    long j, k;
    int i, vmax_cell = -1, vmin_cell = -1, adjacent = -1;
    /* instants: every period_steps steps from the first, each reading the twin of delay_steps steps before */
    for (j = 0; j < r->c.instants; ++j) {
        const long step = j * lc->period_steps; /* steps done before this instant */
        const long reading = step - lc->delay_steps; /* readings after this many steps (<= 0: the start's) */
        CHECK(fabs(r->c.seen_time[j] - (r->c.seen_time[0] + (double)step * dt)) <= 1e-9 * (1.0 + fabs(r->c.seen_time[j])),
              "instant %ld at %.17g s, %ld steps after the first at %.17g s", j, r->c.seen_time[j], step,
              r->c.seen_time[0]);
        CHECK(fabs(r->c.seen_dt[j] - period) <= 1e-9 * period, "instant %ld: dt %.17g s, the period is %.17g s", j,
              r->c.seen_dt[j], period);
        if (reading <= 0) {
            CHECK(same_doubles(r->c.seen + (size_t)j * row, r->start_readings, row),
                  "instant %ld (step %ld, delay %ld): not the start's readings", j, step, lc->delay_steps);
        } else {
            const size_t s = (size_t)(reading - 1);
            const double *seen = r->c.seen + (size_t)j * row;
            CHECK(same_doubles(seen, r->measured_v + s * (size_t)n, (size_t)n) &&
                      same_doubles(seen + n, r->measured_t + s * (size_t)n, (size_t)n) && seen[2 * n] == r->measured_i[s] &&
                      seen[2 * n + 1] == r->pack_v[s],
                  "instant %ld (step %ld): not the readings after step %ld (delay %ld)", j, step, reading, lc->delay_steps);
        }
    }
    /* a bad decision stops the run at its instant, before the step */
    CHECK(r->c.instants == (steps + lc->period_steps - 1) / lc->period_steps + !decided,
          "%ld instants in %ld steps of a %ld-step period (fault %d)", r->c.instants, steps, lc->period_steps, r->L.fault);
    /* the inverter, step by step, with the decisions that held during the step */
    for (k = 0; k < steps; ++k) {
        const double req = r->request[k], got = r->applied[k];
        CHECK(all_finite(r->measured_v + (size_t)k * (size_t)n, n), "step %ld: a measured cell voltage is not finite", k);
        if (req > 0.0 && r->charge_enable[k] == 0.0)
            CHECK(got == 0.0, "step %ld: %.9g A into a pack with charge off", k, got);
        else if (req < 0.0 && r->discharge_enable[k] == 0.0)
            CHECK(got == 0.0, "step %ld: %.9g A out of a pack with discharge off", k, got);
        else if (req > 0.0 && lc->obey_limits)
            CHECK(got >= 0.0 && got <= req && got <= r->ccl[k], "step %ld: %.9g A for a request of %.9g A, CCL %.9g A", k,
                  got, req, r->ccl[k]);
        else if (req < 0.0 && lc->obey_limits)
            CHECK(got == fmax(req, -r->dcl[k]), "step %ld: %.9g A for a request of %.9g A, DCL %.9g A", k, got, req,
                  r->dcl[k]);
        else CHECK(got == req, "step %ld: %.9g A for a request of %.9g A, limits ignored", k, got, req);
        /* the constant-voltage loop holds the pack near CVL: with steps of tens of seconds the OCV and the
         * RC pairs climb within a step at the top of charge, so a cell may pass its share by some 15 mV */
        if (lc->obey_limits && req > 0.0)
            CHECK(r->pack_v[k] <= r->cvl[k] + 0.03 * n,
                  "step %ld: the pack at %.6g V, CVL %.6g V", k, r->pack_v[k], r->cvl[k]);
    }
    /* slow records: every slow_every-th step since the start; the last row is the state of its step */
    CHECK(r->slow_rows[0] + r->slow_rows[1] == steps / lc->slow_every, "%ld + %ld slow rows after %ld steps",
          r->slow_rows[0], r->slow_rows[1], steps);
    if (steps % lc->slow_every == 0 && steps > 0)
        CHECK(same_doubles(r->slow_v + (size_t)(steps / lc->slow_every - 1) * (size_t)n, p->c.cell_voltage, (size_t)n),
              "the last slow row is not the final state");
    /* the monitor describes the last step */
    if (steps == 0) return;
    for (i = 0; i < n; ++i) {
        if (p->c.cell_voltage[i] > vmax) vmax = p->c.cell_voltage[i], vmax_cell = i;
        if (p->c.cell_voltage[i] < vmin) vmin = p->c.cell_voltage[i], vmin_cell = i;
        commanded += r->L.io.balance[i] != 0.0;
        if (adjacent < 0 && i + 1 < n && r->L.io.balance[i] == 1.0 && r->L.io.balance[i + 1] == 1.0) adjacent = i;
    }
    CHECK(r->L.monitor[TWIN_BMS_M_VMAX] == vmax && r->L.monitor[TWIN_BMS_M_VMAX_CELL] == vmax_cell &&
              r->L.monitor[TWIN_BMS_M_VMIN] == vmin && r->L.monitor[TWIN_BMS_M_VMIN_CELL] == vmin_cell,
          "monitor: vmax %.9g V (cell %g), vmin %.9g V (cell %g); the cells: %.9g V (%d), %.9g V (%d)",
          r->L.monitor[TWIN_BMS_M_VMAX], r->L.monitor[TWIN_BMS_M_VMAX_CELL], r->L.monitor[TWIN_BMS_M_VMIN],
          r->L.monitor[TWIN_BMS_M_VMIN_CELL], vmax, vmax_cell, vmin, vmin_cell);
    CHECK(!decided || (r->L.monitor[TWIN_BMS_M_COMMANDED] == commanded && r->L.monitor[TWIN_BMS_M_ADJACENT] == adjacent),
          "monitor: %g commanded, adjacent %g; the decisions: %g, %d", r->L.monitor[TWIN_BMS_M_COMMANDED],
          r->L.monitor[TWIN_BMS_M_ADJACENT], commanded, adjacent);
    CHECK(r->L.monitor[TWIN_BMS_M_REQUEST] == r->request[steps - 1], "monitor: request %.9g A, asked %.9g A",
          r->L.monitor[TWIN_BMS_M_REQUEST], r->request[steps - 1]);
    if (r->ambient != NULL)
        CHECK(p->v->pack_ambient_temperature == r->ambient[steps - 1], "the ambient is %.9g degC, the last step's %.9g",
              p->v->pack_ambient_temperature, r->ambient[steps - 1]);
    CHECK(r->L.monitor[TWIN_BMS_M_READ_TMAX_CELL] >= -1.0 && r->L.monitor[TWIN_BMS_M_READ_TMAX_CELL] < n &&
              r->L.monitor[TWIN_BMS_M_TMAX_CELL] >= 0.0 && r->L.monitor[TWIN_BMS_M_TMAX_CELL] < n &&
              r->L.monitor[TWIN_BMS_M_BLEED_MAX_CELL] >= 0.0 && r->L.monitor[TWIN_BMS_M_BLEED_MAX_CELL] < n,
          "monitor: a cell index outside the pack");
    CHECK(isfinite(r->L.monitor[TWIN_BMS_M_AMBIENT_CELL]), "monitor: the ambient cell is at %g degC",
          r->L.monitor[TWIN_BMS_M_AMBIENT_CELL]);
    if (decided)
        CHECK(same_doubles(p->c.balancer_command, r->L.io.balance, (size_t)n), "balancer.command is not the decision");
}

/* --- the scenarios ------------------------------------------------------------------------------------------ */

static void closed_loop(const driver_variant *v, const loop_case *lc, const char *what)
{
    loop_run r;
    driver_scenario(what);
    loop_open(&r, v, lc);
    loop_go(&r, lc);
    CHECK(r.L.fault == TWIN_BMS_RUNNING, "the loop stopped with fault %d at %.9g s (cell %d, %.9g)", r.L.fault,
          r.L.fault_time, r.L.fault_cell, r.L.fault_value);
    CHECK(r.done[0] == lc->steps[0] && r.done[1] == lc->steps[1], "%ld + %ld steps done", r.done[0], r.done[1]);
    loop_checks(&r, lc);
    driver_note("%ld steps, %ld instants, cells %.4f .. %.4f V, pack %.3f V", r.L.steps, r.c.instants,
                r.L.monitor[TWIN_BMS_M_VMIN], r.L.monitor[TWIN_BMS_M_VMAX], r.dp.p.v->pack_voltage);
    loop_close(&r);
}

/* A stop: the fault, its cell and value, the steps done, and nothing more on a further call. */
static void stopped_loop(const driver_variant *v, const loop_case *lc, int spoil, double spoil_value, long spoil_at,
                         int want_fault, const char *what)
{
    loop_run r;
    long more;
    driver_scenario(what);
    loop_open(&r, v, lc);
    r.c.spoil = spoil, r.c.spoil_value = spoil_value, r.c.spoil_at = spoil_at;
    loop_go(&r, lc);
    CHECK(r.L.fault == want_fault, "fault %d, want %d (%ld + %ld steps done)", r.L.fault, want_fault, r.done[0],
          r.done[1]);
    if (spoil != SPOIL_NONE) {
        CHECK(r.L.steps == spoil_at * lc->period_steps, "stopped after %ld steps, the bad decision came at step %ld",
              r.L.steps, spoil_at * lc->period_steps);
        CHECK(r.L.fault_time == r.c.seen_time[spoil_at], "fault at %.17g s, the instant was at %.17g s", r.L.fault_time,
              r.c.seen_time[spoil_at]);
    }
    if (spoil == SPOIL_STATUS) CHECK(r.L.controller_status == 42, "controller status %d", r.L.controller_status);
    else if (spoil == SPOIL_BALANCE)
        CHECK(r.L.fault_cell == r.c.n - 1 && same_doubles(&r.L.fault_value, &spoil_value, 1),
              "bad balance reported for cell %d, %g", r.L.fault_cell, r.L.fault_value);
    else if (spoil != SPOIL_NONE)
        CHECK(r.L.fault_cell == -1 && same_doubles(&r.L.fault_value, &spoil_value, 1),
              "bad decision reported for cell %d, %g (was %g)", r.L.fault_cell, r.L.fault_value, spoil_value);
    else { /* a cell beyond a stop voltage */
        const double bound = want_fault == TWIN_BMS_CELL_HIGH ? lc->stop_high : lc->stop_low;
        CHECK(r.L.fault_cell >= 0 && r.L.fault_cell < r.c.n && r.L.fault_value == r.dp.p.c.cell_voltage[r.L.fault_cell] &&
                  (want_fault == TWIN_BMS_CELL_HIGH ? r.L.fault_value > bound : r.L.fault_value < bound) &&
                  r.L.fault_time == r.dp.p.in->time,
              "stopped at cell %d, %.9g V, %.9g s (bound %.9g V, now %.9g s)", r.L.fault_cell, r.L.fault_value,
              r.L.fault_time, bound, r.dp.p.in->time);
    }
    loop_checks(&r, lc);
    CHECK(twin_bms_run(&r.dp.p, &r.L, lc->dt, 5, r.request, NULL, NULL, 0, NULL, 0, 1, &more) == TWIN_OK && more == 0,
          "a stopped loop ran %ld more steps", more);
    loop_close(&r);
}

static void refusals(const driver_variant *v)
{
    const loop_case lc = {1, 0, 1, {3, 0}, 1, 10.0, 4.0, 2.0, {0.1, 0.0}, 0.0};
    loop_run r;
    long done = -1;
    twin_bms_loop keep;
    driver_scenario("firmware: refused settings and steps");
    loop_open(&r, v, &lc);
    keep = r.L;
    r.L.period_steps = 0;
    CHECK(twin_bms_run(&r.dp.p, &r.L, 1.0, 3, r.request, NULL, NULL, 0, NULL, 0, 1, &done) == TWIN_ERR_VALUE && done == 0,
          "a period of 0 steps was accepted");
    r.L = keep;
    r.L.delay_steps = -1;
    CHECK(twin_bms_run(&r.dp.p, &r.L, 1.0, 3, r.request, NULL, NULL, 0, NULL, 0, 1, &done) == TWIN_ERR_VALUE,
          "a negative delay was accepted");
    r.L = keep;
    r.L.charger_resistance = NAN;
    CHECK(twin_bms_run(&r.dp.p, &r.L, 1.0, 3, r.request, NULL, NULL, 0, NULL, 0, 1, &done) == TWIN_ERR_VALUE,
          "a NaN charger resistance was accepted");
    r.L = keep;
    CHECK(twin_bms_run(&r.dp.p, &r.L, 1.0, 3, r.request, NULL, NULL, 0, NULL, 0, 0, &done) == TWIN_ERR_VALUE,
          "slow_every 0 was accepted");
    {
        const long before = r.c.instants;
        CHECK(twin_bms_run(&r.dp.p, &r.L, NAN, 3, r.request, NULL, NULL, 0, NULL, 0, 1, &done) == TWIN_ERR_VALUE
              && done == 0, "a NaN step was accepted");
        CHECK(r.c.instants == before, "a refused NaN step still called the firmware");
        CHECK(twin_bms_run(&r.dp.p, &r.L, -1.0, 3, r.request, NULL, NULL, 0, NULL, 0, 1, &done) == TWIN_ERR_VALUE
              && r.c.instants == before, "a negative step was accepted or called the firmware");
    }
    CHECK(r.L.steps == 0, "a refused step counted");
    loop_close(&r);
}

/* twin_bms_inverter_current and twin_bms_check_decisions alone. */
static void inverter(void)
{
    twin_bms_io io;
    double balance[3] = {0.0, 1.0, -1.0}, value = 0.0;
    int cell = 7;
    driver_scenario("firmware: inverter and decision checks");
    memset(&io, 0, sizeof io);
    io.balance = balance;
    io.charge_enable = 1.0, io.discharge_enable = 1.0, io.cvl = 55.0, io.ccl = 100.0, io.dcl = 150.0;
    CHECK(twin_bms_check_decisions(&io, 3, &cell, &value) == TWIN_BMS_RUNNING && cell == -1, "good decisions refused");
    CHECK(twin_bms_inverter_current(&io, 30.0, 50.0, 0.0, 1, 0.125) == 30.0, "within every limit");
    CHECK(twin_bms_inverter_current(&io, 200.0, 50.0, 0.0, 1, 0.125) == 40.0, "the CV loop from rest: (55 - 50) / 0.125");
    CHECK(twin_bms_inverter_current(&io, 200.0, 50.0, 80.0, 1, 0.125) == 100.0, "CCL");
    CHECK(twin_bms_inverter_current(&io, 200.0, 56.0, 5.0, 1, 0.125) == 0.0, "above CVL: no charge");
    CHECK(twin_bms_inverter_current(&io, 200.0, 60.0, 0.0, 0, 0.1) == 200.0, "limits ignored");
    CHECK(twin_bms_inverter_current(&io, -200.0, 50.0, 0.0, 1, 0.1) == -150.0, "DCL");
    CHECK(twin_bms_inverter_current(&io, -200.0, 50.0, 0.0, 0, 0.1) == -200.0, "DCL ignored");
    io.charge_enable = 0.0;
    CHECK(twin_bms_inverter_current(&io, 20.0, 50.0, 0.0, 0, 0.1) == 0.0, "charge off, limits ignored");
    io.discharge_enable = 0.0;
    CHECK(twin_bms_inverter_current(&io, -20.0, 50.0, 0.0, 0, 0.1) == 0.0, "discharge off, limits ignored");
    balance[2] = 0.5;
    CHECK(twin_bms_check_decisions(&io, 3, &cell, &value) == TWIN_BMS_BAD_BALANCE && cell == 2 && value == 0.5,
          "balance 0.5 of cell 2: fault, cell %d, value %g", cell, value);
    CHECK(twin_bms_check_decisions(&io, 2, &cell, &value) == TWIN_BMS_RUNNING, "only the first n cells are checked");
    balance[2] = 0.0;
    io.dcl = -0.0;
    CHECK(twin_bms_check_decisions(&io, 3, &cell, &value) == TWIN_BMS_RUNNING, "DCL -0 refused");
    io.cvl = HUGE_VAL;
    CHECK(twin_bms_check_decisions(&io, 3, &cell, &value) == TWIN_BMS_BAD_CVL && cell == -1, "an infinite CVL passed");
}

void run_firmware_scenarios(const driver_variant *v)
{
    const int big = v->data->n_cells > 100;
    const long len = big ? 40 : 600;
    /* period, delay, slow_every, steps of the two calls, obey, dt, stop high and low, requests (C), ambient swing */
    const loop_case every_step = {1, 0, 7, {len, len / 2}, 1, 10.0, 4.0, 2.0, {0.5, -0.4}, 0.0};
    const loop_case delayed = {7, 3, 5, {len / 2 + 3, len / 2 - 1}, 1, 5.0, 4.0, 2.0, {0.2, -0.6}, 15.0};
    const loop_case long_delay = {3, big ? 11 : 40, 1, {len / 3, len / 3 + 1}, 1, 2.0, 4.0, 2.0, {-0.3, 0.3}, 0.0};
    const loop_case top_charge = {2, 1, 3, {big ? 400 : 1200, 100}, 1, 30.0, 4.0, 2.0, {0.5, 0.0}, 0.0};
    const loop_case no_limits_high = {1, 0, 1, {2000, 0}, 0, 60.0, 3.45, 2.0, {0.5, 0.0}, 0.0};
    const loop_case no_limits_low = {5, 2, 4, {2000, 0}, 0, 60.0, 4.0, 3.1, {-0.5, 0.0}, 10.0};
    const loop_case spoiled = {3, 2, 2, {30, 30}, 1, 10.0, 4.0, 2.0, {0.2, -0.2}, 0.0};
    static const struct {
        int spoil;
        double value;
        int fault;
        const char *what;
    } bad[] = {
        {SPOIL_STATUS, 0.0, TWIN_BMS_CONTROLLER_ERROR, "firmware: the controller reports an error"},
        {SPOIL_BALANCE, 2.0, TWIN_BMS_BAD_BALANCE, "firmware: balance 2 on the last cell"},
        {SPOIL_BALANCE, NAN, TWIN_BMS_BAD_BALANCE, "firmware: balance NaN on the last cell"},
        {SPOIL_CHARGE_ENABLE, 0.5, TWIN_BMS_BAD_CHARGE_ENABLE, "firmware: charge enable 0.5"},
        {SPOIL_DISCHARGE_ENABLE, NAN, TWIN_BMS_BAD_DISCHARGE_ENABLE, "firmware: discharge enable NaN"},
        {SPOIL_CVL, -1.0, TWIN_BMS_BAD_CVL, "firmware: CVL -1"},
        {SPOIL_CCL, HUGE_VAL, TWIN_BMS_BAD_CCL, "firmware: CCL infinite"},
        {SPOIL_DCL, NAN, TWIN_BMS_BAD_DCL, "firmware: DCL NaN"},
    };
    size_t k;
    closed_loop(v, &every_step, "firmware: every step, no delay, charge then discharge");
    closed_loop(v, &delayed, "firmware: a 7-step period, 3-step delay, calls out of step with the period");
    closed_loop(v, &long_delay, "firmware: a delay longer than the period");
    closed_loop(v, &top_charge, "firmware: charge into the CVL and CCL");
    stopped_loop(v, &no_limits_high, SPOIL_NONE, 0.0, -1, TWIN_BMS_CELL_HIGH,
                 "firmware: limits ignored up to a cell too high");
    stopped_loop(v, &no_limits_low, SPOIL_NONE, 0.0, -1, TWIN_BMS_CELL_LOW,
                 "firmware: limits ignored down to a cell too low");
    for (k = 0; k < sizeof bad / sizeof *bad; ++k)
        stopped_loop(v, &spoiled, bad[k].spoil, bad[k].value, (long)(k % 2 ? 0 : 1 + 2 * k), bad[k].fault, bad[k].what);
    refusals(v);
    inverter();
}
