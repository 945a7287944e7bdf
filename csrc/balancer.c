/* Balancing: the policy decides (x.command), the actuator makes currents flow (bleed and transfer
 * currents), and everything moved or burned is accounted.
 *
 * Policies (balancer.policy):
 *   voltage_delta  passive: bleed every cell more than start_delta above the lowest, released below
 *                  stop_delta above it (Libre Solar bms-firmware, JBD), when the highest cell is
 *                  above start_voltage; at most max_cells at once, highest first, never two
 *                  neighbours when no_adjacent (bq769x0). Active: move charge from the highest to
 *                  the lowest cells (JK BMS style) while the spread exceeds the deltas.
 *   soc_history    after rest_time at rest, read each cell's OCV, convert it to SOC with the mean
 *                  OCV curve, bleed each cell's charge surplus over the lowest cell, counting the
 *                  bled charge as measured voltage / bleed resistance (foxBMS 2 history strategy).
 *   external       balancer.command per cell from outside (logs, firmware in the loop).
 * Modes (balancer.mode): charging (measured current above idle_current), idle (measured current
 * below idle_current for idle_delay), always. Policies read what a BMS reads: measured voltages,
 * measured current, measured temperatures.
 *
 * Actuators (balancer.topology), with Ic = balancer.channel_current and eta = transfer efficiency:
 *   passive            bleed current V_cell / R_bleed through each switched-on resistor
 *   adjacent           a shuttle between neighbours: donor gives Ic, receiver gets eta Ic
 *   flying_capacitor   any cell to any cell, up to `channels` pairs: donor Ic, receiver eta Ic
 *   cell_to_pack       donor gives Ic; the pack (every cell) gets eta V_d Ic / V_cells
 *   pack_to_cell       receiver gets Ic; the pack (every cell) gives V_r Ic / (eta V_cells)
 * Stuck switches (fault.balancer_stuck) override the command: on conducts always, off never.
 */
#include <math.h>
#include <string.h>

#include "twin.h"
#include "twin_math.h"

static int mode_allows(const twin_pack *p)
{
    const twin_settings *s = p->s;
    switch (s->balancer_mode) {
    case TWIN_BALANCER_MODE_CHARGING:
        return p->v->pack_current_measured > s->balancer_idle_current;
    case TWIN_BALANCER_MODE_IDLE:
        return p->in->idle_time >= s->balancer_idle_delay;
    default:
        return 1;
    }
}

static int temperature_allows(const twin_pack *p)
{
    double t = p->v->pack_max_temperature;
    return t != t || t <= p->s->balancer_max_temperature;
}

/* (key, index) ordering, descending by key then ascending by index: deterministic. */
static int before(const double *key, int a, int b) { return key[a] > key[b] || (key[a] == key[b] && a < b); }

static void sift_down(int *idx, int start, int end, const double *key)
{
    int root = start;
    while (2 * root + 1 < end) {
        int child = 2 * root + 1, worst = root;
        if (before(key, idx[worst], idx[child])) worst = child;
        if (child + 1 < end && before(key, idx[worst], idx[child + 1])) worst = child + 1;
        if (worst == root) return;
        {
            int t = idx[root];
            idx[root] = idx[worst];
            idx[worst] = t;
        }
        root = worst;
    }
}

/* Heap sort of idx[0..m) so that key descends (no recursion, no allocation). */
static void sort_descending(int *idx, int m, const double *key)
{
    int start, end;
    for (start = m / 2 - 1; start >= 0; --start) sift_down(idx, start, m, key);
    for (end = m - 1; end > 0; --end) {
        int t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        sift_down(idx, 0, end, key);
    }
}

/* Give `value` to the candidates (cand[i] != 0), highest key first, at most max_cells of them
 * (0: no limit), skipping a cell whose neighbour already has `value` when no_adjacent. */
static void select_cells(twin_pack *p, const double *cand, const double *key, int max_cells, int no_adjacent,
                         double value, double *cmd)
{
    int i, m = 0, k, taken = 0;
    for (i = 0; i < p->n; ++i)
        if (cand[i] != 0.0) p->order[m++] = i;
    if ((max_cells <= 0 || m <= max_cells) && !no_adjacent) {
        for (k = 0; k < m; ++k) cmd[p->order[k]] = value;
        return;
    }
    sort_descending(p->order, m, key);
    for (k = 0; k < m && (max_cells <= 0 || taken < max_cells); ++k) {
        int c = p->order[k];
        if (no_adjacent && ((c > 0 && cmd[c - 1] == value) || (c < p->n - 1 && cmd[c + 1] == value))) continue;
        cmd[c] = value;
        ++taken;
    }
}

static void decide_passive_voltage(twin_pack *p, int allowed)
{
    const twin_settings *s = p->s;
    const double vmin = p->v->pack_min_cell_voltage, vmax = p->v->pack_max_cell_voltage;
    const double *vm = p->c.cell_voltage_measured;
    double *latch = p->x.latch;
    int i;
    if (!allowed || !(vmax >= s->balancer_start_voltage)) {
        memset(latch, 0, (size_t)p->n * sizeof(double));
        return;
    }
    for (i = 0; i < p->n; ++i) {
        double d = vm[i] - vmin;
        int on = latch[i] != 0.0 ? d > s->balancer_stop_delta : d > s->balancer_start_delta;
        latch[i] = (on && vm[i] >= s->balancer_min_cell_voltage) ? 1.0 : 0.0;
    }
    select_cells(p, latch, vm, s->balancer_max_cells, s->balancer_no_adjacent, 1.0, p->x.command);
}

/* SOC-history bookkeeping, every step: arm at the end of a long rest, count bled charge. */
static void soc_history_track(twin_pack *p, double dt)
{
    const twin_settings *s = p->s;
    double *surplus = p->x.surplus_as, *cmd = p->x.command;
    const double *vm = p->c.cell_voltage_measured;
    int i;
    for (i = 0; i < p->n; ++i) {
        if (cmd[i] > 0.0) {
            surplus[i] -= vm[i] / s->balancer_bleed_resistance * dt;
            if (surplus[i] <= 0.0) {
                surplus[i] = 0.0;
                cmd[i] = 0.0;
            }
        }
    }
    if (p->in->idle_time == 0.0) p->in->soc_history_armed = 0.0;
    if (p->in->idle_time >= s->balancer_rest_time && p->in->soc_history_armed == 0.0) {
        double tmax = p->v->pack_max_temperature, tmin = p->v->pack_min_temperature;
        double temp = (tmax == tmax) ? 0.5 * (tmax + tmin) : 25.0;
        double soc_min = HUGE_VAL, cap = 0.0;
        double *soc = p->x.heat_scratch; /* scratch: not used by the thermal update until later */
        for (i = 0; i < p->n; ++i) {
            soc[i] = twin_soc_from_ocv(&p->tables, vm[i], temp);
            soc_min = soc[i] < soc_min ? soc[i] : soc_min;
            cap += p->c.cell_capacity[i];
        }
        /* the BMS knows the nominal capacity, not each cell's */
        cap = cap / (double)p->n * 3600.0 * (double)s->pack_cells_in_parallel;
        for (i = 0; i < p->n; ++i) {
            double d = soc[i] - soc_min;
            surplus[i] = d > s->balancer_soc_start_delta ? d * cap : 0.0;
        }
        p->in->soc_history_armed = 1.0;
    }
}

static void decide_soc_history(twin_pack *p, int allowed)
{
    const twin_settings *s = p->s;
    double *cand = p->x.latch;
    int i;
    if (!allowed) return;
    for (i = 0; i < p->n; ++i)
        cand[i] = (p->x.surplus_as[i] > 0.0 && p->c.cell_voltage_measured[i] >= s->balancer_min_cell_voltage) ? 1.0 : 0.0;
    select_cells(p, cand, p->x.surplus_as, s->balancer_max_cells, s->balancer_no_adjacent, 1.0, p->x.command);
}

static void decide_active_voltage(twin_pack *p, int allowed)
{
    const twin_settings *s = p->s;
    const double vmin = p->v->pack_min_cell_voltage, vmax = p->v->pack_max_cell_voltage;
    const double spread = vmax - vmin, start = s->balancer_start_delta, stop = s->balancer_stop_delta;
    const double *vm = p->c.cell_voltage_measured;
    double *cmd = p->x.command, *latch = p->x.latch, *key = p->x.heat_scratch;
    const int n = p->n;
    int i, k, on;
    on = p->in->balancing_on != 0.0 ? spread > stop : spread > start;
    on = on && allowed && vmax >= s->balancer_start_voltage;
    p->in->balancing_on = on ? 1.0 : 0.0;
    if (!on) {
        memset(latch, 0, (size_t)n * sizeof(double));
        return;
    }
    switch (s->balancer_topology) {
    case TWIN_BALANCER_TOPOLOGY_ADJACENT: {
        int m = 0;
        for (k = 0; k + 1 < n; ++k) {
            key[k] = fabs(vm[k] - vm[k + 1]);
            if (key[k] > stop) p->order[m++] = k;
        }
        sort_descending(p->order, m, key);
        for (i = 0; i < m; ++i) {
            int j = p->order[i];
            if (cmd[j] != 0.0 || cmd[j + 1] != 0.0) continue;
            cmd[j] = vm[j] > vm[j + 1] ? 1.0 : -1.0;
            cmd[j + 1] = -cmd[j];
        }
        break;
    }
    case TWIN_BALANCER_TOPOLOGY_FLYING_CAPACITOR:
        for (i = 0; i < n; ++i) p->order[i] = i;
        sort_descending(p->order, n, vm);
        for (k = 0; k < s->balancer_channels && k < n - 1 - k; ++k) {
            int d = p->order[k], r = p->order[n - 1 - k];
            if (vm[d] - vm[r] <= stop) break;
            cmd[d] = 1.0;
            cmd[r] = -1.0;
        }
        break;
    case TWIN_BALANCER_TOPOLOGY_CELL_TO_PACK:
        for (i = 0; i < n; ++i) {
            double d = vm[i] - vmin;
            latch[i] = (latch[i] != 0.0 ? d > stop : d > start) ? 1.0 : 0.0;
        }
        select_cells(p, latch, vm, s->balancer_channels, 0, 1.0, cmd);
        break;
    case TWIN_BALANCER_TOPOLOGY_PACK_TO_CELL:
        for (i = 0; i < n; ++i) {
            double d = vmax - vm[i];
            latch[i] = (latch[i] != 0.0 ? d > stop : d > start) ? 1.0 : 0.0;
            key[i] = -vm[i];
        }
        select_cells(p, latch, key, s->balancer_channels, 0, -1.0, cmd);
        break;
    default:
        break;
    }
}

void twin_balancer_decide(twin_pack *p, double dt)
{
    const twin_settings *s = p->s;
    int allowed;
    if (s->balancer_topology == TWIN_BALANCER_TOPOLOGY_NONE) {
        memset(p->x.command, 0, (size_t)p->n * sizeof(double));
        return;
    }
    if (s->balancer_policy == TWIN_BALANCER_POLICY_EXTERNAL) {
        memcpy(p->x.command, p->c.balancer_command, (size_t)p->n * sizeof(double));
        return;
    }
    if (s->balancer_policy == TWIN_BALANCER_POLICY_SOC_HISTORY) soc_history_track(p, dt);
    p->in->decision_timer += dt;
    if (p->in->decision_timer < s->balancer_decision_period * (1.0 - 1e-12)) return;
    p->in->decision_timer = 0.0;
    allowed = mode_allows(p) && temperature_allows(p);
    memset(p->x.command, 0, (size_t)p->n * sizeof(double));
    if (s->balancer_policy == TWIN_BALANCER_POLICY_SOC_HISTORY)
        decide_soc_history(p, allowed);
    else if (s->balancer_topology == TWIN_BALANCER_TOPOLOGY_PASSIVE)
        decide_passive_voltage(p, allowed);
    else
        decide_active_voltage(p, allowed);
}

/* --- actuator ------------------------------------------------------------------------------------ */

typedef struct {
    double loss_j;   /* energy turned into heat this step */
    double moved_as; /* charge taken from cells this step */
} step_account;

static void cell_to_cell(twin_pack *p, int d, int r, double dt, step_account *acc)
{
    const double ic = p->s->balancer_channel_current, eta = p->s->balancer_transfer_efficiency;
    const double *v = p->c.cell_voltage;
    p->c.balancer_transfer_current[d] -= ic;
    p->c.balancer_transfer_current[r] += eta * ic;
    p->c.balancer_transfer_charge_out[d] += ic * dt / 3600.0;
    p->c.balancer_transfer_charge_in[r] += eta * ic * dt / 3600.0;
    p->c.balancer_active[d] = 1.0;
    p->c.balancer_active[r] = -1.0;
    acc->loss_j += (v[d] * ic - v[r] * eta * ic) * dt;
    acc->moved_as += ic * dt;
}

static void actuate_active(twin_pack *p, const double *eff, double dt, step_account *acc)
{
    const twin_settings *s = p->s;
    const double ic = s->balancer_channel_current, eta = s->balancer_transfer_efficiency;
    const double *v = p->c.cell_voltage;
    const int n = p->n;
    double sum_v = 0.0;
    int i, j, used = 0;
    for (i = 0; i < n; ++i) sum_v += v[i];
    switch (s->balancer_topology) {
    case TWIN_BALANCER_TOPOLOGY_ADJACENT:
        for (i = 0; i + 1 < n;) {
            if (eff[i] * eff[i + 1] == -1.0) {
                if (eff[i] > 0.0) cell_to_cell(p, i, i + 1, dt, acc);
                else cell_to_cell(p, i + 1, i, dt, acc);
                i += 2;
            } else {
                i += 1;
            }
        }
        break;
    case TWIN_BALANCER_TOPOLOGY_FLYING_CAPACITOR: {
        int d = 0, r = 0;
        while (used < s->balancer_channels) {
            while (d < n && eff[d] != 1.0) ++d;
            while (r < n && eff[r] != -1.0) ++r;
            if (d >= n || r >= n) break;
            cell_to_cell(p, d, r, dt, acc);
            ++d, ++r, ++used;
        }
        break;
    }
    case TWIN_BALANCER_TOPOLOGY_CELL_TO_PACK:
        if (!(sum_v > 0.0)) break;
        for (i = 0; i < n && used < s->balancer_channels; ++i) {
            double i_in;
            if (eff[i] != 1.0) continue;
            i_in = eta * v[i] * ic / sum_v;
            p->c.balancer_transfer_current[i] -= ic;
            p->c.balancer_transfer_charge_out[i] += ic * dt / 3600.0;
            for (j = 0; j < n; ++j) {
                p->c.balancer_transfer_current[j] += i_in;
                p->c.balancer_transfer_charge_in[j] += i_in * dt / 3600.0;
            }
            p->c.balancer_active[i] = 1.0;
            acc->loss_j += (1.0 - eta) * v[i] * ic * dt;
            acc->moved_as += ic * dt;
            ++used;
        }
        break;
    case TWIN_BALANCER_TOPOLOGY_PACK_TO_CELL:
        if (!(sum_v > 0.0)) break;
        for (i = 0; i < n && used < s->balancer_channels; ++i) {
            double i_out;
            if (eff[i] != -1.0 || !(v[i] > 0.0)) continue;
            i_out = v[i] * ic / (eta * sum_v);
            for (j = 0; j < n; ++j) {
                p->c.balancer_transfer_current[j] -= i_out;
                p->c.balancer_transfer_charge_out[j] += i_out * dt / 3600.0;
            }
            p->c.balancer_transfer_current[i] += ic;
            p->c.balancer_transfer_charge_in[i] += ic * dt / 3600.0;
            p->c.balancer_active[i] = -1.0;
            acc->loss_j += (sum_v * i_out - v[i] * ic) * dt;
            acc->moved_as += (double)n * i_out * dt;
            ++used;
        }
        break;
    default:
        break;
    }
}

/* The switches' state (command overridden by stuck faults), in one vectorized pass that also
 * clears the bleed and transfer currents. Returns whether any switch is commanded. */
TWIN_INLINE_BODY int switch_states_body(twin_pack *p, const int passive)
{
    const int n = p->n;
    const double *cmd = p->x.command, *stuck = p->c.fault_balancer_stuck;
    double *eff = p->c.balancer_active, *bleed = p->c.balancer_bleed_current;
    double *commanded = p->c.balancer_commanded, *transfer = p->c.balancer_transfer_current;
    double any = 0.0; /* a double, as every other value in the loop: one vector width for all */
    int i;
    TWIN_IVDEP
    for (i = 0; i < n; ++i) {
        double e = cmd[i];
        e = stuck[i] == (double)TWIN_BALANCER_STUCK_ON ? 1.0 : e;
        e = stuck[i] == (double)TWIN_BALANCER_STUCK_OFF ? 0.0 : e;
        any = e != 0.0 ? 1.0 : any; /* (written so that the reduction vectorizes) */
        commanded[i] = cmd[i];
        transfer[i] = 0.0;
        bleed[i] = 0.0;
        /* a passive switch is on (1) or off; active ones are marked by the actuator below */
        eff[i] = passive ? (e > 0.0 ? 1.0 : 0.0) : e;
    }
    return any != 0.0;
}

TWIN_VECTOR_CLONES static int switch_states(twin_pack *p, int passive)
{
    return passive ? switch_states_body(p, 1) : switch_states_body(p, 0);
}

/* Bleed current V_cell / R_bleed through every switched-on resistor, and the charge it bled. */
TWIN_VECTOR_CLONES static void bleed_currents(twin_pack *p, double dt)
{
    const int n = p->n;
    const double r = p->s->balancer_bleed_resistance;
    const double *on = p->c.balancer_active, *v = p->c.cell_voltage;
    double *bleed = p->c.balancer_bleed_current, *charge = p->c.balancer_bleed_charge;
    int i;
    TWIN_IVDEP
    for (i = 0; i < n; ++i) {
        const double ib = (on[i] > 0.0 && v[i] > 0.0) ? v[i] / r : 0.0;
        bleed[i] = ib;
        charge[i] += ib * dt / 3600.0;
    }
}

void twin_balancer_actuate(twin_pack *p, double dt)
{
    const twin_settings *s = p->s;
    const int n = p->n;
    const int passive = s->balancer_topology == TWIN_BALANCER_TOPOLOGY_PASSIVE;
    double *eff = p->c.balancer_active;
    const double *bleed = p->c.balancer_bleed_current, *v = p->c.cell_voltage;
    step_account acc = {0.0, 0.0};
    int i, active = 0, any = switch_states(p, passive);
    if (s->balancer_topology == TWIN_BALANCER_TOPOLOGY_NONE || !any) {
        if (any) memset(eff, 0, (size_t)n * sizeof(double));
        p->v->balancer_active_cells = 0.0;
        return;
    }
    if (passive) {
        bleed_currents(p, dt);
        for (i = 0; i < n; ++i) {
            acc.loss_j += v[i] * bleed[i] * dt;
            acc.moved_as += bleed[i] * dt;
        }
    } else {
        /* the actuator marks only the cells it actually connects */
        double *want = p->x.heat_scratch;
        memcpy(want, eff, (size_t)n * sizeof(double));
        memset(eff, 0, (size_t)n * sizeof(double));
        actuate_active(p, want, dt, &acc);
    }
    for (i = 0; i < n; ++i) active += eff[i] != 0.0;
    p->v->balancer_active_cells = (double)active;
    p->v->balancer_energy_dissipated += acc.loss_j / 3600.0;
    p->v->balancer_charge_moved += acc.moved_as / 3600.0;
}
