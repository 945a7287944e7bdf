/* The series pack: memory layout, checks, initialisation, the step and the bulk run. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cell.h"
#include "twin.h"

#define SECONDS_PER_YEAR (365.25 * 86400.0)
#define LN2 0.69314718055994530942

static size_t align8(size_t x) { return (x + 7u) & ~(size_t)7u; }

/* The cached bilinear coefficients (see refill_coefficients), by blocks of TWIN_LANES cells: a
 * block holds TWIN_COEF_PLANES planes of TWIN_LANES values. */
#define COEF_BLOCK ((size_t)TWIN_COEF_PLANES * TWIN_LANES)

#define TWIN_X_COUNT(name) +1
#define N_INTERNAL_ARRAYS (0 TWIN_INTERNAL_ARRAYS(TWIN_X_COUNT))

size_t twin_pack_block_size(int n)
{
    size_t cells;
    if (n < 1) return 0;
    cells = (size_t)n;
    return align8(sizeof(twin_settings)) + align8(sizeof(twin_pack_vars)) + align8(sizeof(twin_internal)) +
           (size_t)(TWIN_N_CELL_ARRAYS + N_INTERNAL_ARRAYS + TWIN_DET_PLANES) * cells * sizeof(double) +
           TWIN_COEF_DOUBLES(n) * sizeof(double) +
           align8(cells * sizeof(int));
}

twin_status twin_pack_bind(twin_pack *p, int n, void *block, size_t size)
{
    char *at = (char *)block;
    size_t need = twin_pack_block_size(n);
    if (n < 1 || block == NULL || size < need || ((size_t)at & 7u) != 0) return TWIN_ERR_SIZE;
    memset(p, 0, sizeof *p);
    p->n = n;
    p->block = block;
    p->block_size = need;
    p->s = (twin_settings *)at;
    at += align8(sizeof(twin_settings));
    p->v = (twin_pack_vars *)at;
    at += align8(sizeof(twin_pack_vars));
    p->in = (twin_internal *)at;
    at += align8(sizeof(twin_internal));
#define TWIN_X_BIND(name) p->c.name = (double *)at; at += (size_t)n * sizeof(double);
    TWIN_CELL_ARRAYS(TWIN_X_BIND)
#undef TWIN_X_BIND
#define TWIN_X_BIND(name) p->x.name = (double *)at; at += (size_t)n * sizeof(double);
    TWIN_INTERNAL_ARRAYS(TWIN_X_BIND)
#undef TWIN_X_BIND
    p->coef = (double *)at;
    at += TWIN_COEF_DOUBLES(n) * sizeof(double);
    p->det_planes = (double *)at;
    at += (size_t)TWIN_DET_PLANES * (size_t)n * sizeof(double);
    p->order = (int *)at;
    return TWIN_OK;
}

static double start_or_nan(double start) { return start == TWIN_NONE ? NAN : start; }

void twin_pack_defaults(twin_pack *p)
{
    int k, i;
    memset(p->block, 0, p->block_size);
    twin_settings_defaults(p->s);
    p->s->pack_cells_in_series = p->n;
    for (k = 0; k < TWIN_N_VARS; ++k) {
        const twin_var_info *info = &twin_vars[k];
        if (info->where == TWIN_WHERE_CELLS) {
            double *a = *(double **)((char *)&p->c + info->offset);
            for (i = 0; i < p->n; ++i) a[i] = start_or_nan(info->start);
        } else if (info->where == TWIN_WHERE_PACK) {
            *(double *)((char *)p->v + info->offset) = start_or_nan(info->start);
        }
    }
}

/* --- access by value reference ------------------------------------------------------------------ */

double *twin_real_ref(twin_pack *p, unsigned int vr, int index)
{
    const twin_var_info *info = twin_var_by_vr(vr);
    if (info == NULL || index < 0) return NULL;
    switch (info->where) {
    case TWIN_WHERE_SETTINGS:
        if (info->type != TWIN_TYPE_REAL || index >= info->length) return NULL;
        return (double *)((char *)p->s + info->offset) + index;
    case TWIN_WHERE_CELLS:
        if (index >= p->n) return NULL;
        return *(double **)((char *)&p->c + info->offset) + index;
    case TWIN_WHERE_PACK:
        if (index != 0) return NULL;
        return (double *)((char *)p->v + info->offset);
    }
    return NULL;
}

int *twin_int_ref(twin_pack *p, unsigned int vr, int index)
{
    const twin_var_info *info = twin_var_by_vr(vr);
    if (info == NULL || info->where != TWIN_WHERE_SETTINGS || info->type == TWIN_TYPE_REAL) return NULL;
    if (index < 0 || index >= info->length) return NULL;
    return (int *)((char *)p->s + info->offset) + index;
}

static twin_status range_message(const twin_var_info *info, int index, int indexed, double value, char *msg,
                                 size_t size)
{
    char where[160];
    if (indexed)
        snprintf(where, sizeof where, "%s[%d]", info->id, index);
    else
        snprintf(where, sizeof where, "%s", info->id);
    if (msg == NULL || size == 0) return TWIN_ERR_VALUE;
    if (value != value) {
        if (info->start == TWIN_NONE && info->causality != TWIN_CAUSALITY_INPUT)
            snprintf(msg, size, "%s has no value; set it in the parameter set", where);
        else
            snprintf(msg, size, "%s is not a number", where);
    } else if (info->min != TWIN_NONE && info->max != TWIN_NONE)
        snprintf(msg, size, "%s = %.9g [%s] is outside the allowed range %.9g .. %.9g", where, value, info->unit,
                 info->min, info->max);
    else if (info->min != TWIN_NONE)
        snprintf(msg, size, "%s = %.9g [%s] is below the minimum %.9g", where, value, info->unit, info->min);
    else if (info->max != TWIN_NONE)
        snprintf(msg, size, "%s = %.9g [%s] is above the maximum %.9g", where, value, info->unit, info->max);
    else
        snprintf(msg, size, "%s = %.9g [%s] is not allowed", where, value, info->unit);
    return TWIN_ERR_VALUE;
}

static int value_ok(const twin_var_info *info, double value)
{
    if (value != value) return info->optional;
    if (info->min != TWIN_NONE && value < info->min) return 0;
    if (info->max != TWIN_NONE && value > info->max) return 0;
    if (info->type != TWIN_TYPE_REAL && value != floor(value)) return 0;
    if (info->type == TWIN_TYPE_REAL && (value == HUGE_VAL || value == -HUGE_VAL) && info->max == TWIN_NONE &&
        info->min == TWIN_NONE)
        return 0;
    return 1;
}

twin_status twin_set(twin_pack *p, unsigned int vr, int index, double value, char *msg, size_t size)
{
    const twin_var_info *info = twin_var_by_vr(vr);
    if (info == NULL) {
        if (msg && size) snprintf(msg, size, "no variable has value reference %u", vr);
        return TWIN_ERR_UNKNOWN;
    }
    if (info->causality == TWIN_CAUSALITY_STRUCTURAL) {
        if (value == (double)p->n && index == 0) return TWIN_OK;
        if (msg && size) snprintf(msg, size, "%s is fixed at %d by the memory layout", info->id, p->n);
        return TWIN_ERR_VALUE;
    }
    if (!value_ok(info, value)) return range_message(info, index, info->where == TWIN_WHERE_CELLS, value, msg, size);
    if (info->where == TWIN_WHERE_SETTINGS && info->type != TWIN_TYPE_REAL) {
        int *ref = twin_int_ref(p, vr, index);
        if (ref == NULL) goto bad_index;
        *ref = (int)value;
        return TWIN_OK;
    } else {
        double *ref = twin_real_ref(p, vr, index);
        if (ref == NULL) goto bad_index;
        *ref = value;
        return TWIN_OK;
    }
bad_index:
    if (msg && size) snprintf(msg, size, "%s has no element %d", info->id, index);
    return TWIN_ERR_SIZE;
}

twin_status twin_get(twin_pack *p, unsigned int vr, int index, double *value)
{
    const twin_var_info *info = twin_var_by_vr(vr);
    if (info == NULL) return TWIN_ERR_UNKNOWN;
    if (info->where == TWIN_WHERE_SETTINGS && info->type != TWIN_TYPE_REAL) {
        int *ref = twin_int_ref(p, vr, index);
        if (ref == NULL) return TWIN_ERR_SIZE;
        *value = (double)*ref;
    } else {
        double *ref = twin_real_ref(p, vr, index);
        if (ref == NULL) return TWIN_ERR_SIZE;
        *value = *ref;
    }
    return TWIN_OK;
}

/* --- checks ------------------------------------------------------------------------------------ */

#define FAIL(...)                                                                                                \
    do {                                                                                                         \
        if (msg && size) snprintf(msg, size, __VA_ARGS__);                                                       \
        return TWIN_ERR_VALUE;                                                                                   \
    } while (0)

static twin_status check_tables(const twin_tables *t, char *msg, size_t size)
{
    int ncol, k, c;
    long rows;
    if (t->values == NULL) FAIL("cell tables are missing");
    if (t->n_rc < 0 || t->n_rc > TWIN_MAX_RC) FAIL("cell tables have %d RC pairs; 0 to %d are supported", t->n_rc, TWIN_MAX_RC);
    if (t->n_soc < 2) FAIL("cell.table_soc needs at least 2 breakpoints, got %d", t->n_soc);
    if (t->n_temp < 1) FAIL("cell.table_temperature needs at least 1 breakpoint");
    if (!(t->soc_step > 0.0) || !isfinite(t->soc_first) || !isfinite(t->soc_step))
        FAIL("cell.table_soc must ascend evenly (step %.9g)", t->soc_step);
    if (t->n_temp > 1 && (!(t->temp_step > 0.0) || !isfinite(t->temp_first) || !isfinite(t->temp_step)))
        FAIL("cell.table_temperature must ascend evenly (step %.9g)", t->temp_step);
    ncol = twin_table_columns(t->n_rc);
    rows = (long)t->n_soc * (long)t->n_temp;
    for (k = 0; k < rows; ++k) {
        const double *row = t->values + (size_t)k * (size_t)ncol;
        double soc = t->soc_first + (k % t->n_soc) * t->soc_step;
        double temp = t->temp_first + (k / t->n_soc) * t->temp_step;
        for (c = 0; c < ncol; ++c) {
            static const char *names[] = {"cell.ocv_charge", "cell.ocv_discharge", "cell.r0", "cell.r1", "cell.r2",
                                          "cell.r3", "cell.tau1", "cell.tau2", "cell.tau3"};
            double x = row[c];
            int is_tau = c >= 3 + t->n_rc;
            const char *name = is_tau ? names[6 + (c - 3 - t->n_rc)] : names[c];
            if (!isfinite(x) || x < 0.0 || (is_tau && !(x > 0.0)))
                FAIL("%s at SOC %.4g, %.4g degC is %.9g; it must be a finite number%s", name, soc, temp, x,
                     is_tau ? " above 0" : " not below 0");
        }
        if (row[TWIN_COL_OCV_CHARGE] < row[TWIN_COL_OCV_DISCHARGE])
            FAIL("cell.ocv_charge (%.6g V) is below cell.ocv_discharge (%.6g V) at SOC %.4g, %.4g degC; the charge "
                 "branch must not be below the discharge branch",
                 row[TWIN_COL_OCV_CHARGE], row[TWIN_COL_OCV_DISCHARGE], soc, temp);
    }
    return TWIN_OK;
}

twin_status twin_pack_check(const twin_pack *p, char *msg, size_t size)
{
    const twin_settings *s = p->s;
    int k, i;
    twin_status st;
    if (s->pack_cells_in_series != p->n)
        FAIL("pack.cells_in_series is %d but the twin was built for %d cells", s->pack_cells_in_series, p->n);
    for (k = 0; k < TWIN_N_VARS; ++k) {
        const twin_var_info *info = &twin_vars[k];
        if (info->causality == TWIN_CAUSALITY_INPUT || info->causality == TWIN_CAUSALITY_OUTPUT) continue;
        if (info->where == TWIN_WHERE_SETTINGS) {
            for (i = 0; i < info->length; ++i) {
                double x = info->type == TWIN_TYPE_REAL ? ((const double *)((const char *)s + info->offset))[i]
                                                        : (double)((const int *)((const char *)s + info->offset))[i];
                if (!value_ok(info, x)) return range_message(info, i, info->length > 1, x, msg, size);
            }
        } else if (info->where == TWIN_WHERE_CELLS && info->causality == TWIN_CAUSALITY_PARAMETER) {
            const double *a = *(double *const *)((const char *)&p->c + info->offset);
            for (i = 0; i < p->n; ++i)
                if (!value_ok(info, a[i])) return range_message(info, i, 1, a[i], msg, size);
        } else if (info->where == TWIN_WHERE_CELLS && (info->min != TWIN_NONE || info->max != TWIN_NONE)) {
            const double *a = *(double *const *)((const char *)&p->c + info->offset);
            for (i = 0; i < p->n; ++i)
                if (!value_ok(info, a[i])) return range_message(info, i, 1, a[i], msg, size);
        }
    }
    if (s->protection_cell_overvoltage_release >= s->protection_cell_overvoltage)
        FAIL("protection.cell_overvoltage_release (%.4g V) must be below protection.cell_overvoltage (%.4g V)",
             s->protection_cell_overvoltage_release, s->protection_cell_overvoltage);
    if (s->protection_cell_undervoltage_release <= s->protection_cell_undervoltage)
        FAIL("protection.cell_undervoltage_release (%.4g V) must be above protection.cell_undervoltage (%.4g V)",
             s->protection_cell_undervoltage_release, s->protection_cell_undervoltage);
    if (s->protection_charge_overtemperature_release >= s->protection_charge_overtemperature)
        FAIL("protection.charge_overtemperature_release must be below protection.charge_overtemperature");
    if (s->protection_discharge_overtemperature_release >= s->protection_discharge_overtemperature)
        FAIL("protection.discharge_overtemperature_release must be below protection.discharge_overtemperature");
    if (s->protection_charge_undertemperature_release <= s->protection_charge_undertemperature)
        FAIL("protection.charge_undertemperature_release must be above protection.charge_undertemperature");
    if (s->protection_discharge_undertemperature_release <= s->protection_discharge_undertemperature)
        FAIL("protection.discharge_undertemperature_release must be above protection.discharge_undertemperature");
    if (s->balancer_stop_delta > s->balancer_start_delta)
        FAIL("balancer.stop_delta (%.4g V) must not exceed balancer.start_delta (%.4g V)", s->balancer_stop_delta,
             s->balancer_start_delta);
    for (i = 1; i < 4; ++i) {
        if (s->limits_ccl_voltage[i] < s->limits_ccl_voltage[i - 1])
            FAIL("limits.ccl_voltage must ascend (element %d is %.4g V, below %.4g V)", i, s->limits_ccl_voltage[i],
                 s->limits_ccl_voltage[i - 1]);
        if (s->limits_dcl_voltage[i] > s->limits_dcl_voltage[i - 1])
            FAIL("limits.dcl_voltage must descend (element %d is %.4g V, above %.4g V)", i, s->limits_dcl_voltage[i],
                 s->limits_dcl_voltage[i - 1]);
    }
    if (s->balancer_policy == TWIN_BALANCER_POLICY_SOC_HISTORY && s->balancer_topology != TWIN_BALANCER_TOPOLOGY_PASSIVE)
        FAIL("balancer.policy 'soc_history' bleeds surplus charge (the foxBMS history strategy) and needs "
             "balancer.topology 'passive'; use 'voltage_delta' or 'external' with active balancers");
    st = check_tables(&p->tables, msg, size);
    if (st != TWIN_OK) return st;
    if (p->events == NULL && p->n_events != 0) FAIL("fault events are missing");
    for (k = 0; k < p->n_events; ++k) {
        const twin_fault_event *e = &p->events[k];
        const twin_var_info *info = twin_var_by_vr(e->vr);
        if (info == NULL || info->where != TWIN_WHERE_CELLS || strncmp(info->id, "fault.", 6) != 0)
            FAIL("fault event %d changes value reference %u, which is not a fault.* variable", k, e->vr);
        if (e->cell < 0 || e->cell >= p->n)
            FAIL("fault event %d (%s) is on cell %d; the pack has cells 0 .. %d", k, info->id, e->cell, p->n - 1);
        if (!value_ok(info, e->value)) return range_message(info, e->cell, 1, e->value, msg, size);
        if (!isfinite(e->time) || (k > 0 && e->time < p->events[k - 1].time))
            FAIL("fault event %d (%s) has time %.9g s; events must be finite and sorted by time", k, info->id, e->time);
    }
    return TWIN_OK;
}

/* --- derived values, lookups and outputs ---------------------------------------------------------- */

/* Present capacity and resistance scale from spread, ageing, parallel count and faults. */
static void refresh_capacity_resistance(twin_pack *p)
{
    const double par = (double)p->s->pack_cells_in_parallel;
    int i;
    for (i = 0; i < p->n; ++i) {
        double cap_as = 3600.0 * par * p->c.cell_capacity[i] * (1.0 - p->c.cell_capacity_fade[i]) *
                        (1.0 - p->c.fault_capacity_loss[i]);
        p->x.capacity_as[i] = cap_as;
        p->x.inv_capacity[i] = 1.0 / cap_as;
        p->c.cell_present_capacity[i] = cap_as / 3600.0;
        p->x.r_scale[i] = p->c.cell_resistance_factor[i] * (1.0 + p->c.cell_resistance_growth[i]) / par;
    }
}

void twin_pack_refresh(twin_pack *p)
{
    const twin_settings *s = p->s;
    const double par = (double)s->pack_cells_in_parallel;
    const double g_nb = 1.0 / s->pack_thermal_resistance_neighbor;
    int i;
    refresh_capacity_resistance(p);
    for (i = 0; i < p->n; ++i) {
        int neighbours = (i > 0) + (i < p->n - 1);
        p->x.leak[i] = p->c.cell_self_discharge[i] * par + p->c.fault_leak_current[i];
        p->x.thermal_g[i] = par / s->cell_thermal_resistance_ambient + g_nb * neighbours;
        p->x.inv_thermal_g[i] = 1.0 / p->x.thermal_g[i];
        p->x.busbar_share[i] = p->n == 1 ? 0.0 : (i == 0 || i == p->n - 1) ? 1.0 : 2.0;
    }
    p->in->thermal_dt = 0.0;
}

/* The table grid, as locate() uses it. */
typedef struct table_grid {
    double soc_first, inv_ds, s_top, s_last;
    double temp_first, inv_dt, t_top, t_last;
    double ncol, n_soc;
} table_grid;

static table_grid grid_of(const twin_tables *t)
{
    table_grid g;
    g.soc_first = t->soc_first;
    g.inv_ds = 1.0 / t->soc_step;
    g.s_top = (double)(t->n_soc - 1);
    g.s_last = (double)(t->n_soc - 2);
    g.temp_first = t->temp_first;
    g.inv_dt = t->n_temp > 1 ? 1.0 / t->temp_step : 0.0;
    g.t_top = (double)(t->n_temp > 1 ? t->n_temp - 1 : 0);
    g.t_last = (double)(t->n_temp > 1 ? t->n_temp - 2 : 0);
    g.ncol = (double)twin_table_columns(t->n_rc);
    g.n_soc = (double)t->n_soc;
    return g;
}

/* Grid position of one cell: returns the offset of its lower-left table row and sets the weights
 * along SOC (ws flat outside the table, wse along the end segment) and temperature (wt).
 * Branch-free, so that the loops calling it vectorize. */
static inline double locate(const table_grid *g, double soc, double temp, double *ws, double *wse, double *wt)
{
    const double raw = (soc - g->soc_first) * g->inv_ds;
    double fs = raw, ft = (temp - g->temp_first) * g->inv_dt, is, it;
    fs = fs >= 0.0 ? fs : 0.0; /* also maps NaN to 0 */
    fs = fs <= g->s_top ? fs : g->s_top;
    ft = ft >= 0.0 ? ft : 0.0;
    ft = ft <= g->t_top ? ft : g->t_top;
    is = floor(fs);
    is = is <= g->s_last ? is : g->s_last;
    it = floor(ft);
    it = it <= g->t_last ? it : g->t_last;
    *ws = fs - is;
    *wse = raw == raw ? raw - is : *ws; /* beyond the table: along the end segment */
    *wt = ft - it;
    return (it * g->n_soc + is) * g->ncol;
}

/* Bilinear interpolation, v = c0 + ws c1 + wt (c2 + ws c3) on the table cell the SOC and temperature
 * fall in. A cell stays in one table cell for many steps, so its coefficients are kept and refilled
 * only when it moves to another table cell: the per-step work is then contiguous and vectorizes,
 * where gathering four table corners per column does not. They are kept by blocks of TWIN_LANES
 * cells (coefficient j of column c of the cell in lane l at block[(4 c + j) TWIN_LANES + l]), so
 * that a pass over a block reads all of them at fixed offsets from one pointer: with a plane of n
 * cells per coefficient the loop needed a register per plane, and spilled them. */
static double *coef_block(double *coef, int i) { return coef + COEF_BLOCK * (size_t)(i / TWIN_LANES); }

static void refill_coefficients(const twin_tables *t, int ncoef_cols, int i, double base, double *coef)
{
    const long step_s = twin_table_columns(t->n_rc);
    const long step_t = t->n_temp > 1 ? (long)t->n_soc * step_s : 0;
    const long b = (long)base;
    double *blk = coef_block(coef, i) + i % TWIN_LANES;
    int c;
    for (c = 0; c < ncoef_cols; ++c) {
        const double *v = t->values + c;
        const double v00 = v[b], v01 = v[b + step_s], v10 = v[b + step_t], v11 = v[b + step_t + step_s];
        double *k = blk + 4 * c * TWIN_LANES;
        k[0] = v00;
        k[TWIN_LANES] = v01 - v00;
        k[2 * TWIN_LANES] = v10 - v00;
        k[3 * TWIN_LANES] = (v11 - v10) - (v01 - v00);
    }
}

/* Table column c of the cell in lane l of a coefficient block. */
static inline double bilinear(const double *blk, int c, size_t l, double ws, double wt)
{
    const double *k = blk + 4 * c * TWIN_LANES + l;
    return k[0] + ws * k[TWIN_LANES] + wt * (k[2 * TWIN_LANES] + ws * k[3 * TWIN_LANES]);
}

/* Number of table columns that need interpolation (time constants that are the same over the
 * whole table are not interpolated: twin_pack_init fills them once). */
static int interpolated_columns(const twin_pack *p)
{
    int k;
    for (k = 0; k < p->tables.n_rc; ++k)
        if (!(p->in->tau_const[k] > 0.0)) return twin_table_columns(p->tables.n_rc);
    return 3 + p->tables.n_rc;
}

/* The arrays the lookup reads and writes. */
typedef struct lookup_arrays {
    double m0;
    const double *scale, *r_fault, *h, *hs, *cur, *v1, *v2, *v3, *temp, *meas_v, *meas_t;
    const double *target, *alpha, *soc, *key;
    double *r0, *ocv, *volt, *res_v, *res_t, *rc_r[TWIN_MAX_RC], *rc_tau[TWIN_MAX_RC], *temp_rw, *base;
} lookup_arrays;

static void lookup_arrays_of(twin_pack *p, lookup_arrays *a)
{
    a->m0 = p->s->cell_hysteresis_instantaneous;
    a->scale = p->x.r_scale, a->r_fault = p->c.fault_series_resistance;
    a->h = p->c.cell_hysteresis, a->hs = p->c.cell_hysteresis_sign, a->cur = p->c.cell_current;
    a->v1 = p->c.cell_rc_voltage_1, a->v2 = p->c.cell_rc_voltage_2, a->v3 = p->c.cell_rc_voltage_3;
    a->temp = p->c.cell_temperature, a->meas_v = p->c.measured_cell_voltage, a->meas_t = p->c.measured_temperature;
    a->target = p->x.heat_scratch, a->alpha = p->x.thermal_alpha, a->soc = p->c.cell_soc, a->key = p->x.lookup_key;
    a->r0 = p->x.r0, a->ocv = p->c.cell_ocv, a->volt = p->c.cell_voltage;
    a->res_v = p->c.residual_cell_voltage, a->res_t = p->c.residual_temperature;
    a->rc_r[0] = p->x.rc_r1, a->rc_r[1] = p->x.rc_r2, a->rc_r[2] = p->x.rc_r3;
    a->rc_tau[0] = p->x.rc_tau1, a->rc_tau[1] = p->x.rc_tau2, a->rc_tau[2] = p->x.rc_tau3;
    a->temp_rw = p->c.cell_temperature, a->base = p->x.lookup_base;
}

/* Table values of cell i at its position and (outputs) the cell outputs that follow from them:
 * OCV, terminal voltage and the residuals. OCV continues along the end segments outside the SOC
 * range (wse: an over-charged cell keeps rising, an over-discharged one keeps falling);
 * resistances and time constants stay flat (ws). A pure function of its inputs, so that a cell
 * can be done again after its coefficients were refilled. */
TWIN_INLINE_BODY void cell_values(const lookup_arrays *a, const double *blk, size_t l, size_t i, const int n_rc,
                                  const int tau_table, const int outputs, double ws, double wse, double wt)
{
    const double oc = bilinear(blk, TWIN_COL_OCV_CHARGE, l, wse, wt);
    const double od = bilinear(blk, TWIN_COL_OCV_DISCHARGE, l, wse, wt);
    const double r = bilinear(blk, TWIN_COL_R0, l, ws, wt) * a->scale[i] + a->r_fault[i];
    int k;
    a->r0[i] = r;
    for (k = 0; k < n_rc; ++k) {
        a->rc_r[k][i] = bilinear(blk, TWIN_COL_R(k), l, ws, wt) * a->scale[i];
        if (tau_table) a->rc_tau[k][i] = bilinear(blk, TWIN_COL_TAU(n_rc, k), l, ws, wt);
    }
    if (outputs) {
        const double o = twin_ocv(oc, od, a->h[i], a->m0, a->hs[i]);
        const double v = o + r * a->cur[i] + a->v1[i] + a->v2[i] + a->v3[i];
        a->ocv[i] = o;
        a->volt[i] = v;
        /* predicted minus measured, where a measurement is given (NaN propagates otherwise) */
        a->res_v[i] = v - a->meas_v[i];
        a->res_t[i] = a->temp[i] - a->meas_t[i];
    }
}

/* Refill the coefficients of the cells in [start, end) that moved to another table cell (base
 * differs from key) and do those cells again. */
static void redo_moved_cells(twin_pack *p, const lookup_arrays *a, int start, int end, int outputs)
{
    const twin_tables *t = &p->tables;
    const table_grid g = grid_of(t);
    const int ncols = interpolated_columns(p), tau_table = ncols != 3 + t->n_rc;
    const double *base = p->x.lookup_base, *soc = p->c.cell_soc, *temp = p->c.cell_temperature;
    double *key = p->x.lookup_key;
    int i;
    for (i = start; i < end; ++i) {
        double ws, wse, wt;
        if (base[i] == key[i]) continue;
        key[i] = base[i];
        refill_coefficients(t, ncols, i, base[i], p->coef);
        locate(&g, soc[i], temp[i], &ws, &wse, &wt);
        cell_values(a, coef_block(p->coef, i), (size_t)(i % TWIN_LANES), (size_t)i, t->n_rc, tau_table, outputs, ws, wse, wt);
    }
}

/* Cached table values at each cell's present SOC and temperature; with outputs, also the cell
 * voltages and residuals at them. Used at init and after fault events (which change only the
 * table values, so that the balancer still sees the voltages of the last step); the step uses
 * step_lookup below. */
static void lookup_cells(twin_pack *p, int outputs)
{
    const twin_tables *t = &p->tables;
    const table_grid g = grid_of(t);
    const int n = p->n, tau_table = interpolated_columns(p) != 3 + t->n_rc;
    lookup_arrays a;
    int i;
    lookup_arrays_of(p, &a);
    for (i = 0; i < n; ++i) {
        double ws, wse, wt;
        p->x.lookup_base[i] = locate(&g, p->c.cell_soc[i], p->c.cell_temperature[i], &ws, &wse, &wt);
        cell_values(&a, coef_block(p->coef, i), (size_t)(i % TWIN_LANES), (size_t)i, t->n_rc, tau_table, outputs, ws, wse, wt);
    }
    redo_moved_cells(p, &a, 0, n, outputs);
}

/* The end of the step in one pass over the cells: each cell's temperature relaxes towards the
 * target thermal_targets() computed, the cell is located on the table grid, and its table values
 * and outputs follow. The pass goes by blocks of cells; in a block where a cell moved to another
 * table cell, those cells are done again with their coefficients refilled. n_rc and tau_table are
 * constants at each call site, so that the loop unrolls over the columns and vectorizes. */
TWIN_INLINE_BODY int lookup_lanes(const lookup_arrays *a, const table_grid *g, const double *blk, int start,
                                  const int lanes, const int n_rc, const int tau_table)
{
    const double *target = a->target, *alpha = a->alpha, *soc = a->soc, *key = a->key;
    double *temp = a->temp_rw, *base = a->base;
    double moved = 0.0; /* a double, not an int: one vector width for the whole loop */
    size_t l;
    /* indices in size_t: the build wraps signed overflow (-fwrapv), and an int index that may
       wrap is not an affine address, which keeps the loop from vectorizing */
    TWIN_NO_UNROLL
    TWIN_IVDEP
    for (l = 0; l < (size_t)lanes; ++l) {
        const size_t i = (size_t)start + l;
        double ws, wse, wt;
        temp[i] = target[i] + (temp[i] - target[i]) * alpha[i];
        base[i] = locate(g, soc[i], temp[i], &ws, &wse, &wt);
        moved = base[i] != key[i] ? 1.0 : moved;
        cell_values(a, blk, l, i, n_rc, tau_table, 1, ws, wse, wt);
    }
    return moved != 0.0;
}

TWIN_INLINE_BODY void step_lookup_body(twin_pack *p, const int n_rc, const int tau_table)
{
    enum { BLOCK = 16 * TWIN_LANES };
    const int n = p->n;
    const table_grid g = grid_of(&p->tables);
    lookup_arrays a;
    int start, b;
    lookup_arrays_of(p, &a);
    for (start = 0; start < n; start += BLOCK) {
        const int end = start + BLOCK < n ? start + BLOCK : n;
        int moved = 0;
        for (b = start; b + TWIN_LANES <= end; b += TWIN_LANES)
            moved |= lookup_lanes(&a, &g, coef_block(p->coef, b), b, TWIN_LANES, n_rc, tau_table);
        if (b < end) moved |= lookup_lanes(&a, &g, coef_block(p->coef, b), b, end - b, n_rc, tau_table);
        if (moved) redo_moved_cells(p, &a, start, end, 1);
    }
}

#define LOOKUP_CASE(n_rc)                                                                            \
    case 2 * (n_rc):                                                                                 \
        step_lookup_body(p, n_rc, 0);                                                                \
        break;                                                                                       \
    case 2 * (n_rc) + 1:                                                                             \
        step_lookup_body(p, n_rc, 1);                                                                \
        break;

TWIN_VECTOR_CLONES static void step_lookup(twin_pack *p)
{
    switch (2 * p->tables.n_rc + (interpolated_columns(p) != 3 + p->tables.n_rc)) {
        LOOKUP_CASE(0) LOOKUP_CASE(1) LOOKUP_CASE(2) LOOKUP_CASE(3)
    default:
        break;
    }
}
#undef LOOKUP_CASE

/* Pack sums and extremes. Kept in LANES running partials, one per cell position modulo LANES and
 * combined in a fixed order at the end, so that the loop vectorizes (a single running sum is a
 * serial chain of additions) and its result does not depend on the vector width the build picked.
 * A cell without a temperature sensor reads NaN, which compares false and so is never an extreme. */
#define LANES 4
TWIN_VECTOR_CLONES static void pack_outputs(twin_pack *p)
{
    twin_pack_vars *v = p->v;
    const double *volt = p->c.cell_voltage, *vmeas = p->c.cell_voltage_measured, *soc = p->c.cell_soc;
    const double *tmeas = p->c.cell_temperature_measured;
    double sv[LANES], ss[LANES], vx[LANES], vn[LANES], sx[LANES], sn[LANES], tx[LANES], tn[LANES];
    double sum_v, sum_soc, vmax, vmin, smax, smin, tmax, tmin;
    const int n = p->n, whole = n - n % LANES;
    int i, l;
    for (l = 0; l < LANES; ++l) {
        sv[l] = ss[l] = 0.0;
        vx[l] = sx[l] = tx[l] = -HUGE_VAL;
        vn[l] = sn[l] = tn[l] = HUGE_VAL;
    }
    for (i = 0; i < whole; i += LANES) {
        const double *bv = volt + i, *bm = vmeas + i, *bs = soc + i, *bt = tmeas + i;
        TWIN_NO_UNROLL
        for (l = 0; l < LANES; ++l) {
            sv[l] += bv[l];
            ss[l] += bs[l];
            vx[l] = bm[l] > vx[l] ? bm[l] : vx[l];
            vn[l] = bm[l] < vn[l] ? bm[l] : vn[l];
            sx[l] = bs[l] > sx[l] ? bs[l] : sx[l];
            sn[l] = bs[l] < sn[l] ? bs[l] : sn[l];
            tx[l] = bt[l] > tx[l] ? bt[l] : tx[l];
            tn[l] = bt[l] < tn[l] ? bt[l] : tn[l];
        }
    }
    for (l = 0; i + l < n; ++l) {
        const double vm = vmeas[i + l], s = soc[i + l], tm = tmeas[i + l];
        sv[l] += volt[i + l];
        ss[l] += s;
        vx[l] = vm > vx[l] ? vm : vx[l];
        vn[l] = vm < vn[l] ? vm : vn[l];
        sx[l] = s > sx[l] ? s : sx[l];
        sn[l] = s < sn[l] ? s : sn[l];
        tx[l] = tm > tx[l] ? tm : tx[l];
        tn[l] = tm < tn[l] ? tm : tn[l];
    }
    sum_v = (sv[0] + sv[1]) + (sv[2] + sv[3]);
    sum_soc = (ss[0] + ss[1]) + (ss[2] + ss[3]);
    vmax = vx[0], vmin = vn[0], smax = sx[0], smin = sn[0], tmax = tx[0], tmin = tn[0];
    for (l = 1; l < LANES; ++l) {
        vmax = vx[l] > vmax ? vx[l] : vmax;
        vmin = vn[l] < vmin ? vn[l] : vmin;
        smax = sx[l] > smax ? sx[l] : smax;
        smin = sn[l] < smin ? sn[l] : smin;
        tmax = tx[l] > tmax ? tx[l] : tmax;
        tmin = tn[l] < tmin ? tn[l] : tmin;
    }
    v->pack_voltage = sum_v + v->pack_applied_current * p->s->pack_busbar_resistance * (double)(n - 1);
    v->pack_max_cell_voltage = vmax;
    v->pack_min_cell_voltage = vmin;
    v->pack_cell_voltage_spread = vmax - vmin;
    v->pack_soc = sum_soc / (double)n;
    v->pack_soc_spread = smax - smin;
    v->pack_max_temperature = tmax == -HUGE_VAL ? NAN : tmax;
    v->pack_min_temperature = tmin == HUGE_VAL ? NAN : tmin;
}
#undef LANES

void twin_apply_events(twin_pack *p)
{
    int changed = 0;
    while (p->events != NULL && p->in->next_event < p->n_events && p->events[p->in->next_event].time <= p->in->time) {
        const twin_fault_event *e = &p->events[p->in->next_event];
        double *ref = twin_real_ref(p, e->vr, e->cell);
        if (ref != NULL) *ref = e->value;
        p->in->next_event += 1;
        changed = 1;
    }
    if (changed) {
        twin_pack_refresh(p);
        lookup_cells(p, 0);
    }
}

/* The time constant of RC pair k if it is the same at every table point, else 0. */
static double constant_tau(const twin_tables *t, int k)
{
    const int ncol = twin_table_columns(t->n_rc);
    const long rows = (long)t->n_soc * (long)t->n_temp;
    const double tau = t->values[TWIN_COL_TAU(t->n_rc, k)];
    long r;
    for (r = 1; r < rows; ++r)
        if (t->values[(size_t)r * (size_t)ncol + (size_t)TWIN_COL_TAU(t->n_rc, k)] != tau) return 0.0;
    return tau;
}

void twin_pack_init(twin_pack *p)
{
    const twin_settings *s = p->s;
    twin_internal *in = p->in;
    int i, k;
    memset(in, 0, sizeof *in);
    for (k = 0; k < TWIN_N_PROTECTIONS; ++k) in->prot_timer[k] = -1.0;
    in->decision_timer = HUGE_VAL; /* the first step decides */
    twin_rng_seed(in->rng, (uint64_t)s->sensor_seed);
    for (i = 0; i < p->n; ++i) {
        p->c.cell_soc[i] = p->c.cell_initial_soc[i];
        p->c.cell_rc_voltage_1[i] = p->c.cell_rc_voltage_2[i] = p->c.cell_rc_voltage_3[i] = 0.0;
        p->c.cell_hysteresis[i] = s->cell_initial_hysteresis;
        p->c.cell_hysteresis_sign[i] = 0.0;
        p->c.cell_temperature[i] = s->pack_initial_temperature;
        p->c.cell_throughput[i] = 0.0;
        p->c.cell_current[i] = 0.0;
        p->c.cell_heat[i] = 0.0;
        p->c.balancer_bleed_current[i] = p->c.balancer_transfer_current[i] = p->c.balancer_active[i] = 0.0;
        p->c.balancer_commanded[i] = 0.0;
        p->c.balancer_bleed_charge[i] = 0.0;
        p->c.balancer_transfer_charge_in[i] = p->c.balancer_transfer_charge_out[i] = 0.0;
        p->x.latch[i] = p->x.surplus_as[i] = p->x.command[i] = 0.0;
    }
    p->v->pack_applied_current = 0.0;
    p->v->balancer_energy_dissipated = 0.0;
    p->v->balancer_charge_moved = 0.0;
    p->v->balancer_active_cells = 0.0;
    p->v->bms_charge_enable = 1.0;
    p->v->bms_discharge_enable = 1.0;
    p->v->protection_cell_overvoltage_tripped = p->v->protection_cell_undervoltage_tripped = 0.0;
    p->v->protection_charge_overcurrent_tripped = p->v->protection_discharge_overcurrent_tripped = 0.0;
    p->v->protection_charge_overtemperature_tripped = p->v->protection_charge_undertemperature_tripped = 0.0;
    p->v->protection_discharge_overtemperature_tripped = p->v->protection_discharge_undertemperature_tripped = 0.0;
    for (k = 0; k < TWIN_MAX_RC; ++k) in->tau_const[k] = k < p->tables.n_rc ? constant_tau(&p->tables, k) : 0.0;
    if (interpolated_columns(p) == 3 + p->tables.n_rc) { /* constant time constants, filled once */
        double *rc_tau[TWIN_MAX_RC];
        rc_tau[0] = p->x.rc_tau1, rc_tau[1] = p->x.rc_tau2, rc_tau[2] = p->x.rc_tau3;
        for (k = 0; k < p->tables.n_rc; ++k)
            for (i = 0; i < p->n; ++i) rc_tau[k][i] = in->tau_const[k];
    }
    for (i = 0; i < p->n; ++i) p->x.ageing_charge[i] = 0.0;
    for (i = 0; i < p->n; ++i) p->x.lookup_key[i] = -1.0; /* no coefficients yet */
    twin_pack_refresh(p);
    twin_apply_events(p);
    twin_detect_reset(p);
    lookup_cells(p, 1);
    twin_sensors_update(p);
    pack_outputs(p);
    twin_protection_update(p, 0.0);
    twin_limits_update(p);
}

/* --- the step ------------------------------------------------------------------------------------ */

/* Charge, hysteresis, throughput, current and heat of every cell over one step, then its RC pairs
 * (exact solutions, their losses added to the heat). One pass, branch-free so that it vectorizes,
 * exp included; n_rc and tau_table are constants at each call site. With constant time constants
 * each pair's decay a = exp(-dt / tau) is the same for every cell (alpha); otherwise it is
 * computed per cell from the tabulated time constant (equal, bit for bit, where that is constant). */
TWIN_INLINE_BODY void cells_update_body(twin_pack *p, double current, double dt, const double *alpha, const int n_rc,
                                     const int tau_table)
{
    const twin_settings *s = p->s;
    const int n = p->n;
    const double bleed_heat = s->balancer_bleed_heat_fraction * s->balancer_bleed_resistance;
    const double eta_c = s->cell_coulombic_efficiency, gamma_dt = s->cell_hysteresis_rate * dt, dt_h = dt / 3600.0;
    /* each busbar's loss is shared by the two cells it joins; the end cells have one busbar */
    const double busbar_heat = 0.5 * current * current * s->pack_busbar_resistance;
    const double *busbar_share = p->x.busbar_share;
    const double *transfer = p->c.balancer_transfer_current, *bleed = p->c.balancer_bleed_current;
    const double *inv_q = p->x.inv_capacity, *leak = p->x.leak, *r0 = p->x.r0;
    double *soc = p->c.cell_soc, *h = p->c.cell_hysteresis, *hs = p->c.cell_hysteresis_sign;
    double *thr = p->c.cell_throughput, *aged = p->x.ageing_charge, *cur = p->c.cell_current, *heat = p->c.cell_heat;
    double *vk[TWIN_MAX_RC];
    const double *rk[TWIN_MAX_RC], *tauk[TWIN_MAX_RC];
    int i, k;
    vk[0] = p->c.cell_rc_voltage_1, vk[1] = p->c.cell_rc_voltage_2, vk[2] = p->c.cell_rc_voltage_3;
    rk[0] = p->x.rc_r1, rk[1] = p->x.rc_r2, rk[2] = p->x.rc_r3;
    tauk[0] = p->x.rc_tau1, tauk[1] = p->x.rc_tau2, tauk[2] = p->x.rc_tau3;
    TWIN_IVDEP
    for (i = 0; i < n; ++i) {
        const double it = current + transfer[i] - bleed[i];
        const double itot = it - leak[i];
        const double eta_tot = itot > 0.0 ? eta_c : 1.0;
        const double eta_it = it > 0.0 ? eta_c : 1.0;
        const double abs_it = it >= 0.0 ? it : -it;
        const double a = twin_exp(-(eta_it * abs_it * gamma_dt * inv_q[i]));
        const double sg = twin_sign(it);
        double q = it * it * r0[i] + bleed_heat * bleed[i] * bleed[i];
        soc[i] += eta_tot * itot * dt * inv_q[i];
        h[i] = sg + (h[i] - sg) * a;
        hs[i] = sg != 0.0 ? sg : hs[i];
        thr[i] += abs_it * dt_h;
        aged[i] += abs_it * dt;
        cur[i] = it;
        q += busbar_share[i] * busbar_heat; /* (a per-cell array, not a test on i: one vector width) */
        for (k = 0; k < n_rc; ++k) {
            const double r = rk[k][i];
            const double ak = tau_table ? twin_exp(-dt / tauk[k][i]) : alpha[k];
            const double g = r > 0.0 ? 1.0 / r : 0.0;
            const double vn = ak * vk[k][i] + (1.0 - ak) * r * it;
            vk[k][i] = vn;
            q += vn * vn * g;
        }
        heat[i] = q;
    }
}

#define CELLS_CASE(n_rc)                                                                             \
    case 2 * (n_rc):                                                                                 \
        cells_update_body(p, current, dt, alpha, n_rc, 0);                                           \
        break;                                                                                       \
    case 2 * (n_rc) + 1:                                                                             \
        cells_update_body(p, current, dt, alpha, n_rc, 1);                                           \
        break;

TWIN_VECTOR_CLONES static void cells_update_any(twin_pack *p, double current, double dt, const double *alpha,
                                                int tau_table)
{
    switch (2 * p->tables.n_rc + tau_table) {
        CELLS_CASE(0) CELLS_CASE(1) CELLS_CASE(2) CELLS_CASE(3)
    default:
        break;
    }
}
#undef CELLS_CASE

static void cells_update(twin_pack *p, double current, double dt)
{
    double alpha[TWIN_MAX_RC];
    int k;
    if (p->in->rc_alpha_dt != dt) {
        for (k = 0; k < TWIN_MAX_RC; ++k)
            p->in->rc_alpha[k] = p->in->tau_const[k] > 0.0 ? twin_exp(-dt / p->in->tau_const[k]) : 0.0;
        p->in->rc_alpha_dt = dt;
    }
    for (k = 0; k < TWIN_MAX_RC; ++k) alpha[k] = p->in->rc_alpha[k];
    cells_update_any(p, current, dt, alpha, interpolated_columns(p) != 3 + p->tables.n_rc);
}

/* Capacity fade and resistance growth: linear in charge throughput and in time, rates doubling
 * every ageing.temperature_doubling kelvin above the reference temperature. Applied once per
 * AGEING_INTERVAL of simulated time (or every step when steps are longer) with the temperature at
 * that moment: ageing is far slower than a minute, and this saves an exp per cell and step. */
#define AGEING_INTERVAL 60.0
static void ageing_update(twin_pack *p, double dt)
{
    const twin_settings *s = p->s;
    const double per_as = s->ageing_capacity_fade_per_cycle / (2.0 * 3600.0 * (double)s->pack_cells_in_parallel);
    const double per_s = s->ageing_capacity_fade_per_year / SECONDS_PER_YEAR;
    const double k_t = LN2 / s->ageing_temperature_doubling, t_ref = s->ageing_reference_temperature;
    const double growth = s->ageing_resistance_growth_per_fade;
    double elapsed;
    int i;
    p->in->ageing_time += dt;
    if (p->in->ageing_time < AGEING_INTERVAL) return;
    elapsed = p->in->ageing_time;
    p->in->ageing_time = 0.0;
    if (per_as == 0.0 && per_s == 0.0) {
        for (i = 0; i < p->n; ++i) p->x.ageing_charge[i] = 0.0;
        return;
    }
    for (i = 0; i < p->n; ++i) {
        const double rate = twin_exp(k_t * (p->c.cell_temperature[i] - t_ref));
        double fade = (per_as * p->x.ageing_charge[i] / p->c.cell_capacity[i] + per_s * elapsed) * rate;
        double f = p->c.cell_capacity_fade[i] + fade;
        f = f < 0.99 ? f : 0.99;
        fade = f - p->c.cell_capacity_fade[i];
        p->c.cell_capacity_fade[i] = f;
        p->c.cell_resistance_growth[i] += growth * fade;
        p->x.ageing_charge[i] = 0.0;
    }
    refresh_capacity_resistance(p);
}

/* Lumped thermal nodes: C dT/dt = Q + G_amb (T_amb - T) + G_nb sum_neighbours (T_nb - T).
 * Each node relaxes exactly towards its steady value with the neighbours held at their
 * start-of-step temperatures; the update is a convex combination of old temperatures and
 * sources, so it is stable for any dt. Its steady state is the exact steady state. */
TWIN_VECTOR_CLONES static void thermal_targets(twin_pack *p, double ambient, double dt)
{
    const twin_settings *s = p->s;
    const double par = (double)s->pack_cells_in_parallel;
    const double g_amb = par / s->cell_thermal_resistance_ambient, g_nb = 1.0 / s->pack_thermal_resistance_neighbor;
    const double heat_capacity = s->cell_heat_capacity * par;
    const double *restrict t = p->c.cell_temperature;
    double *restrict target = p->x.heat_scratch;
    const double *restrict heat = p->c.cell_heat, *restrict g = p->x.thermal_g, *restrict inv_g = p->x.inv_thermal_g;
    const int n = p->n;
    int i;
    if (p->in->thermal_dt != dt) {
        for (i = 0; i < n; ++i) p->x.thermal_alpha[i] = twin_exp(-dt * g[i] / heat_capacity);
        p->in->thermal_dt = dt;
    }
    if (n == 1) {
        target[0] = (heat[0] + g_amb * ambient) * inv_g[0];
    } else {
        target[0] = (heat[0] + g_amb * ambient + g_nb * t[1]) * inv_g[0];
        for (i = 1; i < n - 1; ++i) target[i] = (heat[i] + g_amb * ambient + g_nb * (t[i - 1] + t[i + 1])) * inv_g[i];
        target[n - 1] = (heat[n - 1] + g_amb * ambient + g_nb * t[n - 2]) * inv_g[n - 1];
    }
    /* each node then moves to target + (t - target) thermal_alpha: in step_lookup's pass */
}

twin_status twin_step(twin_pack *p, double dt)
{
    twin_pack_vars *v = p->v;
    double current = v->pack_current;
    int i;
    if (!(dt > 0.0) || !isfinite(dt)) return TWIN_ERR_VALUE;
    if (!isfinite(current) || !isfinite(v->pack_ambient_temperature)) return TWIN_ERR_VALUE;
    if (p->s->balancer_policy == TWIN_BALANCER_POLICY_EXTERNAL)
        for (i = 0; i < p->n; ++i) {
            double c = p->c.balancer_command[i];
            if (!(c == -1.0 || c == 0.0 || c == 1.0)) return TWIN_ERR_VALUE;
        }
    twin_apply_events(p);
    if ((current > 0.0 && v->bms_charge_enable == 0.0) || (current < 0.0 && v->bms_discharge_enable == 0.0))
        current = 0.0;
    v->pack_applied_current = current;
    twin_balancer_decide(p, dt);
    twin_balancer_actuate(p, dt);
    cells_update(p, current, dt);
    ageing_update(p, dt);
    thermal_targets(p, v->pack_ambient_temperature, dt);
    p->in->time += dt;
    step_lookup(p);
    twin_sensors_update(p);
    pack_outputs(p);
    twin_protection_update(p, dt);
    twin_limits_update(p);
    return TWIN_OK;
}

/* --- the bulk run ----------------------------------------------------------------------------- */

void twin_stop_none(twin_stop *stop)
{
    stop->max_cell_voltage = HUGE_VAL;
    stop->min_cell_voltage = -HUGE_VAL;
    stop->max_pack_voltage = HUGE_VAL;
    stop->min_pack_voltage = -HUGE_VAL;
    stop->min_abs_current = -HUGE_VAL;
    stop->max_voltage_spread = -HUGE_VAL;
    stop->on_protection = 0;
}

/* Current that brings the highest (charging) or lowest (discharging) cell, or the pack, to the
 * target at the end of the next step. Over a step each cell voltage is affine in the pack
 * current, v_i = a_i + b_i I, with the OCV held (its change within one step is far below a mV). */
static double hold_current(const twin_pack *p, const twin_drive *d, double dt)
{
    const int n_rc = p->tables.n_rc, n = p->n;
    const double limit = d->current_limit;
    const double *r[3], *tau[3], *vk[3];
    const table_grid g = grid_of(&p->tables);
    double best = limit > 0.0 ? HUGE_VAL : -HUGE_VAL, sum_a = 0.0, sum_b = 0.0, current;
    int i, k;
    r[0] = p->x.rc_r1, r[1] = p->x.rc_r2, r[2] = p->x.rc_r3;
    tau[0] = p->x.rc_tau1, tau[1] = p->x.rc_tau2, tau[2] = p->x.rc_tau3;
    vk[0] = p->c.cell_rc_voltage_1, vk[1] = p->c.cell_rc_voltage_2, vk[2] = p->c.cell_rc_voltage_3;
    for (i = 0; i < n; ++i) {
        const double h = p->c.cell_hysteresis[i];
        const double bal = p->c.balancer_transfer_current[i] - p->c.balancer_bleed_current[i] - p->x.leak[i];
        double ws, wse, wt, sc, sd, slope, a, b;
        /* OCV slope of the present table segment (dOCV/dSOC), so the hold also anticipates the
           OCV rise over the step, which reaches a mV per second on a steep knee */
        locate(&g, p->c.cell_soc[i], p->c.cell_temperature[i], &ws, &wse, &wt);
        {
            const double *blk = coef_block(p->coef, i) + i % TWIN_LANES;
            const double *kc = blk + 4 * TWIN_COL_OCV_CHARGE * TWIN_LANES, *kd = blk + 4 * TWIN_COL_OCV_DISCHARGE * TWIN_LANES;
            sc = kc[TWIN_LANES] + wt * kc[3 * TWIN_LANES];
            sd = kd[TWIN_LANES] + wt * kd[3 * TWIN_LANES];
        }
        slope = (0.5 * (1.0 + h) * sc + 0.5 * (1.0 - h) * sd) / p->tables.soc_step;
        a = p->c.cell_ocv[i];
        b = p->x.r0[i] + slope * dt * p->x.inv_capacity[i];
        for (k = 0; k < n_rc; ++k) {
            double al = twin_exp(-dt / tau[k][i]);
            a += al * vk[k][i];
            b += (1.0 - al) * r[k][i];
        }
        a += b * bal;
        sum_a += a;
        sum_b += b;
        if (d->kind == TWIN_DRIVE_CELL_VOLTAGE && b > 0.0) {
            double c = (d->value - a) / b;
            best = limit > 0.0 ? (c < best ? c : best) : (c > best ? c : best);
        }
    }
    if (d->kind == TWIN_DRIVE_PACK_VOLTAGE) {
        sum_b += p->s->pack_busbar_resistance * (double)(n - 1);
        best = sum_b > 0.0 ? (d->value - sum_a) / sum_b : 0.0;
    }
    current = best;
    if (limit > 0.0) current = twin_clamp(current, 0.0, limit);
    else current = twin_clamp(current, limit, 0.0);
    return current;
}

static double drive_current(const twin_pack *p, const twin_drive *d, long k, double dt)
{
    double current;
    switch (d->kind) {
    case TWIN_DRIVE_PROFILE:
        return d->current[k];
    case TWIN_DRIVE_CURRENT:
        return d->value;
    case TWIN_DRIVE_POWER:
        current = p->v->pack_voltage > 0.0 ? d->value / p->v->pack_voltage : 0.0;
        if (d->current_limit > 0.0) current = twin_clamp(current, -d->current_limit, d->current_limit);
        return current;
    case TWIN_DRIVE_CELL_VOLTAGE:
    case TWIN_DRIVE_PACK_VOLTAGE:
        return hold_current(p, d, dt);
    }
    return 0.0;
}

twin_status twin_run(twin_pack *p, double dt, long n_steps, const twin_drive *drive, const twin_stop *stop,
                     const twin_record *records, int n_records, long *steps_done, int *reason)
{
    long k;
    int r, i;
    const int want_cells = stop->max_cell_voltage < HUGE_VAL || stop->min_cell_voltage > -HUGE_VAL;
    *steps_done = 0;
    *reason = TWIN_STOP_STEPS;
    if (drive->kind == TWIN_DRIVE_PROFILE && drive->current == NULL) return TWIN_ERR_VALUE;
    for (k = 0; k < n_steps; ++k) {
        twin_status st;
        double asked;
        asked = drive_current(p, drive, k, dt);
        if (drive->obey_limits) { /* an inverter under DVCC: never above CCL or DCL */
            asked = asked > p->v->bms_ccl ? p->v->bms_ccl : asked;
            asked = asked < -p->v->bms_dcl ? -p->v->bms_dcl : asked;
        }
        p->v->pack_current = asked;
        if (drive->ambient != NULL) p->v->pack_ambient_temperature = drive->ambient[k];
        if (drive->commands != NULL)
            memcpy(p->c.balancer_command, drive->commands + (size_t)k * (size_t)p->n, (size_t)p->n * sizeof(double));
        st = twin_step(p, dt);
        if (st != TWIN_OK) return st;
        for (r = 0; r < n_records; ++r)
            memcpy(records[r].dst + (size_t)k * (size_t)records[r].count, records[r].src,
                   (size_t)records[r].count * sizeof(double));
        *steps_done = k + 1;
        if (want_cells) {
            double vmax = -HUGE_VAL, vmin = HUGE_VAL;
            for (i = 0; i < p->n; ++i) {
                double v = p->c.cell_voltage[i];
                vmax = v > vmax ? v : vmax;
                vmin = v < vmin ? v : vmin;
            }
            if (vmax >= stop->max_cell_voltage) { *reason = TWIN_STOP_MAX_CELL_VOLTAGE; break; }
            if (vmin <= stop->min_cell_voltage) { *reason = TWIN_STOP_MIN_CELL_VOLTAGE; break; }
        }
        if (p->v->pack_voltage >= stop->max_pack_voltage) { *reason = TWIN_STOP_MAX_PACK_VOLTAGE; break; }
        if (p->v->pack_voltage <= stop->min_pack_voltage) { *reason = TWIN_STOP_MIN_PACK_VOLTAGE; break; }
        if (fabs(p->v->pack_applied_current) <= stop->min_abs_current) { *reason = TWIN_STOP_CURRENT; break; }
        if (p->v->pack_cell_voltage_spread <= stop->max_voltage_spread) { *reason = TWIN_STOP_SPREAD; break; }
        if (stop->on_protection && asked != 0.0 && p->v->pack_applied_current == 0.0) {
            *reason = TWIN_STOP_PROTECTION;
            break;
        }
    }
    return TWIN_OK;
}
