# cython: language_level=3, boundscheck=False, wraparound=False
"""Raw binding of the C kernel: one ``Kernel`` per pack, named like the C functions.

Arguments are checked here, with the GIL, in terms of the kernel (value references, shapes);
``twin.pack`` above it speaks in parameter names, units and experiments. Bulk runs release the GIL
for the whole loop in C.
"""

import numpy as np
cimport numpy as cnp
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from twin.errors import KernelError

cnp.import_array()

STOP_REASONS = ("steps", "max_cell_voltage", "min_cell_voltage", "max_pack_voltage", "min_pack_voltage",
                "current", "spread", "protection")
DRIVE_KINDS = {"profile": TWIN_DRIVE_PROFILE, "current": TWIN_DRIVE_CURRENT, "power": TWIN_DRIVE_POWER,
               "cell_voltage": TWIN_DRIVE_CELL_VOLTAGE, "pack_voltage": TWIN_DRIVE_PACK_VOLTAGE}
_STATE_MAGIC = b"TWINSTATE2"  # the digit: the pack block's layout (2: coefficient cache by blocks of cells)


def block_size(int n_cells):
    """Bytes of the memory block for n_cells cells."""
    return twin_pack_block_size(n_cells)


def exp(double x):
    """The kernel's vectorizable exp (for tests against libm)."""
    return twin_exp(x)


cdef twin_record *_kernel_records(twin_pack *p, int n, records, long rows) except? NULL:
    """A malloc'd twin_record array for (value reference, float64 destination) pairs, each destination
    C-contiguous with room for rows x (the variable's element count) values; NULL for none. The
    caller frees it."""
    cdef int r, m = len(records)
    cdef long count
    cdef double *ref
    cdef twin_record *recs
    if m == 0:
        return NULL
    recs = <twin_record *>malloc(m * sizeof(twin_record))
    if recs == NULL:
        raise MemoryError()
    try:
        for r in range(m):
            vr, dst = records[r]
            ref = twin_real_ref(p, vr, 0)
            if ref == NULL:
                raise KernelError(f"cannot record value reference {vr}")
            count = n if n > 1 and twin_real_ref(p, vr, 1) == ref + 1 else 1
            if not (isinstance(dst, np.ndarray) and dst.dtype == np.float64 and dst.flags.c_contiguous
                    and dst.size >= rows * count):
                raise KernelError(f"record buffer for value reference {vr} must be C-contiguous float64 "
                                  f"with room for {rows} x {count} values")
            recs[r].src = ref
            recs[r].count = count
            recs[r].dst = <double *>cnp.PyArray_DATA(dst)
    except BaseException:
        free(recs)
        raise
    return recs


cdef class Kernel:
    """One pack: the C twin_pack bound to a NumPy-owned memory block."""

    cdef twin_pack p
    cdef cnp.ndarray _block
    cdef cnp.ndarray _tables
    cdef cnp.ndarray _event_times, _event_values
    cdef twin_fault_event *_events
    cdef public int n
    cdef public bint initialized

    def __cinit__(self, int n_cells):
        cdef size_t size = twin_pack_block_size(n_cells)
        if n_cells < 1 or size == 0:
            raise KernelError(f"pack.cells_in_series must be at least 1, got {n_cells}")
        self._block = np.zeros((size + 7) // 8, dtype=np.float64)
        if twin_pack_bind(&self.p, n_cells, cnp.PyArray_DATA(self._block), size) != TWIN_OK:
            raise KernelError("could not lay out the pack memory")
        twin_pack_defaults(&self.p)
        self.n = n_cells
        self._events = NULL
        self.initialized = False

    def __dealloc__(self):
        if self._events != NULL:
            free(self._events)

    # --- values by reference ------------------------------------------------------------------

    def set(self, unsigned int vr, int index, double value):
        cdef char msg[512]
        cdef twin_status st = twin_set(&self.p, vr, index, value, msg, sizeof(msg))
        if st != TWIN_OK:
            raise KernelError(msg.decode("utf-8", "replace"))

    def get(self, unsigned int vr, int index=0):
        cdef double value
        if twin_get(&self.p, vr, index, &value) != TWIN_OK:
            raise KernelError(f"no value with reference {vr} and index {index}")
        return value

    def array(self, unsigned int vr):
        """Writable NumPy view of a per-cell array (shares memory with the kernel)."""
        cdef double *ref = twin_real_ref(&self.p, vr, 0)
        if ref == NULL or twin_real_ref(&self.p, vr, self.n - 1) != ref + self.n - 1:
            raise KernelError(f"value reference {vr} is not a per-cell array")
        offset = <size_t>(<char *>ref - <char *>self.p.block) // 8
        return self._block[offset:offset + self.n]

    def scalar_view(self, unsigned int vr):
        """Writable one-element NumPy view of a pack variable or real setting."""
        cdef double *ref = twin_real_ref(&self.p, vr, 0)
        if ref == NULL:
            raise KernelError(f"value reference {vr} is not a real value")
        offset = <size_t>(<char *>ref - <char *>self.p.block) // 8
        return self._block[offset:offset + 1]

    @property
    def time(self):
        return self.p.in_.time

    # --- set-up ---------------------------------------------------------------------------------

    def set_tables(self, values, double soc_first, double soc_step, double temp_first, double temp_step, int n_rc):
        """values: float64 array (n_temp, n_soc, 3 + 2 n_rc)."""
        arr = np.ascontiguousarray(values, dtype=np.float64)
        if arr.ndim != 3 or arr.shape[2] != 3 + 2 * n_rc:
            raise KernelError(f"cell tables must have shape (temperatures, SOCs, {3 + 2 * n_rc}), got {arr.shape}")
        self._tables = arr
        self.p.tables.values = <const double *>cnp.PyArray_DATA(arr)
        self.p.tables.n_temp = arr.shape[0]
        self.p.tables.n_soc = arr.shape[1]
        self.p.tables.n_rc = n_rc
        self.p.tables.soc_first = soc_first
        self.p.tables.soc_step = soc_step
        self.p.tables.temp_first = temp_first
        self.p.tables.temp_step = temp_step

    def set_events(self, times, cells, vrs, values):
        """Scheduled fault changes, sorted by time."""
        cdef long m = len(times), k
        if self._events != NULL:
            free(self._events)
            self._events = NULL
        self.p.events = NULL
        self.p.n_events = 0
        if m == 0:
            return
        self._events = <twin_fault_event *>malloc(m * sizeof(twin_fault_event))
        if self._events == NULL:
            raise MemoryError()
        for k in range(m):
            self._events[k].time = float(times[k])
            self._events[k].cell = int(cells[k])
            self._events[k].vr = int(vrs[k])
            self._events[k].value = float(values[k])
        self.p.events = self._events
        self.p.n_events = m

    def check(self):
        cdef char msg[512]
        if twin_pack_check(&self.p, msg, sizeof(msg)) != TWIN_OK:
            raise KernelError(msg.decode("utf-8", "replace"))

    def init(self):
        """Check, then put every state at its initial value and compute the outputs at time 0."""
        self.check()
        twin_pack_init(&self.p)
        self.initialized = True

    def refresh(self):
        twin_pack_refresh(&self.p)

    # --- stepping ---------------------------------------------------------------------------------

    def step(self, double dt):
        """One step with the inputs already in the pack variables."""
        cdef twin_status st
        if not self.initialized:
            raise KernelError("the twin is not initialized; call init() first")
        with nogil:
            st = twin_step(&self.p, dt)
        if st != TWIN_OK:
            raise KernelError(_step_error(dt))

    def run(self, double dt, long n_steps, str kind="profile", double value=0.0, double current_limit=0.0,
            current=None, ambient=None, commands=None, dict stop=None, records=(), bint obey_limits=False):
        """Run up to n_steps steps in C with the GIL released.

        records: sequence of (value reference, destination float64 array of shape (n_steps, count)).
        stop: dict with any of the twin_stop fields. Returns (steps done, stop reason).
        """
        cdef twin_drive drive
        cdef twin_stop st
        cdef twin_record *recs = NULL
        cdef long steps_done = 0
        cdef int reason = 0, n_rec = len(records)
        cdef twin_status status
        if not self.initialized:
            raise KernelError("the twin is not initialized; call init() first")
        if kind not in DRIVE_KINDS:
            raise KernelError(f"unknown drive kind {kind!r}")
        drive.kind = DRIVE_KINDS[kind]
        drive.value = value
        drive.current_limit = current_limit
        drive.current = NULL
        drive.ambient = NULL
        drive.commands = NULL
        drive.obey_limits = 1 if obey_limits else 0
        keep = []
        if current is not None:
            cur = np.ascontiguousarray(current, dtype=np.float64)
            if cur.shape != (n_steps,):
                raise KernelError(f"current profile has shape {cur.shape}, expected ({n_steps},)")
            keep.append(cur)
            drive.current = <const double *>cnp.PyArray_DATA(cur)
        elif drive.kind == TWIN_DRIVE_PROFILE:
            raise KernelError("a profile run needs a current array")
        if ambient is not None:
            amb = np.ascontiguousarray(ambient, dtype=np.float64)
            if amb.shape != (n_steps,):
                raise KernelError(f"ambient profile has shape {amb.shape}, expected ({n_steps},)")
            keep.append(amb)
            drive.ambient = <const double *>cnp.PyArray_DATA(amb)
        if commands is not None:
            cmd = np.ascontiguousarray(commands, dtype=np.float64)
            if cmd.shape != (n_steps, self.n):
                raise KernelError(f"balancing commands have shape {cmd.shape}, expected ({n_steps}, {self.n})")
            keep.append(cmd)
            drive.commands = <const double *>cnp.PyArray_DATA(cmd)
        twin_stop_none(&st)
        for key, val in (stop or {}).items():
            if key == "max_cell_voltage": st.max_cell_voltage = val
            elif key == "min_cell_voltage": st.min_cell_voltage = val
            elif key == "max_pack_voltage": st.max_pack_voltage = val
            elif key == "min_pack_voltage": st.min_pack_voltage = val
            elif key == "min_abs_current": st.min_abs_current = val
            elif key == "max_voltage_spread": st.max_voltage_spread = val
            elif key == "on_protection": st.on_protection = 1 if val else 0
            else:
                raise KernelError(f"unknown stop condition {key!r}")
        recs = _kernel_records(&self.p, self.n, records, n_steps)
        try:
            with nogil:
                status = twin_run(&self.p, dt, n_steps, &drive, &st, recs, n_rec, &steps_done, &reason)
        finally:
            if recs != NULL:
                free(recs)
        if status != TWIN_OK:
            raise KernelError(_step_error(dt, steps_done))
        return steps_done, STOP_REASONS[reason]

    # --- state ----------------------------------------------------------------------------------------

    def get_state(self):
        """The whole twin (settings, per-cell values, states) as bytes."""
        return _STATE_MAGIC + int(self.n).to_bytes(4, "little") + self._block.tobytes()

    def set_state(self, bytes state):
        head = len(_STATE_MAGIC) + 4
        if not state.startswith(_STATE_MAGIC):
            if state.startswith(b"TWINSTATE"):
                raise KernelError("the saved state is from a version of twin with another memory layout; "
                                  "save the twin's state again with this version")
            raise KernelError("this is not a saved twin state")
        n = int.from_bytes(state[len(_STATE_MAGIC):head], "little")
        if n != self.n or len(state) - head != self._block.nbytes:
            raise KernelError(f"the saved state is of a {n}-cell twin; this twin has {self.n} cells")
        self._block[:] = np.frombuffer(state, dtype=np.float64, offset=head)
        self.initialized = True

    def detect_reset(self):
        """Forget everything the divergence detector has learned (flags, baselines, open runs)."""
        twin_detect_reset(&self.p)

    def detect_run(self, time, current, voltage, temperature=None, balancing=None, records=()):
        """Feed samples to the divergence detector in C (GIL released).

        time, current: (m,); voltage, temperature, balancing: (m, cells), temperature NaN where a cell
        has no sensor. records: (value reference, destination (blocks, count)) pairs, filled after each
        completed block up to the shortest destination's rows. Returns (blocks completed, block times of
        the records).
        """
        cdef long m = len(time), blocks, max_blocks
        cdef twin_record *recs = NULL
        cdef int n_rec = len(records)
        cdef const double *tp
        cdef const double *cp
        cdef const double *vp
        cdef double *timesp
        cdef const double *tt = NULL
        cdef const double *bp = NULL
        t = np.ascontiguousarray(time, dtype=np.float64)
        cur = np.ascontiguousarray(current, dtype=np.float64)
        volt = np.ascontiguousarray(voltage, dtype=np.float64)
        if cur.shape != (m,) or volt.shape != (m, self.n):
            raise KernelError(f"detector input shapes: time {t.shape}, current {cur.shape}, voltage {volt.shape}; "
                              f"expected ({m},), ({m},), ({m}, {self.n})")
        keep = [t, cur, volt]
        if temperature is not None:
            temp = np.ascontiguousarray(temperature, dtype=np.float64)
            if temp.shape != (m, self.n):
                raise KernelError(f"temperature must have shape ({m}, {self.n})")
            keep.append(temp)
            tt = <const double *>cnp.PyArray_DATA(temp)
        if balancing is not None:
            bal = np.ascontiguousarray(balancing, dtype=np.float64)
            if bal.shape != (m, self.n):
                raise KernelError(f"balancing must have shape ({m}, {self.n})")
            keep.append(bal)
            bp = <const double *>cnp.PyArray_DATA(bal)
        max_blocks = min((np.shape(dst)[0] for _, dst in records), default=0)
        recs = _kernel_records(&self.p, self.n, records, max_blocks)
        times = np.empty(max(max_blocks, 1))
        try:
            tp = <const double *>cnp.PyArray_DATA(t)
            cp = <const double *>cnp.PyArray_DATA(cur)
            vp = <const double *>cnp.PyArray_DATA(volt)
            timesp = <double *>cnp.PyArray_DATA(times)
            with nogil:
                blocks = twin_detect_run(&self.p, m, tp, cp, vp, tt, bp, recs, n_rec, max_blocks, timesp)
        finally:
            if recs != NULL:
                free(recs)
        return blocks, times[:min(blocks, max_blocks)]

    def soc_from_ocv(self, double v, double temperature):
        return twin_soc_from_ocv(&self.p.tables, v, temperature)


def _step_error(dt, done=None):
    where = "" if done is None else f" after {done} steps"
    return (f"the kernel refused a step{where}: the step (dt = {dt!r} s) must be positive and finite, the pack "
            "current and ambient temperature finite, and external balancing commands -1, 0 or +1")


# --- firmware in the loop (csrc/firmware.c) ---------------------------------------------------------------

# Per-step values of twin_bms_loop.monitor, in the order of the TWIN_BMS_M_* indices in csrc/twin.h.
MONITOR_NAMES = ("request", "vmax", "vmax_cell", "vmin", "vmin_cell", "read_vmax_cell", "read_vmin_cell",
                 "tmax", "tmax_cell", "tmin", "read_tmax_cell", "read_tmin_cell", "bleed_max", "bleed_max_cell",
                 "transfer_max", "commanded", "adjacent", "ambient_cell")
# twin_bms_fault codes, in their order in csrc/twin.h
BMS_FAULTS = ("running", "controller_error", "bad_balance", "bad_charge_enable", "bad_discharge_enable", "bad_cvl",
              "bad_ccl", "bad_dcl", "cell_high", "cell_low")
DECISION_NAMES = ("charge_enable", "discharge_enable", "cvl", "ccl", "dcl")
if TWIN_BMS_N_MONITOR != len(MONITOR_NAMES):
    raise ImportError("twin._core: MONITOR_NAMES is out of step with csrc/twin.h")

ctypedef int (*fw_step_t)(void *fw, const twin_fw_inputs *inp, twin_fw_outputs *out) noexcept nogil


cdef struct CFirmware:
    fw_step_t step
    void *instance
    int n
    int *balance
    twin_fw_inputs inp
    twin_fw_outputs out


cdef int _c_firmware(void *ctx, twin_bms_io *io) noexcept nogil:
    """A firmware built against twin_firmware.h: its int decisions become the loop's doubles."""
    cdef CFirmware *c = <CFirmware *>ctx
    cdef int i, status
    c.inp.time = io.time
    c.inp.dt = io.dt
    c.inp.n_cells = c.n
    c.inp.cell_voltage = io.cell_voltage
    c.inp.cell_temperature = io.cell_temperature
    c.inp.pack_current = io.pack_current
    c.inp.pack_voltage = io.pack_voltage
    c.out.message[0] = 0
    status = c.step(c.instance, &c.inp, &c.out)
    for i in range(c.n):
        io.balance[i] = c.balance[i]
    io.charge_enable = c.out.charge_enable
    io.discharge_enable = c.out.discharge_enable
    io.cvl = c.out.cvl
    io.ccl = c.out.ccl
    io.dcl = c.out.dcl
    return status


cdef int _py_firmware(void *ctx, twin_bms_io *io) noexcept with gil:
    """A Python controller: it reads the loop's arrays, writes balance in place and returns the rest."""
    cdef BmsLoop loop = <BmsLoop>ctx
    try:
        ce, de, cvl, ccl, dcl = loop.controller(io.time, io.dt, io.pack_current, io.pack_voltage)
        io.charge_enable = ce
        io.discharge_enable = de
        io.cvl = cvl
        io.ccl = ccl
        io.dcl = dcl
        return 0
    except BaseException as e:  # reported by run(); KeyboardInterrupt is raised again there
        loop.error = e
        return -1


cdef class BmsLoop:
    """A firmware in the loop with one Kernel (csrc/firmware.c): a C firmware through its function
    pointer, or a Python controller. The arrays the firmware reads and writes are NumPy views:
    cell_voltage, cell_temperature (readings at the control instant) and balance (decisions)."""

    cdef twin_bms_loop L
    cdef Kernel kernel
    cdef CFirmware cfw
    cdef cnp.ndarray _ring, _balance_int
    cdef public object cell_voltage, cell_temperature, balance
    cdef public object controller, error

    def __cinit__(self, Kernel kernel, long period_steps, long delay_steps, bint obey_limits, double charger_resistance,
                  double stop_max_cell_voltage, double stop_min_cell_voltage, size_t progress_address=0):
        if period_steps < 1 or delay_steps < 0 or not charger_resistance > 0:
            raise KernelError(f"firmware loop: period {period_steps} steps (>= 1), delay {delay_steps} steps (>= 0), "
                              f"charger resistance {charger_resistance} Ohm (> 0)")
        if not kernel.initialized:
            raise KernelError("the twin is not initialized; call init() first")
        n = kernel.n
        self.kernel = kernel
        self._ring = np.zeros((delay_steps + 1) * (2 * n + 2))
        self.cell_voltage = np.zeros(n)
        self.cell_temperature = np.zeros(n)
        self.balance = np.zeros(n)
        self._balance_int = np.zeros(n, dtype=np.intc)
        self.L.period_steps = period_steps
        self.L.delay_steps = delay_steps
        self.L.obey_limits = 1 if obey_limits else 0
        self.L.charger_resistance = charger_resistance
        self.L.stop_max_cell_voltage = stop_max_cell_voltage
        self.L.stop_min_cell_voltage = stop_min_cell_voltage
        self.L.progress = <double *>progress_address
        self.L.ring = <double *>cnp.PyArray_DATA(self._ring)
        self.L.io.cell_voltage = <double *>cnp.PyArray_DATA(self.cell_voltage)
        self.L.io.cell_temperature = <double *>cnp.PyArray_DATA(self.cell_temperature)
        self.L.io.balance = <double *>cnp.PyArray_DATA(self.balance)
        self.L.controller = NULL
        self.cfw.n = n
        self.cfw.balance = <int *>cnp.PyArray_DATA(self._balance_int)
        self.cfw.out.balance = self.cfw.balance

    def use_c_firmware(self, size_t step_address, size_t instance_address):
        """The twin_fw_step function at step_address, called with the instance twin_fw_create made."""
        if step_address == 0:
            raise KernelError("the firmware's twin_fw_step is a null pointer")
        self.cfw.step = <fw_step_t>step_address
        self.cfw.instance = <void *>instance_address
        self.L.controller = _c_firmware
        self.L.ctx = &self.cfw

    def use_python(self, controller):
        """controller(time, dt, pack_current, pack_voltage) -> (charge_enable, discharge_enable, cvl, ccl, dcl);
        it reads self.cell_voltage and self.cell_temperature and writes self.balance in place."""
        self.controller = controller
        self.L.controller = _py_firmware
        self.L.ctx = <void *>self

    def start(self):
        """Readings of the present twin in the delay ring; the next step is a control instant."""
        self._balance_int[:] = 0
        self.cfw.out.charge_enable = 0
        self.cfw.out.discharge_enable = 0
        self.cfw.out.cvl = 0.0
        self.cfw.out.ccl = 0.0
        self.cfw.out.dcl = 0.0
        self.error = None
        twin_bms_start(&self.kernel.p, &self.L)

    cdef double *_source(self, key, long *count) except NULL:
        cdef double *ref
        cdef int n = self.kernel.n
        if isinstance(key, str):
            group, _, name = key.partition(".")
            if group == "monitor" and name in MONITOR_NAMES:
                count[0] = 1
                return &self.L.monitor[MONITOR_NAMES.index(name)]
            if group == "fw":
                count[0] = 1
                if name == "charge_enable": return &self.L.io.charge_enable
                if name == "discharge_enable": return &self.L.io.discharge_enable
                if name == "cvl": return &self.L.io.cvl
                if name == "ccl": return &self.L.io.ccl
                if name == "dcl": return &self.L.io.dcl
                if name == "balance":
                    count[0] = n
                    return self.L.io.balance
            raise KernelError(f"firmware loop: nothing to record under {key!r}")
        ref = twin_real_ref(&self.kernel.p, <unsigned int>key, 0)
        if ref == NULL:
            raise KernelError(f"cannot record value reference {key}")
        count[0] = n if n > 1 and twin_real_ref(&self.kernel.p, <unsigned int>key, 1) == ref + 1 else 1
        return ref

    cdef twin_record *_records(self, records, long rows) except? NULL:
        cdef int r, m = len(records)
        cdef long count = 0
        cdef twin_record *recs
        if m == 0:
            return NULL
        recs = <twin_record *>malloc(m * sizeof(twin_record))
        if recs == NULL:
            raise MemoryError()
        try:
            for r in range(m):
                key, dst = records[r]
                recs[r].src = self._source(key, &count)
                if not (isinstance(dst, np.ndarray) and dst.dtype == np.float64 and dst.flags.c_contiguous
                        and dst.size >= rows * count):
                    raise KernelError(f"record buffer for {key!r} must be C-contiguous float64 with room for "
                                      f"{rows} x {count} values")
                recs[r].count = count
                recs[r].dst = <double *>cnp.PyArray_DATA(dst)
        except BaseException:
            free(recs)
            raise
        return recs

    def run(self, double dt, request, ambient=None, records=(), slow=(), long slow_every=1):
        """Run len(request) steps (fewer if the loop's fault is set). records, slow: (key, float64 array)
        with key a value reference, 'monitor.<name>' or 'fw.<decision>'; slow ones are copied after every
        slow_every-th step since start. Returns the steps done."""
        cdef long n_steps, done = 0, slow_before, slow_rows
        cdef twin_record *recs = NULL
        cdef twin_record *slow_recs = NULL
        cdef twin_status status
        cdef const double *amb = NULL
        cdef const double *reqp
        cdef int n_rec = len(records), n_slow = len(slow)
        if self.L.controller == NULL:
            raise KernelError("firmware loop: no firmware (use_c_firmware or use_python first)")
        req = np.ascontiguousarray(request, dtype=np.float64)
        n_steps = req.shape[0]
        if req.ndim != 1 or not np.all(np.isfinite(req)):
            raise KernelError("firmware loop: the requested current must be a 1-D array of finite amperes")
        if ambient is not None:
            amb_arr = np.ascontiguousarray(ambient, dtype=np.float64)
            if amb_arr.shape != (n_steps,) or not np.all(np.isfinite(amb_arr)):
                raise KernelError(f"firmware loop: ambient must be {n_steps} finite temperatures")
            amb = <const double *>cnp.PyArray_DATA(amb_arr)
        slow_before = self.L.steps // slow_every
        slow_rows = (self.L.steps + n_steps) // slow_every - slow_before
        try:
            recs = self._records(records, n_steps)
            slow_recs = self._records(slow, slow_rows)
            reqp = <const double *>cnp.PyArray_DATA(req)
            with nogil:
                status = twin_bms_run(&self.kernel.p, &self.L, dt, n_steps, reqp, amb, recs, n_rec, slow_recs, n_slow,
                                      slow_every, &done)
        finally:
            free(recs)
            free(slow_recs)
        if status != TWIN_OK:
            raise KernelError(_step_error(dt, done))
        if isinstance(self.error, KeyboardInterrupt):
            raise self.error
        return done

    @property
    def steps(self):
        return self.L.steps

    @property
    def fault(self):
        """None while running, else (kind, cell or None, value, time, controller status)."""
        if self.L.fault == TWIN_BMS_RUNNING:
            return None
        return (BMS_FAULTS[self.L.fault], None if self.L.fault_cell < 0 else self.L.fault_cell, self.L.fault_value,
                self.L.fault_time, self.L.controller_status)

    @property
    def message(self):
        """The C firmware's out.message of its last call."""
        return bytes(self.cfw.out.message).split(b"\0", 1)[0].decode("utf-8", "replace")

    def decisions(self):
        return {name: getattr(self, "_d_" + name)() for name in DECISION_NAMES}

    def _d_charge_enable(self): return self.L.io.charge_enable
    def _d_discharge_enable(self): return self.L.io.discharge_enable
    def _d_cvl(self): return self.L.io.cvl
    def _d_ccl(self): return self.L.io.ccl
    def _d_dcl(self): return self.L.io.dcl


def bms_inverter_current(double charge_enable, double discharge_enable, double cvl, double ccl, double dcl,
                         double request, double pack_voltage, double previous, bint obey_limits,
                         double charger_resistance):
    """The inverter of csrc/firmware.c, for a loop run outside C (the FMU co-simulation)."""
    cdef twin_bms_io io
    io.charge_enable = charge_enable
    io.discharge_enable = discharge_enable
    io.cvl = cvl
    io.ccl = ccl
    io.dcl = dcl
    return twin_bms_inverter_current(&io, request, pack_voltage, previous, 1 if obey_limits else 0, charger_resistance)


def bms_check_decisions(balance, double charge_enable, double discharge_enable, double cvl, double ccl, double dcl):
    """The decision checks of csrc/firmware.c: None, or (fault kind, cell or None, value)."""
    cdef twin_bms_io io
    cdef int cell = -1, fault
    cdef double value = 0.0
    b = np.ascontiguousarray(balance, dtype=np.float64)
    io.balance = <double *>cnp.PyArray_DATA(b)
    io.charge_enable = charge_enable
    io.discharge_enable = discharge_enable
    io.cvl = cvl
    io.ccl = ccl
    io.dcl = dcl
    fault = twin_bms_check_decisions(&io, b.shape[0], &cell, &value)
    if fault == TWIN_BMS_RUNNING:
        return None
    return BMS_FAULTS[fault], None if cell < 0 else cell, value
