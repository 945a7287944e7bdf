"""A BMS firmware as an FMU, co-simulated with the twin's FMU in FMPy (``twin validate --firmware x.fmu``).

The master steps both FMUs the way the C loop steps the kernel (twin.validate_run, csrc/firmware.c):
at each control instant the firmware FMU gets the twin FMU's readings of ``sensor_delay`` ago and
is stepped over one control period; its outputs (balancing, enables, CVL/CCL/DCL) are checked by
the same C function, the inverter current comes from the same C function, and the twin FMU
steps once per twin step. The twin FMU is built from the scenario's parameter set (faults baked
in) before the suite runs, once per distinct parameter set.

A firmware FMU (FMI 2.0 or 3.0, co-simulation) names its variables as twin_firmware.h does:
inputs ``cell_voltage``, ``cell_temperature`` (N each: an FMI 3.0 array or ``name[1]`` ..
``name[N]``), ``pack_current``, ``pack_voltage``; outputs ``balance`` (N), ``charge_enable``,
``discharge_enable``, ``cvl``, ``ccl``, ``dcl`` (Real, Integer or Boolean as it likes).
``build_firmware_fmu`` wraps a C firmware built against twin_firmware.h into such an FMU (FMI 2.0).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import shutil
import subprocess
import tempfile
import time as _time
import uuid
import zipfile
from pathlib import Path

import numpy as np

from .errors import FirmwareError
from .firmware import Firmware, FirmwareFault, include_dir

FMU_INPUTS = ("cell_voltage", "cell_temperature", "pack_current", "pack_voltage")
FMU_OUTPUTS = ("balance", "charge_enable", "discharge_enable", "cvl", "ccl", "dcl")
PER_CELL = ("cell_voltage", "cell_temperature", "balance")


# --- building a firmware FMU from C ----------------------------------------------------------------------

def _description(model_id: str, guid: str, n: int, name: str) -> str:
    rows, k = [], 0
    outputs = []

    def var(label, vr, causality, kind, start=None):
        nonlocal k
        k += 1
        init = ' initial="calculated"' if causality == "output" else ""
        var_kind = "continuous" if kind == "Real" else "discrete"
        value = f'<{kind} start="{start}"/>' if start is not None else f"<{kind}/>"
        rows.append(f'    <ScalarVariable name="{label}" valueReference="{vr}" causality="{causality}" '
                    f'variability="{var_kind}"{init}>{value}</ScalarVariable>')
        if causality == "output":
            outputs.append(k)

    for i in range(n):
        var(f"cell_voltage[{i + 1}]", i, "input", "Real", 3.3)
    for i in range(n):
        var(f"cell_temperature[{i + 1}]", n + i, "input", "Real", 25.0)
    var("pack_current", 2 * n, "input", "Real", 0.0)
    var("pack_voltage", 2 * n + 1, "input", "Real", 3.3 * n)
    for j, label in enumerate(("cvl", "ccl", "dcl")):
        var(label, 2 * n + 2 + j, "output", "Real")
    for i in range(n):
        var(f"balance[{i + 1}]", i, "output", "Integer")
    var("charge_enable", n, "output", "Integer")
    var("discharge_enable", n + 1, "output", "Integer")
    unknowns = "\n".join(f'      <Unknown index="{i}"/>' for i in outputs)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<fmiModelDescription fmiVersion="2.0" modelName="{name}" '
            f'guid="{guid}" generationTool="twin.firmware_fmu" variableNamingConvention="structured" '
            f'numberOfEventIndicators="0">\n  <CoSimulation modelIdentifier="{model_id}" '
            f'canHandleVariableCommunicationStepSize="true"/>\n  <ModelVariables>\n' + "\n".join(rows)
            + f"\n  </ModelVariables>\n  <ModelStructure>\n    <Outputs>\n{unknowns}\n    </Outputs>\n"
            f"    <InitialUnknowns>\n{unknowns}\n    </InitialUnknowns>\n  </ModelStructure>\n</fmiModelDescription>\n")


def build_firmware_fmu(sources, n_cells: int, output, cc: str | None = None) -> Path:
    """An FMI 2.0 co-simulation FMU of a C firmware built against twin_firmware.h (sources: one file
    or a list), for N = n_cells cells; the firmware's own files stay in sources/."""
    import fmpy

    from .fmu_build import find_compiler, fmi_headers_dir

    files = [Path(s).resolve() for s in ([sources] if isinstance(sources, (str, Path)) else sources)]
    for f in files:
        if not f.is_file():
            raise FirmwareError(f"firmware source {f}: no such file")
    output = Path(output)
    model_id = "".join(ch if ch.isalnum() else "_" for ch in output.stem) or "firmware"
    guid = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(str(f) for f in files) + f"|{n_cells}")) + "}"
    compiler = find_compiler(cc)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fmu"
        binary = root / "binaries" / fmpy.platform / (model_id + fmpy.sharedLibraryExtension)
        binary.parent.mkdir(parents=True)
        (root / "sources").mkdir()
        for f in files:
            shutil.copy2(f, root / "sources" / f.name)
        shutil.copy2(include_dir() / "twin_firmware.h", root / "sources")
        shutil.copy2(include_dir() / "twin_firmware_fmi2.c", root / "sources")
        cmd = [compiler, "-shared", "-fPIC", "-O2", "-std=c99", "-Wall", f"-DTWIN_FW_CELLS={n_cells}",
               f'-DTWIN_FW_GUID="{guid}"', "-I", str(include_dir()), "-I", str(fmi_headers_dir()),
               *[x for f in files for x in ("-I", str(f.parent))],
               *[str(f) for f in files], str(include_dir() / "twin_firmware_fmi2.c"), "-o", str(binary), "-lm"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            first = next((line for line in done.stderr.splitlines() if "error" in line), done.stderr[:300])
            raise FirmwareError(f"cannot build a firmware FMU from {', '.join(f.name for f in files)}: {first}")
        (root / "modelDescription.xml").write_text(_description(model_id, guid, n_cells, files[0].stem), encoding="utf-8")
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as z:
            for p in sorted(root.rglob("*")):
                if p.is_file():
                    z.write(p, p.relative_to(root).as_posix())
    return output


# --- the twin FMUs of a suite -----------------------------------------------------------------------------

def _params_key(params) -> str:
    mapping = params.to_mapping()
    return hashlib.sha256(json.dumps(mapping, sort_keys=True, default=str).encode()).hexdigest()[:16]


def prepare_fmu_suite(firmwares, suite, build_dir=None) -> None:
    """Build (or reuse) the twin FMU of every scenario's parameter set; sets scenario.twin_fmu."""
    from .fmu_build import build_fmu

    directory = Path(build_dir) if build_dir is not None else Path(tempfile.gettempdir()) / "twin-validate-fmus"
    directory.mkdir(parents=True, exist_ok=True)
    for s in suite:
        params = s.loop_params()
        target = directory / f"twin_{_params_key(params)}.fmu"
        if not target.is_file():
            build_fmu(target, fmi_version=2, params=params)
        s.twin_fmu = target


# --- FMPy instances ------------------------------------------------------------------------------------

class _Fmu:
    """One FMPy co-simulation instance with its log kept; variables looked up by name."""

    def __init__(self, path: Path, label: str):
        from fmpy import extract, read_model_description

        try:
            self.md = read_model_description(str(path))
        except Exception as e:  # FMPy raises many kinds for a broken file
            raise FirmwareError(f"{label} {path}: not a readable FMU ({e})") from None
        if self.md.coSimulation is None:
            raise FirmwareError(f"{label} {path}: not a co-simulation FMU (FMI model exchange is not supported)")
        self.version = int(self.md.fmiVersion[0])
        self.by_name = {v.name: v for v in self.md.modelVariables}
        self.log = []
        self.directory = extract(str(path))
        self.label = label

    def instantiate(self, name="instance"):
        from fmpy.fmi2 import (FMU2Slave, fmi2CallbackAllocateMemoryTYPE, fmi2CallbackFreeMemoryTYPE,
                               fmi2CallbackFunctions, fmi2CallbackLoggerTYPE)
        from fmpy.fmi3 import FMU3Slave

        cs = self.md.coSimulation
        if self.version == 3:
            self.fmu = FMU3Slave(guid=self.md.guid, unzipDirectory=self.directory, modelIdentifier=cs.modelIdentifier,
                                 instanceName=name)
            self.fmu.instantiate(loggingOn=True, logMessage=lambda env, status, cat, msg: self.log.append(msg.decode()))
        else:
            from fmpy import calloc, free
            from fmpy.logging import addLoggerProxy

            self.fmu = FMU2Slave(guid=self.md.guid, unzipDirectory=self.directory, modelIdentifier=cs.modelIdentifier,
                                 instanceName=name)
            cb = fmi2CallbackFunctions()
            cb.logger = fmi2CallbackLoggerTYPE(lambda env, inst, status, cat, msg: self.log.append(msg.decode()))
            cb.allocateMemory = fmi2CallbackAllocateMemoryTYPE(calloc)
            cb.freeMemory = fmi2CallbackFreeMemoryTYPE(free)
            addLoggerProxy(ctypes.byref(cb))
            self._callbacks = cb
            self.fmu.instantiate(callbacks=cb, loggingOn=True)

    def init(self):
        if self.version == 2:
            self.fmu.setupExperiment(startTime=0.0)
            self.fmu.enterInitializationMode()
        else:
            self.fmu.enterInitializationMode(startTime=0.0)
        self.fmu.exitInitializationMode()

    def elements(self, name: str, n: int) -> list:
        """The variables holding name's n values (an FMI 3.0 array, or name[1] .. name[n]), or []."""
        if name in self.by_name:
            return [self.by_name[name]]
        found = [self.by_name.get(f"{name}[{k}]") for k in range(1, n + 1)]
        return found if all(found) and f"{name}[{n + 1}]" not in self.by_name else []

    def close(self):
        try:
            self.fmu.terminate()
        except Exception:
            pass
        try:
            self.fmu.freeInstance()
        except Exception:
            pass


class _Accessor:
    """Fast get/set of a group of variables of one type."""

    def __init__(self, fmu: _Fmu, variables: list, counts: list):
        self.fmu, self.vars, self.counts = fmu, variables, counts
        self.vrs = [v.valueReference for v in variables]
        self.kind = variables[0].type if variables else "Real"
        self.total = sum(counts)

    def get(self) -> np.ndarray:
        f = self.fmu.fmu
        if self.fmu.version == 2:
            getter = {"Real": f.getReal, "Integer": f.getInteger, "Boolean": f.getBoolean,
                      "Enumeration": f.getInteger}[self.kind]
            return np.array(getter(self.vrs), dtype=float)
        getter = {"Float64": f.getFloat64, "Float32": f.getFloat32, "Int32": f.getInt32, "Int64": f.getInt64,
                  "Int8": f.getInt8, "Int16": f.getInt16, "Boolean": f.getBoolean, "Enumeration": f.getInt64}[self.kind]
        return np.array(getter(self.vrs, nValues=self.total), dtype=float)

    def set(self, values) -> None:
        f = self.fmu.fmu
        values = [float(x) for x in np.ravel(values)]
        if self.fmu.version == 2:
            if self.kind == "Real":
                f.setReal(self.vrs, values)
            else:
                f.setInteger(self.vrs, [int(x) for x in values])
            return
        if self.kind == "Float64":
            f.setFloat64(self.vrs, values)
        else:
            f.setInt32(self.vrs, [int(x) for x in values])


def _group(fmu: _Fmu, names, n: int, what: str) -> dict:
    out = {}
    for name in names:
        count = n if name in PER_CELL else 1
        found = fmu.elements(name, count) if count > 1 else ([fmu.by_name[name]] if name in fmu.by_name else [])
        if not found:
            present = sorted(v for v in fmu.by_name if v.split("[")[0] == name)
            if present:
                raise FirmwareFault(f"the firmware FMU has {len(present)} values of {name!r}; the pack has {n} cells")
            raise FirmwareError(f"{what} has no variable {name!r} (twin looks for {', '.join(FMU_INPUTS + FMU_OUTPUTS)}; "
                                "docs/validation.md)")
        if fmu.version == 3 and len(found) == 1 and count > 1:
            dims = found[0].dimensions
            size = int(np.prod([d.start if d.start is not None else 0 for d in dims])) if dims else 1
            if dims and size and size != n:
                raise FirmwareFault(f"the firmware FMU's {name!r} has {size} values; the pack has {n} cells")
        out[name] = _Accessor(fmu, found, [count if len(found) == 1 else 1] * len(found))
    return out


# --- the co-simulation --------------------------------------------------------------------------------

TWIN_READ = ("cell.voltage", "cell.voltage_measured", "cell.temperature", "cell.temperature_measured",
             "balancer.bleed_current", "balancer.transfer_current", "cell.soc")
TWIN_SCALARS = ("pack.applied_current", "pack.current_measured", "pack.voltage", "pack.max_cell_voltage",
                "pack.min_cell_voltage", "pack.max_temperature", "pack.min_temperature", "balancer.energy_dissipated",
                "pack.soc_spread", "pack.ambient_temperature")


def _first_max(x: np.ndarray) -> tuple[float, float]:
    """(max, index of its first occurrence) skipping NaN, like csrc/firmware.c; (NaN, -1) for none."""
    ok = ~np.isnan(x)
    if not ok.any():
        return np.nan, -1.0
    k = int(np.argmax(np.where(ok, x, -np.inf)))
    return float(x[k]), float(k)


def run_fmu_scenario(firmware: Firmware, scenario, limits, pack, period, progress_address=0):
    """The scenario with the firmware FMU and the twin FMU in FMPy (see the module docstring)."""
    from fmpy.fmi1 import FMICallException

    from ._core import MONITOR_NAMES, bms_check_decisions, bms_inverter_current
    from .validate_checks import FAST, SLOW, Monitor
    from .validate_protection import fmt_time
    from .validate_run import SLOW_POINTS, STOP_HIGH, STOP_LOW, ScenarioRun, _fault_result, charger_resistance, \
        context_for, firmware_failure

    started = _time.perf_counter()
    n, dt = pack.n, scenario.step
    if getattr(scenario, "twin_fmu", None) is None:
        prepare_fmu_suite([firmware], [scenario])
    progress = ctypes.c_double.from_address(progress_address) if progress_address else None
    run = ScenarioRun(scenario.name, scenario.description, firmware.text, firmware.label, period or dt)
    fw = _Fmu(firmware.path, "firmware FMU")
    twin = _Fmu(scenario.twin_fmu, "twin FMU")
    period_steps = max(1, int(round((period or max(1.0, dt)) / dt)))
    run.period = period_steps * dt
    ctx = context_for(scenario, pack, run.period)
    monitor = Monitor(limits, ctx)
    try:
        fw.instantiate("firmware")
    except FMICallException:
        run.results = monitor.results(firmware_failure("the firmware FMU did not instantiate: " +
                                                       ("; ".join(fw.log) or "no message"), 0.0))
        return run
    twin.instantiate("twin")
    try:
        try:
            fw_in = _group(fw, FMU_INPUTS, n, "the firmware FMU")
            fw_out = _group(fw, FMU_OUTPUTS, n, "the firmware FMU")
        except FirmwareFault as e:
            run.results = monitor.results(firmware_failure(f"the firmware did not start: {e}", 0.0))
            return run
        fw.init()
        twin.init()
        tw_cells = {k: _Accessor(twin, twin.elements(k, n), [1] * n) for k in TWIN_READ}
        tw_scalars = _Accessor(twin, [twin.by_name[k] for k in TWIN_SCALARS], [1] * len(TWIN_SCALARS))
        tw_current = _Accessor(twin, [twin.by_name["pack.current"]], [1])
        tw_ambient = _Accessor(twin, [twin.by_name["pack.ambient_temperature"]], [1])
        tw_command = _Accessor(twin, twin.elements("balancer.command", n), [1] * n)
        request, ambient = scenario.drive()
        total = len(request)
        monitor.plan(total)
        slow_every = max(1, total // SLOW_POINTS)
        delay = int(round(scenario.sensor_delay / dt))
        r_charger = charger_resistance(pack.params, n)
        tau = float(pack["cell.heat_capacity"]) * float(pack["cell.thermal_resistance_ambient"])
        decay = np.exp(-dt / tau)

        def readings():
            cells = {k: a.get() for k, a in tw_cells.items()}
            return cells, dict(zip(TWIN_SCALARS, tw_scalars.get()))

        cells, scalars = readings()
        ring = [(cells["cell.voltage_measured"], cells["cell.temperature_measured"], scalars["pack.current_measured"],
                 scalars["pack.voltage"])] * (delay + 1)
        ambient_cell = float(np.mean(cells["cell.temperature"]))
        decision = (np.zeros(n), 0.0, 0.0, 0.0, 0.0, 0.0)
        chunk = {k: [] for k in FAST}
        slow = {k: [] for k in SLOW}
        slow_t, ended, countdown, t = [], None, 0, 0.0
        for k in range(total):
            if countdown <= 0:
                v, temp, i_meas, v_pack = ring[0]
                fw_in["cell_voltage"].set(v)
                fw_in["cell_temperature"].set(temp)
                fw_in["pack_current"].set([i_meas])
                fw_in["pack_voltage"].set([v_pack])
                if progress is not None:
                    progress.value = t
                try:
                    fw.fmu.doStep(currentCommunicationPoint=t, communicationStepSize=period_steps * dt)
                except FMICallException as e:
                    ended = firmware_failure(f"the firmware FMU's doStep failed ({e}) at {fmt_time(t)}: "
                                             + ("; ".join(fw.log[-3:]) or "no message"), t)
                    break
                decision = tuple([fw_out["balance"].get()] + [float(fw_out[k].get()[0]) for k in FMU_OUTPUTS[1:]])
                bad = bms_check_decisions(*decision)
                if bad is not None:
                    ended = _fault_result((bad[0], bad[1], bad[2], t, 0), None, None)
                    break
                tw_command.set(decision[0])
                countdown = period_steps
            current = bms_inverter_current(*decision[1:], request[k], scalars["pack.voltage"],
                                           scalars["pack.applied_current"], scenario.obey_limits, r_charger)
            tw_current.set([current])
            tw_ambient.set([ambient[k]])
            twin.fmu.doStep(currentCommunicationPoint=t, communicationStepSize=dt)
            t = (k + 1) * dt
            countdown -= 1
            cells, scalars = readings()
            ring = ring[1:] + [(cells["cell.voltage_measured"], cells["cell.temperature_measured"],
                                scalars["pack.current_measured"], scalars["pack.voltage"])]
            ambient_cell = ambient[k] + (ambient_cell - ambient[k]) * decay
            m = dict.fromkeys(MONITOR_NAMES, 0.0)
            m["request"] = request[k]
            m["vmax"], m["vmax_cell"] = _first_max(cells["cell.voltage"])
            vmin, m["vmin_cell"] = _first_max(-cells["cell.voltage"])
            m["vmin"] = -vmin
            m["read_vmax_cell"] = _first_max(cells["cell.voltage_measured"])[1]
            m["read_vmin_cell"] = _first_max(-cells["cell.voltage_measured"])[1]
            m["tmax"], m["tmax_cell"] = _first_max(cells["cell.temperature"])
            m["tmin"] = -_first_max(-cells["cell.temperature"])[0]
            m["read_tmax_cell"] = _first_max(cells["cell.temperature_measured"])[1]
            m["read_tmin_cell"] = _first_max(-cells["cell.temperature_measured"])[1]
            m["bleed_max"], m["bleed_max_cell"] = _first_max(cells["balancer.bleed_current"])
            m["transfer_max"] = float(np.max(np.abs(cells["balancer.transfer_current"])))
            cmd = decision[0]
            m["commanded"] = float(np.count_nonzero(cmd))
            pairs = np.flatnonzero((cmd[:-1] == 1.0) & (cmd[1:] == 1.0))
            m["adjacent"] = float(pairs[0]) if pairs.size else -1.0
            m["ambient_cell"] = ambient_cell
            names = dict(zip(("charge_enable", "discharge_enable", "cvl", "ccl", "dcl"), decision[1:]))
            for key, source in FAST.items():
                group, _, name = source.partition(".")
                chunk[key].append(m[name] if group == "monitor" else names[name] if group == "fw" else scalars[source])
            if (k + 1) % slow_every == 0:
                slow_t.append(t)
                slow["cell_voltage"].append(cells["cell.voltage"])
                slow["cell_voltage_measured"].append(cells["cell.voltage_measured"])
                slow["temperature"].append(cells["cell.temperature"])
                slow["balance"].append(cmd)
                slow["soc"].append(cells["cell.soc"])
            vmax, vmin = m["vmax"], m["vmin"]
            stop = None
            if not vmax <= STOP_HIGH:
                stop = ("cell_high", int(m["vmax_cell"]), vmax)
            elif not vmin >= STOP_LOW:
                stop = ("cell_low", int(m["vmin_cell"]), vmin)
            if len(chunk["request"]) >= 3600 or stop is not None or k == total - 1:
                first = k + 2 - len(chunk["request"])
                monitor.feed({**{key: np.array(v, dtype=float) for key, v in chunk.items()},
                              "time": (first + np.arange(len(chunk["request"]))) * dt})
                chunk = {key: [] for key in FAST}
            if stop is not None:
                ended = _fault_result((stop[0], stop[1], stop[2], t, 0), None, None)
                break
        if chunk["request"]:
            first = int(round(t / dt)) + 1 - len(chunk["request"])
            monitor.feed({**{key: np.array(v, dtype=float) for key, v in chunk.items()},
                          "time": (first + np.arange(len(chunk["request"]))) * dt})
        if slow_t:
            monitor.feed_cells(np.array(slow_t), {key: np.array(v) for key, v in slow.items()})
        run.results = monitor.results(ended)
        run.figures = monitor.figures_dict()
        run.plot = monitor.plot_data()
        run.steps = int(round(t / dt))
        run.firmware_name = fw.md.modelName
    finally:
        fw.close()
        twin.close()
    run.wall_s = _time.perf_counter() - started
    return run


__all__ = ["build_firmware_fmu", "prepare_fmu_suite", "run_fmu_scenario"]
