/* What the twin's BMS reads: cell voltages, temperatures and pack current through sensors with
 * faults, noise and ADC steps. Also the seeded noise generator and the OCV-to-SOC inversion.
 *
 * Noise: xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 47, 2021) seeded through splitmix64; normal deviates by Marsaglia's polar method
 * (Marsaglia and Bray, SIAM Review 6, 1964). The generator state lives in the pack's block, so a
 * saved and restored twin draws the same noise.
 */
#include <math.h>

#include "cell.h"
#include "twin.h"
#include "twin_math.h"

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void twin_rng_seed(uint64_t state[4], uint64_t seed)
{
    int k;
    for (k = 0; k < 4; ++k) state[k] = splitmix64(&seed);
}

static uint64_t next_u64(uint64_t s[4])
{
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static double uniform_pm1(uint64_t s[4]) { return (double)(next_u64(s) >> 11) * 0x1.0p-52 - 1.0; }

double twin_rng_normal(twin_pack *p)
{
    twin_internal *in = p->in;
    double u, v, r2, f;
    if (in->has_spare != 0.0) {
        in->has_spare = 0.0;
        return in->gauss_spare;
    }
    do {
        u = uniform_pm1(in->rng);
        v = uniform_pm1(in->rng);
        r2 = u * u + v * v;
    } while (r2 >= 1.0 || r2 == 0.0);
    f = sqrt(-2.0 * log(r2) / r2);
    in->gauss_spare = v * f;
    in->has_spare = 1.0;
    return u * f;
}

/* Cell voltages and temperatures as the BMS reads them. */
TWIN_VECTOR_CLONES static void read_cells(twin_pack *p)
{
    const twin_settings *s = p->s;
    const double v_noise = s->sensor_voltage_noise, v_step = s->sensor_voltage_resolution;
    const double t_noise = s->sensor_temperature_noise, t_step = s->sensor_temperature_resolution;
    const int n = p->n;
    const double *v = p->c.cell_voltage, *gain = p->c.fault_voltage_gain_error, *offset = p->c.fault_voltage_offset;
    const double *temp = p->c.cell_temperature, *t_offset = p->c.fault_temperature_offset;
    const double *has_sensor = p->c.cell_temperature_sensor;
    double *vm = p->c.cell_voltage_measured, *tm = p->c.cell_temperature_measured;
    int i;
    /* without noise each cell reads on its own and the loops vectorize; noise is drawn in a fixed
       order (every voltage, then every temperature), so those loops stay in cell order */
    if (v_noise > 0.0) {
        TWIN_IVDEP
        for (i = 0; i < n; ++i) vm[i] = v[i] * (1.0 + gain[i]) + offset[i];
        for (i = 0; i < n; ++i) vm[i] += v_noise * twin_rng_normal(p);
        if (v_step > 0.0)
            for (i = 0; i < n; ++i) vm[i] = twin_round_to(vm[i], v_step);
    } else if (v_step > 0.0) {
        TWIN_IVDEP
        for (i = 0; i < n; ++i) vm[i] = twin_round_to(v[i] * (1.0 + gain[i]) + offset[i], v_step);
    } else {
        TWIN_IVDEP
        for (i = 0; i < n; ++i) vm[i] = v[i] * (1.0 + gain[i]) + offset[i];
    }
    if (t_noise > 0.0) {
        for (i = 0; i < n; ++i) {
            double t = NAN;
            if (has_sensor[i] != 0.0) {
                t = temp[i] + t_offset[i];
                t += t_noise * twin_rng_normal(p);
                if (t_step > 0.0) t = twin_round_to(t, t_step);
            }
            tm[i] = t;
        }
    } else if (t_step > 0.0) {
        TWIN_IVDEP
        for (i = 0; i < n; ++i) tm[i] = has_sensor[i] != 0.0 ? twin_round_to(temp[i] + t_offset[i], t_step) : NAN;
    } else {
        TWIN_IVDEP
        for (i = 0; i < n; ++i) tm[i] = has_sensor[i] != 0.0 ? temp[i] + t_offset[i] : NAN;
    }
}

void twin_sensors_update(twin_pack *p)
{
    const twin_settings *s = p->s;
    double current;
    read_cells(p);
    current = p->v->pack_applied_current * (1.0 + s->sensor_current_gain_error) + s->sensor_current_offset;
    if (s->sensor_current_noise > 0.0) current += s->sensor_current_noise * twin_rng_normal(p);
    if (s->sensor_current_resolution > 0.0) current = twin_round_to(current, s->sensor_current_resolution);
    p->v->pack_current_measured = current;
}

double twin_soc_from_ocv(const twin_tables *t, double v, double temp)
{
    /* The mean OCV curve is non-decreasing in SOC for real cells; scan for the first segment that
     * brackets v and interpolate within it. Below the first point: SOC of the first point. */
    double row[3 + 2 * TWIN_MAX_RC], prev_soc, prev_ocv;
    int k;
    twin_table_lookup(t, t->soc_first, temp, 2, row);
    prev_soc = t->soc_first;
    prev_ocv = 0.5 * (row[0] + row[1]);
    if (!(v > prev_ocv)) return prev_soc;
    for (k = 1; k < t->n_soc; ++k) {
        double soc = t->soc_first + k * t->soc_step, ocv;
        twin_table_lookup(t, soc, temp, 2, row);
        ocv = 0.5 * (row[0] + row[1]);
        if (v <= ocv) return ocv > prev_ocv ? prev_soc + (v - prev_ocv) / (ocv - prev_ocv) * (soc - prev_soc) : soc;
        prev_soc = soc;
        prev_ocv = ocv;
    }
    return prev_soc;
}
