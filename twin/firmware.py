"""BMS firmware for ``twin validate``: three ways to plug it in, named the way the command takes them.

=========================  =====================================================================
``--firmware``             what it is
=========================  =====================================================================
``my_bms.so`` (.dylib)     a C shared library built against ``twin/include/twin_firmware.h``
``my_bms.c``               one C file with that ABI; twin compiles it with the system compiler
``pkg.module:factory``     a Python callable (also ``path/to/file.py:factory``)
``my_bms.fmu``             an FMI 2.0 or 3.0 co-simulation FMU, run beside the twin's FMU in FMPy
=========================  =====================================================================

The Python form: ``factory(n_cells)`` is called once per scenario and returns the controller, a
callable taking ``Readings`` each control period and returning a ``Decision`` (or a dict with the
same keys). A class whose ``__init__(self, n_cells)`` and ``__call__(self, readings)`` fit works as
is. An optional ``period`` attribute (s) on the controller sets its control period, ``name`` its
label in reports.

A firmware that cannot be found, loaded or compiled is bad input (``FirmwareError``, exit status 2).
A firmware that misbehaves while running (raises, crashes, hangs, returns the wrong number of
decisions or a NaN) fails its scenario: that is what validation is for.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import FirmwareError

ABI_VERSION = 1
LIBRARY_SUFFIXES = (".so", ".dylib", ".dll")
FIRMWARE_CFLAGS = ["-shared", "-fPIC", "-O2", "-std=c99", "-Wall"]


def include_dir() -> Path:
    """The directory holding twin_firmware.h (give it to your compiler with -I)."""
    return Path(__file__).resolve().parent / "include"


# --- what a Python firmware reads and returns ------------------------------------------------------

@dataclass
class Readings:
    """What the BMS reads at one control instant (arrays are the firmware's own copies).

    time, dt: s; cell_voltage: V per cell; cell_temperature: degC per cell, NaN for a cell without
    a sensor; pack_current: A, positive charging; pack_voltage: V."""

    time: float
    dt: float
    cell_voltage: np.ndarray
    cell_temperature: np.ndarray
    pack_current: float
    pack_voltage: float

    @property
    def n_cells(self) -> int:
        return len(self.cell_voltage)


@dataclass
class Decision:
    """What the BMS decides: balance per cell (+1 take charge from it, -1 give, 0 off), whether
    charging and discharging are allowed, and the CVL (V), CCL and DCL (A) for the inverter."""

    balance: object
    charge_enable: bool
    discharge_enable: bool
    cvl: float
    ccl: float
    dcl: float


DECISION_FIELDS = ("balance", "charge_enable", "discharge_enable", "cvl", "ccl", "dcl")


class FirmwareFault(Exception):
    """The firmware misbehaved while running (not bad input: a validation finding)."""


# --- the three kinds --------------------------------------------------------------------------------

@dataclass
class Firmware:
    """A firmware named on the command line; opened inside the process that runs a scenario."""

    text: str
    kind: str          # "c", "python" or "fmu"
    path: Path | None = None
    attribute: str = ""
    compiled_from: Path | None = None
    options: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.kind == "python":
            return self.text
        return Path(self.compiled_from or self.path).name

    @classmethod
    def from_callable(cls, factory, label: str | None = None) -> "Firmware":
        """A Python firmware given as the factory itself (a class or function), from the API."""
        if not callable(factory):
            raise FirmwareError(f"firmware {factory!r} is not callable: give a class or function taking n_cells")
        name = label or getattr(factory, "__qualname__", None) or type(factory).__name__
        return cls(name, "python", None, name, options={"factory": factory})


def parse_firmware(text: str, build_dir: Path | None = None, cc: str | None = None) -> Firmware:
    """A Firmware from what --firmware says; compiles a .c file (into build_dir). Checks that the
    file or module exists, so that a typo is bad input before any scenario runs."""
    text = str(text).strip()
    if not text:
        raise FirmwareError("--firmware is empty; give a .so/.c file, a module:function or an .fmu")
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix in LIBRARY_SUFFIXES or suffix in (".c", ".fmu"):
        if not path.is_file():
            raise FirmwareError(f"firmware {text}: no such file")
        if suffix == ".fmu":
            return Firmware(text, "fmu", path.resolve())
        if suffix == ".c":
            return Firmware(text, "c", compile_firmware(path, build_dir, cc), compiled_from=path.resolve())
        return Firmware(text, "c", path.resolve())
    module, sep, attribute = text.rpartition(":")
    if not sep or not module or not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", attribute):
        raise FirmwareError(f"firmware {text!r}: give a shared library (.so), a C file (.c), an FMU (.fmu) or a "
                            "Python callable as module:function (or path/to/file.py:function)")
    if module.endswith(".py"):
        if not Path(module).is_file():
            raise FirmwareError(f"firmware {text}: no such file {module}")
        return Firmware(text, "python", Path(module).resolve(), attribute)
    if importlib.util.find_spec(module.split(".")[0]) is None:
        raise FirmwareError(f"firmware {text}: no Python module {module.split('.')[0]!r} on the path "
                            f"(run from its directory, set PYTHONPATH, or name the file: path/to/{module}.py:{attribute})")
    return Firmware(text, "python", None, attribute, options={"module": module})


def compile_firmware(source: Path, build_dir: Path | None = None, cc: str | None = None) -> Path:
    """Compile one C file against twin_firmware.h into a shared library (cached by content)."""
    from .fmu_build import find_compiler

    try:
        compiler = find_compiler(cc)
    except Exception as e:  # FmuError: no compiler
        raise FirmwareError(f"cannot compile {source}: {e}") from None
    source = Path(source).resolve()
    digest = hashlib.sha256(source.read_bytes() + (include_dir() / "twin_firmware.h").read_bytes()
                            + " ".join([compiler, *FIRMWARE_CFLAGS]).encode()).hexdigest()[:16]
    build_dir = Path(build_dir) if build_dir is not None else Path(tempfile.gettempdir()) / f"twin-firmware-{os.getuid() if hasattr(os, 'getuid') else 0}"
    build_dir.mkdir(parents=True, exist_ok=True)
    target = build_dir / f"{source.stem}-{digest}{'.dll' if sys.platform == 'win32' else '.so'}"
    if target.is_file():
        return target
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    cmd = [compiler, *FIRMWARE_CFLAGS, "-I", str(include_dir()), "-I", str(source.parent), str(source), "-o", str(tmp), "-lm"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as e:
        raise FirmwareError(f"cannot compile {source}: {e}") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        first = next((line for line in lines if "error" in line), lines[0] if lines else "no message")
        raise FirmwareError(f"{source} does not compile against twin_firmware.h ({Path(compiler).name} "
                            f"{' '.join(FIRMWARE_CFLAGS)}): {first.replace(str(source.parent) + '/', '')}")
    os.replace(tmp, target)
    return target


# --- the C ABI through ctypes ----------------------------------------------------------------------

class _Setup(ctypes.Structure):
    """twin_fw_setup (twin/include/twin_firmware.h); tests compare the layout with the C compiler's."""

    _fields_ = [("abi_version", ctypes.c_int), ("n_cells", ctypes.c_int), ("period", ctypes.c_double),
                ("name", ctypes.c_char * 64), ("error", ctypes.c_char * 256)]


class Session:
    """One opened firmware instance for one scenario: attach() it to a twin._core.BmsLoop."""

    period: float
    name: str

    def attach(self, loop) -> None:
        raise NotImplementedError

    def describe_error(self, loop) -> str:
        return ""

    def close(self) -> None:
        pass


class CSession(Session):
    def __init__(self, firmware: Firmware, n_cells: int, period: float):
        try:
            self.lib = ctypes.CDLL(str(firmware.path))
        except OSError as e:
            raise FirmwareError(f"cannot load firmware {firmware.path}: {e}") from None
        functions = {}
        for symbol in ("twin_fw_create", "twin_fw_step", "twin_fw_destroy"):
            try:
                functions[symbol] = getattr(self.lib, symbol)
            except AttributeError:
                raise FirmwareError(f"firmware {firmware.path.name} does not export {symbol}: build it against "
                                    f"twin_firmware.h (see `twin validate --include-dir`)") from None
        self.create = functions["twin_fw_create"]
        self.create.restype, self.create.argtypes = ctypes.c_void_p, [ctypes.POINTER(_Setup)]
        self.destroy = functions["twin_fw_destroy"]
        self.destroy.restype, self.destroy.argtypes = None, [ctypes.c_void_p]
        self.step_address = ctypes.cast(functions["twin_fw_step"], ctypes.c_void_p).value
        setup = _Setup(ABI_VERSION, n_cells, period, b"", b"")
        self.instance = self.create(ctypes.byref(setup))
        self.name = setup.name.decode("utf-8", "replace") or firmware.label
        if not self.instance:
            reason = setup.error.decode("utf-8", "replace") or "no reason given in setup->error"
            raise FirmwareFault(f"twin_fw_create refused {n_cells} cells: {reason}")
        self.period = float(setup.period)

    def attach(self, loop) -> None:
        loop.use_c_firmware(self.step_address, self.instance)

    def describe_error(self, loop) -> str:
        return loop.message

    def close(self) -> None:
        if getattr(self, "instance", None):
            self.destroy(self.instance)
            self.instance = None


def _load_python(firmware: Firmware):
    if "factory" in firmware.options:
        return firmware.options["factory"]
    if firmware.path is not None:
        name = f"twin_firmware_{hashlib.sha1(str(firmware.path).encode()).hexdigest()[:10]}"
        spec = importlib.util.spec_from_file_location(name, firmware.path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, str(firmware.path.parent))
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            raise FirmwareError(f"firmware {firmware.path}: importing it raised {type(e).__name__}: {e}") from None
        finally:
            sys.path.remove(str(firmware.path.parent))
    else:
        try:
            module = importlib.import_module(firmware.options["module"])
        except Exception as e:
            raise FirmwareError(f"firmware {firmware.text}: importing {firmware.options['module']} raised "
                                f"{type(e).__name__}: {e}") from None
    target = module
    for part in firmware.attribute.split("."):
        if not hasattr(target, part):
            raise FirmwareError(f"firmware {firmware.text}: {getattr(target, '__name__', target)!s} has no "
                                f"{part!r}")
        target = getattr(target, part)
    if not callable(target):
        raise FirmwareError(f"firmware {firmware.text}: {firmware.attribute} is not callable")
    return target


class PythonSession(Session):
    def __init__(self, firmware: Firmware, n_cells: int, period: float):
        factory = _load_python(firmware)
        try:
            self.controller = factory(n_cells)
        except Exception as e:
            raise FirmwareFault(f"{firmware.attribute}({n_cells}) raised {type(e).__name__}: {e}") from e
        if not callable(self.controller):
            raise FirmwareFault(f"{firmware.attribute}({n_cells}) returned {type(self.controller).__name__}, "
                                "not a controller: return a callable taking Readings")
        self.n = n_cells
        self.period = float(getattr(self.controller, "period", period))
        self.name = str(getattr(self.controller, "name", firmware.label))
        self.loop = None

    def attach(self, loop) -> None:
        self.loop = loop
        loop.use_python(self._call)

    def _call(self, time, dt, pack_current, pack_voltage):
        loop = self.loop
        readings = Readings(time, dt, loop.cell_voltage.copy(), loop.cell_temperature.copy(), pack_current,
                            pack_voltage)
        decision = self.controller(readings)
        values = decision_values(decision, self.n)
        loop.balance[:] = values[0]
        return values[1:]

    def describe_error(self, loop) -> str:
        error = loop.error
        if error is None:
            return ""
        if isinstance(error, FirmwareFault):
            return str(error)
        return f"raised {type(error).__name__}: {error}{_where(error)}"

    def close(self) -> None:
        close = getattr(self.controller, "close", None)
        if callable(close):
            close()


def _where(error: BaseException) -> str:
    """' (file.py line 12, in f)' for the innermost frame of the firmware's own code."""
    tb, last = error.__traceback__, None
    while tb is not None:
        if "twin" not in Path(tb.tb_frame.f_code.co_filename).parts[-2:-1]:
            last = tb
        tb = tb.tb_next
    if last is None:
        return ""
    return f" ({Path(last.tb_frame.f_code.co_filename).name} line {last.tb_lineno}, in {last.tb_frame.f_code.co_name})"


def decision_values(decision, n: int) -> tuple:
    """(balance array, charge_enable, discharge_enable, cvl, ccl, dcl) from a Decision or a dict;
    FirmwareFault naming what is missing or malformed. Values are not range-checked here: the
    loop's C check does that for every kind of firmware alike."""
    if isinstance(decision, dict):
        missing = [f for f in DECISION_FIELDS if f not in decision]
        get = decision.get
    else:
        missing = [f for f in DECISION_FIELDS if not hasattr(decision, f)]
        get = lambda f: getattr(decision, f)  # noqa: E731
    if decision is None:
        raise FirmwareFault("returned None instead of a Decision")
    if missing:
        raise FirmwareFault(f"returned a {type(decision).__name__} without {', '.join(missing)}")
    try:
        balance = np.asarray(get("balance"), dtype=float)
    except (TypeError, ValueError) as e:
        raise FirmwareFault(f"returned balance decisions that are not numbers ({e})") from None
    if balance.shape != (n,):
        count = balance.size if balance.ndim == 1 else f"an array of shape {balance.shape} of"
        raise FirmwareFault(f"returned {count} balancing decisions for {n} cells")
    out = [balance]
    for name in DECISION_FIELDS[1:]:
        value = get(name)
        try:
            out.append(float(value))
        except (TypeError, ValueError):
            raise FirmwareFault(f"returned {name} = {value!r}, not a number") from None
    return tuple(out)


def open_session(firmware: Firmware, n_cells: int, period: float) -> Session:
    """Open the firmware for one scenario (inside the process that runs it)."""
    if firmware.kind == "c":
        return CSession(firmware, n_cells, period)
    if firmware.kind == "python":
        return PythonSession(firmware, n_cells, period)
    raise FirmwareError(f"firmware {firmware.text}: an FMU runs through twin.firmware_fmu, not a session")


__all__ = ["Firmware", "Readings", "Decision", "FirmwareFault", "parse_firmware", "compile_firmware", "include_dir",
           "open_session", "decision_values"]
