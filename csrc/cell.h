/* Cell-table lookup and the equivalent-circuit formulas, inline, shared by the pack step and the
 * estimators.
 *
 * The cell is a Thevenin equivalent circuit with 0-3 RC pairs and one-state hysteresis:
 *   v = ocv(soc, T, h) + R0 i + sum_k v_k
 *   ocv = ocv_dis + (1 + h)/2 (ocv_chg - ocv_dis) + M0 s
 *   dv_k/dt = -v_k / tau_k + i / C_k          (C_k = tau_k / R_k)
 *   dh/dt   = -|eta i gamma / Q| (h - sgn i)  (Plett, Battery Management Systems vol. 1, 2015,
 *                                             sec. 2.7; the NREL "thevenin" package uses the same)
 *   s       = sign of the last non-zero current (instantaneous hysteresis, Plett sec. 2.7)
 * With i held over a step both linear ODEs have exact solutions, used here:
 *   v_k(t+dt) = a v_k + (1 - a) R_k i,   a = exp(-dt / tau_k)
 *   h(t+dt)   = sgn i + (h - sgn i) exp(-|eta i gamma dt / Q|)
 * so the RC step response is exact for any dt and h stays in [-1, 1] (a convex combination of
 * h and +-1), i.e. the OCV stays between the branches.
 */
#ifndef TWIN_CELL_H
#define TWIN_CELL_H

#include "twin.h"
#include "twin_math.h"

/* Position of x on a uniform grid: index i in [0, n-2] and weight w in [0, 1]; clamped outside
 * the grid (flat extrapolation). NaN maps to the first point so no undefined conversion occurs. */
static inline void twin_grid_locate(double x, double first, double step, int n, int *i, double *w)
{
    double f, top;
    int k;
    if (n < 2) {
        *i = 0;
        *w = 0.0;
        return;
    }
    top = (double)(n - 1);
    f = (x - first) * (1.0 / step); /* as the pack's lookup does, to the last bit */
    f = (f >= 0.0) ? f : 0.0; /* also maps NaN to 0 */
    f = (f <= top) ? f : top;
    k = (int)f;
    k = (k <= n - 2) ? k : n - 2;
    *i = k;
    *w = f - (double)k;
}

/* Bilinear interpolation of the first ncol columns at (soc, temp) into out[], flat outside the
 * grid (used for OCV inversion, where the table range is the answer's range). */
static inline void twin_table_lookup(const twin_tables *t, double soc, double temp, int ncol, double *out)
{
    int is, it, c;
    double ws, wt;
    const int stride = twin_table_columns(t->n_rc);
    const double *r00, *r01, *r10, *r11;
    twin_grid_locate(soc, t->soc_first, t->soc_step, t->n_soc, &is, &ws);
    twin_grid_locate(temp, t->temp_first, t->temp_step, t->n_temp, &it, &wt);
    r00 = t->values + ((size_t)it * (size_t)t->n_soc + (size_t)is) * (size_t)stride;
    r01 = r00 + stride;
    if (t->n_temp > 1) {
        r10 = r00 + (size_t)t->n_soc * (size_t)stride;
        r11 = r10 + stride;
    } else {
        r10 = r00;
        r11 = r01;
    }
    for (c = 0; c < ncol; ++c) {
        double lo = r00[c] + ws * (r01[c] - r00[c]);
        double hi = r10[c] + ws * (r11[c] - r10[c]);
        out[c] = lo + wt * (hi - lo);
    }
}

/* OCV with hysteresis from the two branch values. */
static inline double twin_ocv(double ocv_chg, double ocv_dis, double h, double m0, double sign)
{
    return ocv_dis + 0.5 * (1.0 + h) * (ocv_chg - ocv_dis) + m0 * sign;
}

/* Exact RC update over dt with current i held. */
static inline double twin_rc_step(double v, double r, double tau, double i, double dt)
{
    double a = twin_exp(-dt / tau);
    return a * v + (1.0 - a) * r * i;
}

/* Exact hysteresis update over dt with current i held (eta: coulombic efficiency of this current). */
static inline double twin_hysteresis_step(double h, double i, double eta, double gamma, double q_as, double dt)
{
    double sg = twin_sign(i);
    double x = eta * i * gamma * dt / q_as;
    double a = twin_exp(-(x >= 0.0 ? x : -x));
    return sg + (h - sg) * a;
}

#endif
