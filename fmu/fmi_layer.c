/* The generic FMI layer (see fmi_layer.h). */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fmi_layer.h"

#define MESSAGE_SIZE 1024
#define ELEMENT_SHIFT 16 /* FMI 2.0: value reference of element k of an array = (vr << 16) + k */

/* --- logging and the state machine ------------------------------------------------------------ */

void fmu_log(const fmu_instance *inst, fmu_status status, const char *category, const char *format, ...)
{
    char text[MESSAGE_SIZE];
    va_list args;
    if (inst == NULL || inst->emit == NULL || inst->logger == NULL) return;
    if (status == FMU_OK && !inst->log_events) return; /* errors and warnings are always reported */
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    inst->emit(inst, status, category, text);
}

#define LOG_ERROR(inst, ...) fmu_log(inst, FMU_ERROR, "logStatusError", __VA_ARGS__)

static const char *state_name(int version, int state)
{
    static const char *const fmi2[] = {"instantiated", "configuration", "initializationMode", "stepComplete",
                                       "terminated", "error"};
    static const char *const fmi3[] = {"Instantiated", "ConfigurationMode", "InitializationMode", "StepMode",
                                       "Terminated", "Error"};
    int k;
    for (k = 0; k < 6; ++k)
        if (state == (1 << k)) return version == 2 ? fmi2[k] : fmi3[k];
    return "unknown";
}

int fmu_allowed(fmu_instance *inst, int states, const char *function)
{
    char allowed[160] = "";
    int k;
    if (inst == NULL) return 0;
    if (inst->state & states) return 1;
    for (k = 0; k < 6; ++k) {
        if (!(states & (1 << k)) || (inst->fmi_version == 2 && (1 << k) == FMU_CONFIGURATION)) continue;
        if (allowed[0]) strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
        strncat(allowed, state_name(inst->fmi_version, 1 << k), sizeof allowed - strlen(allowed) - 1);
    }
    LOG_ERROR(inst, "%s: not allowed in state %s (allowed in: %s)", function,
              state_name(inst->fmi_version, inst->state), allowed[0] ? allowed : "no state of this FMU");
    return 0;
}

fmu_status fmu_unsupported(fmu_instance *inst, const char *function, const char *why)
{
    LOG_ERROR(inst, "%s: %s", function, why);
    return FMU_ERROR;
}

/* --- life cycle ----------------------------------------------------------------------------------- */

fmu_instance *fmu_instantiate(const fmu_setup *s)
{
    char msg[MESSAGE_SIZE];
    fmu_instance probe, *inst;
    size_t name_size = strlen(s->name ? s->name : "") + 1;
    memset(&probe, 0, sizeof probe); /* logs before the instance exists */
    probe.fmi_version = s->fmi_version;
    probe.name = (char *)(s->name ? s->name : "");
    probe.emit = s->emit;
    probe.logger = s->logger;
    probe.logger_env = s->logger_env;
    if (s->token == NULL || strcmp(s->token, twin_fmu_baked.instantiation_token) != 0) {
        LOG_ERROR(&probe, "%s: the instantiation token %s does not match this binary's %s; the model "
                  "description and the binary come from different builds", s->function, s->token ? s->token : "(none)",
                  twin_fmu_baked.instantiation_token);
        return NULL;
    }
    if (twin_fmu_baked.fmi_version != s->fmi_version) {
        LOG_ERROR(&probe, "%s: this binary was generated for FMI %d.0", s->function, twin_fmu_baked.fmi_version);
        return NULL;
    }
    inst = (fmu_instance *)s->mem.alloc(s->mem.env, sizeof *inst);
    if (inst == NULL || (inst->name = (char *)s->mem.alloc(s->mem.env, name_size)) == NULL) {
        LOG_ERROR(&probe, "%s: out of memory", s->function);
        if (inst != NULL) s->mem.free(s->mem.env, inst);
        return NULL;
    }
    memcpy(inst->name, s->name ? s->name : "", name_size);
    inst->fmi_version = s->fmi_version;
    inst->log_events = s->logging_on;
    inst->emit = s->emit;
    inst->logger = s->logger;
    inst->logger_env = s->logger_env;
    inst->host = s->host;
    inst->mem = s->mem;
    inst->model = twin_model_new(&s->mem, msg, sizeof msg);
    if (inst->model == NULL) {
        LOG_ERROR(&probe, "%s: %s", s->function, msg);
        fmu_free_instance(inst);
        return NULL;
    }
    inst->state = FMU_INSTANTIATED;
    fmu_log(inst, FMU_OK, "logEvents", "%s: %d cells, parameter set baked at build time", s->function,
            inst->model->pack.n);
    return inst;
}

void fmu_free_instance(fmu_instance *inst)
{
    twin_model_memory mem;
    if (inst == NULL) return;
    mem = inst->mem;
    twin_model_free(inst->model);
    if (inst->name) mem.free(mem.env, inst->name);
    mem.free(mem.env, inst);
}

fmu_status fmu_set_debug_logging(fmu_instance *inst, const char *function, int on, size_t n,
                                 const char *const categories[])
{
    size_t k;
    if (n > 0 && categories == NULL) return fmu_unsupported(inst, function, "categories is NULL");
    for (k = 0; k < n; ++k)
        if (categories[k] == NULL || (strcmp(categories[k], "logEvents") != 0 &&
                                      strcmp(categories[k], "logStatusError") != 0 &&
                                      strcmp(categories[k], "logStatusWarning") != 0)) {
            LOG_ERROR(inst, "%s: unknown log category '%s'; the categories are logEvents, logStatusWarning and "
                      "logStatusError", function, categories[k] ? categories[k] : "(NULL)");
            return FMU_ERROR;
        }
    if (n == 0) inst->log_events = on;
    for (k = 0; k < n; ++k)
        if (strcmp(categories[k], "logEvents") == 0) inst->log_events = on;
    return FMU_OK;
}

fmu_status fmu_enter_initialization(fmu_instance *inst, double start_time)
{
    inst->start_time = start_time;
    inst->model->time = start_time;
    inst->state = FMU_INITIALIZATION;
    return FMU_OK;
}

fmu_status fmu_exit_initialization(fmu_instance *inst, const char *function)
{
    char msg[MESSAGE_SIZE];
    if (twin_model_initialize(inst->model, inst->start_time, msg, sizeof msg)) {
        LOG_ERROR(inst, "%s: %s", function, msg);
        return FMU_ERROR;
    }
    inst->state = FMU_STEP;
    fmu_log(inst, FMU_OK, "logEvents", "%s: initialized at t = %.17g s, internal step %.9g s", function,
            inst->start_time, inst->model->internal_step);
    return FMU_OK;
}

fmu_status fmu_do_step(fmu_instance *inst, const char *function, double t, double h)
{
    char msg[MESSAGE_SIZE];
    twin_model *m = inst->model;
    int failed;
    if (!isfinite(t) || fabs(t - m->time) > 1e-9 * fmax(1.0, fabs(m->time))) {
        LOG_ERROR(inst, "%s: currentCommunicationPoint is %.17g s but the FMU is at %.17g s; steps must follow "
                  "each other (restore a saved FMU state to go back)", function, t, m->time);
        return FMU_ERROR;
    }
    m->time = t; /* the host's communication points, so that time does not drift from them */
    failed = twin_model_do_step(m, h, msg, sizeof msg);
    if (failed) {
        LOG_ERROR(inst, "%s: %s", function, msg);
        if (failed > 1) inst->state = FMU_ERROR_STATE;
        return FMU_ERROR;
    }
    return FMU_OK;
}

fmu_status fmu_terminate(fmu_instance *inst)
{
    inst->state = FMU_TERMINATED;
    return FMU_OK;
}

fmu_status fmu_reset(fmu_instance *inst)
{
    twin_model_reset(inst->model);
    inst->start_time = 0.0;
    inst->state = FMU_INSTANTIATED;
    return FMU_OK;
}

/* --- values ----------------------------------------------------------------------------------- */

typedef struct resolved {
    const twin_fmu_var *var;
    int first, count;
} resolved;

static const char *type_name(int version, fmu_type t)
{
    static const char *const fmi2[] = {"Real", "Integer", "Integer", "Boolean", "Enumeration"};
    static const char *const fmi3[] = {"Float64", "Int32", "UInt64", "Boolean", "Enumeration"};
    return version == 2 ? fmi2[t] : fmi3[t];
}

/* The get/set suffix of the function that takes a type: fmi2GetReal, fmi3GetInt64 (enumerations). */
static const char *api_name(int version, fmu_type t)
{
    static const char *const fmi2[] = {"Real", "Integer", "Integer", "Boolean", "Integer"};
    static const char *const fmi3[] = {"Float64", "Int32", "UInt64", "Boolean", "Int64"};
    return version == 2 ? fmi2[t] : fmi3[t];
}

static int accepts(int version, fmu_buffer b, fmu_type t)
{
    switch (b) {
    case FMU_BUF_FLOAT64: return t == FMU_FLOAT64;
    case FMU_BUF_INT32: return t == FMU_INT32 || (version == 2 && (t == FMU_ENUMERATION || t == FMU_UINT64));
    case FMU_BUF_INT64: return t == FMU_ENUMERATION;
    case FMU_BUF_UINT64: return t == FMU_UINT64;
    case FMU_BUF_INT_BOOLEAN:
    case FMU_BUF_BOOL: return t == FMU_BOOLEAN;
    case FMU_BUF_OTHER: return 0;
    }
    return 0;
}

/* The variable and elements value reference vr stands for, with its type checked. */
static int resolve(fmu_instance *inst, const char *function, fmu_buffer b, unsigned int vr, resolved *r)
{
    const twin_model *m = inst->model;
    const twin_fmu_var *v;
    int element = -1, elements;
    if (inst->fmi_version == 2 && vr >= (1u << ELEMENT_SHIFT)) {
        v = twin_model_var(vr >> ELEMENT_SHIFT);
        element = (int)(vr & ((1u << ELEMENT_SHIFT) - 1u));
        if (v != NULL && (v->length == 1 || element >= twin_model_elements(m, v))) v = NULL;
    } else {
        v = twin_model_var(vr);
        if (v != NULL && inst->fmi_version == 2 && v->length != 1) {
            LOG_ERROR(inst, "%s: value reference %u is %s, an array; FMI 2.0 reaches its elements %s[k] with "
                      "value references (%u << 16) + k - 1", function, vr, v->name, v->name, vr);
            return 0;
        }
    }
    if (v == NULL) {
        LOG_ERROR(inst, "%s: no variable has value reference %u (modelDescription.xml lists them)", function, vr);
        return 0;
    }
    elements = twin_model_elements(m, v);
    if (!accepts(inst->fmi_version, b, v->type)) {
        char name[128];
        twin_model_name(m, v, element < 0 ? 0 : element, name, sizeof name);
        LOG_ERROR(inst, "%s: %s (value reference %u) is of type %s; use fmi%d%s%s", function,
                  element < 0 && v->length != 1 ? v->name : name, vr, type_name(inst->fmi_version, v->type),
                  inst->fmi_version, strstr(function, "Set") ? "Set" : "Get", api_name(inst->fmi_version, v->type));
        return 0;
    }
    r->var = v;
    r->first = element < 0 ? 0 : element;
    r->count = element < 0 ? elements : 1;
    return 1;
}

/* Why variable v cannot be set in the present state, or NULL if it can. */
static const char *set_refusal(const fmu_instance *inst, const twin_fmu_var *v)
{
    const int before_init = inst->state & (FMU_INSTANTIATED | FMU_INITIALIZATION);
    const int configuring = inst->state == FMU_CONFIGURATION;
    switch (v->causality) {
    case FMU_OUTPUT: return "is an output of the twin; it cannot be set";
    case FMU_INDEPENDENT: return "is the independent variable; fmi3DoStep advances it";
    case FMU_LOCAL:
        if (!v->exact) return "is computed by the twin; it cannot be set";
        return before_init ? NULL : "is a starting state; it can only be set before initialization ends";
    case FMU_STRUCTURAL_PARAMETER:
        return configuring ? NULL : "is a structural parameter; set it in ConfigurationMode (fmi3EnterConfigurationMode)";
    case FMU_PARAMETER:
    case FMU_INPUT:
        if (configuring) return "cannot be set in ConfigurationMode, which is for structural parameters";
        if (v->causality == FMU_PARAMETER && v->variability == FMU_FIXED && !before_init)
            return "is a fixed parameter; it can only be set before initialization ends";
        return NULL;
    }
    return "cannot be set";
}

static double load(fmu_buffer b, const void *values, size_t k)
{
    switch (b) {
    case FMU_BUF_FLOAT64: return ((const double *)values)[k];
    case FMU_BUF_INT32: return (double)((const int32_t *)values)[k];
    case FMU_BUF_INT64: return (double)((const int64_t *)values)[k];
    case FMU_BUF_UINT64: return (double)((const uint64_t *)values)[k];
    case FMU_BUF_INT_BOOLEAN: return ((const int *)values)[k] != 0 ? 1.0 : 0.0;
    case FMU_BUF_BOOL: return ((const bool *)values)[k] ? 1.0 : 0.0;
    case FMU_BUF_OTHER: break;
    }
    return NAN;
}

static void store(fmu_buffer b, void *values, size_t k, double x)
{
    const int whole = x == x && fabs(x) < 2147483647.0; /* integer outputs are whole numbers */
    switch (b) {
    case FMU_BUF_FLOAT64: ((double *)values)[k] = x; break;
    case FMU_BUF_INT32: ((int32_t *)values)[k] = whole ? (int32_t)x : 0; break;
    case FMU_BUF_INT64: ((int64_t *)values)[k] = whole ? (int64_t)x : 0; break;
    case FMU_BUF_UINT64: ((uint64_t *)values)[k] = whole && x >= 0.0 ? (uint64_t)x : 0u; break;
    case FMU_BUF_INT_BOOLEAN: ((int *)values)[k] = x != 0.0; break;
    case FMU_BUF_BOOL: ((bool *)values)[k] = x != 0.0; break;
    case FMU_BUF_OTHER: break;
    }
}

static int count_matches(fmu_instance *inst, const char *function, size_t total, size_t n_values)
{
    if (total == n_values) return 1;
    LOG_ERROR(inst, "%s: the value references stand for %lu values (arrays count one value per element; "
              "per-cell arrays have %d) but nValues is %lu", function, (unsigned long)total, inst->model->pack.n,
              (unsigned long)n_values);
    return 0;
}

fmu_status fmu_get(fmu_instance *inst, const char *function, fmu_buffer b, const unsigned int vr[], size_t n_vr,
                   void *values, size_t n_values)
{
    char msg[MESSAGE_SIZE];
    size_t i, k = 0, total = 0;
    int e, needs_init = 0;
    resolved r;
    if (n_vr > 0 && (vr == NULL || values == NULL)) return fmu_unsupported(inst, function, "vr[] or values[] is NULL");
    for (i = 0; i < n_vr; ++i) {
        if (!resolve(inst, function, b, vr[i], &r)) return FMU_ERROR;
        total += (size_t)r.count;
        needs_init |= r.var->causality == FMU_OUTPUT || (r.var->causality == FMU_LOCAL && !r.var->exact);
    }
    if (!count_matches(inst, function, total, n_values)) return FMU_ERROR;
    if (needs_init && inst->state == FMU_INITIALIZATION &&
        twin_model_initialize(inst->model, inst->start_time, msg, sizeof msg)) {
        LOG_ERROR(inst, "%s: the values at initialization cannot be computed: %s", function, msg);
        return FMU_ERROR;
    }
    for (i = 0; i < n_vr; ++i) {
        const double *direct;
        double x;
        resolve(inst, function, b, vr[i], &r);
        direct = twin_model_values(inst->model, r.var, r.first); /* arrays: one lookup, not one per element */
        for (e = 0; e < r.count; ++e) {
            if (direct != NULL) x = direct[e];
            else twin_model_get(inst->model, r.var, r.first + e, &x);
            store(b, values, k++, x);
        }
    }
    return FMU_OK;
}

fmu_status fmu_set(fmu_instance *inst, const char *function, fmu_buffer b, const unsigned int vr[], size_t n_vr,
                   const void *values, size_t n_values)
{
    char msg[MESSAGE_SIZE], name[128];
    size_t i, k, total = 0;
    int e;
    resolved r;
    if (n_vr > 0 && (vr == NULL || values == NULL)) return fmu_unsupported(inst, function, "vr[] or values[] is NULL");
    for (i = 0; i < n_vr; ++i) { /* every reference, type and permission first: a refused call changes nothing */
        const char *why;
        if (!resolve(inst, function, b, vr[i], &r)) return FMU_ERROR;
        why = set_refusal(inst, r.var);
        if (why != NULL) {
            twin_model_name(inst->model, r.var, r.first, name, sizeof name);
            LOG_ERROR(inst, "%s: %s (value reference %u) %s (state %s)", function, r.count > 1 ? r.var->name : name,
                      vr[i], why, state_name(inst->fmi_version, inst->state));
            return FMU_ERROR;
        }
        total += (size_t)r.count;
    }
    if (!count_matches(inst, function, total, n_values)) return FMU_ERROR;
    for (i = 0, k = 0; i < n_vr; ++i) { /* then every value */
        resolve(inst, function, b, vr[i], &r);
        for (e = r.first; e < r.first + r.count; ++e, ++k)
            if (twin_model_check_value(inst->model, r.var, e, load(b, values, k), msg, sizeof msg)) {
                LOG_ERROR(inst, "%s: %s", function, msg);
                return FMU_ERROR;
            }
    }
    for (i = 0, k = 0; i < n_vr; ++i) {
        resolve(inst, function, b, vr[i], &r);
        for (e = r.first; e < r.first + r.count; ++e, ++k)
            if (twin_model_set(inst->model, r.var, e, load(b, values, k), msg, sizeof msg)) {
                LOG_ERROR(inst, "%s: %s", function, msg);
                return FMU_ERROR;
            }
    }
    return FMU_OK;
}

/* --- saved states --------------------------------------------------------------------------------- */

fmu_status fmu_get_state(fmu_instance *inst, const char *function, void **state)
{
    if (state == NULL) return fmu_unsupported(inst, function, "the FMUstate pointer is NULL");
    if (*state == NULL) { /* a state given back to us is reused: every state of this FMU has the same size */
        *state = inst->mem.alloc(inst->mem.env, twin_model_state_size(inst->model));
        if (*state == NULL) return fmu_unsupported(inst, function, "out of memory for the FMU state");
    }
    twin_model_state_save(inst->model, *state);
    return FMU_OK;
}

fmu_status fmu_set_state(fmu_instance *inst, const char *function, const void *state)
{
    char msg[MESSAGE_SIZE];
    twin_model *m = inst->model;
    int saved_initialized;
    if (twin_model_state_check(m, state, twin_model_state_size(m), 0, msg, sizeof msg)) {
        LOG_ERROR(inst, "%s: %s", function, msg);
        return FMU_ERROR;
    }
    saved_initialized = twin_model_state_initialized(state);
    if (saved_initialized && !(inst->state & (FMU_STEP | FMU_TERMINATED | FMU_ERROR_STATE))) {
        LOG_ERROR(inst, "%s: the state was saved after initialization; restore it after initialization ends "
                  "(state is %s)", function, state_name(inst->fmi_version, inst->state));
        return FMU_ERROR;
    }
    if (!saved_initialized && !(inst->state & (FMU_INSTANTIATED | FMU_INITIALIZATION))) {
        LOG_ERROR(inst, "%s: the state was saved before initialization; restore it before initialization ends "
                  "(state is %s)", function, state_name(inst->fmi_version, inst->state));
        return FMU_ERROR;
    }
    twin_model_state_restore(m, state);
    if (saved_initialized) inst->state = FMU_STEP; /* rewinding also recovers from terminated and error */
    return FMU_OK;
}

fmu_status fmu_free_state(fmu_instance *inst, const char *function, void **state)
{
    (void)function;
    if (state == NULL || *state == NULL) return FMU_OK;
    inst->mem.free(inst->mem.env, *state);
    *state = NULL;
    return FMU_OK;
}

fmu_status fmu_state_size(fmu_instance *inst, const char *function, const void *state, size_t *size)
{
    if (state == NULL || size == NULL) return fmu_unsupported(inst, function, "the FMUstate or size is NULL");
    *size = twin_model_state_size(inst->model);
    return FMU_OK;
}

fmu_status fmu_serialize_state(fmu_instance *inst, const char *function, const void *state, void *bytes,
                               size_t size)
{
    const size_t need = twin_model_state_size(inst->model);
    if (state == NULL || bytes == NULL) return fmu_unsupported(inst, function, "the FMUstate or buffer is NULL");
    if (size < need) {
        LOG_ERROR(inst, "%s: the buffer has %lu bytes; the state needs %lu (ask the SerializedFMUstateSize "
                  "function)", function, (unsigned long)size, (unsigned long)need);
        return FMU_ERROR;
    }
    memcpy(bytes, state, need);
    twin_model_state_seal(bytes);
    return FMU_OK;
}

fmu_status fmu_deserialize_state(fmu_instance *inst, const char *function, const void *bytes, size_t size,
                                 void **state)
{
    char msg[MESSAGE_SIZE];
    if (state == NULL) return fmu_unsupported(inst, function, "the FMUstate pointer is NULL");
    if (twin_model_state_check(inst->model, bytes, size, 1, msg, sizeof msg)) {
        LOG_ERROR(inst, "%s: %s", function, msg);
        return FMU_ERROR;
    }
    if (*state == NULL) {
        *state = inst->mem.alloc(inst->mem.env, size);
        if (*state == NULL) return fmu_unsupported(inst, function, "out of memory for the FMU state");
    }
    memcpy(*state, bytes, size);
    return FMU_OK;
}
