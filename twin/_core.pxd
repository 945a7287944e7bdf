# Extern declarations of the C kernel (csrc/twin.h). All calls are nogil: they touch only the
# caller-owned block and read-only tables.
from libc.stdint cimport uint64_t

cdef extern from "twin.h" nogil:
    ctypedef int twin_status
    int TWIN_OK, TWIN_ERR_VALUE, TWIN_ERR_SIZE, TWIN_ERR_STATE, TWIN_ERR_UNKNOWN
    int TWIN_MESSAGE_SIZE

    ctypedef struct twin_tables:
        int n_soc, n_temp, n_rc
        double soc_first, soc_step, temp_first, temp_step
        const double *values

    ctypedef struct twin_fault_event:
        double time
        int cell
        unsigned int vr
        double value

    ctypedef struct twin_internal:
        double time

    ctypedef struct twin_pack:
        int n
        twin_internal *in_ "in"
        void *block
        size_t block_size
        twin_tables tables
        const twin_fault_event *events
        long n_events

    ctypedef enum twin_drive_kind:
        TWIN_DRIVE_PROFILE, TWIN_DRIVE_CURRENT, TWIN_DRIVE_POWER, TWIN_DRIVE_CELL_VOLTAGE, TWIN_DRIVE_PACK_VOLTAGE

    ctypedef struct twin_drive:
        twin_drive_kind kind
        double value
        double current_limit
        const double *current
        const double *ambient
        const double *commands
        int obey_limits

    ctypedef struct twin_stop:
        double max_cell_voltage, min_cell_voltage, max_pack_voltage, min_pack_voltage
        double min_abs_current, max_voltage_spread
        int on_protection

    ctypedef struct twin_record:
        const double *src
        long count
        double *dst

    size_t twin_pack_block_size(int n_cells)
    twin_status twin_pack_bind(twin_pack *p, int n_cells, void *block, size_t size)
    void twin_pack_defaults(twin_pack *p)
    twin_status twin_pack_check(const twin_pack *p, char *msg, size_t msg_size)
    void twin_pack_init(twin_pack *p)
    void twin_pack_refresh(twin_pack *p)
    twin_status twin_step(twin_pack *p, double dt)
    void twin_stop_none(twin_stop *stop)
    twin_status twin_run(twin_pack *p, double dt, long n_steps, const twin_drive *drive, const twin_stop *stop,
                         const twin_record *records, int n_records, long *steps_done, int *reason)
    double *twin_real_ref(twin_pack *p, unsigned int vr, int index)
    twin_status twin_set(twin_pack *p, unsigned int vr, int index, double value, char *msg, size_t msg_size)
    twin_status twin_get(twin_pack *p, unsigned int vr, int index, double *value)
    double twin_soc_from_ocv(const twin_tables *tab, double v, double t)
    void twin_detect_reset(twin_pack *p)
    int twin_detect_sample(twin_pack *p, double t)
    long twin_detect_run(twin_pack *p, long n, const double *time, const double *current, const double *voltage,
                         const double *temperature, const double *balancing, const twin_record *records,
                         int n_records, long max_blocks, double *block_time)

cdef extern from "twin_math.h" nogil:
    double twin_exp(double x)

# --- firmware in the loop (csrc/firmware.c) and the firmware ABI shipped in twin/include ---------------
cdef extern from "twin.h" nogil:
    ctypedef struct twin_bms_io:
        double time, dt
        double *cell_voltage
        double *cell_temperature
        double pack_current, pack_voltage
        double *balance
        double charge_enable, discharge_enable, cvl, ccl, dcl

    ctypedef int (*twin_bms_controller)(void *ctx, twin_bms_io *io) noexcept

    int TWIN_BMS_N_MONITOR
    int TWIN_BMS_RUNNING

    ctypedef struct twin_bms_loop:
        long period_steps, delay_steps
        int obey_limits
        double charger_resistance, stop_max_cell_voltage, stop_min_cell_voltage
        twin_bms_controller controller
        void *ctx
        double *progress
        double *ring
        twin_bms_io io
        double monitor[18]
        long countdown, ring_head, steps
        double last_instant
        int fault, fault_cell
        double fault_value, fault_time
        int controller_status

    void twin_bms_start(twin_pack *p, twin_bms_loop *loop)
    twin_status twin_bms_run(twin_pack *p, twin_bms_loop *loop, double dt, long n_steps, const double *request,
                             const double *ambient, const twin_record *records, int n_records,
                             const twin_record *slow, int n_slow, long slow_every, long *steps_done)
    double twin_bms_inverter_current(const twin_bms_io *io, double request, double pack_voltage, double previous,
                                     int obey_limits, double charger_resistance)
    int twin_bms_check_decisions(const twin_bms_io *io, int n, int *cell, double *value)

cdef extern from "include/twin_firmware.h" nogil:
    ctypedef struct twin_fw_inputs:
        double time, dt
        int n_cells
        const double *cell_voltage
        const double *cell_temperature
        double pack_current, pack_voltage

    ctypedef struct twin_fw_outputs:
        int *balance
        int charge_enable, discharge_enable
        double cvl, ccl, dcl
        char message[128]
