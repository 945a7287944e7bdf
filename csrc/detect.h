/* Internal to the divergence detector (detect.c, detect_charge.c): not part of the kernel's API. */
#ifndef TWIN_DETECT_H
#define TWIN_DETECT_H

#include "twin.h"

#define TWIN_DET_STEP 0   /* a plateau step crossed within a charging or discharging run */
#define TWIN_DET_TOP 1    /* the top knee */
#define TWIN_DET_BOTTOM 2 /* the bottom knee */

double twin_median_of(const double *values, int n, double *scratch);
/* The same for finite values, faster for up to 16 (scratch: n values, used beyond 16). */
double twin_median_of_finite(const double *values, int n, double *scratch);
double twin_mad_of(const double *values, int n, double *s1, double *s2);
void twin_raise_flag(double *flag, double *when, int i, double t);

/* The detector's planes of n values (p->det_planes): the start-level ring, per landmark kind its
 * baseline fields, and the knee levels' crossing charges. */
enum { B_BETA, B_CALM_T, B_CALM_BLEED, B_PREV_RHO, B_PREV_T, B_CONFIRMED, B_LAST_RHO, B_LAST_T, B_CENSORED };
static inline double *twin_det_plane(const twin_pack *p, int k) { return p->det_planes + (size_t)k * (size_t)p->n; }
static inline double *twin_det_ring(const twin_pack *p, int j) { return twin_det_plane(p, j); }
static inline double *twin_det_base(const twin_pack *p, int kind, int field)
{
    return twin_det_plane(p, TWIN_DET_RING + kind * TWIN_DET_BASE + field);
}
static inline double *twin_det_level(const twin_pack *p, int top, int j)
{
    return twin_det_plane(p, TWIN_DET_RING + TWIN_DET_KINDS * TWIN_DET_BASE + (top ? 0 : TWIN_DET_LEVELS) + j);
}

/* The last TWIN_DET_JW per-sample deviations (detect.c's step test), after the knee levels. */
static inline double *twin_det_jring(const twin_pack *p, int j)
{
    return twin_det_plane(p, TWIN_DET_RING + TWIN_DET_KINDS * TWIN_DET_BASE + 2 * TWIN_DET_LEVELS + j);
}

/* Judging a landmark (detect_charge.c). */
double twin_fit_event(twin_pack *p, int kind, const double *dq, double *res, double *a_out, double *k_out);
void twin_judge_event(twin_pack *p, int kind, const double *dq, const double *censor, double t);
void twin_departure(twin_pack *p, int kind, int i, double rho, double sigma, double thr, int censored, double t);
int twin_is_flagged(const twin_pack *p, int i);
void twin_add_bleed(twin_pack *p, double *dq);

/* Landmarks (detect_landmarks.c), driven per block by twin_charge_block. */
void twin_stretch_block(twin_pack *p, int active, double dq_block, double u, double t);
void twin_knee_start(twin_pack *p, double sign);
void twin_knee_track(twin_pack *p, double sign, double q);
/* Close a run's knee at its end: q_end the pack charge (A s) when the run ended. */
void twin_knee_close(twin_pack *p, double sign, double q_end, double t);

/* Charge offsets (detect_charge.c): called once per block with the block's mean current, its
 * charge (A s), the median's resistance-corrected voltage u, and p->x.det_y and det_vb filled. */
void twin_charge_reset(twin_pack *p);
void twin_charge_block(twin_pack *p, double current, double dq_block, double u, double blk_dt, double t);
/* A gap or a corrected sensor offset: drop what is being measured. */
void twin_charge_abort(twin_pack *p);
void twin_charge_invalidate(twin_pack *p);

#endif
