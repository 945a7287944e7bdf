/* Detector scenarios: BMS logs made by the kernel itself (cycles through both knees and the plateau
 * steps, with faults and a cell that never reaches a knee), fed to twin_detect_run and
 * twin_detect_sample as they are and spoiled in every awkward way a real log can be: NaN samples,
 * gaps, time going backwards or standing still, constant voltages, huge and tiny values. Besides
 * what the sanitizers watch, every run checks what csrc/detect.c promises: the samples it uses and
 * the gaps it counts (a reference count of the documented rule), flags that are 0 or 1 with a time
 * inside the log, block times in order, records within max_blocks, and the same state whether the
 * log comes in one call, in chunks, or sample by sample. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h" /* twin_median_of_finite, checked against twin_median_of */
#include "driver.h"

typedef struct bms_log {
    int n;
    long m, cap;
    double *time, *current, *voltage, *temperature, *balancing; /* voltage etc.: m x n */
} bms_log;

static void *grow(void *x, size_t bytes)
{
    void *y = realloc(x, bytes > 0 ? bytes : 1);
    CHECK(y != NULL, "out of memory for %lu bytes", (unsigned long)bytes);
    return y;
}

static void log_resize(bms_log *log, long cap)
{
    const size_t n = (size_t)log->n, c = (size_t)cap;
    log->time = (double *)grow(log->time, c * sizeof(double));
    log->current = (double *)grow(log->current, c * sizeof(double));
    log->voltage = (double *)grow(log->voltage, c * n * sizeof(double));
    log->temperature = (double *)grow(log->temperature, c * n * sizeof(double));
    log->balancing = (double *)grow(log->balancing, c * n * sizeof(double));
    log->cap = cap;
}

static bms_log log_new(int n, long cap)
{
    bms_log log;
    memset(&log, 0, sizeof log);
    log.n = n;
    log_resize(&log, cap);
    return log;
}

/* A copy in allocations of exactly m samples (reads past the end are caught). */
static bms_log log_copy(const bms_log *src)
{
    const size_t m = (size_t)src->m, n = (size_t)src->n;
    bms_log log = log_new(src->n, src->m);
    log.m = src->m;
    memcpy(log.time, src->time, m * sizeof(double));
    memcpy(log.current, src->current, m * sizeof(double));
    memcpy(log.voltage, src->voltage, m * n * sizeof(double));
    memcpy(log.temperature, src->temperature, m * n * sizeof(double));
    memcpy(log.balancing, src->balancing, m * n * sizeof(double));
    return log;
}

static void log_free(bms_log *log)
{
    free(log->time), free(log->current), free(log->voltage), free(log->temperature), free(log->balancing);
    memset(log, 0, sizeof *log);
}

/* --- logs made by the kernel -------------------------------------------------------------------------- */

typedef struct sim_plan {
    twin_fault_event events[8];
    int n_events;
    int lazy_cell; /* three times the capacity: stays on the plateau, never reaches a knee */
} sim_plan;

static void configure_log_pack(twin_pack *p, void *ctx)
{
    const sim_plan *plan = (const sim_plan *)ctx;
    free((void *)p->events); /* the variant's own, replaced (pack_close frees the copy) */
    p->events = NULL;
    p->n_events = 0;
    if (plan->n_events > 0) {
        twin_fault_event *events = (twin_fault_event *)malloc((size_t)plan->n_events * sizeof *events);
        CHECK(events != NULL, "out of memory");
        memcpy(events, plan->events, (size_t)plan->n_events * sizeof *events);
        p->events = events;
        p->n_events = plan->n_events;
    }
    set_value(p, "cell.capacity", plan->lazy_cell, 3.0 * p->c.cell_capacity[plan->lazy_cell]);
}

static void add_event(sim_plan *plan, double hours, int cell, const char *id, double value)
{
    twin_fault_event *e = &plan->events[plan->n_events++];
    e->time = hours * 3600.0, e->cell = cell, e->vr = vr_of(id), e->value = value;
}

/* One phase of the cycle, recorded into the log the way a BMS logs. */
static void phase(twin_pack *p, bms_log *log, double dt, long max_steps, twin_drive_kind kind, double value, double limit,
                  const twin_stop *stop)
{
    const size_t n = (size_t)p->n, at = (size_t)log->m;
    twin_record rec[5];
    twin_drive d;
    twin_stop none;
    long done;
    int reason;
    if (stop == NULL) twin_stop_none(&none), stop = &none;
    if (log->m + max_steps > log->cap) log_resize(log, 2 * (log->m + max_steps));
    memset(&d, 0, sizeof d);
    d.kind = kind, d.value = value, d.current_limit = limit;
    rec[0].src = &p->in->time, rec[0].count = 1, rec[0].dst = log->time + at;
    rec[1].src = &p->v->pack_current_measured, rec[1].count = 1, rec[1].dst = log->current + at;
    rec[2].src = p->c.cell_voltage_measured, rec[2].count = p->n, rec[2].dst = log->voltage + at * n;
    rec[3].src = p->c.cell_temperature_measured, rec[3].count = p->n, rec[3].dst = log->temperature + at * n;
    rec[4].src = p->c.balancer_commanded, rec[4].count = p->n, rec[4].dst = log->balancing + at * n;
    CHECK(twin_run(p, dt, max_steps, &d, stop, rec, 5, &done, &reason) == TWIN_OK, "log phase refused");
    log->m += done;
}

/* Full cycles at 0.3C between the knees (charge, hold at 3.55 V to C/20, rest, discharge to 2.9 V, rest;
 * at 0.5C the cells heat past the 45 degC charge limit within a few cycles), with faults from hour 8 on
 * when the pack has room for them. */
static bms_log make_log(const driver_variant *v, int cycles, double dt)
{
    const int n = v->data->n_cells;
    const double rate = 0.3;
    sim_plan plan;
    driver_pack dp;
    twin_stop stop;
    double cap;
    bms_log log = log_new(n, 4096);
    int c, i, sensed = -1;
    pack_open(&dp, v->data, LAYOUT_SPLIT, NULL, NULL, NULL, 0); /* only to find a sensed cell and the capacity */
    for (i = 0; i < n - 1; ++i)
        if (dp.p.c.cell_temperature_sensor[i] != 0.0) sensed = i;
    cap = dp.p.c.cell_capacity[0] * dp.p.s->pack_cells_in_parallel;
    pack_close(&dp);
    memset(&plan, 0, sizeof plan);
    plan.lazy_cell = n - 1;
    if (n >= 7) { /* in time order, as events must be; the leak a hundredth of the capacity per hour */
        add_event(&plan, 8.0, 1, "fault.leak_current", 0.01 * cap);
        add_event(&plan, 8.0, 2, "fault.balancer_stuck", TWIN_BALANCER_STUCK_ON);
        add_event(&plan, 8.0, 3, "fault.capacity_loss", 0.1);
        add_event(&plan, 8.0, 5, "fault.series_resistance", 1e-3);
        add_event(&plan, 10.0, 4, "fault.voltage_offset", 0.02);
        if (sensed >= 0) add_event(&plan, 11.0, sensed, "fault.temperature_offset", 8.0);
    } else if (n >= 2) {
        add_event(&plan, 8.0, 0, "fault.leak_current", 0.01 * cap);
    }
    CHECK(pack_open(&dp, v->data, LAYOUT_SPLIT, configure_log_pack, &plan, NULL, 0) == 0, "log pack refused");
    for (c = 0; c < cycles; ++c) {
        const long first = log.m;
        double vmax = -HUGE_VAL, vmin = HUGE_VAL, tmax = -HUGE_VAL;
        size_t j;
        twin_stop_none(&stop);
        stop.max_cell_voltage = 3.55;
        phase(&dp.p, &log, dt, (long)(4.0 * 3600.0 / dt), TWIN_DRIVE_CURRENT, rate * cap, 0.0, &stop);
        twin_stop_none(&stop);
        stop.min_abs_current = cap / 20.0;
        phase(&dp.p, &log, dt, (long)(3600.0 / dt), TWIN_DRIVE_CELL_VOLTAGE, 3.55, rate * cap, &stop);
        phase(&dp.p, &log, dt, (long)(1800.0 / dt), TWIN_DRIVE_CURRENT, 0.0, 0.0, NULL);
        twin_stop_none(&stop);
        stop.min_cell_voltage = 2.9;
        phase(&dp.p, &log, dt, (long)(4.0 * 3600.0 / dt), TWIN_DRIVE_CURRENT, -rate * cap, 0.0, &stop);
        phase(&dp.p, &log, dt, (long)(1800.0 / dt), TWIN_DRIVE_CURRENT, 0.0, 0.0, NULL);
        for (j = (size_t)first * (size_t)n; j < (size_t)log.m * (size_t)n; ++j) {
            vmax = fmax(vmax, log.voltage[j]), vmin = fmin(vmin, log.voltage[j]);
            if (log.temperature[j] == log.temperature[j]) tmax = fmax(tmax, log.temperature[j]);
        }
        driver_note("log cycle %d: %ld samples, cells read %.3f .. %.3f V, hottest %.1f degC", c, log.m - first, vmin,
                    vmax, tmax);
    }
    CHECK(log.m > 100, "the log has only %ld samples", log.m);
    pack_close(&dp);
    {
        bms_log exact = log_copy(&log);
        log_free(&log);
        return exact;
    }
}

/* --- feeding the detector ------------------------------------------------------------------------------ */

/* The samples the detector uses and the gaps it counts, by the rule csrc/detect.c documents: a sample
 * with a NaN time, a current or a voltage that is not finite, or a time not after the last used
 * sample's, is skipped; a step longer than max(5 periods, period + 10 s) (period: the shortest step
 * seen between used samples since the last gap) is a gap. */
typedef struct expected {
    double used, gaps, first_t, last_t;
} expected;

static int sample_ok(const bms_log *log, long k)
{
    int i;
    if (log->time[k] != log->time[k] || !isfinite(log->current[k])) return 0;
    for (i = 0; i < log->n; ++i)
        if (!isfinite(log->voltage[(size_t)k * (size_t)log->n + (size_t)i])) return 0;
    return 1;
}

static expected reference_count(const bms_log *log, long from, long to)
{
    expected e = {0.0, 0.0, NAN, NAN};
    double t_prev = 0.0, period = 0.0;
    int prev_valid = 0;
    long k;
    for (k = from; k < to; ++k) {
        double dt = 0.0;
        if (!sample_ok(log, k)) continue;
        if (prev_valid) {
            const double limit = period > 0.0 ? fmax(5.0 * period, period + 10.0) : HUGE_VAL;
            dt = log->time[k] - t_prev;
            if (!(dt > 0.0)) continue;
            if (dt > limit) {
                e.gaps += 1.0;
                prev_valid = 0;
            }
        }
        if (prev_valid) period = period > 0.0 ? fmin(period, dt) : dt;
        if (e.used == 0.0) e.first_t = log->time[k];
        e.last_t = log->time[k];
        e.used += 1.0;
        t_prev = log->time[k];
        prev_valid = 1;
    }
    return e;
}

static void check_outputs(twin_pack *p, const expected *e, const char *what)
{
    const double *flags[6], *times[6];
    int i, j, flagged = 0;
    flags[0] = p->c.flag_self_discharge, times[0] = p->c.flag_self_discharge_time;
    flags[1] = p->c.flag_resistance, times[1] = p->c.flag_resistance_time;
    flags[2] = p->c.flag_capacity, times[2] = p->c.flag_capacity_time;
    flags[3] = p->c.flag_voltage_sensor, times[3] = p->c.flag_voltage_sensor_time;
    flags[4] = p->c.flag_balancer, times[4] = p->c.flag_balancer_time;
    flags[5] = p->c.flag_thermal, times[5] = p->c.flag_thermal_time;
    CHECK(p->v->detect_samples == e->used, "%s: the detector used %.0f samples, the rule says %.0f", what,
          p->v->detect_samples, e->used);
    CHECK(p->v->detect_gaps == e->gaps, "%s: the detector counted %.0f gaps, the rule says %.0f", what, p->v->detect_gaps,
          e->gaps);
    for (i = 0; i < p->n; ++i) {
        int any = 0;
        for (j = 0; j < 6; ++j) {
            CHECK(flags[j][i] == 0.0 || flags[j][i] == 1.0, "%s: flag %d of cell %d is %g", what, j, i, flags[j][i]);
            if (flags[j][i] == 1.0)
                CHECK(times[j][i] >= e->first_t && times[j][i] <= e->last_t,
                      "%s: flag %d of cell %d raised at %.9g s, outside the log (%.9g .. %.9g s)", what, j, i, times[j][i],
                      e->first_t, e->last_t);
            any |= flags[j][i] != 0.0;
        }
        flagged += any;
        CHECK(!(p->c.estimate_leak_current_sigma[i] < 0.0) && !(p->c.estimate_resistance_change_sigma[i] < 0.0) &&
                  !(p->c.estimate_capacity_change_sigma[i] < 0.0) && !(p->c.estimate_charge_offset_sigma[i] < 0.0) &&
                  !(p->c.estimate_voltage_offset_sigma[i] < 0.0),
              "%s: a negative standard deviation for cell %d", what, i);
    }
    CHECK(p->v->detect_flags == (double)flagged, "%s: detect.flags is %.0f, %d cells have a flag", what, p->v->detect_flags,
          flagged);
}

/* With -v: what the detector made of the log. */
static void note_outputs(const twin_pack *p)
{
    const double *flags[6];
    static const char *kinds[6] = {"self_discharge", "resistance", "capacity", "voltage_sensor", "balancer", "thermal"};
    char text[256];
    size_t len = 0;
    int i, j;
    flags[0] = p->c.flag_self_discharge, flags[1] = p->c.flag_resistance, flags[2] = p->c.flag_capacity;
    flags[3] = p->c.flag_voltage_sensor, flags[4] = p->c.flag_balancer, flags[5] = p->c.flag_thermal;
    text[0] = '\0';
    for (j = 0; j < 6; ++j)
        for (i = 0; i < p->n && len + 32 < sizeof text; ++i)
            if (flags[j][i] != 0.0) len += (size_t)sprintf(text + len, " %s:%d", kinds[j], i);
    driver_note("%.0f samples, %.0f gaps, %.0f runs judged, flags:%s", p->v->detect_samples, p->v->detect_gaps,
                p->v->detect_runs, len ? text : " none");
}

/* One call over the whole log, recording per block; checks the records and returns the blocks. */
static long detect_whole(twin_pack *p, const bms_log *log, int with_temperature, int with_balancing, long max_blocks,
                         int per_cell_records, const char *what)
{
    const size_t n = (size_t)p->n, mb = (size_t)(max_blocks > 0 ? max_blocks : 0);
    double *samples = mb ? alloc_doubles(mb) : NULL, *flags_rec = mb ? alloc_doubles(mb) : NULL;
    double *block_time = mb ? alloc_doubles(mb) : NULL, *cells_rec[3] = {NULL, NULL, NULL};
    twin_record rec[5];
    int r = 0, k;
    long blocks, b;
    if (mb) {
        rec[r].src = &p->v->detect_samples, rec[r].count = 1, rec[r++].dst = samples;
        rec[r].src = &p->v->detect_flags, rec[r].count = 1, rec[r++].dst = flags_rec;
        if (per_cell_records) {
            const double *src[3];
            src[0] = p->c.detect_deviation, src[1] = p->c.estimate_charge_offset, src[2] = p->c.flag_self_discharge;
            for (k = 0; k < 3; ++k) {
                cells_rec[k] = alloc_doubles(mb * n);
                rec[r].src = src[k], rec[r].count = p->n, rec[r++].dst = cells_rec[k];
            }
        }
    }
    blocks = twin_detect_run(p, log->m, log->time, log->current, log->voltage, with_temperature ? log->temperature : NULL,
                             with_balancing ? log->balancing : NULL, rec, r, max_blocks, block_time);
    CHECK(blocks >= 0 && blocks <= (max_blocks > 0 ? max_blocks : 0), "%s: %ld blocks for max_blocks %ld", what, blocks,
          max_blocks);
    for (b = 1; b < blocks; ++b) {
        CHECK(block_time[b] > block_time[b - 1], "%s: block %ld ends at %.9g s, before block %ld (%.9g s)", what, b,
              block_time[b], b - 1, block_time[b - 1]);
        CHECK(samples[b] > samples[b - 1], "%s: block %ld used no sample", what, b);
        CHECK(flags_rec[b] >= flags_rec[b - 1], "%s: the flagged cells fell from %.0f to %.0f", what, flags_rec[b - 1],
              flags_rec[b]);
    }
    free(samples), free(flags_rec), free(block_time);
    for (k = 0; k < 3; ++k) free(cells_rec[k]);
    return blocks;
}

/* Feed one log to a fresh pack in several ways; the state must come out the same. */
static void detect_all_ways(const driver_variant *v, const bms_log *log, const char *what)
{
    driver_pack whole, chunked, single;
    const int n = log->n;
    const long chunks[4] = {1, 7, 1000, 31};
    expected e = reference_count(log, 0, log->m);
    long k, at, c;
    driver_scenario(what);
    pack_open(&whole, v->data, LAYOUT_SPLIT, NULL, NULL, NULL, 0);
    detect_whole(&whole.p, log, 1, 1, log->m, 0, what);
    check_outputs(&whole.p, &e, what);
    note_outputs(&whole.p);

    pack_open(&chunked, v->data, LAYOUT_SPLIT, NULL, NULL, NULL, 0);
    for (at = 0, c = 0; at < log->m; at += k, ++c) {
        k = chunks[c % 4] < log->m - at ? chunks[c % 4] : log->m - at;
        twin_detect_run(&chunked.p, k, log->time + at, log->current + at, log->voltage + (size_t)at * (size_t)n,
                        log->temperature + (size_t)at * (size_t)n, log->balancing + (size_t)at * (size_t)n, NULL, 0, 0,
                        NULL);
    }
    driver_same_state(&whole.p, &chunked.p, what);
    pack_close(&chunked);

    pack_open(&single, v->data, LAYOUT_BLOCK, NULL, NULL, NULL, 0);
    for (k = 0; k < log->m; ++k) {
        single.p.v->pack_current = log->current[k];
        memcpy(single.p.c.measured_cell_voltage, log->voltage + (size_t)k * (size_t)n, (size_t)n * sizeof(double));
        memcpy(single.p.c.measured_temperature, log->temperature + (size_t)k * (size_t)n, (size_t)n * sizeof(double));
        memcpy(single.p.c.balancer_command, log->balancing + (size_t)k * (size_t)n, (size_t)n * sizeof(double));
        twin_detect_sample(&single.p, log->time[k]);
    }
    driver_same_state(&whole.p, &single.p, what);
    pack_close(&single);
    pack_close(&whole);
}

/* Lighter: one call, checked (for logs too long to feed three ways). */
static void detect_once(const driver_variant *v, const bms_log *log, void (*configure)(twin_pack *, void *), void *ctx,
                        int with_temperature, int with_balancing, long max_blocks, const char *what)
{
    driver_pack dp;
    char msg[TWIN_MESSAGE_SIZE];
    expected e = reference_count(log, 0, log->m);
    driver_scenario(what);
    CHECK(pack_open(&dp, v->data, LAYOUT_SPLIT, configure, ctx, msg, sizeof msg) == 0, "%s: pack refused: %s", what, msg);
    detect_whole(&dp.p, log, with_temperature, with_balancing, max_blocks, 1, what);
    check_outputs(&dp.p, &e, what);
    note_outputs(&dp.p);
    pack_close(&dp);
}

/* --- spoiled logs --------------------------------------------------------------------------------------- */

static double *at(const bms_log *log, double *base, long k, int i) { return base + (size_t)k * (size_t)log->n + (size_t)i; }

static void spoil_nan(bms_log *log)
{
    long k;
    int i;
    for (k = 0; k < log->m; ++k) {
        if (k % 97 == 5) *at(log, log->voltage, k, (int)(k % log->n)) = NAN;
        if (k % 101 == 7) log->current[k] = NAN;
        if (k % 103 == 11) log->time[k] = NAN;
        if (k % 107 == 13) log->current[k] = HUGE_VAL;
        if (k % 109 == 17) *at(log, log->voltage, k, log->n - 1) = -HUGE_VAL;
        if (k % 89 == 3)
            for (i = 0; i < log->n; ++i) *at(log, log->temperature, k, i) = NAN;
        if (k % 113 == 19)
            for (i = 0; i < log->n; ++i) *at(log, log->balancing, k, i) = NAN;
    }
}

static void spoil_gaps(bms_log *log)
{
    long k;
    for (k = 0; k < log->m; ++k) {
        if (k >= log->m / 3) log->time[k] += 7200.0;
        if (k >= 2 * log->m / 3) log->time[k] += 30.0 * 86400.0;
        if (k >= log->m - 5) log->time[k] += 1e9 * (double)(k - (log->m - 5)); /* widening gaps at the end */
    }
}

static void spoil_time_order(bms_log *log)
{
    long k, half = log->m / 2;
    for (k = 1; k < log->m; ++k) {
        if (k % 50 == 0) log->time[k] = log->time[k - 1] - 100.0;
        if (k % 77 == 0) log->time[k] = log->time[k - 1];
    }
    for (k = 0; k < 10 && half + 19 - k < log->m; ++k) { /* twenty samples in reverse order */
        const double t = log->time[half + k];
        log->time[half + k] = log->time[half + 19 - k];
        log->time[half + 19 - k] = t;
    }
}

static void spoil_huge(bms_log *log)
{
    long k;
    for (k = 0; k < log->m; ++k) {
        if (k % 10 == 1) *at(log, log->voltage, k, (int)(k % log->n)) = k % 20 == 1 ? 1e300 : -DBL_MAX;
        if (k % 13 == 2) log->current[k] = k % 26 == 2 ? 1e300 : -1e300;
        if (k % 17 == 3) *at(log, log->temperature, k, (int)(k % log->n)) = 1e300;
        if (k % 19 == 4) *at(log, log->balancing, k, (int)(k % log->n)) = 1e300;
        if (k >= log->m - 10) log->time[k] = 1e300 + 1e290 * (double)(k - (log->m - 10));
    }
}

/* A cell on the plateau all the time: it reads the same voltage whatever the current. */
static void spoil_flat_cell(bms_log *log)
{
    long k;
    for (k = 0; k < log->m; ++k) *at(log, log->voltage, k, 0) = 3.29;
}

/* Synthetic: every cell at the same constant voltage (so every deviation and spread is exactly 0),
 * the current a square wave or zero; or every value tiny, with steps of a nanosecond. */
static bms_log synthetic(int n, long m, int kind)
{
    bms_log log = log_new(n, m);
    long k;
    int i;
    log.m = m;
    for (k = 0; k < m; ++k) {
        log.time[k] = kind == 2 ? 1.0 + 1e-9 * (double)k : 10.0 * (double)k;
        log.current[k] = kind == 0 ? ((k / 60) % 2 ? 140.0 : -140.0) : kind == 1 ? 0.0 : 4.9e-324 * (double)(k % 3);
        for (i = 0; i < n; ++i) {
            *at(&log, log.voltage, k, i) = kind == 2 ? 1e-300 * (1.0 + i) : 3.3;
            *at(&log, log.temperature, k, i) = kind == 2 ? 1e-310 : 25.0;
            *at(&log, log.balancing, k, i) = kind == 2 ? 1e-300 : 0.0;
        }
    }
    return log;
}

/* --- settings at their limits ------------------------------------------------------------------------------ */

typedef struct detect_settings {
    const char *id[8];
    double value[8];
} detect_settings;

static const detect_settings EXTREMES[] = {
    {{"detect.block", "detect.confirm_time", "detect.lull", "detect.charge_threshold", "detect.sigmas", "detect.jump_min",
      "detect.knee_slope", "detect.min_step"},
     {1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.001}},
    {{"detect.block", "detect.knee_top", "detect.knee_bottom", "detect.knee_slope", "detect.resistance_memory",
      "detect.edge_current", "detect.segment_current", "detect.temperature_threshold"},
     {3600.0, 10.0, 0.0, 1000.0, 0.1, 10.0, 10.0, 100.0}},
    {{"detect.knee_top", "detect.knee_bottom", "detect.bleed_resistance", "detect.nominal_resistance",
      "detect.temperature_threshold", "detect.edge_current", "detect.segment_current", "detect.resistance_fraction"},
     {0.0, 10.0, 0.1, 0.0, 0.0, 0.0001, 0.0001, 0.0}},
    /* every one of the 48 knee levels crossed both ways in each cycle, all counted as steep */
    {{"detect.knee_top", "detect.knee_bottom", "detect.knee_slope", "detect.block", "detect.confirm_time", "detect.lull",
      "detect.min_step", "detect.sigmas"},
     {3.10, 3.40, 0.0, 30.0, 60.0, 600.0, 0.001, 2.0}},
};

static void configure_detector(twin_pack *p, void *ctx)
{
    const detect_settings *s = (const detect_settings *)ctx;
    int k;
    for (k = 0; k < 8; ++k) set_value(p, s->id[k], 0, s->value[k]);
}

/* --- the scenarios ---------------------------------------------------------------------------------------- */

static void reset_midway(const driver_variant *v, const bms_log *log)
{
    driver_pack dp;
    const long half = log->m / 2;
    const int n = log->n;
    expected e = reference_count(log, half, log->m);
    driver_scenario("detector: reset midway");
    pack_open(&dp, v->data, LAYOUT_SPLIT, NULL, NULL, NULL, 0);
    twin_detect_run(&dp.p, half, log->time, log->current, log->voltage, log->temperature, log->balancing, NULL, 0, 0, NULL);
    twin_detect_reset(&dp.p);
    CHECK(dp.p.v->detect_samples == 0.0 && dp.p.v->detect_flags == 0.0, "reset left counts");
    twin_detect_run(&dp.p, log->m - half, log->time + half, log->current + half, log->voltage + (size_t)half * (size_t)n,
                    log->temperature + (size_t)half * (size_t)n, log->balancing + (size_t)half * (size_t)n, NULL, 0, 0, NULL);
    check_outputs(&dp.p, &e, "detector: reset midway");
    pack_close(&dp);
}

/* The per-sample median (a sorting network up to 16 values) against quickselect: every size up to
 * 20, readings on a coarse step so that ties abound, negative values and zeros of both signs. */
static void check_median(void)
{
    unsigned long long state = 12345;
    double v[20], scratch[20];
    int n, trial, i;
    driver_scenario("detector: the per-sample median against quickselect");
    for (n = 1; n <= 20; ++n)
        for (trial = 0; trial < 2000; ++trial) {
            const int levels = 1 + trial % 7;
            double a, b;
            for (i = 0; i < n; ++i) {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                v[i] = (double)((int)((state >> 33) % (unsigned long long)levels) - levels / 2) * (trial % 3 ? 1e-3 : 1.0);
                if (v[i] == 0.0 && (state >> 20) % 2) v[i] = -0.0;
            }
            a = twin_median_of_finite(v, n, scratch);
            b = twin_median_of(v, n, scratch);
            CHECK(a == b, "median of %d values: %.17g by the network, %.17g by quickselect", n, a, b);
        }
}

/* Small packs: every scenario, the long log fed three ways. A big pack (the sizes are the test there):
 * the kernel's log, each kind of spoiled log once, the constant and tiny ones, one limit setting. */
void run_detector_scenarios(const driver_variant *v)
{
    const int n = v->data->n_cells, big = n > 100;
    const int cycles = big ? 3 : 6;
    const double dt = big ? 60.0 : 10.0;
    bms_log base, spoiled;
    size_t k;
    check_median();
    driver_scenario("detector: making the log");
    base = make_log(v, cycles, dt);

    if (big) {
        detect_once(v, &base, NULL, NULL, 1, 1, base.m, "detector: kernel log");
    } else {
        detect_all_ways(v, &base, "detector: kernel log, three ways");
        detect_once(v, &base, NULL, NULL, 0, 0, 3, "detector: no temperatures, no flags, 3 blocks recorded");
        detect_once(v, &base, NULL, NULL, 1, 1, 0, "detector: nothing recorded");
        reset_midway(v, &base);
    }

    spoiled = log_copy(&base);
    spoil_nan(&spoiled);
    spoil_time_order(&spoiled);
    if (big) {
        spoil_gaps(&spoiled);
        spoil_huge(&spoiled);
        spoil_flat_cell(&spoiled);
        detect_once(v, &spoiled, NULL, NULL, 1, 1, spoiled.m, "detector: every spoiling at once");
    } else {
        detect_all_ways(v, &spoiled, "detector: NaN samples, time backwards and standing");
    }
    log_free(&spoiled);

    if (!big) {
        spoiled = log_copy(&base);
        spoil_gaps(&spoiled);
        detect_once(v, &spoiled, NULL, NULL, 1, 1, spoiled.m, "detector: gaps");
        log_free(&spoiled);

        spoiled = log_copy(&base);
        spoil_huge(&spoiled);
        detect_once(v, &spoiled, NULL, NULL, 1, 1, spoiled.m, "detector: huge values");
        log_free(&spoiled);

        spoiled = log_copy(&base);
        spoil_flat_cell(&spoiled);
        detect_once(v, &spoiled, NULL, NULL, 1, 1, spoiled.m, "detector: a cell that never reaches a knee");
        log_free(&spoiled);
    }

    for (k = 0; k < 3; ++k) {
        static const char *names[3] = {"detector: constant voltages, square-wave current",
                                       "detector: constant voltages, no current", "detector: tiny values"};
        spoiled = synthetic(n, big ? 300 : 3000, (int)k);
        if (big) detect_once(v, &spoiled, NULL, NULL, 1, 1, spoiled.m, names[k]);
        else detect_all_ways(v, &spoiled, names[k]);
        log_free(&spoiled);
    }

    for (k = big ? 3 : 0; k < sizeof EXTREMES / sizeof *EXTREMES; ++k)
        detect_once(v, &base, configure_detector, (void *)&EXTREMES[k], 1, 1, base.m, "detector: settings at their limits");
    log_free(&base);
}
