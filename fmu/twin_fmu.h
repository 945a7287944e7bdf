/* The FMU's variable table and the parameter set baked into it.
 *
 * twin_fmu_data.c, which defines twin_fmu_baked, is generated for each FMU by `twin fmu build`
 * (twin/fmu_data.py) from twin/spec.toml and the chosen parameter set; the model description is
 * written from the same answer (twin/fmu_variables.py), so the attributes the adapter enforces are
 * the ones the XML declares. Everything here is read-only: each instance copies the values it
 * needs into its own memory block, so instances share nothing mutable.
 */
#ifndef TWIN_FMU_H
#define TWIN_FMU_H

#include "twin.h"

typedef enum { FMU_FLOAT64, FMU_INT32, FMU_UINT64, FMU_BOOLEAN, FMU_ENUMERATION } fmu_type;
typedef enum {
    FMU_PARAMETER,
    FMU_STRUCTURAL_PARAMETER,
    FMU_INPUT,
    FMU_OUTPUT,
    FMU_LOCAL,
    FMU_INDEPENDENT
} fmu_causality;
typedef enum { FMU_FIXED, FMU_TUNABLE, FMU_DISCRETE, FMU_CONTINUOUS } fmu_variability;

/* Where a variable's value lives. */
typedef enum {
    FMU_ROLE_KERNEL,        /* the twin_pack block (settings, per-cell arrays, pack variables) */
    FMU_ROLE_INTERNAL_STEP, /* fmu.internal_step, the adapter's fixed step */
    FMU_ROLE_TIME           /* the independent variable (FMI 3.0) */
} fmu_role;

/* One variable as the model description declares it (arrays are one row, as in FMI 3.0; FMI 2.0
 * value references of elements are (vr << 16) + element). */
typedef struct twin_fmu_var {
    const char *name;        /* spec id */
    unsigned int vr;         /* spec value reference */
    fmu_type type;
    fmu_causality causality;
    fmu_variability variability;
    int exact;               /* initial="exact": may be set before initialization */
    int length;              /* elements; 0: one per cell */
    int nan_allowed;         /* NaN is a legal value (a measurement that is not available) */
    double min, max;         /* TWIN_NONE: unbounded */
    const char *unit;
    fmu_role role;
} twin_fmu_var;

/* One start value of the parameter set (settings and per-cell parameters), in kernel form. */
typedef struct twin_fmu_start {
    unsigned int vr;
    int index;
    double value;
} twin_fmu_start;

typedef struct twin_fmu_data {
    const char *instantiation_token; /* the model description's guid / instantiationToken */
    int fmi_version;                 /* 2 or 3: the model description this data was made for */
    int n_cells;
    double internal_step;            /* start value of fmu.internal_step, s */
    const twin_fmu_start *starts;
    long n_starts;
    twin_tables tables;              /* cell tables, fixed at build time */
    const twin_fault_event *events;  /* faults of the parameter set, sorted by time */
    long n_events;
    const twin_fmu_var *vars;        /* sorted by vr */
    int n_vars;
} twin_fmu_data;

extern const twin_fmu_data twin_fmu_baked;

#endif
