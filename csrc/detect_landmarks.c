/* The landmarks of detect_charge.c: plateau steps crossed within a run (with an early look into a
 * step still being crossed) and the top and bottom knees, each giving every cell's charge offset
 * against the median cell for judging. */
#include <math.h>
#include <string.h>

#include "detect.h"

#define FLAT_ENDS 0.3  /* a stretch's ends must be this flat against its largest spread */
#define KNEE_STEP 0.005 /* V between knee levels */
#define LEVELS_USED 3 /* highest common knee levels averaged */
#define LOOK_AT 0.7    /* early look at this fraction of the last step height */

/* --- plateau steps within a run -------------------------------------------------------------------- */

static void push_ring(twin_pack *p, double u)
{
    twin_internal *in = p->in;
    const int pos = (int)in->det_seg_ring_pos;
    memcpy(twin_det_ring(p, pos), p->x.det_y, (size_t)p->n * sizeof(double));
    in->det_seg_ring_u[pos] = u;
    in->det_seg_ring_pos = (double)((pos + 1) % TWIN_DET_RING);
    in->det_flat_n = fmin(in->det_flat_n + 1.0, (double)TWIN_DET_RING);
}

static double ring_mean(twin_pack *p, double *out)
{
    const int n = p->n, m = (int)p->in->det_flat_n;
    double u = 0.0;
    int i, j;
    for (i = 0; i < n; ++i) {
        double sum = 0.0;
        for (j = 0; j < m; ++j) sum += twin_det_ring(p, j)[i];
        out[i] = sum / m;
    }
    for (j = 0; j < m; ++j) u += p->in->det_seg_ring_u[j];
    return u / m;
}

static void open_stretch(twin_pack *p)
{
    twin_internal *in = p->in;
    in->det_seg_us = ring_mean(p, p->x.det_seg_ds);
    in->det_seg_q = in->det_seg_maxdisp = in->det_seg_wsum = in->det_post_flat = 0.0;
    in->det_seg_valid = 1.0;
    in->det_seg_looked = 0.0;
    in->det_bump = 1.0;
    in->det_seg_start_disp = twin_mad_of(p->x.det_seg_ds, p->n, p->x.det_s3, p->x.det_s4);
    memset(p->x.det_seg_a, 0, (size_t)p->n * sizeof(double));
    memset(p->x.det_seg_wb, 0, (size_t)p->n * sizeof(double));
}

static void close_stretch(twin_pack *p, double t)
{
    twin_internal *in = p->in;
    const int n = p->n;
    double *dq = p->x.det_s1, *de = p->x.det_s2;
    const double ue = ring_mean(p, de), step = ue - in->det_seg_us;
    const double end_disp = twin_mad_of(de, n, p->x.det_s3, p->x.det_s4);
    int i;
    if (in->det_seg_valid == 0.0 || fabs(step) < p->s->detect_min_step || !(in->det_seg_wsum > 0.0) ||
        in->det_seg_q * step <= 0.0 || in->det_seg_start_disp > FLAT_ENDS * in->det_seg_maxdisp ||
        end_disp > FLAT_ENDS * in->det_seg_maxdisp)
        return;
    for (i = 0; i < n; ++i)
        dq[i] = (p->x.det_seg_a[i] - 0.5 * (p->x.det_seg_ds[i] + de[i]) * in->det_seg_q) / step +
                p->x.det_seg_wb[i] / in->det_seg_wsum;
    in->det_step_height = fabs(step);
    twin_judge_event(p, TWIN_DET_STEP, dq, NULL, t);
}

/* A look into a stretch still being crossed, once the median has come most of the last step's
 * height: a cell whose baseline is confirmed and whose charge already fell beyond the threshold
 * is judged now rather than at the stretch's end (a leak found hours earlier). The offsets are
 * those of the full stretch with the end level not yet known; their scale, off by the part of
 * the step still to come, is taken up by the fit's k. Nothing is learned from a look. */
static void early_look(twin_pack *p, double u, double t)
{
    twin_internal *in = p->in;
    const twin_settings *s = p->s;
    const int n = p->n;
    double *dq = p->x.det_s1, *res = p->x.det_s2;
    const double step = u - in->det_seg_us;
    double a, k, sigma, thr;
    int i;
    in->det_seg_looked = 1.0;
    for (i = 0; i < n; ++i)
        dq[i] = (p->x.det_seg_a[i] - p->x.det_seg_ds[i] * in->det_seg_q) / step +
                p->x.det_seg_wb[i] / in->det_seg_wsum;
    sigma = twin_fit_event(p, TWIN_DET_STEP, dq, res, &a, &k);
    if (sigma < 0.0) return;
    thr = fmax(s->detect_sigmas * sigma, s->detect_charge_threshold * in->det_cap_as);
    for (i = 0; i < n; ++i)
        if (res[i] < -thr && twin_det_base(p, TWIN_DET_STEP, B_CONFIRMED)[i] != 0.0 && !twin_is_flagged(p, i))
            twin_departure(p, TWIN_DET_STEP, i, res[i], sigma, thr, 0, t);
}

void twin_stretch_block(twin_pack *p, int active, double dq_block, double u, double t)
{
    twin_internal *in = p->in;
    const int n = p->n;
    double disp;
    int i;
    if (in->det_bump == 0.0) { /* collecting the start level */
        if (!active) return;
        push_ring(p, u);
        if (in->det_flat_n >= TWIN_DET_RING) open_stretch(p);
        return;
    }
    disp = twin_mad_of(p->x.det_y, n, p->x.det_s3, p->x.det_s4);
    {
        const double bleed_med = twin_median_of(p->x.det_bleed, n, p->x.det_s3);
        in->det_seg_q += dq_block;
        in->det_seg_maxdisp = fmax(in->det_seg_maxdisp, disp);
        in->det_seg_wsum += disp;
        for (i = 0; i < n; ++i) {
            p->x.det_seg_a[i] += p->x.det_y[i] * dq_block;
            p->x.det_seg_wb[i] += (p->x.det_bleed[i] - bleed_med) * disp;
        }
    }
    if (!active) return;
    if (in->det_seg_looked == 0.0 && in->det_beta_ready[TWIN_DET_STEP] != 0.0 && in->det_step_height > 0.0 &&
        in->det_seg_valid != 0.0 && in->det_seg_wsum > 0.0 && (u - in->det_seg_us) * in->det_seg_q > 0.0 &&
        fabs(u - in->det_seg_us) >= LOOK_AT * in->det_step_height)
        early_look(p, u, t);
    push_ring(p, u);
    if (in->det_seg_maxdisp >= 1e-3 && in->det_seg_maxdisp >= 3.0 * in->det_seg_start_disp &&
        disp < 0.2 * in->det_seg_maxdisp) {
        in->det_post_flat += 1.0;
        if (in->det_post_flat >= TWIN_DET_RING) {
            close_stretch(p, t);
            open_stretch(p); /* the flat end starts the next stretch */
        }
    } else {
        in->det_post_flat = 0.0;
    }
}

/* --- knees ---------------------------------------------------------------------------------------- */

void twin_knee_start(twin_pack *p, double sign)
{
    int j, i;
    p->in->det_run_q0 = p->in->det_q_total;
    for (j = 0; j < TWIN_DET_LEVELS; ++j) {
        double *l = twin_det_level(p, sign > 0.0, j);
        for (i = 0; i < p->n; ++i) l[i] = NAN;
    }
    p->in->det_knee_active = 0.0; /* the first block only sets the previous voltages */
}

/* Record first crossings of the knee levels between the previous block and this one. */
void twin_knee_track(twin_pack *p, double sign, double q)
{
    twin_internal *in = p->in;
    const twin_settings *s = p->s;
    const int top = sign > 0.0;
    int i, j;
    for (i = 0; i < p->n; ++i) {
        /* the cell's voltage with its resistance share and sensor offset removed: median plus y */
        const double c = p->x.det_y[i] + in->det_knee_u;
        const double c0 = p->x.det_knee_prev[i];
        if (in->det_knee_active != 0.0 && c != c0) {
            for (j = 0; j < TWIN_DET_LEVELS; ++j) {
                const double lv = top ? s->detect_knee_top + KNEE_STEP * j : s->detect_knee_bottom - KNEE_STEP * j;
                double *l = twin_det_level(p, top, j);
                const int crossed = top ? (c0 < lv && c >= lv) : (c0 > lv && c <= lv);
                if (crossed && l[i] != l[i]) l[i] = in->det_knee_q_prev + (lv - c0) / (c - c0) * (q - in->det_knee_q_prev);
            }
        }
        p->x.det_knee_prev[i] = c;
    }
    in->det_knee_q_prev = q;
    in->det_knee_active = 1.0;
}


/* A charge ended with the median cell still below the steep part of the knee while some cells were
 * in theirs: the charge stopped because they were full. A cell of unchanged capacity that was dq_i
 * ahead of the median at the top-knee baseline (bleeding since accounted) has entered its knee at
 * most dq_i before the median would: its lead over the end of the charge (q_end - c_i) at a level the
 * median never reached cannot exceed dq_i. A lead beyond that, by more than twice the charge
 * threshold, is a cell that holds less charge between the same SOC: a smaller capacity. The excess
 * over the run's charge is a lower bound of the capacity lost (the bound test needs no confirmed
 * baseline: it cannot be passed by a healthy cell, only by noise at the crossing). */
static void leader_event(twin_pack *p, const double *med, double q_end, double t)
{
    twin_internal *in = p->in;
    const twin_settings *s = p->s;
    const int n = p->n;
    const double span = fabs(q_end - in->det_run_q0);
    const double min_slope = s->detect_knee_slope / in->det_cap_as;
    const double thr = s->detect_charge_threshold * in->det_cap_as * 2.0;
    const double *beta = twin_det_base(p, TWIN_DET_TOP, B_BETA), *calm_bleed = twin_det_base(p, TWIN_DET_TOP, B_CALM_BLEED);
    double *bled = p->x.det_s1, med_bled;
    int i, j, first = 0, reached = 0;
    if (in->det_beta_ready[TWIN_DET_TOP] == 0.0 || !(span > 0.0)) return;
    for (j = 0; j < TWIN_DET_LEVELS; ++j) /* levels the median never reached, with a margin of two */
        if (med[j] == med[j]) first = j + 3, reached += 1;
    if (reached < 2) return; /* the median did not climb in this run: a top-up */
    for (i = 0; i < n; ++i) bled[i] = p->x.det_bleed[i] - calm_bleed[i];
    med_bled = twin_median_of(bled, n, p->x.det_s3);
    for (i = 0; i < n; ++i) {
        double lead = 0.0, excess;
        for (j = first; j + 1 < TWIN_DET_LEVELS; ++j) { /* the cell's own first steep crossing there */
            const double c0 = twin_det_level(p, 1, j)[i], c1 = twin_det_level(p, 1, j + 1)[i];
            if (c0 == c0 && c1 == c1 && KNEE_STEP >= min_slope * fabs(c1 - c0)) {
                lead = q_end - c0;
                break;
            }
        }
        /* bled more than its peers: it should lead less; bled less: more */
        excess = lead - beta[i] + (bled[i] - med_bled);
        if (lead > 0.0 && excess > thr && p->c.flag_voltage_sensor[i] == 0.0) {
            p->c.estimate_capacity_change[i] = -excess / span;
            p->c.estimate_capacity_change_sigma[i] = 0.5 * thr / span;
            twin_raise_flag(p->c.flag_capacity, p->c.flag_capacity_time, i, t);
        }
    }
}

/* At the end of a run: each cell against the median cell at the highest steep levels both crossed
 * (up to LEVELS_USED of them; a level is steep where the median cell's voltage rises by at least
 * detect.knee_slope per unit of SOC). A cell that crossed none of them is at least as far behind as
 * the run's end; that bound stands for it, marked censored (a lagging cell must not hide). */
void twin_knee_close(twin_pack *p, double sign, double q_end, double t)
{
    const int top = sign > 0.0, n = p->n;
    const double min_slope = p->s->detect_knee_slope / p->in->det_cap_as; /* V per A s */
    double *dq = p->x.det_s1, *cens = p->x.det_censored;
    double med[TWIN_DET_LEVELS], steep[TWIN_DET_LEVELS];
    int j, i, highest = -1, lowest = -1, any = 0, below = 0, steep_n = 0;
    for (j = 0; j < TWIN_DET_LEVELS; ++j) { /* the median cell's crossing charge at each level */
        const double *l = twin_det_level(p, top, j);
        int crossed = 0;
        for (i = 0; i < n; ++i) crossed += l[i] == l[i];
        med[j] = NAN;
        if (2 * crossed > n) {
            for (i = 0; i < n; ++i) p->x.det_s3[i] = l[i] == l[i] ? l[i] : q_end;
            med[j] = twin_median_of(p->x.det_s3, n, p->x.det_s4);
        }
    }
    steep[TWIN_DET_LEVELS - 1] = 0.0;
    for (j = 0; j + 1 < TWIN_DET_LEVELS; ++j) { /* steep where the median rises by detect.knee_slope */
        const double dq_med = fabs(med[j + 1] - med[j]);
        const int is_steep = med[j] == med[j] && med[j + 1] == med[j + 1] && KNEE_STEP >= min_slope * dq_med;
        if (is_steep) {
            if (lowest < 0) lowest = j;
            highest = j;
        }
        steep[j] = is_steep;
    }
    for (j = 0; j < lowest; ++j) below += med[j] == med[j];
    if (highest < 0) {
        if (top) leader_event(p, med, q_end, t);
        return;
    }
    if (below < 2) return; /* the run did not climb into the knee from the plateau: a top-up, not a landmark */
    for (j = 0; j < TWIN_DET_LEVELS; ++j) steep_n += steep[j] != 0.0;
    /* it barely entered the knee: too few levels to place the cells (on the way down, three: loads
       come in steps there and polarization moves the crossings; on the way up the charge is even) */
    if (steep_n < (top ? 2 : LEVELS_USED)) return;
    for (i = 0; i < n; ++i) {
        int used = 0, plateau = 0;
        double sum = 0.0;
        for (j = highest; j >= 0 && used < LEVELS_USED; --j) { /* steep levels both crossed */
            const double c = twin_det_level(p, top, j)[i];
            if (c != c || med[j] != med[j] || steep[j] == 0.0) continue;
            sum += med[j] - c;
            ++used;
        }
        p->x.det_censored_sigma[i] = 0.0;
        if (used == 0) /* lagging below the knee: the highest plateau level both crossed, imprecise */
            for (j = lowest; j >= 0 && plateau < 1; --j) {
                const double c = twin_det_level(p, top, j)[i];
                if (c != c || med[j] != med[j]) continue;
                sum = med[j] - c;
                plateau = 1;
                /* a third of the charge between two levels there: how well a 5 mV step places it */
                p->x.det_censored_sigma[i] = j + 1 < TWIN_DET_LEVELS && med[j + 1] == med[j + 1]
                                                 ? fabs(med[j + 1] - med[j]) / 3.0 : fabs(q_end - med[j]) / 3.0;
            }
        /* not at the lowest steep level by the end of the run: on the way up it holds at most
           med - q_end more than the median (it is behind by at least that), on the way down at
           least that (it is ahead): a bound exact as far as it goes, sharper than a plateau level */
        p->x.det_censored_bound[i] = top ? med[lowest] - q_end : NAN;
        if (used == 0 && (!plateau || (top ? sum > med[lowest] - q_end : sum < med[lowest] - q_end))) {
            sum = med[lowest] - q_end;
            p->x.det_censored_sigma[i] = 0.0;
        }
        cens[i] = used == 0 ? 1.0 : 0.0;
        dq[i] = used > 0 ? sum / used : sum;
        any += used > 0;
    }
    if (4 * any < 3 * n) return; /* too few cells measured */
    twin_add_bleed(p, dq);
    twin_add_bleed(p, p->x.det_censored_bound);
    twin_judge_event(p, top ? TWIN_DET_TOP : TWIN_DET_BOTTOM, dq, cens, t);
}

