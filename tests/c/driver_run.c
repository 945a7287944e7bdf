/* Simulation scenarios: every drive kind, every balancer topology x policy x mode, every fault kind
 * scheduled as events (and the events the check must refuse), protection trips, and steps the
 * kernel must refuse or survive. Each checks what the kernel promises (csrc/twin.h, balancer.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

static double group_capacity(const twin_pack *p) { return p->c.cell_capacity[0] * p->s->pack_cells_in_parallel; }

static twin_status run(twin_pack *p, double dt, long steps, const twin_drive *d, const twin_stop *s, const twin_record *r,
                       int n_records, long *done, int *reason)
{
    twin_stop none;
    if (s == NULL) twin_stop_none(&none), s = &none;
    return twin_run(p, dt, steps, d, s, r, n_records, done, reason);
}

static twin_drive drive_of(twin_drive_kind kind, double value, double limit)
{
    twin_drive d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.value = value;
    d.current_limit = limit;
    return d;
}

static double max_of(const double *x, int n)
{
    double m = -HUGE_VAL;
    int i;
    for (i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
    return m;
}

/* --- drive kinds ------------------------------------------------------------------------------------- */

static void profile_with_records(twin_pack *p)
{
    const int n = p->n;
    const long steps = n > 100 ? 240 : 720;
    const double cap = group_capacity(p), dt = 10.0;
    static const double rates[4] = {0.5, 0.0, -1.0, 0.2};
    double *current = alloc_doubles((size_t)steps), *ambient = alloc_doubles((size_t)steps);
    double *rec_v = alloc_doubles((size_t)steps * (size_t)n), *rec_active = alloc_doubles((size_t)steps * (size_t)n);
    double *rec_pack = alloc_doubles((size_t)steps), *rec_time = alloc_doubles((size_t)steps);
    twin_record records[4];
    twin_drive d = drive_of(TWIN_DRIVE_PROFILE, 0.0, 0.0);
    long k, done;
    int reason;
    const double t0 = p->in->time;
    driver_scenario("drive: profile with records");
    for (k = 0; k < steps; ++k) {
        current[k] = cap * rates[(k / 60) % 4];
        ambient[k] = 25.0 + 15.0 * sin((double)k / 50.0);
    }
    d.current = current;
    d.ambient = ambient;
    records[0].src = p->c.cell_voltage, records[0].count = n, records[0].dst = rec_v;
    records[1].src = p->c.balancer_active, records[1].count = n, records[1].dst = rec_active;
    records[2].src = &p->v->pack_voltage, records[2].count = 1, records[2].dst = rec_pack;
    records[3].src = &p->in->time, records[3].count = 1, records[3].dst = rec_time;
    CHECK(run(p, dt, steps, &d, NULL, records, 4, &done, &reason) == TWIN_OK, "profile run refused");
    CHECK(done == steps && reason == TWIN_STOP_STEPS, "profile stopped after %ld steps, reason %d", done, reason);
    CHECK(same_doubles(rec_v + (size_t)(steps - 1) * (size_t)n, p->c.cell_voltage, (size_t)n), "last record != state");
    CHECK(rec_pack[steps - 1] == p->v->pack_voltage, "last pack voltage record != state");
    for (k = 0; k < steps; ++k)
        CHECK(fabs(rec_time[k] - (t0 + (double)(k + 1) * dt)) < 1e-6, "step %ld recorded time %.9g", k, rec_time[k]);
    CHECK(all_finite(rec_v, (int)(steps * n)), "a cell voltage is not finite");
    CHECK(p->v->pack_ambient_temperature == ambient[steps - 1], "the ambient profile was not applied");
    free(current), free(ambient), free(rec_v), free(rec_active), free(rec_pack), free(rec_time);
}

static void current_and_holds(twin_pack *p)
{
    const int n = p->n;
    /* C/4: at C/2 for hours the cells heat past the charge over-temperature limit (and stop) */
    const double cap = group_capacity(p), dt = 30.0, rate = 0.25;
    const long steps = 2000;
    double *rec_v = alloc_doubles((size_t)steps * (size_t)n), *rec_i = alloc_doubles((size_t)steps);
    twin_record records[2];
    twin_drive d;
    twin_stop stop;
    long k, done;
    int reason;
    records[0].src = p->c.cell_voltage, records[0].count = n, records[0].dst = rec_v;
    records[1].src = &p->v->pack_applied_current, records[1].count = 1, records[1].dst = rec_i;

    driver_scenario("drive: cell voltage hold");
    d = drive_of(TWIN_DRIVE_CELL_VOLTAGE, 3.45, rate * cap);
    d.obey_limits = 1;
    twin_stop_none(&stop);
    stop.min_abs_current = cap / 20.0;
    CHECK(run(p, dt, steps, &d, &stop, records, 2, &done, &reason) == TWIN_OK, "hold refused");
    CHECK(reason == TWIN_STOP_CURRENT && done > 10, "the 3.45 V hold did not taper to C/20 (reason %d, %ld steps)",
          reason, done);
    for (k = 0; k < done; ++k) {
        CHECK(rec_i[k] >= 0.0 && rec_i[k] <= rate * cap + 1e-9, "hold step %ld: current %.6g A outside 0 .. limit", k,
              rec_i[k]);
        CHECK(max_of(rec_v + (size_t)k * (size_t)n, n) <= 3.45 + 0.01, "hold step %ld: a cell at %.4f V", k,
              max_of(rec_v + (size_t)k * (size_t)n, n));
    }

    driver_scenario("drive: power to a cell voltage");
    d = drive_of(TWIN_DRIVE_POWER, -rate * cap * 3.2 * n, 1.0 * cap);
    twin_stop_none(&stop);
    stop.min_cell_voltage = 3.0;
    CHECK(run(p, dt, steps, &d, &stop, records, 2, &done, &reason) == TWIN_OK, "power run refused");
    CHECK(reason == TWIN_STOP_MIN_CELL_VOLTAGE, "a C/4 power discharge did not reach 3.0 V (reason %d)", reason);
    for (k = 0; k < done; ++k) CHECK(fabs(rec_i[k]) <= cap + 1e-9, "power step %ld: %.6g A beyond the limit", k, rec_i[k]);

    driver_scenario("drive: constant current to a cell voltage");
    d = drive_of(TWIN_DRIVE_CURRENT, rate * cap, 0.0);
    twin_stop_none(&stop);
    stop.max_cell_voltage = 3.4;
    CHECK(run(p, dt, steps, &d, &stop, records, 2, &done, &reason) == TWIN_OK, "current run refused");
    CHECK(reason == TWIN_STOP_MAX_CELL_VOLTAGE && max_of(p->c.cell_voltage, n) >= 3.4,
          "a C/4 charge did not stop at 3.4 V (reason %d after %ld steps, max %.4f V)", reason, done,
          max_of(p->c.cell_voltage, n));

    driver_scenario("drive: pack voltage holds");
    d = drive_of(TWIN_DRIVE_PACK_VOLTAGE, 3.28 * n, 0.3 * cap);
    CHECK(run(p, dt, 200, &d, NULL, records, 2, &done, &reason) == TWIN_OK && done == 200, "pack hold refused");
    for (k = 0; k < done; ++k) CHECK(rec_i[k] >= 0.0 && rec_i[k] <= 0.3 * cap + 1e-9, "pack hold: %.6g A", rec_i[k]);
    d = drive_of(TWIN_DRIVE_PACK_VOLTAGE, 3.1 * n, -0.3 * cap);
    d.obey_limits = 1;
    CHECK(run(p, dt, 200, &d, NULL, records, 2, &done, &reason) == TWIN_OK && done == 200, "pack hold refused");
    for (k = 0; k < done; ++k) CHECK(rec_i[k] <= 0.0 && rec_i[k] >= -0.3 * cap - 1e-9, "pack hold: %.6g A", rec_i[k]);
    free(rec_v), free(rec_i);
}

static void refused_steps(twin_pack *p)
{
    static const double bad_dt[] = {0.0, -1.0, NAN, HUGE_VAL, -HUGE_VAL};
    double profile[3] = {1.0, NAN, 1.0};
    twin_drive d = drive_of(TWIN_DRIVE_PROFILE, 0.0, 0.0);
    long done;
    int reason;
    size_t k;
    driver_scenario("drive: refused steps");
    p->v->pack_current = 0.0;
    for (k = 0; k < sizeof bad_dt / sizeof *bad_dt; ++k)
        CHECK(twin_step(p, bad_dt[k]) == TWIN_ERR_VALUE, "twin_step accepted dt = %g", bad_dt[k]);
    p->v->pack_current = NAN;
    CHECK(twin_step(p, 1.0) == TWIN_ERR_VALUE, "twin_step accepted a NaN current");
    p->v->pack_current = 0.0;
    p->v->pack_ambient_temperature = HUGE_VAL;
    CHECK(twin_step(p, 1.0) == TWIN_ERR_VALUE, "twin_step accepted an infinite ambient");
    p->v->pack_ambient_temperature = 25.0;
    CHECK(run(p, 1.0, 3, &d, NULL, NULL, 0, &done, &reason) == TWIN_ERR_VALUE && done == 0, "a profile without currents");
    d.current = profile;
    CHECK(run(p, 1.0, 3, &d, NULL, NULL, 0, &done, &reason) == TWIN_ERR_VALUE && done == 1,
          "a NaN in the profile: status after %ld steps", done);
}

/* Steps far outside normal use: the kernel owes no sensible numbers here, only no undefined
 * behaviour (the sanitizers watch), and it must keep stepping. */
static void abuse(twin_pack *p)
{
    static const double dts[] = {1e-9, 3.2e7, 1.0, 1e6};
    static const double currents[] = {1e6, -1e6, 1e12, -1e300, 0.0};
    static const double ambients[] = {1e6, -1e6, -273.15, 25.0};
    size_t a, b;
    driver_scenario("drive: abuse");
    for (a = 0; a < sizeof dts / sizeof *dts; ++a)
        for (b = 0; b < sizeof currents / sizeof *currents; ++b) {
            p->v->pack_current = currents[b];
            p->v->pack_ambient_temperature = ambients[(a + b) % 4];
            CHECK(twin_step(p, dts[a]) == TWIN_OK, "a finite step (dt %g, %g A) was refused", dts[a], currents[b]);
        }
}

static void protection(twin_pack *p)
{
    const twin_settings *s = p->s;
    const double cap = group_capacity(p);
    twin_drive d;
    twin_stop stop;
    long done;
    int reason, k, sensors = 0;
    for (k = 0; k < p->n; ++k) sensors += p->c.cell_temperature_sensor[k] != 0.0;

    driver_scenario("protection: over-current");
    d = drive_of(TWIN_DRIVE_CURRENT, 1.5 * s->protection_charge_overcurrent, 0.0);
    twin_stop_none(&stop);
    stop.on_protection = 1;
    CHECK(run(p, 1.0, 100, &d, &stop, NULL, 0, &done, &reason) == TWIN_OK, "over-current run refused");
    CHECK(reason == TWIN_STOP_PROTECTION && p->v->protection_charge_overcurrent_tripped == 1.0 &&
              p->v->bms_charge_enable == 0.0 && p->v->pack_applied_current == 0.0,
          "1.5 x the charge over-current did not trip it (reason %d after %ld s)", reason, done);
    d = drive_of(TWIN_DRIVE_CURRENT, 0.0, 0.0);
    CHECK(run(p, 10.0, (long)(s->protection_charge_overcurrent_recovery / 10.0) + 2, &d, NULL, NULL, 0, &done, &reason) ==
              TWIN_OK, "recovery run refused");
    CHECK(p->v->protection_charge_overcurrent_tripped == 0.0, "the over-current trip did not recover");

    if (sensors == 0) return;
    driver_scenario("protection: charge over-temperature");
    d = drive_of(TWIN_DRIVE_CURRENT, 0.1 * cap, 0.0);
    p->v->pack_ambient_temperature = s->protection_charge_overtemperature + 40.0;
    CHECK(run(p, 600.0, 200, &d, NULL, NULL, 0, &done, &reason) == TWIN_OK, "hot run refused");
    CHECK(p->v->protection_charge_overtemperature_tripped == 1.0 && p->v->pack_applied_current == 0.0,
          "a pack at %.1f degC ambient did not trip charge over-temperature (hottest reading %.1f degC)",
          p->v->pack_ambient_temperature, p->v->pack_max_temperature);
    driver_scenario("protection: discharge under-temperature");
    d = drive_of(TWIN_DRIVE_CURRENT, -0.1 * cap, 0.0);
    p->v->pack_ambient_temperature = s->protection_discharge_undertemperature - 40.0;
    CHECK(run(p, 600.0, 400, &d, NULL, NULL, 0, &done, &reason) == TWIN_OK, "cold run refused");
    CHECK(p->v->protection_discharge_undertemperature_tripped == 1.0 && p->v->bms_discharge_enable == 0.0,
          "a pack at %.1f degC ambient did not trip discharge under-temperature", p->v->pack_ambient_temperature);
    p->v->pack_ambient_temperature = 25.0;
}

void run_drive_scenarios(const driver_variant *v)
{
    driver_pack dp;
    pack_open(&dp, v->data, LAYOUT_SPLIT, NULL, NULL, NULL, 0);
    profile_with_records(&dp.p);
    current_and_holds(&dp.p);
    refused_steps(&dp.p);
    protection(&dp.p);
    abuse(&dp.p);
    pack_close(&dp);
}

/* --- balancers --------------------------------------------------------------------------------------- */

typedef struct balancer_case {
    int topology, policy, mode, max_cells, no_adjacent, channels;
    double decision_period;
} balancer_case;

static void configure_balancer(twin_pack *p, void *ctx)
{
    const balancer_case *c = (const balancer_case *)ctx;
    int i;
    set_value(p, "balancer.topology", 0, c->topology);
    set_value(p, "balancer.policy", 0, c->policy);
    set_value(p, "balancer.mode", 0, c->mode);
    set_value(p, "balancer.max_cells", 0, c->max_cells);
    set_value(p, "balancer.no_adjacent", 0, c->no_adjacent);
    set_value(p, "balancer.channels", 0, c->channels);
    set_value(p, "balancer.decision_period", 0, c->decision_period);
    set_value(p, "balancer.start_voltage", 0, 0.0);
    set_value(p, "balancer.start_delta", 0, 0.002);
    set_value(p, "balancer.stop_delta", 0, 0.001);
    set_value(p, "balancer.idle_delay", 0, 60.0);
    set_value(p, "balancer.rest_time", 0, 600.0);
    set_value(p, "balancer.soc_start_delta", 0, 0.001);
    set_value(p, "balancer.channel_current", 0, 5.0);
    for (i = 0; i < p->n; ++i) set_value(p, "cell.initial_soc", i, 0.3 + 0.4 * (double)((i * 7) % p->n) / p->n);
}

/* What every step of a balancing run must satisfy (balancer.c's header). */
static void balancer_step_rules(const twin_pack *p, const balancer_case *c, const double *active, long k)
{
    const int n = p->n;
    int i, on = 0;
    for (i = 0; i < n; ++i) {
        CHECK(active[i] == -1.0 || active[i] == 0.0 || active[i] == 1.0, "step %ld: balancer.active[%d] = %g", k, i,
              active[i]);
        on += active[i] == 1.0;
        if (c->topology == TWIN_BALANCER_TOPOLOGY_PASSIVE) CHECK(active[i] >= 0.0, "passive cell %d receives", i);
        if (c->topology == TWIN_BALANCER_TOPOLOGY_PASSIVE && c->policy != TWIN_BALANCER_POLICY_EXTERNAL &&
            c->no_adjacent && i > 0)
            CHECK(!(active[i] == 1.0 && active[i - 1] == 1.0), "step %ld: neighbours %d and %d bleed together", k, i - 1, i);
    }
    if (c->topology == TWIN_BALANCER_TOPOLOGY_PASSIVE && c->policy != TWIN_BALANCER_POLICY_EXTERNAL && c->max_cells > 0)
        CHECK(on <= c->max_cells, "step %ld: %d cells bleed, max_cells is %d", k, on, c->max_cells);
    if (c->topology == TWIN_BALANCER_TOPOLOGY_FLYING_CAPACITOR || c->topology == TWIN_BALANCER_TOPOLOGY_CELL_TO_PACK)
        CHECK(on <= c->channels, "step %ld: %d donors on %d channels", k, on, c->channels);
}

static void balancer_case_run(const driver_variant *v, const balancer_case *c)
{
    /* charge, rest (idle and SOC-history modes start), discharge, rest; a big pack in half the steps */
    const int big = v->data->n_cells > 100;
    const long steps = big ? 110 : 220;
    const double dt = big ? 60.0 : 30.0;
    driver_pack dp;
    twin_pack *p;
    char msg[TWIN_MESSAGE_SIZE];
    double *current, *commands = NULL, *rec_active, moved_cells = 0.0, cap;
    twin_record record;
    twin_drive d = drive_of(TWIN_DRIVE_PROFILE, 0.0, 0.0);
    long k, done;
    int i, reason, refused;
    refused = pack_open(&dp, v->data, LAYOUT_SPLIT, configure_balancer, (void *)c, msg, sizeof msg);
    if (c->policy == TWIN_BALANCER_POLICY_SOC_HISTORY && c->topology != TWIN_BALANCER_TOPOLOGY_PASSIVE) {
        CHECK(refused == TWIN_ERR_VALUE && strstr(msg, "soc_history"), "soc_history with topology %d was not refused: %s",
              c->topology, msg);
        pack_close(&dp);
        return;
    }
    CHECK(!refused, "balancer case (topology %d, policy %d, mode %d) refused: %s", c->topology, c->policy, c->mode, msg);
    p = &dp.p;
    cap = group_capacity(p);
    current = alloc_doubles((size_t)steps);
    rec_active = alloc_doubles((size_t)steps * (size_t)p->n);
    for (k = 0; k < steps; ++k)
        current[k] = k < steps * 2 / 11 ? 0.3 * cap : k < steps * 7 / 11 ? 0.0 : k < steps * 9 / 11 ? -0.3 * cap : 0.0;
    if (c->policy == TWIN_BALANCER_POLICY_EXTERNAL) {
        commands = alloc_doubles((size_t)steps * (size_t)p->n);
        for (k = 0; k < steps; ++k)
            for (i = 0; i < p->n; ++i) commands[k * p->n + i] = (double)((i + k / 10) % 3) - 1.0;
    }
    d.current = current;
    d.commands = commands;
    record.src = p->c.balancer_active, record.count = p->n, record.dst = rec_active;
    CHECK(run(p, dt, steps, &d, NULL, &record, 1, &done, &reason) == TWIN_OK && done == steps, "balancer run refused");
    for (k = 0; k < steps; ++k) balancer_step_rules(p, c, rec_active + (size_t)k * (size_t)p->n, k);
    for (i = 0; i < p->n; ++i) moved_cells += p->c.balancer_bleed_charge[i] + p->c.balancer_transfer_charge_out[i];
    CHECK(fabs(moved_cells - p->v->balancer_charge_moved) <= 1e-9 * fabs(moved_cells) + 1e-12,
          "charge moved %.17g A h, cells account for %.17g A h", p->v->balancer_charge_moved, moved_cells);
    if (c->topology == TWIN_BALANCER_TOPOLOGY_NONE)
        CHECK(p->v->balancer_charge_moved == 0.0, "no balancer moved %.9g A h", p->v->balancer_charge_moved);
    free(current), free(commands), free(rec_active);
    pack_close(&dp);
}

/* Every topology x policy x mode; on a big pack every topology x policy, the mode taking turns. */
void run_balancer_scenarios(const driver_variant *v)
{
    const int big = v->data->n_cells > 100;
    balancer_case c;
    int combo = 0;
    driver_scenario("balancers: topology x policy x mode");
    for (c.topology = 0; c.topology <= TWIN_BALANCER_TOPOLOGY_PACK_TO_CELL; ++c.topology)
        for (c.policy = 0; c.policy <= TWIN_BALANCER_POLICY_EXTERNAL; ++c.policy)
            for (c.mode = 0; c.mode <= TWIN_BALANCER_MODE_ALWAYS; ++c.mode, ++combo) {
                if (big && c.mode != (c.topology + c.policy) % 3) continue;
                c.max_cells = combo % 3;
                c.no_adjacent = combo % 2;
                c.channels = 1 + combo % (v->data->n_cells + 1);
                c.decision_period = combo % 4 == 0 ? 0.0 : 10.0;
                balancer_case_run(v, &c);
            }
}

/* --- faults ------------------------------------------------------------------------------------------- */

typedef struct fault_plan {
    const char *id;
    double value, repair;
} fault_plan;

static const fault_plan FAULTS[] = {
    {"fault.leak_current", 5.0, 0.0},       {"fault.series_resistance", 2e-3, 0.0}, {"fault.capacity_loss", 0.2, 0.0},
    {"fault.voltage_offset", 0.05, 0.0},    {"fault.voltage_gain_error", 0.02, 0.0},
    {"fault.temperature_offset", 10.0, 0.0}, {"fault.balancer_stuck", TWIN_BALANCER_STUCK_ON, TWIN_BALANCER_STUCK_NONE},
    {"fault.balancer_stuck", TWIN_BALANCER_STUCK_OFF, TWIN_BALANCER_STUCK_NONE},
};
#define N_FAULTS ((int)(sizeof FAULTS / sizeof *FAULTS))

/* Fault f's cell: spread over the pack, the first on cell 0, a temperature fault on a sensed cell. */
static int fault_cell(const twin_pack *p, int f)
{
    int i;
    if (strcmp(FAULTS[f].id, "fault.temperature_offset") == 0) {
        for (i = p->n - 1; i >= 0; --i)
            if (p->c.cell_temperature_sensor[i] != 0.0) return i;
    }
    return f == N_FAULTS - 1 ? p->n - 1 : (f * 3) % p->n;
}

typedef struct fault_events {
    twin_fault_event *events;
    long count;
} fault_events;

/* configure hook of pack_open: a copy of the plan replaces the variant's events (pack_close frees it) */
static void install_events(twin_pack *p, void *ctx)
{
    const fault_events *fe = (const fault_events *)ctx;
    twin_fault_event *copy = (twin_fault_event *)malloc((size_t)fe->count * sizeof *copy);
    CHECK(copy != NULL, "out of memory");
    memcpy(copy, fe->events, (size_t)fe->count * sizeof *copy);
    free((void *)p->events);
    p->events = copy;
    p->n_events = fe->count;
}

/* Every kind at 60 s intervals from t = 0 (two at the same time), repaired from t = 3000 s. */
static fault_events plan_events(int n_cells, const twin_pack *layout_source)
{
    fault_events fe;
    int f;
    fe.count = 2 * N_FAULTS;
    fe.events = (twin_fault_event *)malloc((size_t)fe.count * sizeof *fe.events);
    CHECK(fe.events != NULL, "out of memory");
    for (f = 0; f < N_FAULTS; ++f) {
        twin_fault_event *on = &fe.events[f], *off = &fe.events[N_FAULTS + f];
        on->time = f < 2 ? 0.0 : 60.0 * f;
        on->cell = off->cell = fault_cell(layout_source, f);
        on->vr = off->vr = vr_of(FAULTS[f].id);
        on->value = FAULTS[f].value;
        off->time = 3000.0 + 60.0 * f;
        off->value = FAULTS[f].repair;
    }
    (void)n_cells;
    return fe;
}

static void check_fault_effects(const twin_pack *p, int repaired)
{
    const twin_settings *s = p->s;
    int f;
    for (f = 0; f < N_FAULTS; ++f) {
        const int c = fault_cell(p, f);
        double want = repaired ? FAULTS[f].repair : FAULTS[f].value, got;
        int clash = 0, g;
        for (g = f + 1; g < N_FAULTS; ++g) clash |= fault_cell(p, g) == c && strcmp(FAULTS[g].id, FAULTS[f].id) == 0;
        if (clash) continue; /* a later event on the same variable and cell decides */
        got = twin_get((twin_pack *)p, vr_of(FAULTS[f].id), c, &got) == TWIN_OK ? got : NAN;
        CHECK(got == want, "%s[%d] is %.9g, its event set %.9g", FAULTS[f].id, c, got, want);
    }
    if (repaired) return;
    {
        const int c = fault_cell(p, 2); /* capacity loss */
        const double want = 3600.0 * p->c.cell_capacity[c] * s->pack_cells_in_parallel * (1.0 - p->c.cell_capacity_fade[c]) *
                            (1.0 - p->c.fault_capacity_loss[c]) / 3600.0;
        CHECK(fabs(p->c.cell_present_capacity[c] - want) <= 1e-12 * want, "cell %d: present capacity %.12g A h, want %.12g",
              c, p->c.cell_present_capacity[c], want);
    }
    if (s->sensor_voltage_noise == 0.0) { /* the reading = v (1 + gain) + offset, to the ADC step */
        int i;
        for (i = 0; i < p->n; ++i) {
            const double exact = p->c.cell_voltage[i] * (1.0 + p->c.fault_voltage_gain_error[i]) + p->c.fault_voltage_offset[i];
            CHECK(fabs(p->c.cell_voltage_measured[i] - exact) <= 0.5 * s->sensor_voltage_resolution + 1e-12,
                  "cell %d reads %.9g V, its voltage with the sensor faults is %.9g V", i, p->c.cell_voltage_measured[i],
                  exact);
        }
    }
    if (s->balancer_topology == TWIN_BALANCER_TOPOLOGY_PASSIVE && s->balancer_policy != TWIN_BALANCER_POLICY_EXTERNAL) {
        const int on = fault_cell(p, 6), off = fault_cell(p, 7);
        if (on != off) CHECK(p->c.balancer_bleed_current[on] > 0.0, "cell %d is stuck on but does not bleed", on);
        CHECK(p->c.balancer_bleed_current[off] == 0.0, "cell %d is stuck off but bleeds", off);
    }
}

static void refused_events(const driver_variant *v)
{
    static const struct {
        int cell_delta; /* cell = n + this (or this when >= 0 and small) */
        double time, value;
        const char *id, *expect;
    } bad[] = {
        {0, 0.0, 1.0, "fault.leak_current", "the pack has cells"},       /* cell n */
        {-1000000, 0.0, 1.0, "fault.leak_current", "the pack has cells"}, /* a negative cell */
        {1, NAN, 1.0, "fault.leak_current", "sorted by time"},
        {1, 0.0, 1.0, "cell.capacity", "not a fault"},
        {1, 0.0, 1e9, "fault.leak_current", "outside the allowed range"},
        {1, -1.0, 1.0, "fault.leak_current", "sorted by time"}, /* after an event at t = 0 */
    };
    size_t k;
    driver_scenario("faults: refused events");
    for (k = 0; k < sizeof bad / sizeof *bad; ++k) {
        twin_fault_event *events = (twin_fault_event *)malloc(2 * sizeof *events);
        fault_events fe;
        driver_pack dp;
        char msg[TWIN_MESSAGE_SIZE];
        const int n = v->data->n_cells;
        CHECK(events != NULL, "out of memory");
        events[0].time = 0.0, events[0].cell = 0, events[0].vr = vr_of("fault.leak_current"), events[0].value = 0.5;
        events[1].time = bad[k].time;
        events[1].cell = bad[k].cell_delta == 0 ? n : bad[k].cell_delta < 0 ? bad[k].cell_delta : n - 1;
        events[1].vr = vr_of(bad[k].id);
        events[1].value = bad[k].value;
        fe.events = events, fe.count = 2;
        CHECK(pack_open(&dp, v->data, LAYOUT_SPLIT, install_events, &fe, msg, sizeof msg) == TWIN_ERR_VALUE &&
                  strstr(msg, bad[k].expect) != NULL,
              "bad event %lu passed the check or was refused for another reason: %s", (unsigned long)k, msg);
        pack_close(&dp);
        free(events);
    }
}

void run_fault_scenarios(const driver_variant *v)
{
    driver_pack dp;
    fault_events fe;
    twin_drive d = drive_of(TWIN_DRIVE_PROFILE, 0.0, 0.0);
    const long steps = 200;
    double *current = alloc_doubles((size_t)steps);
    long k, done;
    int reason;
    driver_scenario("faults: every kind scheduled, then repaired");
    pack_open(&dp, v->data, LAYOUT_SPLIT, NULL, NULL, NULL, 0); /* only to place the faults */
    fe = plan_events(dp.p.n, &dp.p);
    pack_close(&dp);
    CHECK(pack_open(&dp, v->data, LAYOUT_SPLIT, install_events, &fe, NULL, 0) == 0, "the fault plan was refused");
    for (k = 0; k < steps; ++k) current[k] = group_capacity(&dp.p) * (k % 50 < 25 ? 0.2 : -0.2);
    d.current = current;
    CHECK(run(&dp.p, 12.0, steps, &d, NULL, NULL, 0, &done, &reason) == TWIN_OK && done == steps, "fault run refused");
    check_fault_effects(&dp.p, 0);
    CHECK(run(&dp.p, 12.0, steps, &d, NULL, NULL, 0, &done, &reason) == TWIN_OK && done == steps, "repair run refused");
    check_fault_effects(&dp.p, 1);
    pack_close(&dp);
    /* every kind at the far end of its range, the same cells: no numbers owed, no undefined behaviour */
    driver_scenario("faults: every kind at its limits");
    for (k = 0; k < N_FAULTS; ++k) {
        const twin_var_info *info = twin_var_by_vr(fe.events[k].vr);
        fe.events[k].value = k % 2 ? info->max : (info->min != 0.0 ? info->min : info->max);
        fe.events[N_FAULTS + k].value = k % 2 ? info->min : info->max;
    }
    CHECK(pack_open(&dp, v->data, LAYOUT_SPLIT, install_events, &fe, NULL, 0) == 0, "the extreme fault plan was refused");
    CHECK(run(&dp.p, 12.0, steps, &d, NULL, NULL, 0, &done, &reason) == TWIN_OK, "extreme fault run refused");
    pack_close(&dp);
    free(fe.events);
    free(current);
    refused_events(v);
}
