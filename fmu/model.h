/* The twin as a co-simulation model: the kernel plus the baked parameter set, stepped over
 * communication intervals of any length. Knows nothing of FMI (fmi_layer.c does): it gets and
 * sets values by variable and element, checks them, and reports problems as text.
 *
 * Elements are 0-based here; names in messages use 1-based elements, as the FMU's variable
 * names do (cell.voltage[1] is element 0).
 */
#ifndef TWIN_MODEL_H
#define TWIN_MODEL_H

#include <stddef.h>

#include "twin_fmu.h"

typedef struct twin_model_memory {
    void *(*alloc)(void *env, size_t size); /* zeroed memory or NULL */
    void (*free)(void *env, void *ptr);
    void *env;
} twin_model_memory;

typedef struct twin_model {
    twin_pack pack;
    void *block;               /* the kernel's memory: the whole twin */
    twin_model_memory mem;
    const twin_fmu_data *data;
    double time;               /* communication time, s */
    double internal_step;      /* fmu.internal_step, s */
    int initialized;           /* twin_pack_init ran on the present parameters */
    int parameters_changed;    /* parameters set since the last initialization or step */
    int residuals_stale;       /* measured inputs set since the residuals were computed */
} twin_model;

/* A model with the baked start values, or NULL (msg says why). */
twin_model *twin_model_new(const twin_model_memory *mem, char *msg, size_t msg_size);
void twin_model_free(twin_model *m);
/* Back to the baked start values, before initialization. */
void twin_model_reset(twin_model *m);

/* The variable with value reference vr, or NULL. */
const twin_fmu_var *twin_model_var(unsigned int vr);
int twin_model_elements(const twin_model *m, const twin_fmu_var *v);
/* "cell.voltage[3]" for element 2 of an array, "pack.current" for a scalar. */
void twin_model_name(const twin_model *m, const twin_fmu_var *v, int element, char *buf, size_t size);

/* 0 if value is acceptable for the element, else 1 with msg naming the variable and the range. */
int twin_model_check_value(const twin_model *m, const twin_fmu_var *v, int element, double value, char *msg,
                           size_t msg_size);
/* Check and store; 0 on success. */
int twin_model_set(twin_model *m, const twin_fmu_var *v, int element, double value, char *msg, size_t msg_size);
void twin_model_get(twin_model *m, const twin_fmu_var *v, int element, double *value);
/* The values of a kernel real variable from element first on, contiguous (what twin_model_get would
 * read one by one), or NULL when the variable is not stored as doubles (integer settings, adapter). */
const double *twin_model_values(twin_model *m, const twin_fmu_var *v, int first);

/* Check every parameter together and compute the state and outputs at start_time (again if
 * parameters changed since). 0 on success. */
int twin_model_initialize(twin_model *m, double start_time, char *msg, size_t msg_size);
/* Advance from the model's time by h seconds in internal steps, after feeding the divergence detector
 * the measured inputs as its sample at the model's time (when every cell voltage is measured); 0 on
 * success, 1 when refused before any step (nothing changed, the detector not fed either), 2 when the
 * kernel refused part-way. */
int twin_model_do_step(twin_model *m, double h, char *msg, size_t msg_size);

/* Saved states: a header (magic, layout version, cell count, build, sizes) and the block. */
size_t twin_model_state_size(const twin_model *m);
void twin_model_state_save(const twin_model *m, void *state);
/* Put a checksum of the block into a copy that leaves the process (a serialized state). */
void twin_model_state_seal(void *state);
/* 0 if state was saved by a model of this very FMU build (and, if sealed, its bytes are intact);
 * else 1 and msg says what differs. */
int twin_model_state_check(const twin_model *m, const void *state, size_t size, int sealed, char *msg,
                           size_t msg_size);
/* Whether a checked state was saved after initialization. */
int twin_model_state_initialized(const void *state);
void twin_model_state_restore(twin_model *m, const void *state);

#endif
