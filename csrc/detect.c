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
 *   charge offsets  per landmark of the OCV curve (plateau steps, top and bottom knees), each
 *                   cell's charge against its peers; changes mean a leak, a stuck balancer switch or
 *                   a capacity change (detect_charge.c).
 *   thermal         each sensor's reading minus the median sensor, against its own baseline
 *                   (needs three sensors or more).
 * Gaps in time (more than five sample periods) close the block, abort the open run and restart the
 * edge and jump tests, so nothing is bridged across a gap.
 */
#include <math.h>
#include <string.h>

#include "cell.h"
#include "detect.h"
#include "twin.h"

#define JUMP_SIGMAS 6.0      /* a step of the window means, in noise sigmas of that difference */
#define CANDIDATE_SIGMAS 2.5 /* a sample-to-sample step that makes a reading suspect */
#define THERMAL_TAU 7200.0 /* temperature baselines follow within 2 h */

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
double twin_median_of(const double *values, int n, double *scratch)
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

/* Median of n finite values, as twin_median_of: up to 16 values (a sample's cell voltages, the
 * detector's per-sample cost) through a sorting network, beyond through twin_median_of. On noisy
 * readings quickselect mispredicts most of its branches; the network is straight-line min and max
 * (Batcher's odd-even merge sort, Knuth TAOCP 3, 5.3.4: 63 comparators in 10 layers, the missing
 * inputs +inf), about four times faster for 16 cells. The median is the same: a comparator gives
 * equal values back as one of them, so only the sign of a zero can differ. */
#define CE(i, j)                            \
    {                                       \
        const double a = x##i, b = x##j;    \
        x##i = a < b ? a : b; /* minsd */   \
        x##j = a > b ? a : b; /* maxsd */   \
    }
double twin_median_of_finite(const double *values, int n, double *scratch)
{
    double s[16], x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15;
    int i;
    if (n > 16 || n < 1) return twin_median_of(values, n, scratch);
    for (i = 0; i < 16; ++i) s[i] = i < n ? values[i] : HUGE_VAL;
    x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3], x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
    x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11], x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];
    CE(0, 1) CE(2, 3) CE(4, 5) CE(6, 7) CE(8, 9) CE(10, 11) CE(12, 13) CE(14, 15)
    CE(0, 2) CE(1, 3) CE(4, 6) CE(5, 7) CE(8, 10) CE(9, 11) CE(12, 14) CE(13, 15)
    CE(1, 2) CE(5, 6) CE(9, 10) CE(13, 14)
    CE(0, 4) CE(1, 5) CE(2, 6) CE(3, 7) CE(8, 12) CE(9, 13) CE(10, 14) CE(11, 15)
    CE(2, 4) CE(3, 5) CE(10, 12) CE(11, 13)
    CE(1, 2) CE(3, 4) CE(5, 6) CE(9, 10) CE(11, 12) CE(13, 14)
    CE(0, 8) CE(1, 9) CE(2, 10) CE(3, 11) CE(4, 12) CE(5, 13) CE(6, 14) CE(7, 15)
    CE(4, 8) CE(5, 9) CE(6, 10) CE(7, 11)
    CE(2, 4) CE(3, 5) CE(6, 8) CE(7, 9) CE(10, 12) CE(11, 13)
    CE(1, 2) CE(3, 4) CE(5, 6) CE(7, 8) CE(9, 10) CE(11, 12) CE(13, 14)
    s[0] = x0, s[1] = x1, s[2] = x2, s[3] = x3, s[4] = x4, s[5] = x5, s[6] = x6, s[7] = x7;
    s[8] = x8, s[9] = x9, s[10] = x10, s[11] = x11, s[12] = x12, s[13] = x13, s[14] = x14, s[15] = x15;
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}
#undef CE

/* Robust spread: 1.4826 times the median absolute deviation. */
double twin_mad_of(const double *values, int n, double *s1, double *s2)
{
    const double med = twin_median_of(values, n, s1);
    int i;
    for (i = 0; i < n; ++i) s1[i] = fabs(values[i] - med);
    return 1.4826 * twin_median_of(s1, n, s2);
}

void twin_raise_flag(double *flag, double *when, int i, double t)
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
    TWIN_X_ZERO(det_seg_ds) TWIN_X_ZERO(det_seg_wb) TWIN_X_ZERO(det_knee_prev) TWIN_X_ZERO(det_jump_amp)
    TWIN_X_ZERO(det_jump_t) TWIN_X_ZERO(det_jump_pre) TWIN_X_ZERO(det_jump_sum) TWIN_X_ZERO(det_jump_sq)
    TWIN_X_ZERO(det_jump_n) TWIN_X_ZERO(det_delta) TWIN_X_ZERO(det_t_base) TWIN_X_ZERO(det_t_n)
    TWIN_X_ZERO(det_cand_pre) TWIN_X_ZERO(det_cand_sum) TWIN_X_ZERO(det_cand_n) TWIN_X_ZERO(det_cand_t)
    TWIN_X_ZERO(det_cmd_prev)
#undef TWIN_X_ZERO
    twin_charge_reset(p);
    for (i = 0; i < n; ++i) {
        p->x.det_r_above[i] = p->x.det_t_above[i] = -1.0;
        p->c.flag_self_discharge[i] = p->c.flag_resistance[i] = p->c.flag_capacity[i] = 0.0;
        p->c.flag_voltage_sensor[i] = p->c.flag_balancer[i] = p->c.flag_thermal[i] = 0.0;
        p->c.flag_self_discharge_time[i] = p->c.flag_resistance_time[i] = p->c.flag_capacity_time[i] = NAN;
        p->c.flag_voltage_sensor_time[i] = p->c.flag_balancer_time[i] = p->c.flag_thermal_time[i] = NAN;
        p->c.estimate_leak_current[i] = p->c.estimate_leak_current_sigma[i] = NAN;
        p->c.estimate_leak_current_lower_bound[i] = 0.0;
        p->c.estimate_resistance_change[i] = p->c.estimate_resistance_change_sigma[i] = NAN;
        p->c.estimate_capacity_change[i] = p->c.estimate_capacity_change_sigma[i] = NAN;
        p->c.estimate_voltage_offset[i] = p->c.estimate_voltage_offset_sigma[i] = NAN;
        p->c.estimate_charge_offset[i] = p->c.estimate_charge_offset_sigma[i] = NAN;
        p->c.estimate_temperature_offset[i] = p->c.estimate_bleed_error[i] = p->c.detect_deviation[i] = NAN;
        cap += p->c.cell_capacity[i];
        rscale += p->x.r_scale[i];
    }
    clear_block(p);
    in->det_prev_valid = in->det_period = in->det_jw_pos = in->det_quiet_n = 0.0;
    in->det_blk_start = NAN;
    in->det_qn_total = in->det_r_sxx = in->det_r_bxx = in->det_r_mxy = in->det_r_mxx = in->det_r_baseline = 0.0;
    in->det_started = in->det_q_total = 0.0;
    /* scales: the pack's capacity, the nominal R0 (50 % SOC, 25 degC), edge and run currents */
    cap = cap / (double)n * (double)s->pack_cells_in_parallel;
    in->det_cap_as = cap * 3600.0;
    twin_table_lookup(&p->tables, 0.5, 25.0, 3, row);
    in->det_r0 = s->detect_nominal_resistance == s->detect_nominal_resistance ? s->detect_nominal_resistance
                                                                              : row[TWIN_COL_R0] * rscale / (double)n;
    in->det_edge_i = s->detect_edge_current * cap;
    in->det_memory = s->detect_resistance_memory;
    in->det_seg_i = s->detect_segment_current * cap;
    in->det_bleed_r = s->detect_bleed_resistance == s->detect_bleed_resistance ? s->detect_bleed_resistance
                                                                               : s->balancer_bleed_resistance;
    p->v->detect_samples = p->v->detect_runs = p->v->detect_gaps = p->v->detect_flags = 0.0;
}

/* --- resistance --------------------------------------------------------------------------------- */

/* Memory of the resistance estimator in edge energy (sum of dI^2): enough to resolve 5 % of the
 * nominal R0 against the measured deviation noise, times detect.resistance_memory. */
static double resistance_memory(twin_pack *p)
{
    twin_internal *in = p->in;
    double sig = 1.5e-3;
    if (in->det_qn_total > 100.0) sig = sqrt(twin_median_of(p->x.det_qdd_total, p->n, p->x.det_s3) / in->det_qn_total);
    if (!(in->det_r0 > 0.0)) return p->s->detect_resistance_memory;
    return p->s->detect_resistance_memory * (sig / (0.05 * in->det_r0)) * (sig / (0.05 * in->det_r0));
}

static void update_resistance(twin_pack *p, double t)
{
    twin_internal *in = p->in;
    const twin_settings *s = p->s;
    const double exx = in->det_acc_exx;
    int i;
    in->det_memory = resistance_memory(p);
    if (exx > 0.0) {
        const double f = in->det_memory / (in->det_memory + exx);
        in->det_r_sxx = in->det_r_sxx * f + exx;
        in->det_r_mxy = in->det_r_mxy * f + in->det_acc_mxy;
        in->det_r_mxx = in->det_r_mxx * f + exx;
        for (i = 0; i < p->n; ++i) p->x.det_r_sxy[i] = p->x.det_r_sxy[i] * f + p->x.det_acc_exy[i];
        if (in->det_r_baseline == 0.0) {
            in->det_r_bxx += exx;
            for (i = 0; i < p->n; ++i) p->x.det_r_bxy[i] += p->x.det_acc_exy[i];
            if (in->det_r_bxx >= in->det_memory) in->det_r_baseline = 1.0;
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
                twin_raise_flag(p->c.flag_resistance, p->c.flag_resistance_time, i, t);
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
            twin_raise_flag(p->c.flag_voltage_sensor, p->c.flag_voltage_sensor_time, i, t);
            p->x.det_delta[i] += shift;
            p->c.estimate_voltage_offset[i] = p->x.det_delta[i];
            p->c.estimate_voltage_offset_sigma[i] = sd / sqrt(p->x.det_jump_n[i]);
            changed = 1;
        }
        p->x.det_jump_amp[i] = 0.0;
    }
    return changed;
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
    med = twin_median_of(temps, m, p->x.det_s2);
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
            if (t - p->x.det_t_above[i] >= s->detect_confirm_time) twin_raise_flag(p->c.flag_thermal, p->c.flag_thermal_time, i, t);
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
        /* the baseline resistance corrects the deviations (the recent estimate is noisier), unless
           the cell's resistance was flagged as changed */
        const double r = (in->det_r_baseline != 0.0 && p->c.flag_resistance[i] == 0.0)
                             ? p->x.det_r_bxy[i] / in->det_r_bxx
                             : (in->det_r_sxx > 0.0 ? p->x.det_r_sxy[i] / in->det_r_sxx : 0.0);
        p->x.det_y[i] = p->x.det_acc_d[i] / ns - r * current - p->x.det_delta[i];
        p->c.detect_deviation[i] = p->x.det_y[i];
    }
    u = med - rmed * current;
    if (confirm_jumps(p, t, blk_dt)) twin_charge_invalidate(p); /* the stretch's ends no longer match */
    update_thermal(p, t, blk_dt);
    twin_charge_block(p, current, in->det_acc_q, u, blk_dt, t);
    memcpy(p->x.det_yprev3, p->x.det_yprev2, (size_t)n * sizeof(double));
    memcpy(p->x.det_yprev2, p->x.det_yprev1, (size_t)n * sizeof(double));
    memcpy(p->x.det_yprev1, p->x.det_y, (size_t)n * sizeof(double));
    in->det_started += 1.0;
    for (i = 0; i < n; ++i)
        flags += (p->c.flag_self_discharge[i] + p->c.flag_resistance[i] + p->c.flag_capacity[i] +
                  p->c.flag_voltage_sensor[i] + p->c.flag_balancer[i] + p->c.flag_thermal[i]) > 0.0;
    p->v->detect_flags = flags;
}

/* A reading that steps while the current is steady: the mean of the TWIN_DET_JW deviations after a
 * suspect sample against the mean of the TWIN_DET_JW before it. Averaging both sides lets a step
 * a few times the ADC noise through (a single-sample test would need six noise sigmas on one
 * difference); a step that passes goes on to the confirmation over blocks (confirm_jumps). A cell
 * whose balancing flag changed meanwhile is not tested: a bleed current through a shared sense
 * wire shifts its reading, which is no fault. */
static void step_test(twin_pack *p, double t)
{
    twin_internal *in = p->in;
    const twin_settings *s = p->s;
    const double *cmd = p->c.balancer_command;
    const int watch = in->det_qn_total >= 100.0 && in->det_started >= 3.0 && in->det_quiet_n >= TWIN_DET_JW;
    const double inv_qn = in->det_qn_total > 0.0 ? 1.0 / in->det_qn_total : 0.0;
    const double cand2 = CANDIDATE_SIGMAS * CANDIDATE_SIGMAS, floor2 = 0.25 * s->detect_jump_min * s->detect_jump_min;
    int i, j;
    for (i = 0; i < p->n; ++i) {
        const double dd = p->x.det_d[i] - p->x.det_dprev[i];
        const double var = p->x.det_qdd_total[i] * inv_qn; /* squared noise of a sample-to-sample step */
        if (cmd[i] != p->x.det_cmd_prev[i]) p->x.det_cand_n[i] = 0.0;
        if (p->x.det_cand_n[i] == 0.0) {
            const double lim = cand2 * var > floor2 ? cand2 * var : floor2;
            if (watch && dd * dd > lim && p->x.det_jump_amp[i] == 0.0) {
                double pre = 0.0;
                for (j = 0; j < TWIN_DET_JW; ++j) pre += twin_det_jring(p, j)[i];
                p->x.det_cand_pre[i] = pre / TWIN_DET_JW;
                p->x.det_cand_sum[i] = p->x.det_d[i];
                p->x.det_cand_n[i] = 1.0;
                p->x.det_cand_t[i] = t;
            }
        } else {
            const double sig = sqrt(var);
            p->x.det_cand_sum[i] += p->x.det_d[i];
            p->x.det_cand_n[i] += 1.0;
            if (p->x.det_cand_n[i] >= TWIN_DET_JW) {
                const double step = p->x.det_cand_sum[i] / p->x.det_cand_n[i] - p->x.det_cand_pre[i];
                if (fabs(step) > fmax(JUMP_SIGMAS * sig / sqrt((double)TWIN_DET_JW), s->detect_jump_min) &&
                    p->x.det_jump_amp[i] == 0.0) {
                    p->x.det_jump_amp[i] = step;
                    p->x.det_jump_t[i] = p->x.det_cand_t[i];
                    p->x.det_jump_pre[i] = (p->x.det_yprev1[i] + p->x.det_yprev2[i] + p->x.det_yprev3[i]) / 3.0;
                    p->x.det_jump_sum[i] = p->x.det_jump_sq[i] = p->x.det_jump_n[i] = 0.0;
                }
                p->x.det_cand_n[i] = 0.0;
            }
        }
    }
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
            twin_charge_abort(p);
            memset(p->x.det_jump_amp, 0, (size_t)n * sizeof(double));
            memset(p->x.det_cand_n, 0, (size_t)n * sizeof(double));
            in->det_prev_valid = in->det_quiet_n = 0.0;
            in->det_blk_start = t;
            p->v->detect_gaps += 1.0;
        }
    }
    med = twin_median_of_finite(v, n, p->x.det_s1);
    for (i = 0; i < n; ++i) p->x.det_d[i] = v[i] - med;
    if (in->det_prev_valid != 0.0) {
        const double di = current - in->det_i_prev;
        in->det_period = in->det_period > 0.0 ? fmin(in->det_period, dt) : dt;
        if (fabs(di) >= in->det_edge_i) {
            for (i = 0; i < n; ++i) p->x.det_acc_exy[i] += di * (p->x.det_d[i] - p->x.det_dprev[i]);
            in->det_acc_exx += di * di;
            in->det_acc_mxy += di * (med - in->det_med_prev);
        }
        if (fabs(di) < 0.2 * in->det_edge_i) {
            for (i = 0; i < n; ++i) {
                const double dd = p->x.det_d[i] - p->x.det_dprev[i];
                p->x.det_acc_qdd[i] += dd * dd;
            }
            in->det_acc_qn += 1.0;
            step_test(p, t);
            in->det_quiet_n += 1.0;
        } else { /* the current moved: what the readings do now is the cells' resistance */
            memset(p->x.det_cand_n, 0, (size_t)n * sizeof(double));
            in->det_quiet_n = 0.0;
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
    memcpy(twin_det_jring(p, (int)in->det_jw_pos), p->x.det_d, (size_t)n * sizeof(double));
    in->det_jw_pos = (double)(((int)in->det_jw_pos + 1) % TWIN_DET_JW);
    for (i = 0; i < n; ++i) p->x.det_cmd_prev[i] = cmd[i];
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
