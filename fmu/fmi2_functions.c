/* FMI 2.0 co-simulation entry points: state check, then one call into the generic layer.
 *
 * Every function of the FMI 2.0 API is defined (the model-exchange ones refuse with a message), so
 * importers that look all of them up find them. Only these fmi2* symbols are exported.
 */
#include <stdlib.h>
#include <string.h>

#include "fmi2Functions.h"
#include "fmi_layer.h"

/* Allowed states, from the FMI 2.0 co-simulation state machine (section 4.2.4). */
#define ANY FMU_ANY_STATE
#define BEFORE_INIT (FMU_INSTANTIATED)
#define INIT (FMU_INITIALIZATION)
#define STEP (FMU_STEP)
#define GET_STATES (FMU_INITIALIZATION | FMU_STEP | FMU_TERMINATED | FMU_ERROR_STATE)
#define SET_STATES (FMU_INSTANTIATED | FMU_INITIALIZATION | FMU_STEP)

#define S ((fmu_instance *)c)
#define CHECK(name, states)                                                                                      \
    if (!fmu_allowed(S, states, #name)) return fmi2Error
#define CO_SIMULATION_ONLY(name)                                                                                 \
    CHECK(name, ANY);                                                                                            \
    return (fmi2Status)fmu_unsupported(S, #name, "this FMU is for co-simulation only (no model exchange)")

/* --- the host's callbacks ---------------------------------------------------------------------------- */

static void *host_alloc(void *env, size_t size)
{
    const fmi2CallbackFunctions *cb = (const fmi2CallbackFunctions *)env;
    return cb->allocateMemory ? cb->allocateMemory(1, size) : calloc(1, size);
}

static void host_free(void *env, void *ptr)
{
    const fmi2CallbackFunctions *cb = (const fmi2CallbackFunctions *)env;
    if (cb->freeMemory) cb->freeMemory(ptr);
    else free(ptr);
}

/* The FMI 2.0 logger takes a printf format: a literal '%' in the text is written as "%%". */
static void emit(const fmu_instance *inst, fmu_status status, const char *category, const char *message)
{
    char text[2048];
    size_t i, k = 0;
    fmi2CallbackLogger logger = (fmi2CallbackLogger)inst->logger;
    for (i = 0; message[i] != '\0' && k + 2 < sizeof text; ++i) {
        if (message[i] == '%') text[k++] = '%';
        text[k++] = message[i];
    }
    text[k] = '\0';
    logger(inst->logger_env, inst->name, (fmi2Status)status, category, text);
}

/* --- common functions ------------------------------------------------------------------------------ */

const char *fmi2GetTypesPlatform(void) { return fmi2TypesPlatform; }
const char *fmi2GetVersion(void) { return fmi2Version; }

fmi2Status fmi2SetDebugLogging(fmi2Component c, fmi2Boolean loggingOn, size_t nCategories,
                               const fmi2String categories[])
{
    CHECK(fmi2SetDebugLogging, ANY);
    return (fmi2Status)fmu_set_debug_logging(S, "fmi2SetDebugLogging", loggingOn, nCategories, categories);
}

fmi2Component fmi2Instantiate(fmi2String instanceName, fmi2Type fmuType, fmi2String fmuGUID,
                              fmi2String fmuResourceLocation, const fmi2CallbackFunctions *functions,
                              fmi2Boolean visible, fmi2Boolean loggingOn)
{
    fmu_setup s;
    fmi2CallbackFunctions *copy;
    fmu_instance *inst;
    (void)fmuResourceLocation;
    (void)visible;
    if (functions == NULL) return NULL;
    copy = (fmi2CallbackFunctions *)host_alloc((void *)functions, sizeof *copy);
    if (copy == NULL) return NULL;
    *copy = *functions; /* the host's struct need not outlive this call */
    memset(&s, 0, sizeof s);
    s.fmi_version = 2;
    s.function = "fmi2Instantiate";
    s.name = instanceName;
    s.token = fmuGUID;
    s.logging_on = loggingOn;
    s.emit = emit;
    s.logger = (fmu_callback)copy->logger;
    s.logger_env = copy->componentEnvironment;
    s.host = copy;
    s.mem.alloc = host_alloc;
    s.mem.free = host_free;
    s.mem.env = copy;
    if (fmuType != fmi2CoSimulation) {
        fmu_instance probe;
        memset(&probe, 0, sizeof probe);
        probe.fmi_version = 2;
        probe.name = (char *)(instanceName ? instanceName : "");
        probe.emit = emit;
        probe.logger = s.logger;
        probe.logger_env = s.logger_env;
        fmu_log(&probe, FMU_ERROR, "logStatusError", "fmi2Instantiate: this FMU is for co-simulation only");
        host_free(copy, copy);
        return NULL;
    }
    inst = fmu_instantiate(&s);
    if (inst == NULL) host_free(copy, copy);
    return inst;
}

void fmi2FreeInstance(fmi2Component c)
{
    void *host;
    if (c == NULL) return;
    host = S->host;
    fmu_free_instance(S);
    host_free(host, host);
}

fmi2Status fmi2SetupExperiment(fmi2Component c, fmi2Boolean toleranceDefined, fmi2Real tolerance,
                               fmi2Real startTime, fmi2Boolean stopTimeDefined, fmi2Real stopTime)
{
    (void)toleranceDefined, (void)tolerance, (void)stopTimeDefined, (void)stopTime;
    CHECK(fmi2SetupExperiment, BEFORE_INIT);
    S->start_time = startTime;
    S->model->time = startTime;
    return fmi2OK;
}

fmi2Status fmi2EnterInitializationMode(fmi2Component c)
{
    CHECK(fmi2EnterInitializationMode, BEFORE_INIT);
    return (fmi2Status)fmu_enter_initialization(S, S->start_time);
}

fmi2Status fmi2ExitInitializationMode(fmi2Component c)
{
    CHECK(fmi2ExitInitializationMode, INIT);
    return (fmi2Status)fmu_exit_initialization(S, "fmi2ExitInitializationMode");
}

fmi2Status fmi2Terminate(fmi2Component c)
{
    CHECK(fmi2Terminate, STEP);
    return (fmi2Status)fmu_terminate(S);
}

fmi2Status fmi2Reset(fmi2Component c)
{
    CHECK(fmi2Reset, ANY);
    return (fmi2Status)fmu_reset(S);
}

#define GET(name, buffer, type)                                                                                  \
    fmi2Status name(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, type value[])                   \
    {                                                                                                            \
        CHECK(name, GET_STATES);                                                                                 \
        return (fmi2Status)fmu_get(S, #name, buffer, vr, nvr, (void *)value, nvr);                               \
    }
#define SET(name, buffer, type)                                                                                  \
    fmi2Status name(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, const type value[])             \
    {                                                                                                            \
        CHECK(name, SET_STATES);                                                                                 \
        return (fmi2Status)fmu_set(S, #name, buffer, vr, nvr, (const void *)value, nvr);                         \
    }

GET(fmi2GetReal, FMU_BUF_FLOAT64, fmi2Real)
GET(fmi2GetInteger, FMU_BUF_INT32, fmi2Integer)
GET(fmi2GetBoolean, FMU_BUF_INT_BOOLEAN, fmi2Boolean)
GET(fmi2GetString, FMU_BUF_OTHER, fmi2String)
SET(fmi2SetReal, FMU_BUF_FLOAT64, fmi2Real)
SET(fmi2SetInteger, FMU_BUF_INT32, fmi2Integer)
SET(fmi2SetBoolean, FMU_BUF_INT_BOOLEAN, fmi2Boolean)
SET(fmi2SetString, FMU_BUF_OTHER, fmi2String)

fmi2Status fmi2GetFMUstate(fmi2Component c, fmi2FMUstate *FMUstate)
{
    CHECK(fmi2GetFMUstate, ANY);
    return (fmi2Status)fmu_get_state(S, "fmi2GetFMUstate", FMUstate);
}

fmi2Status fmi2SetFMUstate(fmi2Component c, fmi2FMUstate FMUstate)
{
    CHECK(fmi2SetFMUstate, ANY);
    return (fmi2Status)fmu_set_state(S, "fmi2SetFMUstate", FMUstate);
}

fmi2Status fmi2FreeFMUstate(fmi2Component c, fmi2FMUstate *FMUstate)
{
    CHECK(fmi2FreeFMUstate, ANY);
    return (fmi2Status)fmu_free_state(S, "fmi2FreeFMUstate", FMUstate);
}

fmi2Status fmi2SerializedFMUstateSize(fmi2Component c, fmi2FMUstate FMUstate, size_t *size)
{
    CHECK(fmi2SerializedFMUstateSize, ANY);
    return (fmi2Status)fmu_state_size(S, "fmi2SerializedFMUstateSize", FMUstate, size);
}

fmi2Status fmi2SerializeFMUstate(fmi2Component c, fmi2FMUstate FMUstate, fmi2Byte serializedState[], size_t size)
{
    CHECK(fmi2SerializeFMUstate, ANY);
    return (fmi2Status)fmu_serialize_state(S, "fmi2SerializeFMUstate", FMUstate, serializedState, size);
}

fmi2Status fmi2DeSerializeFMUstate(fmi2Component c, const fmi2Byte serializedState[], size_t size,
                                   fmi2FMUstate *FMUstate)
{
    CHECK(fmi2DeSerializeFMUstate, ANY);
    return (fmi2Status)fmu_deserialize_state(S, "fmi2DeSerializeFMUstate", serializedState, size, FMUstate);
}

fmi2Status fmi2GetDirectionalDerivative(fmi2Component c, const fmi2ValueReference vUnknown_ref[], size_t nUnknown,
                                        const fmi2ValueReference vKnown_ref[], size_t nKnown,
                                        const fmi2Real dvKnown[], fmi2Real dvUnknown[])
{
    (void)vUnknown_ref, (void)nUnknown, (void)vKnown_ref, (void)nKnown, (void)dvKnown, (void)dvUnknown;
    CHECK(fmi2GetDirectionalDerivative, ANY);
    return (fmi2Status)fmu_unsupported(S, "fmi2GetDirectionalDerivative",
                                       "directional derivatives are not provided (providesDirectionalDerivative=false)");
}

/* --- model exchange: not provided --------------------------------------------------------------- */

fmi2Status fmi2EnterEventMode(fmi2Component c) { CO_SIMULATION_ONLY(fmi2EnterEventMode); }

fmi2Status fmi2NewDiscreteStates(fmi2Component c, fmi2EventInfo *eventInfo)
{
    (void)eventInfo;
    CO_SIMULATION_ONLY(fmi2NewDiscreteStates);
}

fmi2Status fmi2EnterContinuousTimeMode(fmi2Component c) { CO_SIMULATION_ONLY(fmi2EnterContinuousTimeMode); }

fmi2Status fmi2CompletedIntegratorStep(fmi2Component c, fmi2Boolean noSetFMUStatePriorToCurrentPoint,
                                       fmi2Boolean *enterEventMode, fmi2Boolean *terminateSimulation)
{
    (void)noSetFMUStatePriorToCurrentPoint, (void)enterEventMode, (void)terminateSimulation;
    CO_SIMULATION_ONLY(fmi2CompletedIntegratorStep);
}

fmi2Status fmi2SetTime(fmi2Component c, fmi2Real time)
{
    (void)time;
    CO_SIMULATION_ONLY(fmi2SetTime);
}

fmi2Status fmi2SetContinuousStates(fmi2Component c, const fmi2Real x[], size_t nx)
{
    (void)x, (void)nx;
    CO_SIMULATION_ONLY(fmi2SetContinuousStates);
}

#define ME_ARRAY(name)                                                                                           \
    fmi2Status name(fmi2Component c, fmi2Real values[], size_t n)                                                \
    {                                                                                                            \
        (void)values, (void)n;                                                                                   \
        CO_SIMULATION_ONLY(name);                                                                                \
    }
ME_ARRAY(fmi2GetDerivatives)
ME_ARRAY(fmi2GetEventIndicators)
ME_ARRAY(fmi2GetContinuousStates)
ME_ARRAY(fmi2GetNominalsOfContinuousStates)

/* --- co-simulation ------------------------------------------------------------------------------ */

fmi2Status fmi2SetRealInputDerivatives(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                                       const fmi2Integer order[], const fmi2Real value[])
{
    (void)vr, (void)nvr, (void)order, (void)value;
    CHECK(fmi2SetRealInputDerivatives, SET_STATES);
    return (fmi2Status)fmu_unsupported(S, "fmi2SetRealInputDerivatives",
                                       "inputs are held constant over a step (canInterpolateInputs=false)");
}

fmi2Status fmi2GetRealOutputDerivatives(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                                        const fmi2Integer order[], fmi2Real value[])
{
    (void)vr, (void)nvr, (void)order, (void)value;
    CHECK(fmi2GetRealOutputDerivatives, GET_STATES);
    return (fmi2Status)fmu_unsupported(S, "fmi2GetRealOutputDerivatives",
                                       "output derivatives are not provided (maxOutputDerivativeOrder=0)");
}

fmi2Status fmi2DoStep(fmi2Component c, fmi2Real currentCommunicationPoint, fmi2Real communicationStepSize,
                      fmi2Boolean noSetFMUStatePriorToCurrentPoint)
{
    (void)noSetFMUStatePriorToCurrentPoint;
    CHECK(fmi2DoStep, STEP);
    return (fmi2Status)fmu_do_step(S, "fmi2DoStep", currentCommunicationPoint, communicationStepSize);
}

fmi2Status fmi2CancelStep(fmi2Component c)
{
    CHECK(fmi2CancelStep, STEP);
    return (fmi2Status)fmu_unsupported(S, "fmi2CancelStep", "steps run to completion (fmi2DoStep never returns fmi2Pending)");
}

static fmi2Status no_status(fmi2Component c, const char *function)
{
    fmu_log(S, FMU_DISCARD, "logStatusWarning", "%s: only fmi2LastSuccessfulTime (fmi2GetRealStatus) and "
            "fmi2Terminated (fmi2GetBooleanStatus) are reported; fmi2DoStep never returns fmi2Pending", function);
    return fmi2Discard;
}

fmi2Status fmi2GetStatus(fmi2Component c, const fmi2StatusKind s, fmi2Status *value)
{
    (void)s, (void)value;
    CHECK(fmi2GetStatus, STEP | FMU_TERMINATED);
    return no_status(c, "fmi2GetStatus");
}

fmi2Status fmi2GetRealStatus(fmi2Component c, const fmi2StatusKind s, fmi2Real *value)
{
    CHECK(fmi2GetRealStatus, STEP | FMU_TERMINATED);
    if (s != fmi2LastSuccessfulTime || value == NULL) return no_status(c, "fmi2GetRealStatus");
    *value = S->model->time;
    return fmi2OK;
}

fmi2Status fmi2GetIntegerStatus(fmi2Component c, const fmi2StatusKind s, fmi2Integer *value)
{
    (void)s, (void)value;
    CHECK(fmi2GetIntegerStatus, STEP | FMU_TERMINATED);
    return no_status(c, "fmi2GetIntegerStatus");
}

fmi2Status fmi2GetBooleanStatus(fmi2Component c, const fmi2StatusKind s, fmi2Boolean *value)
{
    CHECK(fmi2GetBooleanStatus, STEP | FMU_TERMINATED);
    if (s != fmi2Terminated || value == NULL) return no_status(c, "fmi2GetBooleanStatus");
    *value = fmi2False; /* the twin never asks to end the simulation */
    return fmi2OK;
}

fmi2Status fmi2GetStringStatus(fmi2Component c, const fmi2StatusKind s, fmi2String *value)
{
    (void)s, (void)value;
    CHECK(fmi2GetStringStatus, STEP | FMU_TERMINATED);
    return no_status(c, "fmi2GetStringStatus");
}
