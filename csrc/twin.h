/* twin kernel: LFP cells, series pack, balancers, BMS protection and limits.
 *
 * Pure C99: no Python, no FMI, no I/O, no globals. All memory is the caller's: one block of
 * twin_pack_block_size(n) bytes holds the settings, every per-cell array, the pack variables and
 * the internal state, so copying the block copies the whole twin (FMU state get/set/serialize).
 * The cell tables and fault events are read-only data the caller keeps alive beside the block.
 *
 * Conventions (stated once, here and in docs/conventions.md):
 *   current      positive = charging; cell current = pack current + balancing currents into the cell
 *   SOC          fraction 0..1 of the cell's present capacity (ageing and capacity faults applied)
 *   temperature  degC
 *   time         seconds; a step of length dt advances every state over [t, t + dt] with the
 *                inputs held constant, and leaves every output describing time t + dt
 *   charge       self-discharge and leak currents drain charge inside the cell: they change SOC
 *                but do not flow through the terminals, so they cause no polarization or
 *                hysteresis change
 */
#ifndef TWIN_H
#define TWIN_H

#include <stddef.h>
#include <stdint.h>

#include "twin_spec.h"

#define TWIN_MAX_RC 3
#define TWIN_N_PROTECTIONS 8
#define TWIN_MESSAGE_SIZE 512
#define TWIN_COEF_PLANES (4 * (3 + 2 * TWIN_MAX_RC))
#define TWIN_LANES 4 /* cells per block of the cached table coefficients */
/* doubles of the cached table coefficients of n cells: TWIN_COEF_PLANES planes per block of
 * TWIN_LANES cells, the last block padded */
#define TWIN_COEF_DOUBLES(n) ((size_t)TWIN_COEF_PLANES * TWIN_LANES * (((size_t)(n) + TWIN_LANES - 1) / TWIN_LANES))
#define TWIN_DET_RING 5    /* flat blocks averaged at each end of a measured stretch */
#define TWIN_DET_KINDS 3   /* landmark kinds: plateau step, top knee, bottom knee */
#define TWIN_DET_BASE 9    /* per kind: baseline, calm time, calm bleed, previous rho and time, confirmed,
                              last rho, last time, baseline censored */
#define TWIN_DET_LEVELS 48 /* knee levels, 5 mV apart */
#define TWIN_DET_JW 8      /* samples averaged on each side of a reading's step */
#define TWIN_DET_PLANES (TWIN_DET_RING + TWIN_DET_KINDS * TWIN_DET_BASE + 2 * TWIN_DET_LEVELS + TWIN_DET_JW)

typedef enum twin_status {
    TWIN_OK = 0,
    TWIN_ERR_VALUE = 1,     /* a parameter, input or table value is out of range or not a number */
    TWIN_ERR_SIZE = 2,      /* a size does not fit: cell count, block size, table shape */
    TWIN_ERR_STATE = 3,     /* a serialized state does not belong to this twin */
    TWIN_ERR_UNKNOWN = 4    /* no variable with that value reference */
} twin_status;

/* Protection channels, in the order of twin_pack_vars' protection_*_tripped outputs. */
enum {
    TWIN_PROT_CELL_OV = 0,
    TWIN_PROT_CELL_UV,
    TWIN_PROT_CHARGE_OC,
    TWIN_PROT_DISCHARGE_OC,
    TWIN_PROT_CHARGE_OT,
    TWIN_PROT_CHARGE_UT,
    TWIN_PROT_DISCHARGE_OT,
    TWIN_PROT_DISCHARGE_UT
};

/* Cell tables on one uniform (SOC, temperature) grid. values holds n_temp x n_soc rows of
 * twin_table_columns(n_rc) columns: ocv_charge, ocv_discharge, r0, r_1 .. r_n, tau_1 .. tau_n
 * (resistances before time constants, so that constant time constants need no interpolation).
 * Outside the SOC range the OCV branches continue along their end segments; everything else, and
 * everything outside the temperature range, takes the nearest value (flat extrapolation). */
typedef struct twin_tables {
    int n_soc, n_temp, n_rc;
    double soc_first, soc_step;
    double temp_first, temp_step;
    const double *values;
} twin_tables;

#define TWIN_COL_OCV_CHARGE 0
#define TWIN_COL_OCV_DISCHARGE 1
#define TWIN_COL_R0 2
#define TWIN_COL_R(k) (3 + (k))
#define TWIN_COL_TAU(n_rc, k) (3 + (n_rc) + (k))

static inline int twin_table_columns(int n_rc) { return 3 + 2 * n_rc; }

/* A change of one per-cell fault (a fault.* array) at a time, for runs with scheduled faults. */
typedef struct twin_fault_event {
    double time;     /* s; applied at the start of the first step beginning at or after it */
    int cell;        /* 0-based */
    unsigned int vr; /* value reference of a fault.* per-cell array */
    double value;
} twin_fault_event;

/* Per-cell arrays the kernel keeps for itself (derived values, caches, policy state). */
#define TWIN_INTERNAL_ARRAYS(X) \
    X(capacity_as)    /* present capacity in A s: P, ageing and capacity faults applied */ \
    X(r_scale)        /* factor on table resistances: spread, ageing, 1/P */ \
    X(leak)           /* self-discharge plus fault leak, A */ \
    X(r0)             /* tables at the present SOC and temperature, scaled: R0 incl. fault */ \
    X(rc_r1) X(rc_r2) X(rc_r3) X(rc_tau1) X(rc_tau2) X(rc_tau3) \
    X(latch)          /* balancing hysteresis latch of the voltage-delta policy */ \
    X(surplus_as)     /* SOC-history policy: charge still to bleed, A s */ \
    X(heat_scratch)   /* thermal update scratch */ \
    X(thermal_alpha)  /* exp(-dt G / C) for the cached dt */ \
    X(thermal_g)      /* total thermal conductance to ambient and neighbours, W/K */ \
    X(inv_thermal_g)  /* 1 / thermal_g */ \
    X(inv_capacity)   /* 1 / capacity_as */ \
    X(ageing_charge)  /* throughput (A s) since the last ageing update */ \
    X(command)        /* balancing command the policy decided (before faults) */ \
    X(lookup_base)    /* table position of each cell (scratch) */ \
    X(busbar_share)   /* busbars a cell shares heat with, in halves: 1 at the ends, 2 between (0: one cell) */ \
    X(lookup_key)     /* table position the cached coefficients belong to (-1: none) */ \
    /* divergence detector (detect.c) */ \
    X(det_d) X(det_dprev)                           /* per-sample deviation, previous sample's */ \
    X(det_s1) X(det_s2) X(det_s3) X(det_s4)         /* scratch vectors */ \
    X(det_vb)                                       /* block mean of each measured cell voltage */ \
    X(det_acc_v) X(det_acc_d) X(det_acc_bal) X(det_acc_exy) X(det_acc_qdd) X(det_acc_t) X(det_acc_tn) \
    X(det_qdd_total)                                /* quiet-sample squared deviation steps, all time */ \
    X(det_r_sxy) X(det_r_bxy) X(det_r_above)        /* resistance: recent, baseline, time above */ \
    X(det_bleed)                                    /* charge bled so far (A s), from the flags */ \
    X(det_y) X(det_yprev1) X(det_yprev2) X(det_yprev3) /* corrected block deviation and the last three */ \
    X(det_seg_a) X(det_seg_ds) X(det_seg_wb)        /* bump: charge integral, start level, bleed weight */ \
    X(det_knee_prev)                                /* corrected voltage of the previous block (knees) */ \
    X(det_censored)                                 /* 1: measured below the knee (imprecise) */ \
    X(det_censored_sigma)                           /* uncertainty of such a measurement, A s */ \
    X(det_censored_bound)                           /* the most its offset can be (it had not arrived), A s */ \
    X(det_jump_amp) X(det_jump_t) X(det_jump_pre) X(det_jump_sum) X(det_jump_sq) X(det_jump_n) \
    X(det_cand_pre) X(det_cand_sum) X(det_cand_n) X(det_cand_t) /* a step being measured over a window */ \
    X(det_cmd_prev)                                 /* previous sample's balancing flag */ \
    X(det_delta)                                    /* voltage offset found and removed */ \
    X(det_t_base) X(det_t_n) X(det_t_above)         /* thermal baseline */

typedef struct twin_internal_arrays {
#define TWIN_X_DECLARE(name) double *name;
    TWIN_INTERNAL_ARRAYS(TWIN_X_DECLARE)
#undef TWIN_X_DECLARE
} twin_internal_arrays;

/* Pack-level internal state. */
typedef struct twin_internal {
    double time;                              /* s since start */
    double idle_time;                         /* s the measured current has been below idle */
    double decision_timer;                    /* s since the last balancing decision */
    double prot_timer[TWIN_N_PROTECTIONS];    /* s the trip condition has held; < 0: not seen */
    double prot_tripped_for[TWIN_N_PROTECTIONS]; /* s since the channel tripped */
    double thermal_dt;                        /* dt thermal_alpha was computed for (0: none) */
    double tau_const[TWIN_MAX_RC];            /* time constant of RC pair k if the same over the
                                                 whole table, else 0 */
    double rc_alpha[TWIN_MAX_RC];             /* exp(-rc_alpha_dt / tau_const[k]) */
    double rc_alpha_dt;                       /* dt rc_alpha was computed for (0: none) */
    double ageing_time;                       /* s since the last ageing update */
    double soc_history_armed;                 /* 1 once the surplus was read for this rest */
    double balancing_on;                      /* active policies: hysteresis latch */
    double gauss_spare;                       /* second normal deviate of the last pair */
    double has_spare;
    uint64_t rng[4];                          /* xoshiro256** state */
    long next_event;                          /* index of the next fault event */
    /* divergence detector (detect.c) */
    double det_prev_valid, det_t_prev, det_i_prev, det_med_prev, det_period, det_jw_pos, det_quiet_n;
    double det_blk_start, det_blk_n, det_acc_i, det_acc_med, det_acc_q, det_acc_exx, det_acc_mxy, det_acc_qn;
    double det_qn_total, det_r_sxx, det_r_bxx, det_r_mxy, det_r_mxx, det_r_baseline;
    double det_seg_sign, det_seg_quiet, det_bump, det_flat_n, det_post_flat, det_seg_start_disp;
    double det_seg_q, det_seg_us, det_seg_valid, det_seg_maxdisp, det_seg_wsum, det_seg_t0;
    double det_seg_ring_u[TWIN_DET_RING], det_seg_ring_pos;
    double det_beta_ready[TWIN_DET_KINDS], det_event_q[TWIN_DET_KINDS], det_started, det_q_total;
    double det_knee_q_prev, det_knee_active, det_knee_u, det_run_q0, det_step_height, det_seg_looked;
    double det_knee_pending, det_knee_pend_q; /* a knee run paused by a lull: its sign, its end charge */
    double det_cap_as, det_r0, det_edge_i, det_memory, det_seg_i, det_bleed_r;
} twin_internal;

typedef struct twin_pack {
    int n;                      /* cells (groups) in series */
    twin_settings *s;           /* in the block */
    twin_pack_vars *v;          /* in the block */
    twin_internal *in;          /* in the block */
    twin_cell_arrays c;         /* spec'd per-cell arrays, in the block */
    twin_internal_arrays x;     /* internal per-cell arrays, in the block */
    double *coef;               /* bilinear coefficients: TWIN_COEF_PLANES planes per block of TWIN_LANES cells */
    double *det_planes;         /* detector: TWIN_DET_PLANES planes of n (detect_charge.c), in the block */
    int *order;                 /* scratch for sorting cells, in the block */
    void *block;
    size_t block_size;
    twin_tables tables;         /* caller's data, read only */
    const twin_fault_event *events; /* caller's data, sorted by time, or NULL */
    long n_events;
} twin_pack;

/* --- life cycle ---------------------------------------------------------------------------- */

size_t twin_pack_block_size(int n_cells);
/* Lay the pack's arrays out in block (aligned to 8 bytes, at least twin_pack_block_size bytes).
 * Does not touch the block's content. */
twin_status twin_pack_bind(twin_pack *p, int n_cells, void *block, size_t size);
/* Spec start values everywhere; values without one are left invalid until set. */
void twin_pack_defaults(twin_pack *p);
/* Check settings, per-cell parameters and tables; on error write a message that names the
 * variable, its value and the allowed range into msg. */
twin_status twin_pack_check(const twin_pack *p, char *msg, size_t msg_size);
/* Start: states from their initial values, outputs at time 0. Call after a successful check. */
void twin_pack_init(twin_pack *p);
/* Recompute derived per-cell values after parameters changed during a run. */
void twin_pack_refresh(twin_pack *p);

/* --- stepping -------------------------------------------------------------------------------- */

/* Advance by dt seconds (> 0) with the inputs in p->v (pack_current, pack_ambient_temperature)
 * and p->c.balancer_command. */
twin_status twin_step(twin_pack *p, double dt);

typedef enum twin_drive_kind {
    TWIN_DRIVE_PROFILE = 0,      /* current[k] each step */
    TWIN_DRIVE_CURRENT = 1,      /* value A */
    TWIN_DRIVE_POWER = 2,        /* value W at the pack terminals (positive charging) */
    TWIN_DRIVE_CELL_VOLTAGE = 3, /* hold the highest (charging) or lowest (discharging) cell at value V */
    TWIN_DRIVE_PACK_VOLTAGE = 4  /* hold the pack voltage at value V */
} twin_drive_kind;

typedef struct twin_drive {
    twin_drive_kind kind;
    double value;
    double current_limit;   /* holds and power: the current may not exceed this magnitude; its
                               sign says which way a hold may push (positive: charging) */
    const double *current;  /* PROFILE: one value per step */
    const double *ambient;  /* one value per step, or NULL to keep the present input */
    const double *commands; /* n values per step for the external balancing policy, or NULL */
    int obey_limits;        /* 1: the charger and load keep within the BMS's CCL and DCL (DVCC) */
} twin_drive;

/* Conditions that end a run early; use +/-HUGE_VAL (or 0 for the flags) to disable. */
typedef struct twin_stop {
    double max_cell_voltage;   /* highest cell voltage at or above */
    double min_cell_voltage;   /* lowest cell voltage at or below */
    double max_pack_voltage;
    double min_pack_voltage;
    double min_abs_current;    /* |applied current| at or below (for holds) */
    double max_voltage_spread; /* measured max - min cell voltage at or below (balanced) */
    int on_protection;         /* 1: stop when protection stops the asked current */
} twin_stop;

typedef enum twin_stop_reason {
    TWIN_STOP_STEPS = 0,
    TWIN_STOP_MAX_CELL_VOLTAGE,
    TWIN_STOP_MIN_CELL_VOLTAGE,
    TWIN_STOP_MAX_PACK_VOLTAGE,
    TWIN_STOP_MIN_PACK_VOLTAGE,
    TWIN_STOP_CURRENT,
    TWIN_STOP_SPREAD,
    TWIN_STOP_PROTECTION
} twin_stop_reason;

/* After each step, copy count doubles from src to dst + k * count. */
typedef struct twin_record {
    const double *src;
    long count;
    double *dst;
} twin_record;

void twin_stop_none(twin_stop *stop);
/* Run up to n_steps steps of dt seconds; record every step; stop early on a stop condition
 * (checked after each step, so the step that meets it is recorded). */
twin_status twin_run(twin_pack *p, double dt, long n_steps, const twin_drive *drive,
                     const twin_stop *stop, const twin_record *records, int n_records,
                     long *steps_done, int *reason);

/* --- access by value reference (FMU, Python) ------------------------------------------------- */

/* Pointer to the value of vr (element index for per-cell arrays and vectors), or NULL. */
double *twin_real_ref(twin_pack *p, unsigned int vr, int index);
int *twin_int_ref(twin_pack *p, unsigned int vr, int index);
/* Set a settings or per-cell value with range checking; msg names the variable on error. */
twin_status twin_set(twin_pack *p, unsigned int vr, int index, double value, char *msg, size_t msg_size);
twin_status twin_get(twin_pack *p, unsigned int vr, int index, double *value);

/* --- helpers shared with other units ----------------------------------------------------------- */

/* SOC whose mean OCV (average of the branches) at temperature t equals v. */
double twin_soc_from_ocv(const twin_tables *tab, double v, double t);
/* Apply due fault events (time <= p->in->time). */
void twin_apply_events(twin_pack *p);

/* Unit entry points used by twin_step (balancer.c, protection.c, sensor.c). */
void twin_balancer_decide(twin_pack *p, double dt);
void twin_balancer_actuate(twin_pack *p, double dt);
void twin_protection_update(twin_pack *p, double dt);
void twin_limits_update(twin_pack *p);
void twin_sensors_update(twin_pack *p);
void twin_rng_seed(uint64_t state[4], uint64_t seed);

/* --- divergence detector (detect.c) ----------------------------------------------------------------
 * Runs beside a real BMS: feed one sample of measurements (p->c.measured_cell_voltage,
 * p->v->pack_current as the measured pack current, p->c.measured_temperature,
 * p->c.balancer_command as the logged balancing flags) taken at time t. Outputs are the flag.*,
 * estimate.* and detect.* variables. */
void twin_detect_reset(twin_pack *p);
/* Returns 1 when a block was completed by this sample (outputs updated), else 0. */
int twin_detect_sample(twin_pack *p, double t);
/* Bulk: n samples (time, current, n x cells voltages, n x cells temperatures or NULL, n x cells
 * balancing flags or NULL); after every completed block, copy the records. Returns blocks done. */
long twin_detect_run(twin_pack *p, long n, const double *time, const double *current, const double *voltage,
                     const double *temperature, const double *balancing, const twin_record *records,
                     int n_records, long max_blocks, double *block_time);
double twin_rng_normal(twin_pack *p);

/* --- firmware in the loop (firmware.c) ------------------------------------------------------------
 * A BMS firmware (a controller called through a function pointer) runs the pack closed loop: at
 * each control instant it reads what a BMS reads (measured cell voltages and temperatures, pack
 * current and voltage, as old as the sensor delay) and decides balancing, charge and discharge
 * enable and the CVL, CCL and DCL an inverter obeys. The twin's own protection is expected to be
 * switched off by the caller (thresholds out of reach): the firmware is the BMS. */

/* One control instant: the loop fills the readings, the controller writes the decisions. */
typedef struct twin_bms_io {
    double time;                /* s: the control instant */
    double dt;                  /* s since the previous instant */
    double *cell_voltage;       /* n: measured cell voltages, V */
    double *cell_temperature;   /* n: measured temperatures, degC, NaN where a cell has no sensor */
    double pack_current;        /* measured pack current, A */
    double pack_voltage;        /* V */
    double *balance;            /* n decisions: +1 take charge from the cell, -1 give to it, 0 off */
    double charge_enable, discharge_enable; /* 1 allowed, 0 stopped */
    double cvl, ccl, dcl;       /* V, A, A for the inverter */
} twin_bms_io;

/* The firmware: returns 0, or non-zero to stop the run (a fault the firmware reports). */
typedef int (*twin_bms_controller)(void *ctx, twin_bms_io *io);

/* Per-step values the loop computes beside the twin's own outputs (indices into monitor[]). */
enum {
    TWIN_BMS_M_REQUEST = 0,    /* current the scenario's charger and load asked for, A */
    TWIN_BMS_M_VMAX,           /* highest true cell voltage, V, and its cell */
    TWIN_BMS_M_VMAX_CELL,
    TWIN_BMS_M_VMIN,           /* lowest true cell voltage, V, and its cell */
    TWIN_BMS_M_VMIN_CELL,
    TWIN_BMS_M_READ_VMAX_CELL, /* cell of the highest and lowest measured voltage */
    TWIN_BMS_M_READ_VMIN_CELL,
    TWIN_BMS_M_TMAX,           /* hottest true cell temperature, degC, and its cell */
    TWIN_BMS_M_TMAX_CELL,
    TWIN_BMS_M_TMIN,           /* coldest true cell temperature, degC */
    TWIN_BMS_M_READ_TMAX_CELL, /* cell of the hottest and coldest temperature reading (-1: none) */
    TWIN_BMS_M_READ_TMIN_CELL,
    TWIN_BMS_M_BLEED_MAX,      /* largest bleed current of any cell, A, and its cell */
    TWIN_BMS_M_BLEED_MAX_CELL,
    TWIN_BMS_M_TRANSFER_MAX,   /* largest active transfer current magnitude of any cell, A */
    TWIN_BMS_M_COMMANDED,      /* cells the firmware commands (balance != 0) */
    TWIN_BMS_M_ADJACENT,       /* lowest cell i with i and i + 1 both commanded +1, else -1 */
    TWIN_BMS_M_AMBIENT_CELL,   /* degC: what a cell with no heat of its own would be at, the ambient
                                  through the cell's thermal time constant (heat capacity x resistance) */
    TWIN_BMS_N_MONITOR
};

/* Why a run stopped early (twin_bms_loop.fault). */
typedef enum twin_bms_fault {
    TWIN_BMS_RUNNING = 0,
    TWIN_BMS_CONTROLLER_ERROR, /* the controller returned non-zero (status in controller_status) */
    TWIN_BMS_BAD_BALANCE,      /* a balance decision not -1, 0 or +1 (fault_cell, fault_value) */
    TWIN_BMS_BAD_CHARGE_ENABLE,
    TWIN_BMS_BAD_DISCHARGE_ENABLE,
    TWIN_BMS_BAD_CVL,          /* not a finite number >= 0 */
    TWIN_BMS_BAD_CCL,
    TWIN_BMS_BAD_DCL,
    TWIN_BMS_CELL_HIGH,        /* a true cell voltage above stop_max_cell_voltage (fault_cell, value) */
    TWIN_BMS_CELL_LOW          /* a true cell voltage below stop_min_cell_voltage */
} twin_bms_fault;

typedef struct twin_bms_loop {
    /* settings */
    long period_steps;          /* steps between control instants, >= 1 */
    long delay_steps;           /* readings are this many steps old, >= 0 */
    int obey_limits;            /* 1: the inverter keeps to CVL, CCL and DCL (DVCC); 0: it ignores them */
    double charger_resistance;  /* Ohm: gain of the inverter's constant-voltage loop; at least the pack's
                                   DC resistance keeps the loop free of overshoot */
    double stop_max_cell_voltage, stop_min_cell_voltage; /* end the run beyond these true voltages */
    twin_bms_controller controller;
    void *ctx;
    volatile double *progress;  /* optional: the time of the control instant, written before each call */
    double *ring;               /* caller's: (delay_steps + 1) x (2 n + 2) doubles */
    twin_bms_io io;             /* its arrays point to caller's memory, n doubles each */
    /* state */
    double monitor[TWIN_BMS_N_MONITOR];
    long countdown;             /* steps to the next control instant (0: now) */
    long ring_head;             /* slot of the newest reading */
    long steps;                 /* steps since start */
    double last_instant;        /* time of the previous control instant (NaN before the first) */
    /* why the run stopped early */
    int fault;                  /* twin_bms_fault */
    int fault_cell;
    double fault_value;
    double fault_time;
    int controller_status;
} twin_bms_loop;

/* Start: fill the delay ring with the present readings, next step is a control instant. Call
 * after twin_pack_init (or a restore). */
void twin_bms_start(twin_pack *p, twin_bms_loop *loop);
/* Run up to n_steps steps of dt seconds with the charger and load asking for request[k] amperes
 * (ambient[k] degC, or NULL to keep the present ambient). After every step copy the records; after
 * every slow_every-th step (counted from the start) also the slow records. Stops early when the
 * loop's fault is set (a controller error, an invalid decision, a cell beyond the stop voltages). */
twin_status twin_bms_run(twin_pack *p, twin_bms_loop *loop, double dt, long n_steps, const double *request,
                         const double *ambient, const twin_record *records, int n_records,
                         const twin_record *slow, int n_slow, long slow_every, long *steps_done);
/* The pack current an inverter lets flow: the request, stopped in a direction the firmware
 * disabled, and (obey_limits) within CCL and DCL and held at CVL by a constant-voltage loop that
 * adds (CVL - pack_voltage) / charger_resistance to the previous current. */
double twin_bms_inverter_current(const twin_bms_io *io, double request, double pack_voltage, double previous,
                                 int obey_limits, double charger_resistance);
/* Check the decisions in io: 0, or a twin_bms_fault with the cell (-1 for pack values) and value. */
int twin_bms_check_decisions(const twin_bms_io *io, int n, int *cell, double *value);

#endif
