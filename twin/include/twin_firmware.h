/* twin_firmware.h: the ABI between `twin validate` and BMS firmware compiled for the host.
 *
 * Build your firmware's decision logic (balancing, protection, charge limits) with its hardware
 * layer stubbed, as a shared library that exports the three functions below, and run it against
 * the twin:
 *
 *     cc -shared -fPIC -O2 -I"$(twin validate --include-dir)" my_bms.c -o my_bms.so
 *     twin validate --firmware my_bms.so --scenarios suite/ --limits limits.toml
 *
 * (`twin validate --firmware my_bms.c` compiles a single-file firmware itself.) The twin calls
 * twin_fw_create once per scenario, twin_fw_step once per control period, twin_fw_destroy at the
 * end. Calls never overlap and one instance runs at a time, so firmware that keeps its state in
 * globals works, provided twin_fw_create resets all of it. Each scenario runs in a process of its
 * own: a crash, an abort() or a hang in the firmware is reported as a failure of the firmware with
 * the scenario time it happened at, and the other scenarios still run.
 *
 * Conventions (as in the rest of twin, docs/conventions.md): current positive = charging,
 * volts, amperes, degC, seconds. Cell 0 is at the pack's negative end.
 */
#ifndef TWIN_FIRMWARE_H
#define TWIN_FIRMWARE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TWIN_FW_ABI_VERSION 1

#if defined(_WIN32)
#define TWIN_FW_EXPORT __declspec(dllexport)
#else
#define TWIN_FW_EXPORT __attribute__((visibility("default")))
#endif

/* Filled by twin before twin_fw_create. */
typedef struct twin_fw_setup {
    int abi_version;  /* in: TWIN_FW_ABI_VERSION of the twin calling; refuse what you do not know */
    int n_cells;      /* in: cells (or parallel groups) in series */
    double period;    /* in/out: seconds between twin_fw_step calls; twin proposes (default 1 s, or
                         --period), the firmware may set its own (rounded to whole twin steps) */
    char name[64];    /* out, optional: firmware name and version, shown in reports */
    char error[256];  /* out: why twin_fw_create returned NULL */
} twin_fw_setup;

/* What the BMS reads at one control instant: the twin's sensors with their noise, ADC steps and
 * faults, as old as the scenario's sensor delay. The arrays are valid during the call only. */
typedef struct twin_fw_inputs {
    double time;                    /* s since the scenario started */
    double dt;                      /* s since the previous call (the control period) */
    int n_cells;
    const double *cell_voltage;     /* n_cells: measured cell voltages, V */
    const double *cell_temperature; /* n_cells: measured temperature of each cell, degC; NaN for a
                                       cell without a sensor (the pack's sensors: scenario file) */
    double pack_current;            /* measured pack current, A, positive = charging */
    double pack_voltage;            /* pack terminal voltage, V */
} twin_fw_inputs;

/* What the BMS decides. Twin keeps this struct between calls: on entry it holds the decisions of
 * the previous call (all zero and both enables 0 before the first), so write every field. */
typedef struct twin_fw_outputs {
    int *balance;         /* n_cells: 1 = take charge from the cell (bleed resistor on, or active
                             donor), -1 = give charge to it (active receiver), 0 = off */
    int charge_enable;    /* 1: charging allowed; 0: the charge path is open (FET or contactor) */
    int discharge_enable; /* 1: discharging allowed; 0: the discharge path is open */
    double cvl;           /* charge voltage limit sent to the inverter, V (Pylontech 0x351) */
    double ccl;           /* charge current limit, A, >= 0 */
    double dcl;           /* discharge current limit, A, >= 0 */
    char message[128];    /* optional: why, when twin_fw_step returns non-zero */
} twin_fw_outputs;

/* A new instance for setup->n_cells cells, or NULL when the firmware cannot run them (then write
 * why into setup->error). Must reset every state the firmware keeps. */
TWIN_FW_EXPORT void *twin_fw_create(twin_fw_setup *setup);

/* One control period: read `in`, write `out`. Return 0; non-zero stops the scenario as a fault
 * the firmware reports (put the reason in out->message). Decisions are checked on return: balance
 * -1/0/1, enables 0/1, CVL, CCL and DCL finite and not negative; anything else fails the
 * scenario as a firmware fault naming the field, the cell and the value. */
TWIN_FW_EXPORT int twin_fw_step(void *fw, const twin_fw_inputs *in, twin_fw_outputs *out);

/* Free what twin_fw_create made (called once per successful create). */
TWIN_FW_EXPORT void twin_fw_destroy(void *fw);

#ifdef __cplusplus
}
#endif

#endif
