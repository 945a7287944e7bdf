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
_STATE_MAGIC = b"TWINSTATE1"


def block_size(int n_cells):
    """Bytes of the memory block for n_cells cells."""
    return twin_pack_block_size(n_cells)


def exp(double x):
    """The kernel's vectorizable exp (for tests against libm)."""
    return twin_exp(x)


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
        cdef int reason = 0, n_rec = len(records), r
        cdef twin_status status
        cdef double *ref
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
        if n_rec:
            recs = <twin_record *>malloc(n_rec * sizeof(twin_record))
            if recs == NULL:
                raise MemoryError()
        try:
            for r in range(n_rec):
                vr, dst = records[r]
                ref = twin_real_ref(&self.p, vr, 0)
                if ref == NULL:
                    raise KernelError(f"cannot record value reference {vr}")
                count = self.n if twin_real_ref(&self.p, vr, 1) == ref + 1 and self.n > 1 else 1
                if not (isinstance(dst, np.ndarray) and dst.dtype == np.float64 and dst.flags.c_contiguous
                        and dst.size >= n_steps * count):
                    raise KernelError(f"record buffer for value reference {vr} must be C-contiguous float64 "
                                      f"with room for {n_steps} x {count} values")
                recs[r].src = ref
                recs[r].count = count
                recs[r].dst = <double *>cnp.PyArray_DATA(dst)
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
            raise KernelError("this is not a saved twin state")
        n = int.from_bytes(state[len(_STATE_MAGIC):head], "little")
        if n != self.n or len(state) - head != self._block.nbytes:
            raise KernelError(f"the saved state is of a {n}-cell twin; this twin has {self.n} cells")
        self._block[:] = np.frombuffer(state, dtype=np.float64, offset=head)
        self.initialized = True

    def detect_reset(self):
        """Forget everything the divergence detector has learned (flags, baselines, open runs)."""
        twin_detect_reset(&self.p)

    def detect_run(self, time, current, voltage, temperature=None, balancing=None, records=(), long every=1):
        """Feed samples to the divergence detector in C (GIL released).

        time, current: (m,); voltage, temperature, balancing: (m, cells), temperature NaN where a cell
        has no sensor. records: (value reference, destination (blocks, count)) pairs, filled after
        every `every`-th completed block. Returns (blocks completed, block times of the records).
        """
        cdef long m = len(time), blocks, max_blocks
        cdef twin_record *recs = NULL
        cdef int n_rec = len(records), r
        cdef double *ref
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
        max_blocks = 0
        for vr, dst in records:
            max_blocks = dst.shape[0]
        if n_rec:
            recs = <twin_record *>malloc(n_rec * sizeof(twin_record))
            if recs == NULL:
                raise MemoryError()
        times = np.empty(max(max_blocks, 1))
        try:
            for r in range(n_rec):
                vr, dst = records[r]
                ref = twin_real_ref(&self.p, vr, 0)
                if ref == NULL:
                    raise KernelError(f"cannot record value reference {vr}")
                count = self.n if twin_real_ref(&self.p, vr, 1) == ref + 1 and self.n > 1 else 1
                if not (dst.dtype == np.float64 and dst.flags.c_contiguous and dst.size == dst.shape[0] * count):
                    raise KernelError(f"record buffer for value reference {vr} must be C-contiguous float64 (blocks, {count})")
                recs[r].src = ref
                recs[r].count = count
                recs[r].dst = <double *>cnp.PyArray_DATA(dst)
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
