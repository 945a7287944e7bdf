/* A C driver of the kernel (csrc/) through its public API, for running under AddressSanitizer,
 * UndefinedBehaviorSanitizer or valgrind (tests/test_sanitizers.py, tests/c/harness.py).
 *
 * Parameter values come from twin_fmu_data.c files that tests/c/harness.py generates from
 * parameter sets (the FMU's own generator), one per variant, listed in variants.c.
 *
 * Packs are opened two ways:
 *   block  the production layout: one block of exactly twin_pack_block_size(n) bytes from malloc,
 *          so a sanitizer sees an access past the block's end;
 *   split  every per-cell array, plane set and struct in its own allocation of exactly its size,
 *          so a sanitizer sees an access past the end (or before the start) of any one array,
 *          which inside one block would land silently in the neighbouring array.
 * The kernel reaches its arrays only through the pointers twin_pack_bind sets (twin_pack_defaults
 * clears p->block, which split mode leaves allocated but unused), so both run the same code.
 */
#ifndef TWIN_DRIVER_H
#define TWIN_DRIVER_H

#include <stddef.h>

#include "twin.h"
#include "twin_fmu.h"

typedef struct driver_variant {
    const char *name;
    const twin_fmu_data *data;
} driver_variant;

extern const driver_variant driver_variants[]; /* variants.c, generated */
extern const int driver_n_variants;

/* --- failures ----------------------------------------------------------------------------------- */

void driver_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;
#define CHECK(cond, ...)                                          \
    do {                                                          \
        if (!(cond)) driver_fail(__FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

/* which scenario runs now (printed with a failure; with -v, the previous one's time) */
void driver_scenario(const char *name);
/* printed with -v only */
void driver_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* --- packs -------------------------------------------------------------------------------------- */

typedef enum { LAYOUT_BLOCK = 0, LAYOUT_SPLIT = 1 } driver_layout;

typedef struct driver_pack {
    twin_pack p;
    driver_layout layout;
    void *block;
    const twin_fmu_data *data;
} driver_pack;

/* Bind, spec defaults, the variant's start values (each twin_set must succeed), its tables and
 * events. Then twin_pack_check and twin_pack_init unless `configure` is given: then it is called
 * first (to change settings), and check's failure is returned (0 on success) instead of fatal. */
int pack_open(driver_pack *dp, const twin_fmu_data *d, driver_layout layout, void (*configure)(twin_pack *, void *),
              void *ctx, char *msg, size_t msg_size);
void pack_close(driver_pack *dp);

unsigned int vr_of(const char *id);
const twin_var_info *info_of(const char *id);
void set_value(twin_pack *p, const char *id, int index, double value);

/* NaN-safe bitwise comparison of n doubles */
int same_doubles(const double *a, const double *b, size_t n);
double *alloc_doubles(size_t n); /* exact size, zeroed; never NULL */
/* The whole state of two packs of the same size is bitwise the same (any layouts), else a failure. */
void driver_same_state(const twin_pack *a, const twin_pack *b, const char *what);
int all_finite(const double *x, int n);

/* --- scenarios ---------------------------------------------------------------------------------- */

void run_api_scenarios(const driver_variant *v);      /* driver.c: access, bind, state copy, OCV inversion */
void run_drive_scenarios(const driver_variant *v);    /* driver_run.c */
void run_balancer_scenarios(const driver_variant *v); /* driver_run.c */
void run_fault_scenarios(const driver_variant *v);    /* driver_run.c */
void run_detector_scenarios(const driver_variant *v); /* driver_detect.c */
void run_firmware_scenarios(const driver_variant *v); /* driver_firmware.c */

#endif
