/* The twin as a co-simulation model (see model.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model.h"

#define STATE_MAGIC "TWINFMU"
#define STATE_LAYOUT 2u /* 2: the kernel caches table coefficients by blocks of cells */

/* Whole internal steps within this fraction of a step of h count as whole (h / dt rounding), and
 * a shorter last step below it is dropped: the communication time stays exact either way. */
#define STEP_SNAP 1e-9

typedef struct state_header {
    char magic[8];
    uint32_t layout;
    uint32_t n_cells;
    uint64_t build;        /* hash of the instantiation token: the same FMU build */
    uint64_t block_size;
    uint64_t total_size;
    uint64_t checksum;     /* of the block: set when serialized (bytes that leave the process), 0 in memory */
    double time, internal_step;
    int32_t initialized, parameters_changed, residuals_stale, reserved;
} state_header;

static uint64_t fnv1a(const char *text)
{
    uint64_t h = 1469598103934665603ull;
    for (; *text; ++text) h = (h ^ (unsigned char)*text) * 1099511628211ull;
    return h;
}

static uint64_t fnv1a_bytes(const unsigned char *bytes, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    size_t i;
    for (i = 0; i < n; ++i) h = (h ^ bytes[i]) * 1099511628211ull;
    return h | 1u; /* never 0, which marks an unsealed state */
}

/* --- life cycle ------------------------------------------------------------------------------- */

static void apply_starts(twin_model *m)
{
    const twin_fmu_data *d = m->data;
    long k;
    char ignored[8];
    twin_pack_defaults(&m->pack);
    /* values were range-checked by the kernel when the FMU was built */
    for (k = 0; k < d->n_starts; ++k)
        twin_set(&m->pack, d->starts[k].vr, d->starts[k].index, d->starts[k].value, ignored, sizeof ignored);
    m->internal_step = d->internal_step;
    m->time = 0.0;
    m->initialized = 0;
    m->parameters_changed = 0;
    m->residuals_stale = 0;
}

twin_model *twin_model_new(const twin_model_memory *mem, char *msg, size_t msg_size)
{
    const twin_fmu_data *d = &twin_fmu_baked;
    size_t size = twin_pack_block_size(d->n_cells);
    twin_model *m;
    if (size == 0) {
        snprintf(msg, msg_size, "the baked parameter set has %d cells; 1 .. 65535 are possible", d->n_cells);
        return NULL;
    }
    m = (twin_model *)mem->alloc(mem->env, sizeof *m);
    if (m == NULL) {
        snprintf(msg, msg_size, "out of memory");
        return NULL;
    }
    m->mem = *mem;
    m->data = d;
    m->block = mem->alloc(mem->env, size);
    if (m->block == NULL || twin_pack_bind(&m->pack, d->n_cells, m->block, size) != TWIN_OK) {
        snprintf(msg, msg_size, "out of memory for %d cells (%lu bytes)", d->n_cells, (unsigned long)size);
        if (m->block != NULL) mem->free(mem->env, m->block);
        mem->free(mem->env, m);
        return NULL;
    }
    m->pack.tables = d->tables;
    m->pack.events = d->n_events > 0 ? d->events : NULL;
    m->pack.n_events = d->n_events;
    apply_starts(m);
    return m;
}

void twin_model_free(twin_model *m)
{
    if (m == NULL) return;
    m->mem.free(m->mem.env, m->block);
    m->mem.free(m->mem.env, m);
}

void twin_model_reset(twin_model *m) { apply_starts(m); }

/* --- variables ---------------------------------------------------------------------------------- */

const twin_fmu_var *twin_model_var(unsigned int vr)
{
    const twin_fmu_var *vars = twin_fmu_baked.vars;
    int lo = 0, hi = twin_fmu_baked.n_vars - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (vars[mid].vr == vr) return &vars[mid];
        if (vars[mid].vr < vr) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

int twin_model_elements(const twin_model *m, const twin_fmu_var *v) { return v->length == 0 ? m->pack.n : v->length; }

void twin_model_name(const twin_model *m, const twin_fmu_var *v, int element, char *buf, size_t size)
{
    if (v->length == 1) snprintf(buf, size, "%s", v->name);
    else snprintf(buf, size, "%s[%d]", v->name, element + 1);
    (void)m;
}

int twin_model_check_value(const twin_model *m, const twin_fmu_var *v, int element, double value, char *msg,
                           size_t msg_size)
{
    char name[128];
    const int below = v->min != TWIN_NONE && value < v->min, above = v->max != TWIN_NONE && value > v->max;
    if (value != value ? v->nan_allowed : (!below && !above && isfinite(value)))
        return 0; /* before the name is formatted: every element of every set comes here, twice */
    twin_model_name(m, v, element, name, sizeof name);
    if (value != value) {
        snprintf(msg, msg_size, "%s is not a number; it needs a value in %s", name, v->unit);
        return 1;
    }
    if (below || above) {
        if (v->min != TWIN_NONE && v->max != TWIN_NONE && v->min == v->max)
            /* only the cell count is pinned like this: it sizes the memory and every array */
            snprintf(msg, msg_size, "%s = %.9g: this FMU was built with %.9g, which fixes its memory layout and "
                     "array sizes; build another FMU for %.9g (twin fmu build --cells)", name, value, v->min, value);
        else if (v->min != TWIN_NONE && v->max != TWIN_NONE)
            snprintf(msg, msg_size, "%s = %.9g %s is outside the allowed range %.9g .. %.9g", name, value, v->unit,
                     v->min, v->max);
        else if (v->min != TWIN_NONE)
            snprintf(msg, msg_size, "%s = %.9g %s is below the minimum %.9g", name, value, v->unit, v->min);
        else
            snprintf(msg, msg_size, "%s = %.9g %s is above the maximum %.9g", name, value, v->unit, v->max);
        return 1;
    }
    if (!isfinite(value)) {
        snprintf(msg, msg_size, "%s = %.9g is not a finite number", name, value);
        return 1;
    }
    return 0;
}

int twin_model_set(twin_model *m, const twin_fmu_var *v, int element, double value, char *msg, size_t msg_size)
{
    if (twin_model_check_value(m, v, element, value, msg, msg_size)) return 1;
    switch (v->role) {
    case FMU_ROLE_INTERNAL_STEP:
        m->internal_step = value;
        return 0;
    case FMU_ROLE_TIME:
        snprintf(msg, msg_size, "time is the independent variable; it cannot be set");
        return 1;
    case FMU_ROLE_KERNEL:
        break;
    }
    if (value != value) { /* a measurement that is not available: the kernel's setter refuses NaN */
        double *ref = twin_real_ref(&m->pack, v->vr, element);
        if (ref == NULL) return 1;
        *ref = value;
    } else if (twin_set(&m->pack, v->vr, element, value, msg, msg_size) != TWIN_OK) {
        return 1;
    }
    if (v->causality == FMU_INPUT) {
        if (v->nan_allowed) m->residuals_stale = 1;
    } else {
        m->parameters_changed = 1;
    }
    return 0;
}

/* Predicted minus measured, as twin_step leaves them (csrc/pack.c, residual_outputs): the residuals
 * feed through from the measured inputs, so a get right after a set sees the new measurement. */
static void update_residuals(twin_model *m)
{
    const twin_cell_arrays *c = &m->pack.c;
    int i;
    for (i = 0; i < m->pack.n; ++i) {
        c->residual_cell_voltage[i] = c->cell_voltage[i] - c->measured_cell_voltage[i];
        c->residual_temperature[i] = c->cell_temperature[i] - c->measured_temperature[i];
    }
    m->residuals_stale = 0;
}

void twin_model_get(twin_model *m, const twin_fmu_var *v, int element, double *value)
{
    switch (v->role) {
    case FMU_ROLE_INTERNAL_STEP:
        *value = m->internal_step;
        return;
    case FMU_ROLE_TIME:
        *value = m->time;
        return;
    case FMU_ROLE_KERNEL:
        break;
    }
    if (m->residuals_stale && m->initialized) update_residuals(m);
    if (twin_get(&m->pack, v->vr, element, value) != TWIN_OK) *value = NAN;
}

const double *twin_model_values(twin_model *m, const twin_fmu_var *v, int first)
{
    if (v->role != FMU_ROLE_KERNEL) return NULL;
    if (m->residuals_stale && m->initialized) update_residuals(m);
    return twin_real_ref(&m->pack, v->vr, first); /* NULL for integer settings */
}

/* --- initialization and steps ------------------------------------------------------------------ */

int twin_model_initialize(twin_model *m, double start_time, char *msg, size_t msg_size)
{
    if (m->initialized && !m->parameters_changed) {
        m->time = start_time;
        return 0;
    }
    if (twin_pack_check(&m->pack, msg, msg_size) != TWIN_OK) return 1;
    twin_pack_init(&m->pack);
    m->time = start_time;
    m->initialized = 1;
    m->parameters_changed = 0;
    m->residuals_stale = 0;
    return 0;
}

/* The divergence detector runs beside a real BMS (csrc/detect.c): each communication step hands it
 * one sample taken at the communication point t where the step starts, made of the inputs as set
 * before the step: measured.cell_voltage, pack.current (the measured pack current),
 * measured.temperature (NaN: no sensor) and balancer.command (the BMS's balancing flags, read
 * whatever balancer.policy is; docs/fmu-variables.md, "Divergence detector", says why). A sample
 * without every cell voltage (the twin running alone gives NaN) is not fed: the detector's outputs
 * stay as they are. */
static void feed_detector(twin_model *m)
{
    twin_pack *p = &m->pack;
    const double *v = p->c.measured_cell_voltage;
    int i;
    if (!isfinite(p->v->pack_current)) return;
    for (i = 0; i < p->n; ++i)
        if (!isfinite(v[i])) return;
    twin_detect_sample(p, m->time);
}

int twin_model_do_step(twin_model *m, double h, char *msg, size_t msg_size)
{
    const double dt = m->internal_step;
    double whole, rest;
    long k, n_whole;
    if (!(h > 0.0) || !isfinite(h)) {
        snprintf(msg, msg_size, "the communication step is %.9g s; it must be a positive number of seconds", h);
        return 1;
    }
    if (m->parameters_changed) {
        if (twin_pack_check(&m->pack, msg, msg_size) != TWIN_OK) return 1;
        twin_pack_refresh(&m->pack);
        m->parameters_changed = 0;
    }
    whole = floor(h / dt);
    rest = h - whole * dt;
    if (rest > dt * (1.0 - STEP_SNAP)) {
        whole += 1.0;
        rest = 0.0;
    }
    if (rest < dt * STEP_SNAP) rest = 0.0;
    if (whole > 2147483647.0) {
        snprintf(msg, msg_size, "a communication step of %.9g s would take %.3g internal steps of %.9g s; "
                 "use shorter communication steps or a longer fmu.internal_step", h, whole, dt);
        return 1;
    }
    n_whole = (long)whole;
    feed_detector(m); /* after every check that refuses the step: a refused step changes nothing */
    for (k = 0; k < n_whole; ++k)
        if (twin_step(&m->pack, dt) != TWIN_OK) goto refused;
    if (rest > 0.0 && twin_step(&m->pack, rest) != TWIN_OK) goto refused;
    m->time += h;
    m->residuals_stale = 0;
    return 0;
refused:
    snprintf(msg, msg_size, "the kernel refused a step at t = %.9g s: pack.current, "
             "pack.ambient_temperature and balancer.command must be finite (commands -1, 0 or +1)",
             m->pack.in->time);
    return 2; /* part of the interval was stepped: the twin is no longer at a communication point */
}

/* --- saved states ------------------------------------------------------------------------------- */

size_t twin_model_state_size(const twin_model *m) { return sizeof(state_header) + m->pack.block_size; }

void twin_model_state_save(const twin_model *m, void *state)
{
    state_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, STATE_MAGIC, sizeof STATE_MAGIC);
    h.layout = STATE_LAYOUT;
    h.n_cells = (uint32_t)m->pack.n;
    h.build = fnv1a(m->data->instantiation_token);
    h.block_size = m->pack.block_size;
    h.total_size = twin_model_state_size(m);
    h.time = m->time;
    h.internal_step = m->internal_step;
    h.initialized = m->initialized;
    h.parameters_changed = m->parameters_changed;
    h.residuals_stale = m->residuals_stale;
    memcpy(state, &h, sizeof h);
    memcpy((char *)state + sizeof h, m->block, m->pack.block_size);
}

void twin_model_state_seal(void *state)
{
    state_header h;
    memcpy(&h, state, sizeof h);
    h.checksum = fnv1a_bytes((const unsigned char *)state + sizeof h, (size_t)h.block_size);
    memcpy(state, &h, sizeof h);
}

int twin_model_state_check(const twin_model *m, const void *state, size_t size, int sealed, char *msg,
                           size_t msg_size)
{
    state_header h;
    if (state == NULL || size < sizeof h) {
        snprintf(msg, msg_size, "the state has %lu bytes; a state of this FMU has %lu", (unsigned long)size,
                 (unsigned long)twin_model_state_size(m));
        return 1;
    }
    memcpy(&h, state, sizeof h);
    if (memcmp(h.magic, STATE_MAGIC, sizeof STATE_MAGIC) != 0) {
        snprintf(msg, msg_size, "the bytes are not a saved twin FMU state (no TWINFMU header)");
        return 1;
    }
    if (h.layout != STATE_LAYOUT) {
        snprintf(msg, msg_size, "the state has layout version %u; this FMU reads version %u", (unsigned)h.layout,
                 STATE_LAYOUT);
        return 1;
    }
    if (h.n_cells != (uint32_t)m->pack.n) {
        snprintf(msg, msg_size, "the state is of a %u-cell twin; this FMU has %d cells", (unsigned)h.n_cells,
                 m->pack.n);
        return 1;
    }
    if (h.build != fnv1a(m->data->instantiation_token)) {
        snprintf(msg, msg_size, "the state was saved by another build of the twin FMU (other parameters or "
                 "version); restore it into the FMU that saved it");
        return 1;
    }
    if (h.block_size != m->pack.block_size || h.total_size != twin_model_state_size(m) ||
        size != twin_model_state_size(m)) {
        snprintf(msg, msg_size, "the state has %lu bytes; a state of this FMU has %lu", (unsigned long)size,
                 (unsigned long)twin_model_state_size(m));
        return 1;
    }
    if (sealed && h.checksum != fnv1a_bytes((const unsigned char *)state + sizeof h, (size_t)h.block_size)) {
        snprintf(msg, msg_size, "the state's bytes are damaged (checksum mismatch); serialize it again");
        return 1;
    }
    if (!(h.internal_step > 0.0) || !isfinite(h.time)) {
        snprintf(msg, msg_size, "the state's header is damaged (time %.9g s, internal step %.9g s)", h.time,
                 h.internal_step);
        return 1;
    }
    return 0;
}

int twin_model_state_initialized(const void *state)
{
    state_header h;
    memcpy(&h, state, sizeof h);
    return h.initialized != 0;
}

void twin_model_state_restore(twin_model *m, const void *state)
{
    state_header h;
    memcpy(&h, state, sizeof h);
    memcpy(m->block, (const char *)state + sizeof h, m->pack.block_size);
    m->time = h.time;
    m->internal_step = h.internal_step;
    m->initialized = h.initialized;
    m->parameters_changed = h.parameters_changed;
    m->residuals_stale = h.residuals_stale;
}
