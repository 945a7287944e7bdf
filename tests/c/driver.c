/* The driver's main program, its pack set-up, and the API scenarios: access by value reference,
 * binding, the checks' refusals, state copies and the OCV inversion. See driver.h.
 *
 * Usage: driver [-v] [variant ...]   (no variant: every one in variants.c; -v: time each scenario). Exit status 0 when every
 * check held; 1 with a message naming the variant, scenario, file and line otherwise. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver.h"

static const char *current_variant = "-";
static const char *current_scenario = "-";
static int verbose = 0;
static clock_t scenario_start;

void driver_note(const char *fmt, ...)
{
    va_list ap;
    if (!verbose) return;
    printf("    ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* With -v, each scenario's name, then its notes and its CPU time (to keep the whole run short:
 * tests/test_sanitizers.py). */
void driver_scenario(const char *name)
{
    const clock_t now = clock();
    if (verbose && current_scenario[0] != '-')
        printf("    %.2f s\n", (double)(now - scenario_start) / CLOCKS_PER_SEC);
    if (verbose && name[0] != '-') printf("  %s\n", name);
    current_scenario = name;
    scenario_start = now;
}

void driver_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAILED variant %s, scenario %s (%s:%d): ", current_variant, current_scenario, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* --- helpers ---------------------------------------------------------------------------------------- */

double *alloc_doubles(size_t n)
{
    double *x = (double *)calloc(n > 0 ? n : 1, sizeof(double));
    CHECK(x != NULL, "out of memory for %lu doubles", (unsigned long)n);
    return x;
}

int same_doubles(const double *a, const double *b, size_t n) { return memcmp(a, b, n * sizeof(double)) == 0; }

int all_finite(const double *x, int n)
{
    int i;
    for (i = 0; i < n; ++i)
        if (!isfinite(x[i])) return 0;
    return 1;
}

const twin_var_info *info_of(const char *id)
{
    int k;
    for (k = 0; k < TWIN_N_VARS; ++k)
        if (strcmp(twin_vars[k].id, id) == 0) return &twin_vars[k];
    driver_fail(__FILE__, __LINE__, "twin_vars has no %s", id);
}

unsigned int vr_of(const char *id) { return info_of(id)->vr; }

void set_value(twin_pack *p, const char *id, int index, double value)
{
    char msg[TWIN_MESSAGE_SIZE];
    twin_status st = twin_set(p, vr_of(id), index, value, msg, sizeof msg);
    CHECK(st == TWIN_OK, "twin_set(%s[%d], %.17g) refused: %s", id, index, value, msg);
}

/* --- packs ------------------------------------------------------------------------------------------ */

/* Every array, plane set and struct of the pack in an allocation of its own (driver.h). */
static void split_layout(twin_pack *p)
{
    const size_t n = (size_t)p->n;
    p->s = (twin_settings *)calloc(1, sizeof *p->s);
    p->v = (twin_pack_vars *)calloc(1, sizeof *p->v);
    p->in = (twin_internal *)calloc(1, sizeof *p->in);
    p->order = (int *)calloc(n, sizeof(int));
    CHECK(p->s && p->v && p->in && p->order, "out of memory");
#define SPLIT(name) p->c.name = alloc_doubles(n);
    TWIN_CELL_ARRAYS(SPLIT)
#undef SPLIT
#define SPLIT(name) p->x.name = alloc_doubles(n);
    TWIN_INTERNAL_ARRAYS(SPLIT)
#undef SPLIT
    p->coef = alloc_doubles(TWIN_COEF_DOUBLES(n));
    p->det_planes = alloc_doubles((size_t)TWIN_DET_PLANES * n);
}

static void free_split_layout(twin_pack *p)
{
    free(p->s);
    free(p->v);
    free(p->in);
    free(p->order);
#define UNSPLIT(name) free(p->c.name);
    TWIN_CELL_ARRAYS(UNSPLIT)
#undef UNSPLIT
#define UNSPLIT(name) free(p->x.name);
    TWIN_INTERNAL_ARRAYS(UNSPLIT)
#undef UNSPLIT
    free(p->coef);
    free(p->det_planes);
}

/* The variant's tables and events in allocations of exactly their size (so that valgrind, which
 * does not see past the end of a global, sees past the end of these). */
static void own_tables_and_events(twin_pack *p, const twin_fmu_data *d)
{
    const twin_tables *t = &d->tables;
    const size_t count = (size_t)t->n_soc * (size_t)t->n_temp * (size_t)twin_table_columns(t->n_rc);
    double *values = alloc_doubles(count);
    memcpy(values, t->values, count * sizeof(double));
    p->tables = *t;
    p->tables.values = values;
    p->events = NULL;
    p->n_events = 0;
    if (d->n_events > 0) {
        twin_fault_event *events = (twin_fault_event *)malloc((size_t)d->n_events * sizeof *events);
        CHECK(events != NULL, "out of memory");
        memcpy(events, d->events, (size_t)d->n_events * sizeof *events);
        p->events = events;
        p->n_events = d->n_events;
    }
}

int pack_open(driver_pack *dp, const twin_fmu_data *d, driver_layout layout, void (*configure)(twin_pack *, void *),
              void *ctx, char *msg, size_t msg_size)
{
    const size_t size = twin_pack_block_size(d->n_cells);
    char own[TWIN_MESSAGE_SIZE];
    twin_status st;
    long k;
    if (msg == NULL) msg = own, msg_size = sizeof own;
    memset(dp, 0, sizeof *dp);
    dp->layout = layout;
    dp->data = d;
    CHECK(size > 0, "twin_pack_block_size(%d) = 0", d->n_cells);
    dp->block = malloc(size);
    CHECK(dp->block != NULL, "out of memory for a block of %lu bytes", (unsigned long)size);
    CHECK(twin_pack_bind(&dp->p, d->n_cells, dp->block, size) == TWIN_OK, "twin_pack_bind refused %d cells", d->n_cells);
    if (layout == LAYOUT_SPLIT) split_layout(&dp->p);
    /* as fmu/model.c's apply_starts, but every value must be accepted */
    twin_pack_defaults(&dp->p);
    for (k = 0; k < d->n_starts; ++k) {
        st = twin_set(&dp->p, d->starts[k].vr, d->starts[k].index, d->starts[k].value, msg, msg_size);
        CHECK(st == TWIN_OK, "start value %ld (vr %u[%d] = %.17g) refused: %s", k, d->starts[k].vr, d->starts[k].index,
              d->starts[k].value, msg);
    }
    own_tables_and_events(&dp->p, d);
    if (configure != NULL) {
        configure(&dp->p, ctx);
        st = twin_pack_check(&dp->p, msg, msg_size);
        if (st != TWIN_OK) return (int)st;
    } else {
        st = twin_pack_check(&dp->p, msg, msg_size);
        CHECK(st == TWIN_OK, "twin_pack_check refused the variant: %s", msg);
    }
    twin_pack_init(&dp->p);
    return 0;
}

void pack_close(driver_pack *dp)
{
    free((void *)dp->p.tables.values);
    free((void *)dp->p.events);
    if (dp->layout == LAYOUT_SPLIT) free_split_layout(&dp->p);
    free(dp->block);
    memset(dp, 0, sizeof *dp);
}

/* --- API scenarios ------------------------------------------------------------------------------------ */

static void bind_refusals(const driver_variant *v)
{
    const int n = v->data->n_cells;
    const size_t size = twin_pack_block_size(n);
    twin_pack p;
    char *block = (char *)malloc(size + 8);
    driver_scenario("bind refusals");
    CHECK(block != NULL, "out of memory");
    CHECK(twin_pack_block_size(0) == 0 && twin_pack_block_size(-1) == 0, "block size for no cells is not 0");
    CHECK(twin_pack_block_size(n + 1) > size, "block size does not grow with the cell count");
    CHECK(twin_pack_bind(&p, n, block, size - 1) == TWIN_ERR_SIZE, "bind accepted a block one byte short");
    CHECK(twin_pack_bind(&p, n, block + 4, size) == TWIN_ERR_SIZE, "bind accepted a misaligned block");
    CHECK(twin_pack_bind(&p, n, NULL, size) == TWIN_ERR_SIZE, "bind accepted no block");
    CHECK(twin_pack_bind(&p, 0, block, size) == TWIN_ERR_SIZE, "bind accepted 0 cells");
    CHECK(twin_pack_bind(&p, n, block + 8, size) == TWIN_OK, "bind refused an aligned block of the exact size");
    CHECK((char *)(p.order + n) <= block + 8 + size, "the layout's last array ends past the block");
    free(block);
}

/* A message buffer of exactly `size` bytes (so an overlong message is a heap overflow). */
static void set_with_message(twin_pack *p, unsigned int vr, int index, double value, size_t size, twin_status *st)
{
    char *msg = size > 0 ? (char *)malloc(size) : NULL;
    *st = twin_set(p, vr, index, value, msg, size);
    if (size > 0) {
        CHECK(*st == TWIN_OK || memchr(msg, '\0', size) != NULL, "twin_set left an unterminated message (vr %u)", vr);
        free(msg);
    }
}

static void access_by_reference(const driver_variant *v)
{
    static const double odd_values[] = {NAN, HUGE_VAL, -HUGE_VAL, 1e308, -1e308, 0.5, -1.0, 0.0, 1e-310};
    static const size_t msg_sizes[] = {0, 1, 7, TWIN_MESSAGE_SIZE};
    static const unsigned int unknown[] = {0u, 9999u, 0xFFFFFFFFu};
    driver_pack dp;
    twin_pack *p;
    int k, i;
    size_t j, m;
    driver_scenario("access by value reference");
    pack_open(&dp, v->data, LAYOUT_SPLIT, NULL, NULL, NULL, 0);
    p = &dp.p;
    for (k = 0; k < TWIN_N_VARS; ++k) {
        const twin_var_info *info = &twin_vars[k];
        const int len = info->where == TWIN_WHERE_CELLS ? p->n : info->length;
        const int is_int = info->where == TWIN_WHERE_SETTINGS && info->type != TWIN_TYPE_REAL;
        const int edges[2] = {0, len - 1};
        double value, before;
        twin_status st;
        CHECK(twin_var_by_vr(info->vr) == info, "twin_var_by_vr(%u) does not find %s", info->vr, info->id);
        CHECK(twin_real_ref(p, info->vr, -1) == NULL && twin_real_ref(p, info->vr, len) == NULL,
              "%s: a reference outside 0 .. %d", info->id, len - 1);
        CHECK(twin_int_ref(p, info->vr, -1) == NULL && twin_int_ref(p, info->vr, len) == NULL,
              "%s: an integer reference outside 0 .. %d", info->id, len - 1);
        CHECK(twin_get(p, info->vr, len, &value) == TWIN_ERR_SIZE && twin_get(p, info->vr, -1, &value) == TWIN_ERR_SIZE,
              "%s: get outside 0 .. %d", info->id, len - 1);
        for (i = 0; i < 2; ++i) {
            CHECK(is_int ? twin_int_ref(p, info->vr, edges[i]) != NULL : twin_real_ref(p, info->vr, edges[i]) != NULL,
                  "%s[%d]: no reference", info->id, edges[i]);
            CHECK(twin_get(p, info->vr, edges[i], &before) == TWIN_OK, "%s[%d]: get refused", info->id, edges[i]);
            if (info->causality == TWIN_CAUSALITY_PARAMETER) { /* a checked pack's own value is accepted */
                st = twin_set(p, info->vr, edges[i], before, NULL, 0);
                CHECK(st == TWIN_OK, "%s[%d] = %.17g (its own value) refused", info->id, edges[i], before);
                CHECK(twin_get(p, info->vr, edges[i], &value) == TWIN_OK && memcmp(&value, &before, sizeof value) == 0,
                      "%s[%d] changed when set to its own value", info->id, edges[i]);
            }
        }
        /* a valid value at an element that does not exist, and odd values with short messages */
        twin_get(p, info->vr, 0, &before);
        set_with_message(p, info->vr, len, before, TWIN_MESSAGE_SIZE, &st);
        CHECK(st != TWIN_OK, "%s[%d] (past the end) was accepted", info->id, len);
        for (j = 0; j < sizeof odd_values / sizeof *odd_values; ++j)
            for (m = 0; m < sizeof msg_sizes / sizeof *msg_sizes; ++m) {
                set_with_message(p, info->vr, edges[(j + m) % 2], odd_values[j], msg_sizes[m], &st);
                if (st == TWIN_OK && !is_int) {
                    CHECK(twin_get(p, info->vr, edges[(j + m) % 2], &value) == TWIN_OK &&
                              memcmp(&value, &odd_values[j], sizeof value) == 0,
                          "%s: an accepted value was not stored", info->id);
                }
            }
    }
    for (j = 0; j < sizeof unknown / sizeof *unknown; ++j) {
        double value;
        twin_status st;
        CHECK(twin_real_ref(p, unknown[j], 0) == NULL && twin_int_ref(p, unknown[j], 0) == NULL, "vr %u has a reference",
              unknown[j]);
        CHECK(twin_get(p, unknown[j], 0, &value) == TWIN_ERR_UNKNOWN, "vr %u: get did not say unknown", unknown[j]);
        set_with_message(p, unknown[j], 0, 1.0, 7, &st);
        CHECK(st == TWIN_ERR_UNKNOWN, "vr %u: set did not say unknown", unknown[j]);
    }
    for (j = 0; j < 1000; ++j) { /* binary search against a linear one */
        const twin_var_info *found = twin_var_by_vr((unsigned int)j), *linear = NULL;
        for (k = 0; k < TWIN_N_VARS; ++k)
            if (twin_vars[k].vr == (unsigned int)j) linear = &twin_vars[k];
        CHECK(found == linear, "twin_var_by_vr(%lu) disagrees with a linear search", (unsigned long)j);
    }
    pack_close(&dp);
}

/* Settings each valid alone but contradicting another: refused, naming both. */
static void crossed_settings(twin_pack *p)
{
    static const struct {
        const char *id, *other;
        int index;
    } pairs[] = {
        {"protection.cell_overvoltage_release", "protection.cell_overvoltage", 0},
        {"protection.cell_undervoltage_release", "protection.cell_undervoltage", 0},
        {"protection.charge_overtemperature_release", "protection.charge_overtemperature", 0},
        {"protection.discharge_overtemperature_release", "protection.discharge_overtemperature", 0},
        {"protection.charge_undertemperature_release", "protection.charge_undertemperature", 0},
        {"protection.discharge_undertemperature_release", "protection.discharge_undertemperature", 0},
        {"balancer.stop_delta", "balancer.start_delta", 0},
        {"limits.ccl_voltage", "limits.ccl_voltage", 3},
        {"limits.dcl_voltage", "limits.dcl_voltage", 3},
    };
    char msg[TWIN_MESSAGE_SIZE];
    size_t k;
    for (k = 0; k < sizeof pairs / sizeof *pairs; ++k) {
        double *a = twin_real_ref(p, vr_of(pairs[k].id), pairs[k].index);
        const double keep = *a, other = *twin_real_ref(p, vr_of(pairs[k].other), 0);
        /* a release beyond its threshold on the wrong side; the last step of a ladder out of order */
        *a = strstr(pairs[k].id, "under") || strstr(pairs[k].id, "ccl") ? other - 1.0 : other + 1.0;
        if (strcmp(pairs[k].id, "balancer.stop_delta") == 0) *a = other + 0.001;
        CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_ERR_VALUE && strstr(msg, pairs[k].id),
              "%s = %g against %s = %g passed: %s", pairs[k].id, *a, pairs[k].other, other, msg);
        *a = keep;
    }
    CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_OK, "the restored settings fail: %s", msg);
}

/* twin_pack_check's refusals, each with a message that names what is wrong. */
static void check_refusals(const driver_variant *v)
{
    driver_pack dp;
    twin_pack *p;
    twin_tables good;
    double *bad_values;
    size_t count;
    char msg[TWIN_MESSAGE_SIZE], tiny[1];
    int *cells;
    driver_scenario("check refusals");
    pack_open(&dp, v->data, LAYOUT_SPLIT, NULL, NULL, NULL, 0);
    p = &dp.p;
    good = p->tables;
    cells = twin_int_ref(p, vr_of("pack.cells_in_series"), 0);
    *cells = p->n + 1;
    CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_ERR_VALUE && strstr(msg, "cells_in_series"),
          "a wrong cell count passed: %s", msg);
    CHECK(twin_pack_check(p, tiny, sizeof tiny) == TWIN_ERR_VALUE && tiny[0] == '\0', "a 1-byte message overflowed");
    CHECK(twin_pack_check(p, NULL, 0) == TWIN_ERR_VALUE, "check without a message buffer");
    *cells = p->n;
    p->tables.n_rc = TWIN_MAX_RC + 1;
    CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_ERR_VALUE && strstr(msg, "RC pairs"), "4 RC pairs passed: %s", msg);
    p->tables = good;
    p->tables.n_soc = 1;
    CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_ERR_VALUE, "a 1-point SOC table passed");
    p->tables = good;
    p->tables.values = NULL;
    CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_ERR_VALUE && strstr(msg, "missing"), "missing tables passed");
    /* a bad number in the last row's last column of the table: the check reads every value */
    count = (size_t)good.n_soc * (size_t)good.n_temp * (size_t)twin_table_columns(good.n_rc);
    bad_values = alloc_doubles(count);
    memcpy(bad_values, good.values, count * sizeof(double));
    bad_values[count - 1] = NAN;
    p->tables = good;
    p->tables.values = bad_values;
    CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_ERR_VALUE && strstr(msg, "finite"), "a NaN in the table passed: %s",
          msg);
    bad_values[count - 1] = good.values[count - 1];
    { /* a charge branch below the discharge branch, in the last row */
        const size_t row = count - (size_t)twin_table_columns(good.n_rc);
        bad_values[row + TWIN_COL_OCV_CHARGE] = bad_values[row + TWIN_COL_OCV_DISCHARGE] - 0.01;
    }
    CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_ERR_VALUE && strstr(msg, "below cell.ocv_discharge"),
          "crossed OCV branches passed: %s", msg);
    p->tables = good;
    free(bad_values);
    p->tables.soc_step = NAN;
    CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_ERR_VALUE && strstr(msg, "table_soc"), "a NaN SOC step passed");
    p->tables = good;
    p->tables.n_temp = 2;
    p->tables.temp_step = -1.0;
    CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_ERR_VALUE && strstr(msg, "table_temperature"),
          "a descending temperature grid passed: %s", msg);
    p->tables = good;
    CHECK(twin_pack_check(p, msg, sizeof msg) == TWIN_OK, "the restored pack fails: %s", msg);
    crossed_settings(p);
    pack_close(&dp);
}

/* Compare two packs' whole state, array by array (the layouts may differ). */
void driver_same_state(const twin_pack *a, const twin_pack *b, const char *what)
{
    const size_t n = (size_t)a->n;
    CHECK(memcmp(a->s, b->s, sizeof *a->s) == 0, "%s: settings differ", what);
    CHECK(memcmp(a->v, b->v, sizeof *a->v) == 0, "%s: pack variables differ", what);
    CHECK(memcmp(a->in, b->in, sizeof *a->in) == 0, "%s: internal state differs", what);
#define SAME(name) CHECK(same_doubles(a->c.name, b->c.name, n), "%s: %s differs", what, #name);
    TWIN_CELL_ARRAYS(SAME)
#undef SAME
#define SAME(name) CHECK(same_doubles(a->x.name, b->x.name, n), "%s: internal %s differs", what, #name);
    TWIN_INTERNAL_ARRAYS(SAME)
#undef SAME
    CHECK(same_doubles(a->coef, b->coef, TWIN_COEF_DOUBLES(n)), "%s: coefficients differ", what);
    CHECK(same_doubles(a->det_planes, b->det_planes, TWIN_DET_PLANES * n), "%s: detector planes differ", what);
}

/* A byte copy of a block is the same twin (what FMU states rely on), and the split layout computes
 * exactly what the block layout does (what this driver relies on). */
static void state_copies(const driver_variant *v)
{
    const int n = v->data->n_cells;
    const long steps = n > 100 ? 60 : 400;
    driver_pack a, c;
    twin_pack b;
    void *copy;
    double *profile = alloc_doubles((size_t)steps), capacity;
    twin_drive drive;
    twin_stop stop;
    long k, done;
    int reason, round;
    driver_scenario("state copies");
    pack_open(&a, v->data, LAYOUT_BLOCK, NULL, NULL, NULL, 0);
    pack_open(&c, v->data, LAYOUT_SPLIT, NULL, NULL, NULL, 0);
    driver_same_state(&a.p, &c.p, "after init, block and split layouts");
    copy = malloc(a.p.block_size);
    CHECK(copy != NULL, "out of memory");
    capacity = a.p.c.cell_capacity[0] * a.p.s->pack_cells_in_parallel;
    for (k = 0; k < steps; ++k) profile[k] = capacity * ((k / 40) % 3 == 0 ? 0.5 : (k / 40) % 3 == 1 ? -0.8 : 0.0);
    memset(&drive, 0, sizeof drive);
    drive.kind = TWIN_DRIVE_PROFILE;
    drive.current = profile;
    twin_stop_none(&stop);
    for (round = 0; round < 2; ++round) {
        memcpy(copy, a.p.block, a.p.block_size);
        CHECK(twin_pack_bind(&b, n, copy, a.p.block_size) == TWIN_OK, "bind of the copy refused");
        b.tables = a.p.tables;
        b.events = a.p.events;
        b.n_events = a.p.n_events;
        CHECK(twin_run(&a.p, 30.0, steps, &drive, &stop, NULL, 0, &done, &reason) == TWIN_OK && done == steps, "run A");
        CHECK(twin_run(&b, 30.0, steps, &drive, &stop, NULL, 0, &done, &reason) == TWIN_OK && done == steps, "run B");
        CHECK(twin_run(&c.p, 30.0, steps, &drive, &stop, NULL, 0, &done, &reason) == TWIN_OK && done == steps, "run C");
        CHECK(memcmp(a.p.block, copy, a.p.block_size) == 0, "round %d: the copied block ran differently", round);
        driver_same_state(&a.p, &c.p, "after a run, block and split layouts");
    }
    free(copy);
    free(profile);
    pack_close(&a);
    pack_close(&c);
}

/* twin_soc_from_ocv: inside the table's SOC range for any voltage and temperature, and never
 * decreasing in the voltage. */
static void ocv_inversion(const driver_variant *v)
{
    static const double odd[] = {NAN, HUGE_VAL, -HUGE_VAL, 1e308, -1e308, 1e-310, 0.0};
    driver_pack dp;
    const twin_tables *t = (pack_open(&dp, v->data, LAYOUT_SPLIT, NULL, NULL, NULL, 0), &dp.p.tables); /* heap copy */
    const double lo = t->soc_first, hi = t->soc_first + (t->n_soc - 1) * t->soc_step;
    const double temps[] = {-60.0, t->temp_first, t->temp_first + 0.5 * (t->n_temp - 1) * t->temp_step,
                            t->temp_first + (t->n_temp - 1) * t->temp_step, 150.0, NAN, HUGE_VAL};
    size_t j, k;
    driver_scenario("OCV inversion");
    for (j = 0; j < sizeof temps / sizeof *temps; ++j) {
        double prev = -HUGE_VAL;
        int mv;
        for (mv = 1500; mv <= 4500; ++mv) {
            const double soc = twin_soc_from_ocv(t, mv * 1e-3, temps[j]);
            CHECK(soc >= lo && soc <= hi, "SOC %.9g for %d mV at %g degC is outside the table", soc, mv, temps[j]);
            CHECK(soc >= prev, "SOC decreases from %.9g to %.9g at %d mV, %g degC", prev, soc, mv, temps[j]);
            prev = soc;
        }
        for (k = 0; k < sizeof odd / sizeof *odd; ++k) {
            const double soc = twin_soc_from_ocv(t, odd[k], temps[j]);
            CHECK(soc >= lo && soc <= hi, "SOC %.9g for %g V is outside the table", soc, odd[k]);
        }
    }
    pack_close(&dp);
}

void run_api_scenarios(const driver_variant *v)
{
    bind_refusals(v);
    access_by_reference(v);
    check_refusals(v);
    state_copies(v);
    ocv_inversion(v);
}

int main(int argc, char **argv)
{
    int k, a, ran = 0, named = 0;
    for (a = 1; a < argc; ++a) {
        if (strcmp(argv[a], "-v") == 0) verbose = 1;
        else named = 1;
    }
    for (k = 0; k < driver_n_variants; ++k) {
        const driver_variant *v = &driver_variants[k];
        int wanted = !named;
        for (a = 1; a < argc; ++a) wanted |= strcmp(argv[a], v->name) == 0;
        if (!wanted) continue;
        current_variant = v->name;
        run_api_scenarios(v);
        run_drive_scenarios(v);
        run_balancer_scenarios(v);
        run_fault_scenarios(v);
        run_detector_scenarios(v);
        run_firmware_scenarios(v);
        driver_scenario("-");
        printf("%s: %d cells, every scenario passed\n", v->name, v->data->n_cells);
        fflush(stdout);
        ++ran;
    }
    for (a = 1; a < argc; ++a) {
        int known = strcmp(argv[a], "-v") == 0;
        for (k = 0; k < driver_n_variants; ++k) known |= strcmp(argv[a], driver_variants[k].name) == 0;
        CHECK(known, "no variant %s", argv[a]);
    }
    CHECK(ran > 0, "no variant ran");
    return 0;
}
