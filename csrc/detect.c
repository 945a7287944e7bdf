/* Divergence detector: runs beside a real BMS and flags, per cell, where the measured behaviour
 * departs from what the cell's peers and its own history predict.
 *
 * It is the "mean-difference" idea (Plett; Zhou et al.): the pack's median cell is the reference,
 * and each cell is described by small differences from it, estimated recursively. Every quantity
 * is relative to the peers, so what all cells share (current-sensor offset and gain, temperature
 * swings, the flat LFP plateau, model error) cancels and cannot raise a flag.
 *
 * Per sample (cheap, O(cells)): the median voltage and each cell's deviation d_i from it; at
 * current edges (|dI| >= detect.edge_current), the deviation steps dd_i against dI (resistance);
 * between edges, the deviation steps' noise and any sudden jump of one reading (sensor fault).
 * Per block (detect.block seconds), the estimators:
 *   resistance      least squares of dd_i on dI over the recent edges (memory detect.resistance_
 *                   memory), against a baseline from the first edges; flagged when it rises by
 *                   more than max(detect.sigmas sigma, detect.resistance_fraction R0) for
 *                   detect.confirm_time.
 *   voltage_sensor  a jump of one reading between two samples with no current edge, bigger than
 *                   max(6 sigma, detect.jump_min), that stays (block mean after minus before
 *                   within 40 % of the jump, steady) for detect.confirm_time. The offset found is
 *                   removed from the cell's readings from then on.
 *   charge offset   over each charging or discharging run that moves the median voltage by more
 *                   than detect.min_step (the runs that cross a steep part of the LFP OCV curve),
 *                   a cell ahead of its peers by dQ_i deviates by (dV/dQ) dQ_i, so
 *                   dQ_i = integral(d_i dQ) / (V_end - V_start), with each cell's deviations at the
 *                   run's ends removed (static offsets) and the charge its balancing flags bled
 *                   added back. Each run's vector is compared, after a robust fit dQ = a + k beta,
 *                   with the baseline vector beta: a cell whose charge falls against its peers
 *                   leaks (self_discharge; balancer stuck on when the leak matches the bleed
 *                   current); one that keeps charge it was commanded to bleed has a balancer stuck
 *                   off.
 *   thermal         each sensor's reading minus the median sensor, against its own baseline
 *                   (needs three sensors or more).
 * Gaps in time (more than five sample periods) close the block, abort the open run and restart the
 * edge and jump tests, so nothing is bridged across a gap.
 */
#include <math.h>
#include <string.h>

#include "cell.h"
#include "twin.h"

#define JUMP_SIGMAS 6.0
#define FLAT_ENDS 0.3    /* a run's ends must be this flat against the run's largest spread */
#define MIN_RUN_S 1800.0 /* a run must be active this long to measure charge offsets */
#define BETA_RATE 0.3    /* how fast the baseline of calm cells follows them */
#define THERMAL_TAU 7200.0

/* k-th smallest of x[0..n) (quickselect, Hoare partition; x is reordered). */
static double select_kth(double *x, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        const double pivot = x[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot) ++i;
            while (x[j] > pivot) --j;
            if (i <= j) {
                const double t = x[i];
                x[i] = x[j];
                x[j] = t;
                ++i, --j;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return x[k];
    }
    return x[k];
}

/* Median of values[0..n), using scratch[0..n). */
static double median_of(const double *values, int n, double *scratch)
{
    double lower, upper;
    int i;
    memcpy(scratch, values, (size_t)n * sizeof(double));
    if (n % 2) return select_kth(scratch, n, n / 2);
    lower = select_kth(scratch, n, n / 2 - 1);
    upper = scratch[n / 2];
    for (i = n / 2 + 1; i < n; ++i) upper = scratch[i] < upper ? scratch[i] : upper;
    return 0.5 * (lower + upper);
}

/* Robust spread: 1.4826 times the median absolute deviation. */
static double mad_of(const double *values, int n, double *s1, double *s2)
{
    const double med = median_of(values, n, s1);
    int i;
    for (i = 0; i < n; ++i) s1[i] = fabs(values[i] - med);
    return 1.4826 * median_of(s1, n, s2);
}

static void raise_flag(double *flag, double *when, int i, double t)
{
    if (flag[i] == 0.0) {
        flag[i] = 1.0;
        when[i] = t;
    }
}

static void clear_block(twin_pack *p)
{
    twin_internal *in = p->in;
    const size_t bytes = (size_t)p->n * sizeof(double);
    memset(p->x.det_acc_v, 0, bytes);
    memset(p->x.det_acc_d, 0, bytes);
    memset(p->x.det_acc_bal, 0, bytes);
    memset(p->x.det_acc_exy, 0, bytes);
    memset(p->x.det_acc_qdd, 0, bytes);
    memset(p->x.det_acc_t, 0, bytes);
    memset(p->x.det_acc_tn, 0, bytes);
    in->det_blk_n = in->det_acc_i = in->det_acc_med = in->det_acc_q = 0.0;
    in->det_acc_exx = in->det_acc_mxy = in->det_acc_qn = 0.0;
}

void twin_detect_reset(twin_pack *p)
{
    twin_internal *in = p->in;
    const twin_settings *s = p->s;
    const int n = p->n;
    const size_t bytes = (size_t)n * sizeof(double);
    double cap = 0.0, rscale = 0.0, row[3 + 2 * TWIN_MAX_RC];
    int i;
#define TWIN_X_ZERO(name) memset(p->x.name, 0, bytes);
    TWIN_X_ZERO(det_d) TWIN_X_ZERO(det_dprev) TWIN_X_ZERO(det_vb) TWIN_X_ZERO(det_qdd_total)
    TWIN_X_ZERO(det_r_sxy) TWIN_X_ZERO(det_r_bxy) TWIN_X_ZERO(det_bleed) TWIN_X_ZERO(det_y)
    TWIN_X_ZERO(det_yprev1) TWIN_X_ZERO(det_yprev2) TWIN_X_ZERO(det_yprev3) TWIN_X_ZERO(det_seg_a)
    TWIN_X_ZERO(det_seg_ds) TWIN_X_ZERO(det_seg_wb) TWIN_X_ZERO(det_beta) TWIN_X_ZERO(det_calm_t)
    TWIN_X_ZERO(det_calm_bleed) TWIN_X_ZERO(det_prev_rho) TWIN_X_ZERO(det_prev_t) TWIN_X_ZERO(det_jump_amp)
    TWIN_X_ZERO(det_jump_t) TWIN_X_ZERO(det_jump_pre) TWIN_X_ZERO(det_jump_sum) TWIN_X_ZERO(det_jump_sq)
    TWIN_X_ZERO(det_jump_n) TWIN_X_ZERO(det_delta) TWIN_X_ZERO(det_t_base) TWIN_X_ZERO(det_t_n) TWIN_X_ZERO(det_confirmed)
#undef TWIN_X_ZERO
    memset(p->det_ring, 0, (size_t)TWIN_DET_RING * bytes);
    for (i = 0; i < n; ++i) {
        p->x.det_r_above[i] = p->x.det_t_above[i] = -1.0;
        p->c.flag_self_discharge[i] = p->c.flag_resistance[i] = p->c.flag_capacity[i] = 0.0;
        p->c.flag_voltage_sensor[i] = p->c.flag_balancer[i] = p->c.flag_thermal[i] = 0.0;
        p->c.flag_self_discharge_time[i] = p->c.flag_resistance_time[i] = p->c.flag_capacity_time[i] = NAN;
        p->c.flag_voltage_sensor_time[i] = p->c.flag_balancer_time[i] = p->c.flag_thermal_time[i] = NAN;
        p->c.estimate_leak_current[i] = p->c.estimate_leak_current_sigma[i] = NAN;
        p->c.estimate_resistance_change[i] = p->c.estimate_resistance_change_sigma[i] = NAN;
        p->c.estimate_capacity_change[i] = p->c.estimate_capacity_change_sigma[i] = NAN;
        p->c.estimate_voltage_offset[i] = p->c.estimate_voltage_offset_sigma[i] = NAN;
        p->c.estimate_charge_offset[i] = p->c.estimate_charge_offset_sigma[i] = NAN;
        p->c.estimate_temperature_offset[i] = p->c.estimate_bleed_error[i] = p->c.detect_deviation[i] = NAN;
        cap += p->c.cell_capacity[i];
        rscale += p->x.r_scale[i];
    }
    clear_block(p);
    in->det_prev_valid = in->det_period = 0.0;
    in->det_blk_start = NAN;
    in->det_qn_total = in->det_r_sxx = in->det_r_bxx = in->det_r_mxy = in->det_r_mxx = in->det_r_baseline = 0.0;
    in->det_seg_active = in->det_beta_ready = in->det_started = 0.0;
    /* scales: the pack's capacity, the nominal R0 (50 % SOC, 25 degC), edge and run currents */
    cap = cap / (double)n * (double)s->pack_cells_in_parallel;
    in->det_cap_as = cap * 3600.0;
    twin_table_lookup(&p->tables, 0.5, 25.0, 3, row);
    in->det_r0 = s->detect_nominal_resistance == s->detect_nominal_resistance ? s->detect_nominal_resistance
                                                                              : row[TWIN_COL_R0] * rscale / (double)n;
    in->det_edge_i = s->detect_edge_current * cap;
    in->det_memory = s->detect_resistance_memory * (0.5 * cap) * (0.5 * cap);
    in->det_seg_i = s->detect_segment_current * cap;
    in->det_bleed_r = s->detect_bleed_resistance == s->detect_bleed_resistance ? s->detect_bleed_resistance
                                                                               : s->balancer_bleed_resistance;
    p->v->detect_samples = p->v->detect_runs = p->v->detect_gaps = p->v->detect_flags = 0.0;
}

/* --- resistance --------------------------------------------------------------------------------- */

static void update_resistance(twin_pack *p, double t)
{
    twin_internal *in = p->in;
    const twin_settings *s = p->s;
    const double exx = in->det_acc_exx;
    int i;
    if (exx > 0.0) {
        const double f = in->det_memory / (in->det_memory + exx);
        in->det_r_sxx = in->det_r_sxx * f + exx;
        in->det_r_mxy = in->det_r_mxy * f + in->det_acc_mxy;
        in->det_r_mxx = in->det_r_mxx * f + exx;
        for (i = 0; i < p->n; ++i) p->x.det_r_sxy[i] = p->x.det_r_sxy[i] * f + p->x.det_acc_exy[i];
        if (in->det_r_baseline == 0.0) {
            in->det_r_bxx += exx;
            for (i = 0; i < p->n; ++i) p->x.det_r_bxy[i] += p->x.det_acc_exy[i];
            if (in->det_r_bxx >= 2.0 * in->det_memory) in->det_r_baseline = 1.0;
        }
    }
    if (in->det_r_baseline == 0.0 || in->det_r_sxx < 0.5 * in->det_memory) return;
    for (i = 0; i < p->n; ++i) {
        const double r = p->x.det_r_sxy[i] / in->det_r_sxx, rb = p->x.det_r_bxy[i] / in->det_r_bxx;
        const double sig_dd = in->det_qn_total > 10.0 ? sqrt(p->x.det_qdd_total[i] / in->det_qn_total) : 1e-3;
        /* twice the white-noise standard error: edge responses carry RC dynamics too */
        const double sig = 2.0 * sig_dd / sqrt(in->det_r_sxx);
        const double thr = fmax(s->detect_sigmas * sig, s->detect_resistance_fraction * in->det_r0);
        p->c.estimate_resistance_change[i] = r - rb;
        p->c.estimate_resistance_change_sigma[i] = sig;
        if (r - rb > thr) {
            if (p->x.det_r_above[i] < 0.0) p->x.det_r_above[i] = t;
            if (t - p->x.det_r_above[i] >= s->detect_confirm_time)
                raise_flag(p->c.flag_resistance, p->c.flag_resistance_time, i, t);
        } else {
            p->x.det_r_above[i] = -1.0;
        }
    }
}

/* --- voltage-sensor jumps ------------------------------------------------------------------------ */

/* A jump is kept when the deviation after it (blocks after the jump's own block) has stayed, steadily,
 * at the jumped level for the confirmation time; else it is dropped. */
static int confirm_jumps(twin_pack *p, double t, double blk_dt)
{
    const twin_settings *s = p->s;
    int i, changed = 0;
    for (i = 0; i < p->n; ++i) {
        const double amp = p->x.det_jump_amp[i];
        double mean, sd, shift;
        if (amp == 0.0 || t - p->x.det_jump_t[i] < blk_dt) continue;
        p->x.det_jump_sum[i] += p->x.det_y[i];
        p->x.det_jump_sq[i] += p->x.det_y[i] * p->x.det_y[i];
        p->x.det_jump_n[i] += 1.0;
        if (p->x.det_jump_n[i] * blk_dt < s->detect_confirm_time) continue;
        mean = p->x.det_jump_sum[i] / p->x.det_jump_n[i];
        sd = sqrt(fmax(p->x.det_jump_sq[i] / p->x.det_jump_n[i] - mean * mean, 0.0));
        shift = mean - p->x.det_jump_pre[i];
        if (fabs(shift - amp) < 0.4 * fabs(amp) && fabs(shift) >= s->detect_jump_min && sd < 0.25 * fabs(amp)) {
            raise_flag(p->c.flag_voltage_sensor, p->c.flag_voltage_sensor_time, i, t);
            p->x.det_delta[i] += shift;
            p->c.estimate_voltage_offset[i] = p->x.det_delta[i];
            p->c.estimate_voltage_offset_sigma[i] = sd / sqrt(p->x.det_jump_n[i]);
            changed = 1;
        }
        p->x.det_jump_amp[i] = 0.0;
    }
    return changed;
}

/* --- charge offsets over charging and discharging runs -------------------------------------------- */

/* Flag a departure of cell i's charge offset (rho, A s) against its peers. */
static void departure(twin_pack *p, int i, double rho, double sigma, double thr, double t)
{
    twin_internal *in = p->in;
    const double since = t - p->x.det_calm_t[i], bled = p->x.det_bleed[i] - p->x.det_calm_bleed[i];
    double rate;
    if (!(since > 0.0)) return;
    /* leak rate: between the last two departed runs, else since the last calm run */
    if (p->x.det_prev_rho[i] != 0.0 && t > p->x.det_prev_t[i])
        rate = -(rho - p->x.det_prev_rho[i]) / (t - p->x.det_prev_t[i]);
    else
        rate = -rho / since;
    if (rho < -thr) {
        const double bleed_i = in->det_bleed_r > 0.0 ? p->x.det_vb[i] / in->det_bleed_r : HUGE_VAL;
        const double duty = bled / (bleed_i * since);
        p->c.estimate_leak_current[i] = rate;
        p->c.estimate_leak_current_sigma[i] = 1.4142 * sigma / since;
        if (rate > 0.5 * bleed_i && rate < 2.0 * bleed_i && duty < 0.2) {
            p->c.estimate_bleed_error[i] = rate; /* a bleed current nobody commanded */
            raise_flag(p->c.flag_balancer, p->c.flag_balancer_time, i, t);
        } else {
            raise_flag(p->c.flag_self_discharge, p->c.flag_self_discharge_time, i, t);
        }
    } else if (rho > thr && rho > 0.5 * bled && rho < 2.0 * bled) {
        p->c.estimate_bleed_error[i] = -rho / since; /* charge the flags bled but that stayed */
        raise_flag(p->c.flag_balancer, p->c.flag_balancer_time, i, t);
    }
}

static void calm(twin_pack *p, int i, double value, double t)
{
    p->x.det_beta[i] += BETA_RATE * (value - p->x.det_beta[i]);
    p->x.det_calm_t[i] = p->x.det_prev_t[i] = t;
    p->x.det_calm_bleed[i] = p->x.det_bleed[i];
    p->x.det_prev_rho[i] = 0.0;
    p->x.det_confirmed[i] = 1.0;
}

/* Compare a run's charge offsets with the baseline. A cell is judged only once two runs agreed on
 * its baseline ("confirmed"); an unconfirmed cell that departs re-learns its baseline, unless it
 * departs the same way twice in a row, which is what a leak does. */
static void judge_run(twin_pack *p, const double *dq, double t)
{
    twin_internal *in = p->in;
    const twin_settings *s = p->s;
    const int n = p->n;
    double *res = p->x.det_s2, *s3 = p->x.det_s3, *s4 = p->x.det_s4;
    const double floor_q = 0.001 * in->det_cap_as;
    double a = 0.0, k = 1.0, lim = HUGE_VAL, sigma, thr;
    int i, it;
    p->v->detect_runs += 1.0;
    if (in->det_beta_ready == 0.0) {
        for (i = 0; i < n; ++i) {
            p->x.det_beta[i] = dq[i];
            p->x.det_calm_t[i] = p->x.det_prev_t[i] = t;
            p->x.det_calm_bleed[i] = p->x.det_bleed[i];
            p->x.det_prev_rho[i] = 0.0;
            p->x.det_confirmed[i] = 0.0;
            p->c.estimate_charge_offset[i] = 0.0;
        }
        in->det_beta_ready = 1.0;
        return;
    }
    for (it = 0; it < 3; ++it) { /* dq = a + k beta by least squares, then again without outliers */
        double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, det;
        for (i = 0; i < n; ++i) {
            const double b = p->x.det_beta[i];
            if (fabs(dq[i] - a - k * b) > lim) continue;
            sw += 1, sx += b, sy += dq[i], sxx += b * b, sxy += b * dq[i];
        }
        det = sw * sxx - sx * sx;
        if (sw >= 3 && det > 1e-9 * sw * sxx + 1e-30) {
            k = (sw * sxy - sx * sy) / det;
            a = (sy - k * sx) / sw;
        } else if (sw > 0) {
            k = 1.0;
            a = (sy - sx) / sw;
        }
        for (i = 0; i < n; ++i) res[i] = dq[i] - a - k * p->x.det_beta[i];
        lim = 3.0 * mad_of(res, n, s3, s4) + floor_q;
    }
    if (!(k > 0.2 && k < 5.0)) return; /* this run does not resemble the baseline: not judged */
    /* judge in this run's units (runs measure charge offsets with scales that differ by direction
       and depth); the baseline is carried into them */
    for (i = 0; i < n; ++i) p->x.det_beta[i] = a + k * p->x.det_beta[i];
    sigma = fmax(mad_of(res, n, s3, s4), floor_q);
    thr = fmax(s->detect_sigmas * sigma, s->detect_charge_threshold * in->det_cap_as);
    for (i = 0; i < n; ++i) {
        const double rho = res[i], value = dq[i];
        const int flagged = p->c.flag_self_discharge[i] != 0.0 || p->c.flag_balancer[i] != 0.0;
        p->c.estimate_charge_offset[i] = rho / 3600.0;
        p->c.estimate_charge_offset_sigma[i] = sigma / 3600.0;
        if (fabs(rho) < 2.0 * sigma && !flagged) {
            calm(p, i, value, t);
            continue;
        }
        if (p->x.det_confirmed[i] != 0.0 || flagged) {
            departure(p, i, rho, sigma, thr, t);
            p->x.det_prev_rho[i] = rho;
            p->x.det_prev_t[i] = t;
        } else if (fabs(rho) > thr && p->x.det_prev_rho[i] != 0.0 && rho * p->x.det_prev_rho[i] > 0.0) {
            /* unconfirmed, but drifting the same way run after run: judge the drift from the
               baseline it had before (beta was re-learned to the last run's value) */
            departure(p, i, rho + p->x.det_prev_rho[i], sigma, thr, t);
            p->x.det_prev_rho[i] = rho + p->x.det_prev_rho[i];
            p->x.det_prev_t[i] = t;
            p->x.det_beta[i] = value;
        } else {
            /* unconfirmed and departing once: re-learn the baseline from this run */
            p->x.det_prev_rho[i] = fabs(rho) > thr ? rho : 0.0;
            p->x.det_prev_t[i] = t;
            p->x.det_beta[i] = value;
        }
    }
}

static void end_run(twin_pack *p, double t)
{
    twin_internal *in = p->in;
    const int n = p->n, m = (int)fmin(in->det_seg_nact, (double)TWIN_DET_RING);
    double *dq = p->x.det_s1, *de = p->x.det_s2, *s3 = p->x.det_s3, *s4 = p->x.det_s4, *ds = p->x.det_seg_ds;
    double ue = 0.0, us, dv, flat_s, flat_e;
    int i, j;
    in->det_seg_active = 0.0;
    if (in->det_seg_valid == 0.0 || in->det_seg_nact * p->s->detect_block < MIN_RUN_S || m < 1) return;
    for (i = 0; i < n; ++i) {
        double sum = 0.0;
        for (j = 0; j < m; ++j) sum += p->det_ring[(size_t)j * (size_t)n + (size_t)i];
        de[i] = sum / m;
        ds[i] /= m; /* the first m active blocks */
    }
    for (j = 0; j < m; ++j) ue += in->det_seg_ring_u[j];
    ue /= m;
    us = in->det_seg_us / m;
    dv = ue - us;
    /* The OCV step the run crossed: the median voltage's change across the blocks where the cells
       disperse. The change over the whole run also holds the polarization built up as the current
       started, which would shrink every offset measured. */
    if (in->det_run_n >= 3.0) {
        const int nb = (int)in->det_run_n;
        int first = -1, last = -1, b;
        for (b = 0; b < nb; ++b)
            if (in->det_run_disp[b] >= 0.2 * in->det_seg_maxdisp) {
                if (first < 0) first = b;
                last = b;
            }
        if (first >= 0 && last > first) {
            double u0 = 0.0, u1 = 0.0;
            int c0 = 0, c1 = 0;
            for (b = first - 2; b <= first; ++b)
                if (b >= 0) u0 += in->det_run_u[b], ++c0;
            for (b = last; b <= last + 2; ++b)
                if (b < nb) u1 += in->det_run_u[b], ++c1;
            if ((u1 / c1 - u0 / c0) * dv > 0.0) dv = u1 / c1 - u0 / c0;
        }
    }
    flat_s = mad_of(ds, n, s3, s4);
    flat_e = mad_of(de, n, s3, s4);
    if (fabs(dv) < p->s->detect_min_step || flat_s > FLAT_ENDS * in->det_seg_maxdisp ||
        flat_e > FLAT_ENDS * in->det_seg_maxdisp || !(in->det_seg_wsum > 0.0))
        return;
    for (i = 0; i < n; ++i)
        dq[i] = (p->x.det_seg_a[i] - 0.5 * (ds[i] + de[i]) * in->det_seg_q) / dv + p->x.det_seg_wb[i] / in->det_seg_wsum;
    judge_run(p, dq, t);
}

static void update_run(twin_pack *p, double current, double dq_block, double u, double blk_dt, double t)
{
    twin_internal *in = p->in;
    const int n = p->n;
    const int active = fabs(current) >= in->det_seg_i;
    const double sign = active ? (current > 0.0 ? 1.0 : -1.0) : 0.0;
    double bleed_med, disp;
    int i;
    if (in->det_seg_active != 0.0) {
        if (active && sign != in->det_seg_sign) {
            end_run(p, t);
        } else if (!active) {
            in->det_seg_quiet += blk_dt;
            if (in->det_seg_quiet > p->s->detect_lull) end_run(p, t);
        } else {
            in->det_seg_quiet = 0.0;
        }
    }
    if (in->det_seg_active == 0.0) {
        if (!active) return;
        in->det_seg_active = 1.0, in->det_seg_sign = sign, in->det_seg_quiet = 0.0, in->det_seg_nact = 0.0;
        in->det_seg_q = in->det_seg_us = 0.0, in->det_seg_valid = 1.0, in->det_seg_ring_pos = 0.0;
        in->det_seg_maxdisp = in->det_seg_wsum = 0.0, in->det_seg_t0 = t, in->det_run_n = 0.0;
        memset(p->x.det_seg_a, 0, (size_t)n * sizeof(double));
        memset(p->x.det_seg_ds, 0, (size_t)n * sizeof(double));
        memset(p->x.det_seg_wb, 0, (size_t)n * sizeof(double));
    }
    in->det_seg_q += dq_block;
    bleed_med = median_of(p->x.det_bleed, n, p->x.det_s3);
    disp = mad_of(p->x.det_y, n, p->x.det_s3, p->x.det_s4);
    in->det_seg_maxdisp = fmax(in->det_seg_maxdisp, disp);
    in->det_seg_wsum += disp;
    if (in->det_run_n < TWIN_DET_RUN) {
        in->det_run_u[(int)in->det_run_n] = u;
        in->det_run_disp[(int)in->det_run_n] = disp;
        in->det_run_n += 1.0;
    }
    for (i = 0; i < n; ++i) {
        p->x.det_seg_a[i] += p->x.det_y[i] * dq_block;
        p->x.det_seg_wb[i] += (p->x.det_bleed[i] - bleed_med) * disp;
    }
    if (active && sign == in->det_seg_sign) {
        const int pos = (int)in->det_seg_ring_pos;
        if (in->det_seg_nact < TWIN_DET_RING) {
            for (i = 0; i < n; ++i) p->x.det_seg_ds[i] += p->x.det_y[i];
            in->det_seg_us += u;
        }
        memcpy(p->det_ring + (size_t)pos * (size_t)n, p->x.det_y, (size_t)n * sizeof(double));
        in->det_seg_ring_u[pos] = u;
        in->det_seg_ring_pos = (double)((pos + 1) % TWIN_DET_RING);
        in->det_seg_nact += 1.0;
    }
}

/* --- thermal ------------------------------------------------------------------------------------ */

static void update_thermal(twin_pack *p, double t, double blk_dt)
{
    const twin_settings *s = p->s;
    double *temps = p->x.det_s1, med;
    int i, m = 0;
    for (i = 0; i < p->n; ++i)
        if (p->x.det_acc_tn[i] > 0.0) temps[m++] = p->x.det_acc_t[i] / p->x.det_acc_tn[i];
    if (m < 3) return;
    med = median_of(temps, m, p->x.det_s2);
    for (i = 0; i < p->n; ++i) {
        double z, dep;
        if (p->x.det_acc_tn[i] == 0.0) continue;
        z = p->x.det_acc_t[i] / p->x.det_acc_tn[i] - med;
        if (p->x.det_t_n[i] == 0.0) {
            p->x.det_t_base[i] = z;
            p->x.det_t_n[i] = 1.0;
            continue;
        }
        dep = z - p->x.det_t_base[i];
        p->c.estimate_temperature_offset[i] = dep;
        if (fabs(dep) > s->detect_temperature_threshold) {
            if (p->x.det_t_above[i] < 0.0) p->x.det_t_above[i] = t;
            if (t - p->x.det_t_above[i] >= s->detect_confirm_time) raise_flag(p->c.flag_thermal, p->c.flag_thermal_time, i, t);
        } else {
            p->x.det_t_above[i] = -1.0;
            p->x.det_t_base[i] += fmin(blk_dt / THERMAL_TAU, 1.0) * (z - p->x.det_t_base[i]);
        }
    }
}

/* --- block and sample ------------------------------------------------------------------------------ */

static void process_block(twin_pack *p, double t)
{
    twin_internal *in = p->in;
    const int n = p->n;
    const double ns = in->det_blk_n;
    const double blk_dt = t - in->det_blk_start > 0.0 ? t - in->det_blk_start : p->s->detect_block;
    double current, med, rmed, u, flags = 0.0;
    int i;
    if (ns <= 0.0) return;
    current = in->det_acc_i / ns;
    med = in->det_acc_med / ns;
    in->det_qn_total += in->det_acc_qn;
    for (i = 0; i < n; ++i) {
        p->x.det_qdd_total[i] += p->x.det_acc_qdd[i];
        p->x.det_vb[i] = p->x.det_acc_v[i] / ns;
        if (in->det_bleed_r > 0.0) p->x.det_bleed[i] += p->x.det_acc_bal[i] / ns * p->x.det_vb[i] / in->det_bleed_r * blk_dt;
    }
    update_resistance(p, t);
    rmed = in->det_r_mxx > 0.0 ? in->det_r_mxy / in->det_r_mxx : 0.0;
    for (i = 0; i < n; ++i) {
        const double r = in->det_r_sxx > 0.0 ? p->x.det_r_sxy[i] / in->det_r_sxx : 0.0;
        p->x.det_y[i] = p->x.det_acc_d[i] / ns - r * current - p->x.det_delta[i];
        p->c.detect_deviation[i] = p->x.det_y[i];
    }
    u = med - rmed * current;
    if (confirm_jumps(p, t, blk_dt)) in->det_seg_valid = 0.0; /* the run's ends no longer match */
    update_thermal(p, t, blk_dt);
    update_run(p, current, in->det_acc_q, u, blk_dt, t);
    memcpy(p->x.det_yprev3, p->x.det_yprev2, (size_t)n * sizeof(double));
    memcpy(p->x.det_yprev2, p->x.det_yprev1, (size_t)n * sizeof(double));
    memcpy(p->x.det_yprev1, p->x.det_y, (size_t)n * sizeof(double));
    in->det_started += 1.0;
    for (i = 0; i < n; ++i)
        flags += (p->c.flag_self_discharge[i] + p->c.flag_resistance[i] + p->c.flag_capacity[i] +
                  p->c.flag_voltage_sensor[i] + p->c.flag_balancer[i] + p->c.flag_thermal[i]) > 0.0;
    p->v->detect_flags = flags;
}

int twin_detect_sample(twin_pack *p, double t)
{
    twin_internal *in = p->in;
    const twin_settings *s = p->s;
    const int n = p->n;
    const double *v = p->c.measured_cell_voltage, *cmd = p->c.balancer_command, *temp = p->c.measured_temperature;
    const double current = p->v->pack_current;
    double med, dt = 0.0;
    int i, done = 0;
    if (!(t == t) || !isfinite(current)) return 0;
    for (i = 0; i < n; ++i)
        if (!isfinite(v[i])) return 0; /* an incomplete sample is skipped */
    if (in->det_prev_valid != 0.0) {
        const double limit = in->det_period > 0.0 ? fmax(5.0 * in->det_period, in->det_period + 10.0) : HUGE_VAL;
        dt = t - in->det_t_prev;
        if (!(dt > 0.0)) return 0;
        if (dt > limit) { /* a gap: close what is open, bridge nothing */
            process_block(p, in->det_t_prev);
            clear_block(p);
            done = 1;
            in->det_seg_active = 0.0;
            memset(p->x.det_jump_amp, 0, (size_t)n * sizeof(double));
            in->det_prev_valid = 0.0;
            in->det_blk_start = t;
            p->v->detect_gaps += 1.0;
        }
    }
    med = median_of(v, n, p->x.det_s1);
    for (i = 0; i < n; ++i) p->x.det_d[i] = v[i] - med;
    if (in->det_prev_valid != 0.0) {
        const double di = current - in->det_i_prev;
        in->det_period = in->det_period > 0.0 ? fmin(in->det_period, dt) : dt;
        if (fabs(di) >= in->det_edge_i) {
            for (i = 0; i < n; ++i) p->x.det_acc_exy[i] += di * (p->x.det_d[i] - p->x.det_dprev[i]);
            in->det_acc_exx += di * di;
            in->det_acc_mxy += di * (med - in->det_med_prev);
        } else if (fabs(di) < 0.2 * in->det_edge_i) {
            const int watch = in->det_qn_total >= 100.0 && in->det_started >= 3.0;
            for (i = 0; i < n; ++i) {
                const double dd = p->x.det_d[i] - p->x.det_dprev[i];
                p->x.det_acc_qdd[i] += dd * dd;
                if (watch && p->x.det_jump_amp[i] == 0.0) {
                    const double sig = sqrt(p->x.det_qdd_total[i] / in->det_qn_total);
                    if (fabs(dd) > fmax(JUMP_SIGMAS * sig, s->detect_jump_min)) {
                        p->x.det_jump_amp[i] = dd;
                        p->x.det_jump_t[i] = t;
                        p->x.det_jump_pre[i] = (p->x.det_yprev1[i] + p->x.det_yprev2[i] + p->x.det_yprev3[i]) / 3.0;
                        p->x.det_jump_sum[i] = p->x.det_jump_sq[i] = p->x.det_jump_n[i] = 0.0;
                    }
                }
            }
            in->det_acc_qn += 1.0;
        }
        in->det_acc_q += current * dt;
    }
    if (!(in->det_blk_start == in->det_blk_start)) in->det_blk_start = t;
    for (i = 0; i < n; ++i) {
        p->x.det_acc_v[i] += v[i];
        p->x.det_acc_d[i] += p->x.det_d[i];
        p->x.det_acc_bal[i] += cmd[i] > 0.5 ? 1.0 : 0.0;
        if (temp[i] == temp[i]) {
            p->x.det_acc_t[i] += temp[i];
            p->x.det_acc_tn[i] += 1.0;
        }
    }
    in->det_acc_i += current;
    in->det_acc_med += med;
    in->det_blk_n += 1.0;
    memcpy(p->x.det_dprev, p->x.det_d, (size_t)n * sizeof(double));
    in->det_t_prev = t, in->det_i_prev = current, in->det_med_prev = med, in->det_prev_valid = 1.0;
    p->v->detect_samples += 1.0;
    if (t - in->det_blk_start >= s->detect_block * (1.0 - 1e-9)) {
        process_block(p, t);
        clear_block(p);
        in->det_blk_start = t;
        done = 1;
    }
    return done;
}

long twin_detect_run(twin_pack *p, long n_samples, const double *time, const double *current, const double *voltage,
                     const double *temperature, const double *balancing, const twin_record *records, int n_records,
                     long max_blocks, double *block_time)
{
    const int n = p->n;
    long k, blocks = 0;
    int r;
    for (k = 0; k < n_samples; ++k) {
        p->v->pack_current = current[k];
        memcpy(p->c.measured_cell_voltage, voltage + (size_t)k * (size_t)n, (size_t)n * sizeof(double));
        if (temperature != NULL)
            memcpy(p->c.measured_temperature, temperature + (size_t)k * (size_t)n, (size_t)n * sizeof(double));
        if (balancing != NULL)
            memcpy(p->c.balancer_command, balancing + (size_t)k * (size_t)n, (size_t)n * sizeof(double));
        if (twin_detect_sample(p, time[k]) && blocks < max_blocks) {
            for (r = 0; r < n_records; ++r)
                memcpy(records[r].dst + (size_t)blocks * (size_t)records[r].count, records[r].src,
                       (size_t)records[r].count * sizeof(double));
            if (block_time != NULL) block_time[blocks] = time[k];
            ++blocks;
        }
    }
    return blocks;
}
