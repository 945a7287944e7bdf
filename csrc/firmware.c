/* Firmware in the loop: a BMS controller called through a function pointer runs the pack closed loop.
 *
 * Each step of dt seconds:
 *   1. at a control instant (every period_steps steps, the first at the start) the controller
 *      reads the readings of delay_steps steps ago (measured cell voltages and temperatures, pack
 *      current and voltage) and writes its decisions; they are checked (balance -1/0/+1, enables
 *      0/1, CVL/CCL/DCL finite and >= 0) and held until the next instant;
 *   2. the inverter turns the scenario's request into the pack current
 *      (twin_bms_inverter_current) and the balance decisions become balancer.command;
 *   3. the twin steps (its own protection switched off by the caller: the firmware is the BMS);
 *   4. the new readings enter the delay ring, the monitor values are computed, records copied.
 * A decision taken at an instant thus acts from the step that starts there: a firmware reading
 * without delay answers a reading one step after it was taken.
 *
 * The inverter is a DVCC-style charger and load (Victron DVCC, DOMAIN.md "Talking to inverters"):
 * it never pushes current in a direction the BMS has opened, keeps within CCL and DCL and, when
 * charging, holds the pack at CVL with an integrating loop I_k = I_(k-1) + (CVL - V) / R. With R at
 * least the pack's DC resistance each correction undershoots, so the pack voltage approaches CVL
 * from below without ringing. A scenario may make it ignore the limits (a charger without CAN).
 */
#include <math.h>
#include <string.h>

#include "twin.h"

static double *ring_slot(const twin_bms_loop *L, int n, long slot)
{
    return L->ring + (size_t)slot * (size_t)(2 * n + 2);
}

/* Store the twin's present readings in the ring's next slot. */
static void push_readings(const twin_pack *p, twin_bms_loop *L)
{
    const int n = p->n;
    double *slot;
    L->ring_head = (L->ring_head + 1) % (L->delay_steps + 1);
    slot = ring_slot(L, n, L->ring_head);
    memcpy(slot, p->c.cell_voltage_measured, (size_t)n * sizeof(double));
    memcpy(slot + n, p->c.cell_temperature_measured, (size_t)n * sizeof(double));
    slot[2 * n] = p->v->pack_current_measured;
    slot[2 * n + 1] = p->v->pack_voltage;
}

void twin_bms_start(twin_pack *p, twin_bms_loop *L)
{
    const int n = p->n;
    long k;
    L->ring_head = 0;
    for (k = 0; k <= L->delay_steps; ++k) push_readings(p, L);
    L->countdown = 0;
    L->steps = 0;
    L->last_instant = NAN; /* the first instant's dt is one control period */
    L->fault = TWIN_BMS_RUNNING;
    L->fault_cell = -1;
    L->fault_value = 0.0;
    L->fault_time = 0.0;
    L->controller_status = 0;
    for (k = 0; k < TWIN_BMS_N_MONITOR; ++k) L->monitor[k] = 0.0;
    for (k = 0; k < n; ++k) L->monitor[TWIN_BMS_M_AMBIENT_CELL] += p->c.cell_temperature[k] / (double)n;
    memset(L->io.balance, 0, (size_t)n * sizeof(double));
    L->io.charge_enable = 0.0;
    L->io.discharge_enable = 0.0;
    L->io.cvl = 0.0;
    L->io.ccl = 0.0;
    L->io.dcl = 0.0;
}

int twin_bms_check_decisions(const twin_bms_io *io, int n, int *cell, double *value)
{
    int i;
    *cell = -1;
    for (i = 0; i < n; ++i) {
        const double b = io->balance[i];
        if (!(b == -1.0 || b == 0.0 || b == 1.0)) {
            *cell = i;
            *value = b;
            return TWIN_BMS_BAD_BALANCE;
        }
    }
    *value = io->charge_enable;
    if (!(io->charge_enable == 0.0 || io->charge_enable == 1.0)) return TWIN_BMS_BAD_CHARGE_ENABLE;
    *value = io->discharge_enable;
    if (!(io->discharge_enable == 0.0 || io->discharge_enable == 1.0)) return TWIN_BMS_BAD_DISCHARGE_ENABLE;
    *value = io->cvl;
    if (!(isfinite(io->cvl) && io->cvl >= 0.0)) return TWIN_BMS_BAD_CVL;
    *value = io->ccl;
    if (!(isfinite(io->ccl) && io->ccl >= 0.0)) return TWIN_BMS_BAD_CCL;
    *value = io->dcl;
    if (!(isfinite(io->dcl) && io->dcl >= 0.0)) return TWIN_BMS_BAD_DCL;
    *value = 0.0;
    return TWIN_BMS_RUNNING;
}

double twin_bms_inverter_current(const twin_bms_io *io, double request, double pack_voltage, double previous,
                                 int obey_limits, double charger_resistance)
{
    double current = request;
    if (request > 0.0) {
        if (io->charge_enable == 0.0) return 0.0;
        if (obey_limits) {
            double cv = (previous > 0.0 ? previous : 0.0) + (io->cvl - pack_voltage) / charger_resistance;
            current = current < io->ccl ? current : io->ccl;
            current = current < cv ? current : cv;
            current = current > 0.0 ? current : 0.0;
        }
    } else if (request < 0.0) {
        if (io->discharge_enable == 0.0) return 0.0;
        if (obey_limits) current = current > -io->dcl ? current : -io->dcl;
    }
    return current;
}

/* One control instant: readings from the ring's oldest slot, the controller, the checks. */
static void control_instant(twin_pack *p, twin_bms_loop *L, double dt)
{
    const int n = p->n;
    const long oldest = (L->ring_head + 1) % (L->delay_steps + 1);
    const double *slot = ring_slot(L, n, oldest);
    twin_bms_io *io = &L->io;
    int status, fault, cell;
    double value;
    memcpy(io->cell_voltage, slot, (size_t)n * sizeof(double));
    memcpy(io->cell_temperature, slot + n, (size_t)n * sizeof(double));
    io->pack_current = slot[2 * n];
    io->pack_voltage = slot[2 * n + 1];
    io->time = p->in->time;
    io->dt = L->last_instant == L->last_instant ? p->in->time - L->last_instant : (double)L->period_steps * dt;
    L->last_instant = p->in->time;
    if (L->progress != NULL) *L->progress = io->time;
    status = L->controller(L->ctx, io);
    if (status != 0) {
        L->fault = TWIN_BMS_CONTROLLER_ERROR;
        L->controller_status = status;
        L->fault_time = io->time;
        return;
    }
    fault = twin_bms_check_decisions(io, n, &cell, &value);
    if (fault != TWIN_BMS_RUNNING) {
        L->fault = fault;
        L->fault_cell = cell;
        L->fault_value = value;
        L->fault_time = io->time;
        return;
    }
    memcpy(p->c.balancer_command, io->balance, (size_t)n * sizeof(double));
}

/* Extremes of an array with their index (first of equals); NaN entries are skipped. */
static void extremes(const double *a, int n, double *hi, double *hi_at, double *lo, double *lo_at)
{
    double h = -HUGE_VAL, l = HUGE_VAL;
    int i, ih = -1, il = -1;
    for (i = 0; i < n; ++i) {
        const double x = a[i];
        if (x > h) { h = x; ih = i; }
        if (x < l) { l = x; il = i; }
    }
    *hi = ih >= 0 ? h : NAN;
    *lo = il >= 0 ? l : NAN;
    if (hi_at != NULL) *hi_at = (double)ih;
    if (lo_at != NULL) *lo_at = (double)il;
}

static void monitor_update(const twin_pack *p, twin_bms_loop *L, double request, double dt)
{
    const double tau = p->s->cell_heat_capacity * p->s->cell_thermal_resistance_ambient;
    double *m = L->monitor, unused;
    const double *cmd = L->io.balance;
    const int n = p->n;
    double bleed = -HUGE_VAL, transfer = 0.0, commanded = 0.0;
    int i, bleed_at = -1, adjacent = -1;
    m[TWIN_BMS_M_REQUEST] = request;
    extremes(p->c.cell_voltage, n, &m[TWIN_BMS_M_VMAX], &m[TWIN_BMS_M_VMAX_CELL], &m[TWIN_BMS_M_VMIN],
             &m[TWIN_BMS_M_VMIN_CELL]);
    extremes(p->c.cell_voltage_measured, n, &unused, &m[TWIN_BMS_M_READ_VMAX_CELL], &unused,
             &m[TWIN_BMS_M_READ_VMIN_CELL]);
    extremes(p->c.cell_temperature, n, &m[TWIN_BMS_M_TMAX], &m[TWIN_BMS_M_TMAX_CELL], &m[TWIN_BMS_M_TMIN], NULL);
    extremes(p->c.cell_temperature_measured, n, &unused, &m[TWIN_BMS_M_READ_TMAX_CELL], &unused,
             &m[TWIN_BMS_M_READ_TMIN_CELL]);
    for (i = 0; i < n; ++i) {
        const double b = p->c.balancer_bleed_current[i], t = fabs(p->c.balancer_transfer_current[i]);
        if (b > bleed) { bleed = b; bleed_at = i; }
        transfer = t > transfer ? t : transfer;
        commanded += cmd[i] != 0.0;
        if (adjacent < 0 && i + 1 < n && cmd[i] == 1.0 && cmd[i + 1] == 1.0) adjacent = i;
    }
    m[TWIN_BMS_M_BLEED_MAX] = bleed;
    m[TWIN_BMS_M_BLEED_MAX_CELL] = (double)bleed_at;
    m[TWIN_BMS_M_TRANSFER_MAX] = transfer;
    m[TWIN_BMS_M_COMMANDED] = commanded;
    m[TWIN_BMS_M_ADJACENT] = (double)adjacent;
    m[TWIN_BMS_M_AMBIENT_CELL] = p->v->pack_ambient_temperature +
                                 (m[TWIN_BMS_M_AMBIENT_CELL] - p->v->pack_ambient_temperature) * exp(-dt / tau);
}

static void copy_records(const twin_record *records, int n_records, long k)
{
    int r;
    for (r = 0; r < n_records; ++r) {
        if (records[r].count == 1)
            records[r].dst[k] = *records[r].src; /* most records are one value: no call */
        else
            memcpy(records[r].dst + (size_t)k * (size_t)records[r].count, records[r].src,
                   (size_t)records[r].count * sizeof(double));
    }
}

twin_status twin_bms_run(twin_pack *p, twin_bms_loop *L, double dt, long n_steps, const double *request,
                         const double *ambient, const twin_record *records, int n_records,
                         const twin_record *slow, int n_slow, long slow_every, long *steps_done)
{
    const int n = p->n;
    long k, slow_k = 0;
    *steps_done = 0;
    /* refused before the firmware is called: a refused run must not use up a control instant */
    if (L->period_steps < 1 || L->delay_steps < 0 || !(L->charger_resistance > 0.0) || slow_every < 1
        || !(dt > 0.0) || !isfinite(dt))
        return TWIN_ERR_VALUE;
    for (k = 0; k < n_steps && L->fault == TWIN_BMS_RUNNING; ++k) {
        twin_status st;
        int i;
        if (L->countdown <= 0) {
            control_instant(p, L, dt);
            if (L->fault != TWIN_BMS_RUNNING) break;
            L->countdown = L->period_steps;
        }
        p->v->pack_current = twin_bms_inverter_current(&L->io, request[k], p->v->pack_voltage,
                                                       p->v->pack_applied_current, L->obey_limits,
                                                       L->charger_resistance);
        if (ambient != NULL) p->v->pack_ambient_temperature = ambient[k];
        st = twin_step(p, dt);
        if (st != TWIN_OK) return st;
        L->countdown -= 1;
        L->steps += 1;
        push_readings(p, L);
        monitor_update(p, L, request[k], dt);
        copy_records(records, n_records, k);
        if (L->steps % slow_every == 0) copy_records(slow, n_slow, slow_k++);
        *steps_done = k + 1;
        for (i = 0; i < n; ++i) {
            const double v = p->c.cell_voltage[i];
            if (!(v <= L->stop_max_cell_voltage) || !(v >= L->stop_min_cell_voltage)) {
                L->fault = v > L->stop_max_cell_voltage || v != v ? TWIN_BMS_CELL_HIGH : TWIN_BMS_CELL_LOW;
                L->fault_cell = i;
                L->fault_value = v;
                L->fault_time = p->in->time;
                break;
            }
        }
    }
    return TWIN_OK;
}
