/* twin_firmware_fmi2.c: any firmware built against twin_firmware.h as an FMI 2.0 co-simulation FMU.
 *
 * Compiled with the firmware's sources by twin.firmware_fmu.build_firmware_fmu, which writes the
 * model description. Defines from the build: TWIN_FW_CELLS (cells, fixed in the FMU),
 * TWIN_FW_GUID (the model description's guid, checked at instantiation) and MODEL_IDENTIFIER.
 *
 * Variables, as `twin validate` looks them up in a firmware FMU (docs/validation.md):
 *   Real inputs    cell_voltage[1..N] (vr 0..N-1), cell_temperature[1..N] (vr N..2N-1),
 *                  pack_current (2N), pack_voltage (2N+1)
 *   Real outputs   cvl (2N+2), ccl (2N+3), dcl (2N+4)
 *   Integer outputs balance[1..N] (vr 0..N-1), charge_enable (N), discharge_enable (N+1)
 * Each doStep(t, h) is one control period: twin_fw_step with time t and dt h on the inputs as set.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmi2Functions.h"
#include "twin_firmware.h"

#define N TWIN_FW_CELLS
#define VR_CURRENT (2 * N)
#define VR_VOLTAGE (2 * N + 1)
#define VR_CVL (2 * N + 2)

typedef struct {
    fmi2CallbackFunctions cb;
    fmi2String name;
    void *fw;
    twin_fw_setup setup;
    double cell_voltage[N], cell_temperature[N], pack_current, pack_voltage;
    int balance[N];
    twin_fw_outputs out;
    int terminated;
} instance;

static void log_error(instance *c, const char *text)
{
    if (c->cb.logger != NULL) c->cb.logger(c->cb.componentEnvironment, c->name, fmi2Error, "logError", "%s", text);
}

const char *fmi2GetTypesPlatform(void) { return fmi2TypesPlatform; }
const char *fmi2GetVersion(void) { return fmi2Version; }

fmi2Component fmi2Instantiate(fmi2String name, fmi2Type type, fmi2String guid, fmi2String location,
                              const fmi2CallbackFunctions *cb, fmi2Boolean visible, fmi2Boolean logging)
{
    instance *c;
    (void)location;
    (void)visible;
    (void)logging;
    if (cb == NULL || type != fmi2CoSimulation) return NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->cb = *cb;
    c->name = name;
    if (guid == NULL || strcmp(guid, TWIN_FW_GUID) != 0) {
        log_error(c, "the guid does not match this FMU's model description");
        free(c);
        return NULL;
    }
    c->setup.abi_version = TWIN_FW_ABI_VERSION;
    c->setup.n_cells = N;
    c->setup.period = 1.0;
    c->fw = twin_fw_create(&c->setup);
    if (c->fw == NULL) {
        log_error(c, c->setup.error[0] ? c->setup.error : "twin_fw_create returned NULL");
        free(c);
        return NULL;
    }
    c->out.balance = c->balance;
    for (int i = 0; i < N; ++i) c->cell_voltage[i] = 3.3, c->cell_temperature[i] = NAN;
    return c;
}

void fmi2FreeInstance(fmi2Component comp)
{
    instance *c = comp;
    if (c == NULL) return;
    if (c->fw != NULL) twin_fw_destroy(c->fw);
    free(c);
}

fmi2Status fmi2SetDebugLogging(fmi2Component c, fmi2Boolean on, size_t n, const fmi2String cats[])
{
    (void)c, (void)on, (void)n, (void)cats;
    return fmi2OK;
}

fmi2Status fmi2SetupExperiment(fmi2Component c, fmi2Boolean tol_defined, fmi2Real tol, fmi2Real start,
                               fmi2Boolean stop_defined, fmi2Real stop)
{
    (void)c, (void)tol_defined, (void)tol, (void)start, (void)stop_defined, (void)stop;
    return fmi2OK;
}

fmi2Status fmi2EnterInitializationMode(fmi2Component c) { (void)c; return fmi2OK; }
fmi2Status fmi2ExitInitializationMode(fmi2Component c) { (void)c; return fmi2OK; }
fmi2Status fmi2Terminate(fmi2Component c) { ((instance *)c)->terminated = 1; return fmi2OK; }
fmi2Status fmi2Reset(fmi2Component c) { (void)c; return fmi2Error; }

static double *real_ref(instance *c, fmi2ValueReference vr)
{
    if (vr < N) return &c->cell_voltage[vr];
    if (vr < 2 * N) return &c->cell_temperature[vr - N];
    switch (vr - 2 * N) {
    case 0: return &c->pack_current;
    case 1: return &c->pack_voltage;
    case 2: return &c->out.cvl;
    case 3: return &c->out.ccl;
    case 4: return &c->out.dcl;
    default: return NULL;
    }
}

fmi2Status fmi2GetReal(fmi2Component comp, const fmi2ValueReference vr[], size_t n, fmi2Real value[])
{
    instance *c = comp;
    for (size_t k = 0; k < n; ++k) {
        double *ref = real_ref(c, vr[k]);
        if (ref == NULL) return log_error(c, "no Real with that value reference"), fmi2Error;
        value[k] = *ref;
    }
    return fmi2OK;
}

fmi2Status fmi2SetReal(fmi2Component comp, const fmi2ValueReference vr[], size_t n, const fmi2Real value[])
{
    instance *c = comp;
    for (size_t k = 0; k < n; ++k) {
        if (vr[k] > VR_VOLTAGE) return log_error(c, "only inputs may be set"), fmi2Error;
        *real_ref(c, vr[k]) = value[k];
    }
    return fmi2OK;
}

fmi2Status fmi2GetInteger(fmi2Component comp, const fmi2ValueReference vr[], size_t n, fmi2Integer value[])
{
    instance *c = comp;
    for (size_t k = 0; k < n; ++k) {
        if (vr[k] < N) value[k] = c->balance[vr[k]];
        else if (vr[k] == N) value[k] = c->out.charge_enable;
        else if (vr[k] == N + 1) value[k] = c->out.discharge_enable;
        else return log_error(c, "no Integer with that value reference"), fmi2Error;
    }
    return fmi2OK;
}

fmi2Status fmi2SetInteger(fmi2Component c, const fmi2ValueReference vr[], size_t n, const fmi2Integer value[])
{
    (void)vr, (void)n, (void)value;
    log_error(c, "this FMU has no Integer inputs");
    return fmi2Error;
}

fmi2Status fmi2GetBoolean(fmi2Component c, const fmi2ValueReference vr[], size_t n, fmi2Boolean value[])
{
    (void)c, (void)vr, (void)value;
    return n == 0 ? fmi2OK : fmi2Error;
}

fmi2Status fmi2SetBoolean(fmi2Component c, const fmi2ValueReference vr[], size_t n, const fmi2Boolean value[])
{
    (void)c, (void)vr, (void)value;
    return n == 0 ? fmi2OK : fmi2Error;
}

fmi2Status fmi2GetString(fmi2Component c, const fmi2ValueReference vr[], size_t n, fmi2String value[])
{
    (void)c, (void)vr, (void)value;
    return n == 0 ? fmi2OK : fmi2Error;
}

fmi2Status fmi2SetString(fmi2Component c, const fmi2ValueReference vr[], size_t n, const fmi2String value[])
{
    (void)c, (void)vr, (void)value;
    return n == 0 ? fmi2OK : fmi2Error;
}

fmi2Status fmi2DoStep(fmi2Component comp, fmi2Real t, fmi2Real h, fmi2Boolean no_prior)
{
    instance *c = comp;
    twin_fw_inputs in;
    int status;
    (void)no_prior;
    in.time = t;
    in.dt = h;
    in.n_cells = N;
    in.cell_voltage = c->cell_voltage;
    in.cell_temperature = c->cell_temperature;
    in.pack_current = c->pack_current;
    in.pack_voltage = c->pack_voltage;
    c->out.message[0] = '\0';
    status = twin_fw_step(c->fw, &in, &c->out);
    if (status != 0) {
        char text[200];
        snprintf(text, sizeof text, "twin_fw_step returned %d: %s", status, c->out.message);
        log_error(c, text);
        return fmi2Error;
    }
    return fmi2OK;
}

fmi2Status fmi2CancelStep(fmi2Component c) { (void)c; return fmi2Error; }

fmi2Status fmi2GetStatus(fmi2Component c, const fmi2StatusKind s, fmi2Status *value)
{
    (void)c, (void)s;
    *value = fmi2OK;
    return fmi2OK;
}

fmi2Status fmi2GetRealStatus(fmi2Component c, const fmi2StatusKind s, fmi2Real *value)
{
    (void)c, (void)s, (void)value;
    return fmi2Discard;
}

fmi2Status fmi2GetIntegerStatus(fmi2Component c, const fmi2StatusKind s, fmi2Integer *value)
{
    (void)c, (void)s, (void)value;
    return fmi2Discard;
}

fmi2Status fmi2GetBooleanStatus(fmi2Component c, const fmi2StatusKind s, fmi2Boolean *value)
{
    (void)c, (void)s, (void)value;
    return fmi2Discard;
}

fmi2Status fmi2GetStringStatus(fmi2Component c, const fmi2StatusKind s, fmi2String *value)
{
    (void)c, (void)s, (void)value;
    return fmi2Discard;
}

fmi2Status fmi2GetFMUstate(fmi2Component c, fmi2FMUstate *s) { (void)c, (void)s; return fmi2Error; }
fmi2Status fmi2SetFMUstate(fmi2Component c, fmi2FMUstate s) { (void)c, (void)s; return fmi2Error; }
fmi2Status fmi2FreeFMUstate(fmi2Component c, fmi2FMUstate *s) { (void)c, (void)s; return fmi2Error; }
fmi2Status fmi2SerializedFMUstateSize(fmi2Component c, fmi2FMUstate s, size_t *n)
{
    (void)c, (void)s, (void)n;
    return fmi2Error;
}
fmi2Status fmi2SerializeFMUstate(fmi2Component c, fmi2FMUstate s, fmi2Byte b[], size_t n)
{
    (void)c, (void)s, (void)b, (void)n;
    return fmi2Error;
}
fmi2Status fmi2DeSerializeFMUstate(fmi2Component c, const fmi2Byte b[], size_t n, fmi2FMUstate *s)
{
    (void)c, (void)b, (void)n, (void)s;
    return fmi2Error;
}
fmi2Status fmi2GetDirectionalDerivative(fmi2Component c, const fmi2ValueReference u[], size_t nu,
                                        const fmi2ValueReference z[], size_t nz, const fmi2Real dv[], fmi2Real dz[])
{
    (void)c, (void)u, (void)nu, (void)z, (void)nz, (void)dv, (void)dz;
    return fmi2Error;
}
fmi2Status fmi2SetRealInputDerivatives(fmi2Component c, const fmi2ValueReference vr[], size_t n,
                                       const fmi2Integer order[], const fmi2Real value[])
{
    (void)c, (void)vr, (void)n, (void)order, (void)value;
    return fmi2Error;
}
fmi2Status fmi2GetRealOutputDerivatives(fmi2Component c, const fmi2ValueReference vr[], size_t n,
                                        const fmi2Integer order[], fmi2Real value[])
{
    (void)c, (void)vr, (void)n, (void)order, (void)value;
    return fmi2Error;
}
