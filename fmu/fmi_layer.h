/* The generic FMI layer, written once for FMI 2.0 and 3.0 (after the Reference FMUs).
 *
 * fmi2_functions.c and fmi3_functions.c are thin: each entry point checks the FMI state machine
 * with fmu_allowed() and hands its arguments to one function here. This layer resolves value
 * references (FMI 2.0 scalars or FMI 3.0 arrays) through one lookup, checks types, counts and
 * causality, and reports every refusal through the FMI logger, naming the function, the variable
 * and what was allowed. A refused call changes nothing. The model (model.c) knows nothing of FMI.
 *
 * No globals and no static mutable data: every instance owns its memory.
 */
#ifndef FMI_LAYER_H
#define FMI_LAYER_H

#include <stddef.h>

#include "model.h"

/* Same numbers as fmi2Status and fmi3Status. */
typedef enum { FMU_OK = 0, FMU_WARNING = 1, FMU_DISCARD = 2, FMU_ERROR = 3, FMU_FATAL = 4 } fmu_status;

/* States of the FMI state machine (FMI 2.0 co-simulation names in comments). */
enum {
    FMU_INSTANTIATED = 1 << 0,   /* instantiated */
    FMU_CONFIGURATION = 1 << 1,  /* (FMI 3.0 only) */
    FMU_INITIALIZATION = 1 << 2, /* initializationMode */
    FMU_STEP = 1 << 3,           /* stepComplete */
    FMU_TERMINATED = 1 << 4,     /* terminated */
    FMU_ERROR_STATE = 1 << 5     /* error */
};
#define FMU_ANY_STATE 0x3F

/* The C type of the caller's values array. */
typedef enum {
    FMU_BUF_FLOAT64,     /* fmi2Real, fmi3Float64 */
    FMU_BUF_INT32,       /* fmi2Integer, fmi3Int32 */
    FMU_BUF_INT64,       /* fmi3Int64 (FMI 3.0 enumerations) */
    FMU_BUF_UINT64,      /* fmi3UInt64 (structural parameters) */
    FMU_BUF_INT_BOOLEAN, /* fmi2Boolean */
    FMU_BUF_BOOL,        /* fmi3Boolean */
    FMU_BUF_OTHER        /* a type no variable of this FMU has (fmi3Float32, fmi3String, ...) */
} fmu_buffer;

struct fmu_instance;
typedef void (*fmu_emit)(const struct fmu_instance *inst, fmu_status status, const char *category,
                         const char *message);
typedef void (*fmu_callback)(void); /* the host's logger; the version's emit casts it back */

typedef struct fmu_instance {
    int fmi_version;
    int state;
    char *name;
    int log_events;    /* debug logging of the logEvents category */
    fmu_emit emit;
    fmu_callback logger;
    void *logger_env;
    void *host;        /* FMI 2.0: the copy of the host's callbacks */
    twin_model_memory mem;
    twin_model *model;
    double start_time;
} fmu_instance;

typedef struct fmu_setup {
    int fmi_version;
    const char *function;  /* the instantiate function, for messages */
    const char *name;
    const char *token;
    int logging_on;
    fmu_emit emit;
    fmu_callback logger;
    void *logger_env;
    void *host;
    twin_model_memory mem;
} fmu_setup;

/* An instance in state Instantiated, or NULL after logging why. */
fmu_instance *fmu_instantiate(const fmu_setup *setup);
void fmu_free_instance(fmu_instance *inst);

/* 1 if the instance is in one of the states; else log which call, which state, what was allowed. */
int fmu_allowed(fmu_instance *inst, int states, const char *function);
void fmu_log(const fmu_instance *inst, fmu_status status, const char *category, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
fmu_status fmu_unsupported(fmu_instance *inst, const char *function, const char *why);

fmu_status fmu_set_debug_logging(fmu_instance *inst, const char *function, int on, size_t n,
                                 const char *const categories[]);
fmu_status fmu_enter_initialization(fmu_instance *inst, double start_time);
fmu_status fmu_exit_initialization(fmu_instance *inst, const char *function);
fmu_status fmu_do_step(fmu_instance *inst, const char *function, double t, double h);
fmu_status fmu_terminate(fmu_instance *inst);
fmu_status fmu_reset(fmu_instance *inst);

fmu_status fmu_get(fmu_instance *inst, const char *function, fmu_buffer buffer, const unsigned int vr[],
                   size_t n_vr, void *values, size_t n_values);
fmu_status fmu_set(fmu_instance *inst, const char *function, fmu_buffer buffer, const unsigned int vr[],
                   size_t n_vr, const void *values, size_t n_values);

fmu_status fmu_get_state(fmu_instance *inst, const char *function, void **state);
fmu_status fmu_set_state(fmu_instance *inst, const char *function, const void *state);
fmu_status fmu_free_state(fmu_instance *inst, const char *function, void **state);
fmu_status fmu_state_size(fmu_instance *inst, const char *function, const void *state, size_t *size);
fmu_status fmu_serialize_state(fmu_instance *inst, const char *function, const void *state, void *bytes,
                               size_t size);
fmu_status fmu_deserialize_state(fmu_instance *inst, const char *function, const void *bytes, size_t size,
                                 void **state);

#endif
