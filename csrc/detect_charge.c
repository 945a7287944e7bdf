/* Charge offsets of each cell against its peers, at landmarks of the LFP OCV curve, and what their
 * changes mean: a leak, a balancer switch stuck on or off, a capacity change.
 *
 * Landmarks (three kinds, each with its own baseline since they sit at different SOC):
 *   step    a steep step of the OCV curve crossed within a charging or discharging run. A cell
 *           ahead of its peers by dQ_i deviates from the median by (dV/dQ) dQ_i while the pack
 *           crosses, so dQ_i = integral(y_i dQ) / (V_after - V_before), y_i with the cell's flat
 *           levels before and after the stretch removed. The stretch runs from a flat stretch to
 *           the next one, "flat" meaning the cells' spread is below FLAT_ENDS of its peak.
 *   top     the top knee on the way to full: the pack charge at which each cell's corrected voltage
 *           first crosses each of TWIN_DET_LEVELS levels (5 mV apart from detect.knee_top). At the
 *           end of the charge, dQ_i is the median cell's crossing charge minus the cell's, at the
 *           highest levels all cells crossed.
 *   bottom  the same on the way to empty, levels downwards from detect.knee_bottom.
 * The charge each cell's balancing flags bled (bleed resistance from the settings) is added back.
 *
 * Judging: each landmark's vector is fitted to its kind's baseline, dQ = a + k beta (least squares
 * with outliers left out); a cell departs when its residual exceeds max(detect.sigmas sigma,
 * detect.charge_threshold capacity), sigma the robust spread of the residuals. A cell is judged
 * once two landmarks of a kind agreed on its baseline (a bad first landmark cannot raise a flag),
 * or on a fall beyond UNCONFIRMED thresholds, or when it departs the same way twice in a row,
 * which is what a leak does. A cell that crossed no steep knee level is censored: its offset is a
 * bound (it is at least that far behind), which can tell a fall but never a rise.
 *   falls, and no other landmark kind says it rose       self_discharge (leak rate estimated: a
 *                                                        lower bound until two landmarks bracket it)
 *   falls at the rate of its bleed resistor, flags off   balancer stuck on (replaces the leak flag)
 *   rises by about what its flags say was bled           balancer stuck off
 *   rises at the top knee beyond its bleeding            capacity change (a smaller cell is full first)
 *   falls at one kind of landmark, rises at another      capacity change
 * and the leader test of detect_landmarks.c: a cell full far earlier than its baseline allows.
 */
#include <math.h>
#include <string.h>

#include "detect.h"

#define BETA_RATE 0.3  /* how fast the baseline of calm cells follows them */
/* An unconfirmed baseline is judged only on falls beyond this many thresholds: plateau steps are
 * crossed both ways and cells deviate differently each way; knee crossings are measured the same
 * way each time, so a measured (not censored) knee baseline is trusted sooner. */
#define PAUSE_CHARGE 0.01 /* a run resumes its paused knee when the charge moved less than this (of capacity) */
#define PAUSE_WAIT 4.0     /* a paused knee closes after this many lulls */
#define UNCONFIRMED 2.5
#define UNCONFIRMED_KNEE 1.5
/* Slowest drain flagged as a leak, as a fraction of capacity per hour, beyond the rate's own
 * uncertainty: 3e-5 /h is 8.4 mA for a 280 Ah cell, about 6 % a month over its peers. Cells of one pack
 * self-discharge differently (LFP about 3 %/month, DOMAIN.md; the default set's spread is 20 %, so a
 * cell 2-3 sigma off drains 5-7 mA more than its peers at 280 Ah): over weeks such a cell drifts past
 * any charge threshold, and that drift, steady from the start, is not a fault that appeared. */
#define LEAK_FLOOR 3e-5

void twin_charge_reset(twin_pack *p)
{
    twin_internal *in = p->in;
    int k;
    memset(p->det_planes, 0, (size_t)TWIN_DET_PLANES * (size_t)p->n * sizeof(double));
    for (k = 0; k < TWIN_DET_KINDS; ++k) in->det_beta_ready[k] = in->det_event_q[k] = 0.0;
    in->det_seg_sign = in->det_seg_quiet = in->det_bump = in->det_flat_n = 0.0;
    in->det_post_flat = in->det_seg_ring_pos = in->det_seg_start_disp = 0.0;
    in->det_knee_active = in->det_step_height = in->det_seg_looked = in->det_knee_pending = 0.0;
}

/* --- judging ------------------------------------------------------------------------------------ */

/* Latest residual of another landmark kind within two days, or 0. */
static double other_rho(const twin_pack *p, int kind, int i, double t)
{
    double best = 0.0, when = -HUGE_VAL;
    int k;
    for (k = 0; k < TWIN_DET_KINDS; ++k) {
        const double lt = twin_det_base(p, k, B_LAST_T)[i];
        if (k == kind || lt <= 0.0 || t - lt > 172800.0) continue;
        if (lt > when) when = lt, best = twin_det_base(p, k, B_LAST_RHO)[i];
    }
    return best;
}

/* A departure of cell i (rho, A s) at a landmark of `kind`: say what it means. censored: 0 measured,
 * 1 placed imprecisely below the knee, 2 a bound (the cell is at least this far behind). */
void twin_departure(twin_pack *p, int kind, int i, double rho, double sigma, double thr, int censored, double t)
{
    twin_internal *in = p->in;
    const double calm_t = twin_det_base(p, kind, B_CALM_T)[i], prev = twin_det_base(p, kind, B_PREV_RHO)[i];
    const double prev_t = twin_det_base(p, kind, B_PREV_T)[i];
    const double since = t - calm_t, bled = p->x.det_bleed[i] - twin_det_base(p, kind, B_CALM_BLEED)[i];
    const double other = other_rho(p, kind, i, t);
    /* the rate is known when two measured departures bracket it; since the last calm landmark
       it is a lower bound (the leak may have started later) */
    const int determined = !censored && prev != 0.0 && t > prev_t;
    const double rate = determined ? -(rho - prev) / (t - prev_t) : -rho / since;
    if (!(since > 0.0)) return;
    if (!censored && ((rho < -thr && other > 0.5 * thr) || (rho > thr && other < -0.5 * thr))) {
        /* apart at landmarks of different depth: a capacity change */
        double span = 0.0;
        int k;
        for (k = 0; k < TWIN_DET_KINDS; ++k)
            if (k != kind && in->det_beta_ready[k] != 0.0) span = fmax(span, fabs(in->det_q_total - in->det_event_q[k]));
        span = span > 0.0 ? span : in->det_cap_as;
        p->c.estimate_capacity_change[i] = -fabs(rho - other) / span;
        p->c.estimate_capacity_change_sigma[i] = 1.4142 * sigma / span;
        twin_raise_flag(p->c.flag_capacity, p->c.flag_capacity_time, i, t);
    } else if (rho < -thr) {
        const double bleed_i = in->det_bleed_r > 0.0 ? p->x.det_vb[i] / in->det_bleed_r : HUGE_VAL;
        const double duty = bled / (bleed_i * since);
        const double rate_sigma = 1.4142 * sigma / (determined ? t - prev_t : since);
        if (determined || !(p->c.estimate_leak_current[i] == p->c.estimate_leak_current[i]) ||
            (censored != 1 && rate > p->c.estimate_leak_current[i])) {
            p->c.estimate_leak_current[i] = rate;
            p->c.estimate_leak_current_sigma[i] = rate_sigma;
            p->c.estimate_leak_current_lower_bound[i] = determined ? 0.0 : 1.0;
        }
        if (determined && fabs(rate - bleed_i) < 0.4 * bleed_i && duty < 0.2) {
            /* a bleed current nobody commanded: the drain first flagged as a leak, if it was, is
               this (the leak flag is withdrawn; its time stays in the estimate's evidence) */
            p->c.estimate_bleed_error[i] = rate;
            twin_raise_flag(p->c.flag_balancer, p->c.flag_balancer_time, i, t);
            p->c.flag_self_discharge[i] = 0.0;
        } else if (p->c.flag_balancer[i] == 0.0 && rate - rate_sigma >= LEAK_FLOOR * in->det_cap_as / 3600.0) {
            twin_raise_flag(p->c.flag_self_discharge, p->c.flag_self_discharge_time, i, t);
        }
    } else if (!censored && rho > thr && bled > thr && rho > 0.6 * bled && rho < 1.6 * bled &&
               p->c.flag_voltage_sensor[i] == 0.0) { /* (a lying reading drives its own bleeding) */
        p->c.estimate_bleed_error[i] = -rho / since; /* charge the flags bled but that stayed */
        twin_raise_flag(p->c.flag_balancer, p->c.flag_balancer_time, i, t);
    } else if (!censored && kind == TWIN_DET_TOP && rho > thr && p->c.flag_voltage_sensor[i] == 0.0) {
        /* ahead of its peers at the top, more than its bleeding explains: a cell cannot gain charge
           against its peers (a leak only drains), but a smaller one reaches full earlier. Its gain
           over the full capacity is a lower bound of the fraction lost. */
        p->c.estimate_capacity_change[i] = -rho / in->det_cap_as;
        p->c.estimate_capacity_change_sigma[i] = 1.4142 * sigma / in->det_cap_as;
        twin_raise_flag(p->c.flag_capacity, p->c.flag_capacity_time, i, t);
    }
}

static void calm(twin_pack *p, int kind, int i, double value, double t)
{
    twin_det_base(p, kind, B_BETA)[i] += BETA_RATE * (value - twin_det_base(p, kind, B_BETA)[i]);
    twin_det_base(p, kind, B_CALM_T)[i] = twin_det_base(p, kind, B_PREV_T)[i] = t;
    twin_det_base(p, kind, B_CALM_BLEED)[i] = p->x.det_bleed[i];
    twin_det_base(p, kind, B_PREV_RHO)[i] = 0.0;
    twin_det_base(p, kind, B_CONFIRMED)[i] = 1.0;
}

/* Fit a landmark's offsets to its kind's baseline, dq = a + k beta (least squares, then again without
 * outliers); residuals into res. Returns the robust spread of the residuals, or -1 when the landmark
 * does not resemble its baseline (k far from 1: it is not judged). Knee offsets are charges measured
 * the same way each time: only their common offset a is fitted (k = 1); a plateau step's offsets
 * come through the step's height, whose estimate varies from one crossing to the next: k is fitted. */
double twin_fit_event(twin_pack *p, int kind, const double *dq, double *res, double *a_out, double *k_out)
{
    const int n = p->n;
    const double *beta = twin_det_base(p, kind, B_BETA);
    const double floor_q = 0.001 * p->in->det_cap_as;
    double a, k = 1.0, lim;
    int i, it;
    /* a robust start: the median offset, and outliers judged around it (one cell far off, as a
       leaking one is, must not move the fit for the others) */
    for (i = 0; i < n; ++i) res[i] = dq[i] - beta[i];
    a = twin_median_of(res, n, p->x.det_s3);
    for (i = 0; i < n; ++i) res[i] -= a;
    lim = 3.0 * twin_mad_of(res, n, p->x.det_s3, p->x.det_s4) + floor_q;
    for (it = 0; it < 3; ++it) {
        double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, det;
        for (i = 0; i < n; ++i) {
            if (fabs(dq[i] - a - k * beta[i]) > lim) continue;
            sw += 1, sx += beta[i], sy += dq[i], sxx += beta[i] * beta[i], sxy += beta[i] * dq[i];
        }
        det = sw * sxx - sx * sx;
        if (kind == TWIN_DET_STEP && sw >= 3 && det > 1e-9 * sw * sxx + 1e-30) {
            k = (sw * sxy - sx * sy) / det;
            a = (sy - k * sx) / sw;
        } else if (sw > 0) {
            k = 1.0;
            a = (sy - sx) / sw;
        }
        for (i = 0; i < n; ++i) res[i] = dq[i] - a - k * beta[i];
        lim = 3.0 * twin_mad_of(res, n, p->x.det_s3, p->x.det_s4) + floor_q;
    }
    *a_out = a, *k_out = k;
    if (!(k > 0.2 && k < 5.0)) return -1.0;
    return fmax(twin_mad_of(res, n, p->x.det_s3, p->x.det_s4), floor_q);
}

int twin_is_flagged(const twin_pack *p, int i)
{
    return p->c.flag_self_discharge[i] != 0.0 || p->c.flag_balancer[i] != 0.0 || p->c.flag_capacity[i] != 0.0;
}

/* Judge one landmark's charge offsets dq (A s) against its kind's baseline. */
void twin_judge_event(twin_pack *p, int kind, const double *dq, const double *censor, double t)
{
    twin_internal *in = p->in;
    const twin_settings *s = p->s;
    const int n = p->n;
    double *res = p->x.det_s2, *beta = twin_det_base(p, kind, B_BETA);
    double a, k, sigma, thr;
    int i;
    p->v->detect_runs += 1.0;
    if (in->det_beta_ready[kind] == 0.0) {
        for (i = 0; i < n; ++i) {
            beta[i] = dq[i];
            twin_det_base(p, kind, B_CALM_T)[i] = twin_det_base(p, kind, B_PREV_T)[i] = t;
            twin_det_base(p, kind, B_CALM_BLEED)[i] = p->x.det_bleed[i];
            twin_det_base(p, kind, B_PREV_RHO)[i] = twin_det_base(p, kind, B_CONFIRMED)[i] = 0.0;
            twin_det_base(p, kind, B_CENSORED)[i] = censor != NULL ? censor[i] : 0.0;
        }
        in->det_beta_ready[kind] = 1.0;
        in->det_event_q[kind] = in->det_q_total;
        return;
    }
    sigma = twin_fit_event(p, kind, dq, res, &a, &k);
    if (sigma < 0.0) return;
    in->det_event_q[kind] = in->det_q_total;
    for (i = 0; i < n; ++i) beta[i] = a + k * beta[i]; /* judged in this landmark's units */
    thr = fmax(s->detect_sigmas * sigma, s->detect_charge_threshold * in->det_cap_as);
    for (i = 0; i < n; ++i) {
        const double rho = res[i], prev = twin_det_base(p, kind, B_PREV_RHO)[i];
        const int flagged = twin_is_flagged(p, i);
        const int censored = censor != NULL && censor[i] != 0.0;
        p->c.estimate_charge_offset[i] = rho / 3600.0;
        p->c.estimate_charge_offset_sigma[i] = sigma / 3600.0;
        twin_det_base(p, kind, B_LAST_RHO)[i] = rho;
        twin_det_base(p, kind, B_LAST_T)[i] = t;
        if (censored) {
            /* it never reached the steep part: its offset is at most the bound (exact as far as it
               goes), and a plateau level placed it, imprecisely. A lag beyond the threshold by the
               bound alone is certain; by the plateau estimate, only beyond its own uncertainty. */
            const double sig_i = fmax(sigma, p->x.det_censored_sigma[i]);
            const double thr_i = fmax(thr, s->detect_sigmas * sig_i);
            const double rho_b = p->x.det_censored_bound[i] - beta[i], worst = fmin(rho, rho_b);
            const int trusted = twin_det_base(p, kind, B_CONFIRMED)[i] != 0.0 || flagged;
            const int clean = twin_det_base(p, kind, B_CENSORED)[i] == 0.0;
            const int sure = rho_b < -thr && (trusted || (clean && rho_b < -UNCONFIRMED_KNEE * thr));
            const int placed = rho < -thr_i && (trusted || prev < -thr || (clean && rho < -UNCONFIRMED * thr_i));
            if (sure || placed)
                twin_departure(p, kind, i, prev < -thr && !trusted ? worst + prev : worst, sure ? sigma : sig_i,
                               sure ? thr : thr_i, sure ? 2 : 1, t);
            if ((sure || rho < -thr_i) && (clean || trusted)) {
                twin_det_base(p, kind, B_PREV_RHO)[i] = worst;
                twin_det_base(p, kind, B_PREV_T)[i] = t;
            }
            continue;
        }
        if (twin_det_base(p, kind, B_CENSORED)[i] != 0.0 && !flagged) {
            /* measured at last, against a baseline that was only a bound: that baseline says nothing
               of a change; this measurement becomes the baseline */
            beta[i] = dq[i];
            twin_det_base(p, kind, B_CENSORED)[i] = twin_det_base(p, kind, B_PREV_RHO)[i] = 0.0;
            twin_det_base(p, kind, B_CALM_T)[i] = twin_det_base(p, kind, B_PREV_T)[i] = t;
            twin_det_base(p, kind, B_CALM_BLEED)[i] = p->x.det_bleed[i];
            continue;
        }
        if (fabs(rho) < 2.0 * sigma && !flagged) {
            calm(p, kind, i, dq[i], t);
            continue;
        }
        /* judged when its baseline is confirmed, or on a fall too large for a bad baseline (a leak only
           drains; a bad first baseline errs either way) */
        if (twin_det_base(p, kind, B_CONFIRMED)[i] != 0.0 || flagged ||
            rho < -(kind == TWIN_DET_STEP || twin_det_base(p, kind, B_CENSORED)[i] != 0.0 ? UNCONFIRMED : UNCONFIRMED_KNEE) * thr) {
            twin_departure(p, kind, i, rho, sigma, thr, 0, t);
            twin_det_base(p, kind, B_PREV_RHO)[i] = rho;
            twin_det_base(p, kind, B_PREV_T)[i] = t;
        } else if (fabs(rho) > thr && prev != 0.0 && rho * prev > 0.0) {
            /* unconfirmed but drifting the same way again: judge the drift since the older baseline */
            twin_departure(p, kind, i, rho + prev, sigma, thr, 0, t);
            twin_det_base(p, kind, B_PREV_RHO)[i] = rho + prev;
            twin_det_base(p, kind, B_PREV_T)[i] = t;
            beta[i] = dq[i];
            twin_det_base(p, kind, B_CENSORED)[i] = 0.0;
        } else {
            /* unconfirmed and departing once: re-learn the baseline from this landmark */
            twin_det_base(p, kind, B_PREV_RHO)[i] = fabs(rho) > thr ? rho : 0.0;
            twin_det_base(p, kind, B_PREV_T)[i] = t;
            beta[i] = dq[i];
            twin_det_base(p, kind, B_CENSORED)[i] = 0.0;
        }
    }
}

/* Charge each cell bled against the median cell (A s). */
void twin_add_bleed(twin_pack *p, double *dq)
{
    const double med = twin_median_of(p->x.det_bleed, p->n, p->x.det_s3);
    int i;
    for (i = 0; i < p->n; ++i) dq[i] += p->x.det_bleed[i] - med;
}

/* --- runs ---------------------------------------------------------------------------------------- */

/* A run ends. Its plateau stretch ends with it; its knee waits when the run only paused (a lull, as
 * when a BMS stops the charge for a while near full and lets it resume): a run in the same
 * direction that starts before the charge moved by PAUSE_CHARGE of capacity carries on measuring the
 * same knee. Otherwise the knee closes when the next run starts, or after PAUSE_WAIT lulls. */
static void end_run(twin_pack *p, double t, int paused)
{
    twin_internal *in = p->in;
    if (in->det_seg_sign != 0.0 && in->det_knee_active != 0.0) {
        if (paused) {
            in->det_knee_pending = in->det_seg_sign;
            in->det_knee_pend_q = in->det_q_total;
        } else {
            twin_knee_close(p, in->det_seg_sign, in->det_q_total, t);
        }
    }
    in->det_bump = in->det_flat_n = in->det_seg_ring_pos = 0.0;
    in->det_knee_active = 0.0;
}

static void close_pending(twin_pack *p, double t)
{
    twin_internal *in = p->in;
    if (in->det_knee_pending != 0.0) twin_knee_close(p, in->det_knee_pending, in->det_knee_pend_q, t);
    in->det_knee_pending = 0.0;
}

void twin_charge_abort(twin_pack *p)
{
    twin_internal *in = p->in;
    in->det_bump = in->det_flat_n = in->det_seg_ring_pos = in->det_knee_active = 0.0;
    in->det_seg_sign = in->det_knee_pending = 0.0;
}

void twin_charge_invalidate(twin_pack *p) { p->in->det_seg_valid = 0.0; }

void twin_charge_block(twin_pack *p, double current, double dq_block, double u, double blk_dt, double t)
{
    twin_internal *in = p->in;
    const int active = fabs(current) >= in->det_seg_i;
    const double sign = active ? (current > 0.0 ? 1.0 : -1.0) : 0.0;
    in->det_q_total += dq_block;
    if (!active) { /* a lull, tolerated inside a run up to detect.lull */
        in->det_seg_quiet += blk_dt;
        if (in->det_seg_quiet > p->s->detect_lull && in->det_seg_sign != 0.0) {
            end_run(p, t, 1);
            in->det_seg_sign = 0.0;
        }
        if (in->det_knee_pending != 0.0 && in->det_seg_quiet > PAUSE_WAIT * p->s->detect_lull) close_pending(p, t);
        if (in->det_seg_sign == 0.0) return;
    } else {
        in->det_seg_quiet = 0.0;
        if (sign != in->det_seg_sign) {
            const int resume = in->det_seg_sign == 0.0 && in->det_knee_pending == sign &&
                               fabs(in->det_q_total - in->det_knee_pend_q) < PAUSE_CHARGE * in->det_cap_as;
            if (in->det_seg_sign != 0.0) end_run(p, t, 0);
            in->det_seg_sign = sign;
            if (resume) {
                in->det_knee_pending = 0.0; /* the same knee, measured on (from fresh previous voltages) */
            } else {
                close_pending(p, t);
                twin_knee_start(p, sign);
            }
        }
    }
    twin_stretch_block(p, active, dq_block, u, t);
    in->det_knee_u = u;
    twin_knee_track(p, in->det_seg_sign, in->det_q_total);
}
