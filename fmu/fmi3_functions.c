/* FMI 3.0 co-simulation entry points: state check, then one call into the generic layer.
 *
 * Every function of the FMI 3.0 API is defined; what this FMU does not offer (model exchange,
 * scheduled execution, event mode, clocks, derivatives) refuses with a message. Only these fmi3*
 * symbols are exported.
 */
#include <stdlib.h>
#include <string.h>

#include "fmi3Functions.h"
#include "fmi_layer.h"

/* Allowed states, from the FMI 3.0 co-simulation state machine. */
#define ANY FMU_ANY_STATE
#define GET_STATES (FMU_INITIALIZATION | FMU_STEP | FMU_TERMINATED | FMU_ERROR_STATE)
#define SET_STATES (FMU_INSTANTIATED | FMU_CONFIGURATION | FMU_INITIALIZATION | FMU_STEP)

#define S ((fmu_instance *)instance)
#define CHECK(name, states)                                                                                      \
    if (!fmu_allowed(S, states, #name)) return fmi3Error
#define REFUSE(name, states, why)                                                                                \
    CHECK(name, states);                                                                                         \
    return (fmi3Status)fmu_unsupported(S, #name, why)
#define NO_EVENT_MODE "this co-simulation FMU has no event mode (hasEventMode=false)"
#define NO_CLOCKS "this FMU has no clocks"
#define CO_SIMULATION_ONLY "this FMU is for co-simulation only (no model exchange)"

static void *host_alloc(void *env, size_t size)
{
    (void)env;
    return calloc(1, size);
}

static void host_free(void *env, void *ptr)
{
    (void)env;
    free(ptr);
}

static void emit(const fmu_instance *inst, fmu_status status, const char *category, const char *message)
{
    ((fmi3LogMessageCallback)inst->logger)(inst->logger_env, (fmi3Status)status, category, message);
}

static void refuse_instantiation(fmi3String name, fmi3InstanceEnvironment env, fmi3LogMessageCallback log,
                                 const char *function, const char *why)
{
    fmu_instance probe;
    memset(&probe, 0, sizeof probe);
    probe.fmi_version = 3;
    probe.name = (char *)(name ? name : "");
    probe.emit = emit;
    probe.logger = (fmu_callback)log;
    probe.logger_env = env;
    fmu_log(&probe, FMU_ERROR, "logStatusError", "%s: %s", function, why);
}

/* --- common functions ------------------------------------------------------------------------------ */

const char *fmi3GetVersion(void) { return fmi3Version; }

fmi3Status fmi3SetDebugLogging(fmi3Instance instance, fmi3Boolean loggingOn, size_t nCategories,
                               const fmi3String categories[])
{
    CHECK(fmi3SetDebugLogging, ANY);
    return (fmi3Status)fmu_set_debug_logging(S, "fmi3SetDebugLogging", loggingOn, nCategories, categories);
}

fmi3Instance fmi3InstantiateModelExchange(fmi3String instanceName, fmi3String instantiationToken,
                                          fmi3String resourcePath, fmi3Boolean visible, fmi3Boolean loggingOn,
                                          fmi3InstanceEnvironment instanceEnvironment,
                                          fmi3LogMessageCallback logMessage)
{
    (void)instantiationToken, (void)resourcePath, (void)visible, (void)loggingOn;
    refuse_instantiation(instanceName, instanceEnvironment, logMessage, "fmi3InstantiateModelExchange",
                         CO_SIMULATION_ONLY);
    return NULL;
}

fmi3Instance fmi3InstantiateCoSimulation(fmi3String instanceName, fmi3String instantiationToken,
                                         fmi3String resourcePath, fmi3Boolean visible, fmi3Boolean loggingOn,
                                         fmi3Boolean eventModeUsed, fmi3Boolean earlyReturnAllowed,
                                         const fmi3ValueReference requiredIntermediateVariables[],
                                         size_t nRequiredIntermediateVariables,
                                         fmi3InstanceEnvironment instanceEnvironment,
                                         fmi3LogMessageCallback logMessage,
                                         fmi3IntermediateUpdateCallback intermediateUpdate)
{
    fmu_setup s;
    (void)resourcePath, (void)visible, (void)earlyReturnAllowed, (void)requiredIntermediateVariables;
    (void)nRequiredIntermediateVariables, (void)intermediateUpdate;
    if (eventModeUsed) {
        refuse_instantiation(instanceName, instanceEnvironment, logMessage, "fmi3InstantiateCoSimulation",
                             NO_EVENT_MODE);
        return NULL;
    }
    memset(&s, 0, sizeof s);
    s.fmi_version = 3;
    s.function = "fmi3InstantiateCoSimulation";
    s.name = instanceName;
    s.token = instantiationToken;
    s.logging_on = loggingOn;
    s.emit = emit;
    s.logger = (fmu_callback)logMessage;
    s.logger_env = instanceEnvironment;
    s.mem.alloc = host_alloc;
    s.mem.free = host_free;
    return fmu_instantiate(&s);
}

fmi3Instance fmi3InstantiateScheduledExecution(fmi3String instanceName, fmi3String instantiationToken,
                                               fmi3String resourcePath, fmi3Boolean visible,
                                               fmi3Boolean loggingOn, fmi3InstanceEnvironment instanceEnvironment,
                                               fmi3LogMessageCallback logMessage, fmi3ClockUpdateCallback clockUpdate,
                                               fmi3LockPreemptionCallback lockPreemption,
                                               fmi3UnlockPreemptionCallback unlockPreemption)
{
    (void)instantiationToken, (void)resourcePath, (void)visible, (void)loggingOn, (void)clockUpdate;
    (void)lockPreemption, (void)unlockPreemption;
    refuse_instantiation(instanceName, instanceEnvironment, logMessage, "fmi3InstantiateScheduledExecution",
                         "this FMU is for co-simulation only (no scheduled execution)");
    return NULL;
}

void fmi3FreeInstance(fmi3Instance instance) { fmu_free_instance(S); }

fmi3Status fmi3EnterInitializationMode(fmi3Instance instance, fmi3Boolean toleranceDefined, fmi3Float64 tolerance,
                                       fmi3Float64 startTime, fmi3Boolean stopTimeDefined, fmi3Float64 stopTime)
{
    (void)toleranceDefined, (void)tolerance, (void)stopTimeDefined, (void)stopTime;
    CHECK(fmi3EnterInitializationMode, FMU_INSTANTIATED);
    return (fmi3Status)fmu_enter_initialization(S, startTime);
}

fmi3Status fmi3ExitInitializationMode(fmi3Instance instance)
{
    CHECK(fmi3ExitInitializationMode, FMU_INITIALIZATION);
    return (fmi3Status)fmu_exit_initialization(S, "fmi3ExitInitializationMode");
}

fmi3Status fmi3EnterEventMode(fmi3Instance instance) { REFUSE(fmi3EnterEventMode, ANY, NO_EVENT_MODE); }

fmi3Status fmi3Terminate(fmi3Instance instance)
{
    CHECK(fmi3Terminate, FMU_STEP);
    return (fmi3Status)fmu_terminate(S);
}

fmi3Status fmi3Reset(fmi3Instance instance)
{
    CHECK(fmi3Reset, ANY);
    return (fmi3Status)fmu_reset(S);
}

#define GET(name, buffer, type)                                                                                  \
    fmi3Status name(fmi3Instance instance, const fmi3ValueReference valueReferences[], size_t nValueReferences, \
                    type values[], size_t nValues)                                                               \
    {                                                                                                            \
        CHECK(name, GET_STATES);                                                                                 \
        return (fmi3Status)fmu_get(S, #name, buffer, valueReferences, nValueReferences, (void *)values, nValues);\
    }
#define SET(name, buffer, type)                                                                                  \
    fmi3Status name(fmi3Instance instance, const fmi3ValueReference valueReferences[], size_t nValueReferences, \
                    const type values[], size_t nValues)                                                         \
    {                                                                                                            \
        CHECK(name, SET_STATES);                                                                                 \
        return (fmi3Status)fmu_set(S, #name, buffer, valueReferences, nValueReferences, (const void *)values,    \
                                   nValues);                                                                     \
    }

GET(fmi3GetFloat32, FMU_BUF_OTHER, fmi3Float32)
GET(fmi3GetFloat64, FMU_BUF_FLOAT64, fmi3Float64)
GET(fmi3GetInt8, FMU_BUF_OTHER, fmi3Int8)
GET(fmi3GetUInt8, FMU_BUF_OTHER, fmi3UInt8)
GET(fmi3GetInt16, FMU_BUF_OTHER, fmi3Int16)
GET(fmi3GetUInt16, FMU_BUF_OTHER, fmi3UInt16)
GET(fmi3GetInt32, FMU_BUF_INT32, fmi3Int32)
GET(fmi3GetUInt32, FMU_BUF_OTHER, fmi3UInt32)
GET(fmi3GetInt64, FMU_BUF_INT64, fmi3Int64)
GET(fmi3GetUInt64, FMU_BUF_UINT64, fmi3UInt64)
GET(fmi3GetBoolean, FMU_BUF_BOOL, fmi3Boolean)
GET(fmi3GetString, FMU_BUF_OTHER, fmi3String)
SET(fmi3SetFloat32, FMU_BUF_OTHER, fmi3Float32)
SET(fmi3SetFloat64, FMU_BUF_FLOAT64, fmi3Float64)
SET(fmi3SetInt8, FMU_BUF_OTHER, fmi3Int8)
SET(fmi3SetUInt8, FMU_BUF_OTHER, fmi3UInt8)
SET(fmi3SetInt16, FMU_BUF_OTHER, fmi3Int16)
SET(fmi3SetUInt16, FMU_BUF_OTHER, fmi3UInt16)
SET(fmi3SetInt32, FMU_BUF_INT32, fmi3Int32)
SET(fmi3SetUInt32, FMU_BUF_OTHER, fmi3UInt32)
SET(fmi3SetInt64, FMU_BUF_INT64, fmi3Int64)
SET(fmi3SetUInt64, FMU_BUF_UINT64, fmi3UInt64)
SET(fmi3SetBoolean, FMU_BUF_BOOL, fmi3Boolean)
SET(fmi3SetString, FMU_BUF_OTHER, fmi3String)

fmi3Status fmi3GetBinary(fmi3Instance instance, const fmi3ValueReference valueReferences[], size_t nValueReferences,
                         size_t valueSizes[], fmi3Binary values[], size_t nValues)
{
    (void)valueSizes;
    CHECK(fmi3GetBinary, GET_STATES);
    return (fmi3Status)fmu_get(S, "fmi3GetBinary", FMU_BUF_OTHER, valueReferences, nValueReferences, (void *)values,
                               nValues);
}

fmi3Status fmi3SetBinary(fmi3Instance instance, const fmi3ValueReference valueReferences[], size_t nValueReferences,
                         const size_t valueSizes[], const fmi3Binary values[], size_t nValues)
{
    (void)valueSizes;
    CHECK(fmi3SetBinary, SET_STATES);
    return (fmi3Status)fmu_set(S, "fmi3SetBinary", FMU_BUF_OTHER, valueReferences, nValueReferences,
                               (const void *)values, nValues);
}

fmi3Status fmi3GetClock(fmi3Instance instance, const fmi3ValueReference valueReferences[], size_t nValueReferences,
                        fmi3Clock values[])
{
    (void)valueReferences, (void)nValueReferences, (void)values;
    REFUSE(fmi3GetClock, ANY, NO_CLOCKS);
}

fmi3Status fmi3SetClock(fmi3Instance instance, const fmi3ValueReference valueReferences[], size_t nValueReferences,
                        const fmi3Clock values[])
{
    (void)valueReferences, (void)nValueReferences, (void)values;
    REFUSE(fmi3SetClock, ANY, NO_CLOCKS);
}

fmi3Status fmi3GetNumberOfVariableDependencies(fmi3Instance instance, fmi3ValueReference valueReference,
                                               size_t *nDependencies)
{
    (void)valueReference, (void)nDependencies;
    REFUSE(fmi3GetNumberOfVariableDependencies, ANY,
           "per-element dependencies are not provided; modelDescription.xml lists them per variable");
}

fmi3Status fmi3GetVariableDependencies(fmi3Instance instance, fmi3ValueReference dependent,
                                       size_t elementIndicesOfDependent[], fmi3ValueReference independents[],
                                       size_t elementIndicesOfIndependents[], fmi3DependencyKind dependencyKinds[],
                                       size_t nDependencies)
{
    (void)dependent, (void)elementIndicesOfDependent, (void)independents, (void)elementIndicesOfIndependents;
    (void)dependencyKinds, (void)nDependencies;
    REFUSE(fmi3GetVariableDependencies, ANY,
           "per-element dependencies are not provided; modelDescription.xml lists them per variable");
}

fmi3Status fmi3GetFMUState(fmi3Instance instance, fmi3FMUState *FMUState)
{
    CHECK(fmi3GetFMUState, ANY);
    return (fmi3Status)fmu_get_state(S, "fmi3GetFMUState", FMUState);
}

fmi3Status fmi3SetFMUState(fmi3Instance instance, fmi3FMUState FMUState)
{
    CHECK(fmi3SetFMUState, ANY);
    return (fmi3Status)fmu_set_state(S, "fmi3SetFMUState", FMUState);
}

fmi3Status fmi3FreeFMUState(fmi3Instance instance, fmi3FMUState *FMUState)
{
    CHECK(fmi3FreeFMUState, ANY);
    return (fmi3Status)fmu_free_state(S, "fmi3FreeFMUState", FMUState);
}

fmi3Status fmi3SerializedFMUStateSize(fmi3Instance instance, fmi3FMUState FMUState, size_t *size)
{
    CHECK(fmi3SerializedFMUStateSize, ANY);
    return (fmi3Status)fmu_state_size(S, "fmi3SerializedFMUStateSize", FMUState, size);
}

fmi3Status fmi3SerializeFMUState(fmi3Instance instance, fmi3FMUState FMUState, fmi3Byte serializedState[],
                                 size_t size)
{
    CHECK(fmi3SerializeFMUState, ANY);
    return (fmi3Status)fmu_serialize_state(S, "fmi3SerializeFMUState", FMUState, serializedState, size);
}

fmi3Status fmi3DeserializeFMUState(fmi3Instance instance, const fmi3Byte serializedState[], size_t size,
                                   fmi3FMUState *FMUState)
{
    CHECK(fmi3DeserializeFMUState, ANY);
    return (fmi3Status)fmu_deserialize_state(S, "fmi3DeserializeFMUState", serializedState, size, FMUState);
}

#define DERIVATIVES(name)                                                                                        \
    fmi3Status name(fmi3Instance instance, const fmi3ValueReference unknowns[], size_t nUnknowns,               \
                    const fmi3ValueReference knowns[], size_t nKnowns, const fmi3Float64 seed[], size_t nSeed,  \
                    fmi3Float64 sensitivity[], size_t nSensitivity)                                              \
    {                                                                                                            \
        (void)unknowns, (void)nUnknowns, (void)knowns, (void)nKnowns, (void)seed, (void)nSeed;                   \
        (void)sensitivity, (void)nSensitivity;                                                                   \
        REFUSE(name, ANY, "partial derivatives are not provided");                                               \
    }
DERIVATIVES(fmi3GetDirectionalDerivative)
DERIVATIVES(fmi3GetAdjointDerivative)

fmi3Status fmi3EnterConfigurationMode(fmi3Instance instance)
{
    CHECK(fmi3EnterConfigurationMode, FMU_INSTANTIATED);
    S->state = FMU_CONFIGURATION;
    return fmi3OK;
}

fmi3Status fmi3ExitConfigurationMode(fmi3Instance instance)
{
    CHECK(fmi3ExitConfigurationMode, FMU_CONFIGURATION);
    S->state = FMU_INSTANTIATED;
    return fmi3OK;
}

/* --- clocks and discrete states: none ------------------------------------------------------------ */

fmi3Status fmi3GetIntervalDecimal(fmi3Instance instance, const fmi3ValueReference valueReferences[],
                                  size_t nValueReferences, fmi3Float64 intervals[], fmi3IntervalQualifier qualifiers[])
{
    (void)valueReferences, (void)nValueReferences, (void)intervals, (void)qualifiers;
    REFUSE(fmi3GetIntervalDecimal, ANY, NO_CLOCKS);
}

fmi3Status fmi3GetIntervalFraction(fmi3Instance instance, const fmi3ValueReference valueReferences[],
                                   size_t nValueReferences, fmi3UInt64 counters[], fmi3UInt64 resolutions[],
                                   fmi3IntervalQualifier qualifiers[])
{
    (void)valueReferences, (void)nValueReferences, (void)counters, (void)resolutions, (void)qualifiers;
    REFUSE(fmi3GetIntervalFraction, ANY, NO_CLOCKS);
}

fmi3Status fmi3GetShiftDecimal(fmi3Instance instance, const fmi3ValueReference valueReferences[],
                               size_t nValueReferences, fmi3Float64 shifts[])
{
    (void)valueReferences, (void)nValueReferences, (void)shifts;
    REFUSE(fmi3GetShiftDecimal, ANY, NO_CLOCKS);
}

fmi3Status fmi3GetShiftFraction(fmi3Instance instance, const fmi3ValueReference valueReferences[],
                                size_t nValueReferences, fmi3UInt64 counters[], fmi3UInt64 resolutions[])
{
    (void)valueReferences, (void)nValueReferences, (void)counters, (void)resolutions;
    REFUSE(fmi3GetShiftFraction, ANY, NO_CLOCKS);
}

fmi3Status fmi3SetIntervalDecimal(fmi3Instance instance, const fmi3ValueReference valueReferences[],
                                  size_t nValueReferences, const fmi3Float64 intervals[])
{
    (void)valueReferences, (void)nValueReferences, (void)intervals;
    REFUSE(fmi3SetIntervalDecimal, ANY, NO_CLOCKS);
}

fmi3Status fmi3SetIntervalFraction(fmi3Instance instance, const fmi3ValueReference valueReferences[],
                                   size_t nValueReferences, const fmi3UInt64 counters[],
                                   const fmi3UInt64 resolutions[])
{
    (void)valueReferences, (void)nValueReferences, (void)counters, (void)resolutions;
    REFUSE(fmi3SetIntervalFraction, ANY, NO_CLOCKS);
}

fmi3Status fmi3SetShiftDecimal(fmi3Instance instance, const fmi3ValueReference valueReferences[],
                               size_t nValueReferences, const fmi3Float64 shifts[])
{
    (void)valueReferences, (void)nValueReferences, (void)shifts;
    REFUSE(fmi3SetShiftDecimal, ANY, NO_CLOCKS);
}

fmi3Status fmi3SetShiftFraction(fmi3Instance instance, const fmi3ValueReference valueReferences[],
                                size_t nValueReferences, const fmi3UInt64 counters[], const fmi3UInt64 resolutions[])
{
    (void)valueReferences, (void)nValueReferences, (void)counters, (void)resolutions;
    REFUSE(fmi3SetShiftFraction, ANY, NO_CLOCKS);
}

fmi3Status fmi3EvaluateDiscreteStates(fmi3Instance instance) { REFUSE(fmi3EvaluateDiscreteStates, ANY, NO_EVENT_MODE); }

fmi3Status fmi3UpdateDiscreteStates(fmi3Instance instance, fmi3Boolean *discreteStatesNeedUpdate,
                                    fmi3Boolean *terminateSimulation, fmi3Boolean *nominalsOfContinuousStatesChanged,
                                    fmi3Boolean *valuesOfContinuousStatesChanged, fmi3Boolean *nextEventTimeDefined,
                                    fmi3Float64 *nextEventTime)
{
    (void)discreteStatesNeedUpdate, (void)terminateSimulation, (void)nominalsOfContinuousStatesChanged;
    (void)valuesOfContinuousStatesChanged, (void)nextEventTimeDefined, (void)nextEventTime;
    REFUSE(fmi3UpdateDiscreteStates, ANY, NO_EVENT_MODE);
}

/* --- model exchange: not provided --------------------------------------------------------------- */

fmi3Status fmi3EnterContinuousTimeMode(fmi3Instance instance) { REFUSE(fmi3EnterContinuousTimeMode, ANY, CO_SIMULATION_ONLY); }

fmi3Status fmi3CompletedIntegratorStep(fmi3Instance instance, fmi3Boolean noSetFMUStatePriorToCurrentPoint,
                                       fmi3Boolean *enterEventMode, fmi3Boolean *terminateSimulation)
{
    (void)noSetFMUStatePriorToCurrentPoint, (void)enterEventMode, (void)terminateSimulation;
    REFUSE(fmi3CompletedIntegratorStep, ANY, CO_SIMULATION_ONLY);
}

fmi3Status fmi3SetTime(fmi3Instance instance, fmi3Float64 time)
{
    (void)time;
    REFUSE(fmi3SetTime, ANY, CO_SIMULATION_ONLY);
}

fmi3Status fmi3SetContinuousStates(fmi3Instance instance, const fmi3Float64 continuousStates[],
                                   size_t nContinuousStates)
{
    (void)continuousStates, (void)nContinuousStates;
    REFUSE(fmi3SetContinuousStates, ANY, CO_SIMULATION_ONLY);
}

#define ME_ARRAY(name)                                                                                           \
    fmi3Status name(fmi3Instance instance, fmi3Float64 values[], size_t n)                                       \
    {                                                                                                            \
        (void)values, (void)n;                                                                                   \
        REFUSE(name, ANY, CO_SIMULATION_ONLY);                                                                   \
    }
ME_ARRAY(fmi3GetContinuousStateDerivatives)
ME_ARRAY(fmi3GetEventIndicators)
ME_ARRAY(fmi3GetContinuousStates)
ME_ARRAY(fmi3GetNominalsOfContinuousStates)

#define ME_COUNT(name)                                                                                           \
    fmi3Status name(fmi3Instance instance, size_t *n)                                                            \
    {                                                                                                            \
        (void)n;                                                                                                 \
        REFUSE(name, ANY, CO_SIMULATION_ONLY);                                                                   \
    }
ME_COUNT(fmi3GetNumberOfEventIndicators)
ME_COUNT(fmi3GetNumberOfContinuousStates)

/* --- co-simulation ------------------------------------------------------------------------------ */

fmi3Status fmi3EnterStepMode(fmi3Instance instance)
{
    REFUSE(fmi3EnterStepMode, ANY, "fmi3ExitInitializationMode enters step mode (no event mode)");
}

fmi3Status fmi3GetOutputDerivatives(fmi3Instance instance, const fmi3ValueReference valueReferences[],
                                    size_t nValueReferences, const fmi3Int32 orders[], fmi3Float64 values[],
                                    size_t nValues)
{
    (void)valueReferences, (void)nValueReferences, (void)orders, (void)values, (void)nValues;
    REFUSE(fmi3GetOutputDerivatives, GET_STATES, "output derivatives are not provided (maxOutputDerivativeOrder=0)");
}

fmi3Status fmi3DoStep(fmi3Instance instance, fmi3Float64 currentCommunicationPoint, fmi3Float64 communicationStepSize,
                      fmi3Boolean noSetFMUStatePriorToCurrentPoint, fmi3Boolean *eventHandlingNeeded,
                      fmi3Boolean *terminateSimulation, fmi3Boolean *earlyReturn, fmi3Float64 *lastSuccessfulTime)
{
    fmi3Status status;
    (void)noSetFMUStatePriorToCurrentPoint;
    CHECK(fmi3DoStep, FMU_STEP);
    status = (fmi3Status)fmu_do_step(S, "fmi3DoStep", currentCommunicationPoint, communicationStepSize);
    if (eventHandlingNeeded) *eventHandlingNeeded = fmi3False;
    if (terminateSimulation) *terminateSimulation = fmi3False;
    if (earlyReturn) *earlyReturn = fmi3False;
    if (lastSuccessfulTime) *lastSuccessfulTime = S->model->time;
    return status;
}

fmi3Status fmi3ActivateModelPartition(fmi3Instance instance, fmi3ValueReference clockReference,
                                      fmi3Float64 activationTime)
{
    (void)clockReference, (void)activationTime;
    REFUSE(fmi3ActivateModelPartition, ANY, "this FMU is for co-simulation only (no scheduled execution)");
}
