"""What a host must not do is refused with an error status and a log line that says why, and
changes nothing; the host never crashes."""

import numpy as np
import pytest

from .conftest import FMICallException, Instance


def _refused(fmu, call, *message):
    fmu.log.clear()
    with pytest.raises(FMICallException) as e:
        call()
    assert e.value.status == 3
    for text in message:
        assert text in fmu.messages, (text, fmu.messages)
    assert all(status == 3 for status, _ in fmu.log)


def test_an_out_of_range_parameter_is_refused_naming_the_variable_and_its_range(built):
    with Instance(built) as fmu:
        vrs = built.vrs("cell.capacity")
        if built.version == 2:
            call = lambda: fmu.fmu.setReal([vrs[2]], [-1.0])  # noqa: E731
        else:
            call = lambda: fmu.fmu.setFloat64(vrs, [280.0] * 2 + [-1.0] + [280.0] * 13)  # noqa: E731
        _refused(fmu, call, "cell.capacity[3] = -1 A.h is outside the allowed range 0.0001 .. 1000000")
        fmu.init()
        capacity = fmu.get("cell.capacity")
        assert np.all(capacity > 270) and len(set(capacity)) == 16  # the refused call changed nothing


def test_nan_is_refused_where_a_number_is_needed_and_means_not_measured_for_measurements(built):
    with Instance(built).init() as fmu:
        _refused(fmu, lambda: fmu.set("pack.current", np.nan), "pack.current is not a number")
        _refused(fmu, lambda: fmu.set("pack.ambient_temperature", np.inf), "pack.ambient_temperature = inf")
        fmu.set("measured.cell_voltage", np.nan)
        fmu.step(1.0)


def test_calls_in_the_wrong_state_are_refused_naming_the_call_and_the_state(built):
    v2 = built.version == 2
    with Instance(built) as fmu:
        step = "fmi2DoStep" if v2 else "fmi3DoStep"
        _refused(fmu, lambda: fmu.fmu.doStep(0.0, 1.0),
                 f"{step}: not allowed in state {'instantiated' if v2 else 'Instantiated'} (allowed in: "
                 f"{'stepComplete' if v2 else 'StepMode'})")
        _refused(fmu, lambda: fmu.get("pack.voltage"), "not allowed in state")
        _refused(fmu, lambda: fmu.fmu.exitInitializationMode(), "ExitInitializationMode: not allowed")
        fmu.init()
        _refused(fmu, lambda: fmu.set("pack.voltage", 50.0), "pack.voltage (value reference 410) is an output")
        _refused(fmu, lambda: fmu.set("cell.initial_soc", 0.2), "is a fixed parameter; it can only be set before")
        _refused(fmu, lambda: fmu.set("cell.soc", 0.2), "is computed by the twin")
        _refused(fmu, lambda: fmu.set("cell.capacity_fade", 0.1), "is a starting state")
        fmu.fmu.terminate()
        _refused(fmu, lambda: fmu.step(1.0), "not allowed in state")
        assert fmu.get("pack.soc") > 0  # values stay readable after terminate


def test_wrong_types_unknown_references_and_wrong_counts_are_refused(built):
    v2 = built.version == 2
    with Instance(built).init() as fmu:
        vr = built.vrs("cell.voltage")[0]
        if v2:
            _refused(fmu, lambda: fmu.fmu.getInteger([vr]), "cell.voltage[1] (value reference 17039360) is of type "
                     "Real; use fmi2GetReal")
            _refused(fmu, lambda: fmu.fmu.getReal([260]), "value reference 260 is cell.voltage, an array; FMI 2.0 "
                     "reaches its elements")
            _refused(fmu, lambda: fmu.fmu.getReal([(260 << 16) + 16]), "no variable has value reference 17039376")
        else:
            _refused(fmu, lambda: fmu.fmu.getInt32([vr], nValues=16), "cell.voltage (value reference 260) is of "
                     "type Float64; use fmi3GetFloat64")
            _refused(fmu, lambda: fmu.fmu.getFloat64([260, 410], nValues=16),
                     "the value references stand for 17 values", "but nValues is 16")
            _refused(fmu, lambda: fmu.fmu.getFloat32([410]), "pack.voltage (value reference 410) is of type Float64")
            _refused(fmu, lambda: fmu.fmu.getFloat64([999999]), "no variable has value reference 999999")


def test_the_cell_count_is_fixed_by_the_build(built):
    with Instance(built) as fmu:
        if built.version == 3:
            _refused(fmu, lambda: fmu.set("pack.cells_in_series", 8), "is a structural parameter; set it in "
                     "ConfigurationMode")
            fmu.fmu.enterConfigurationMode()
            _refused(fmu, lambda: fmu.set("pack.cells_in_series", 8), "pack.cells_in_series = 8: this FMU was built "
                     "with 16")
            fmu.set("pack.cells_in_series", 16)
            fmu.fmu.exitConfigurationMode()
        else:
            _refused(fmu, lambda: fmu.set("pack.cells_in_series", 8), "this FMU was built with 16")
        fmu.init()
        assert fmu.get("pack.cells_in_series") == 16


def test_inconsistent_parameters_are_refused_when_the_twin_starts_and_can_be_fixed(built):
    with Instance(built) as fmu:
        fmu.fmu.setupExperiment() if built.version == 2 else None
        fmu.fmu.enterInitializationMode()
        fmu.set("protection.cell_overvoltage_release", 3.7)
        _refused(fmu, fmu.fmu.exitInitializationMode,
                 "protection.cell_overvoltage_release (3.7 V) must be below protection.cell_overvoltage (3.65 V)")
        fmu.set("protection.cell_overvoltage_release", 3.4)
        fmu.fmu.exitInitializationMode()
        fmu.step(1.0)


def test_inconsistent_tunable_parameters_are_refused_at_the_next_step(built):
    with Instance(built).init() as fmu:
        fmu.set("balancer.stop_delta", 0.5)
        _refused(fmu, lambda: fmu.fmu.doStep(0.0, 1.0), "balancer.stop_delta (0.5 V) must not exceed balancer.start_delta")


def test_a_model_description_of_another_build_is_refused(built):
    from fmpy.fmi2 import FMU2Slave
    from fmpy.fmi3 import FMU3Slave

    cls = FMU2Slave if built.version == 2 else FMU3Slave
    fmu = cls(guid="{00000000-0000-0000-0000-000000000000}", unzipDirectory=str(built.directory),
              modelIdentifier=built.md.coSimulation.modelIdentifier)
    log = []
    with pytest.raises(Exception, match="instantiate"):
        if built.version == 3:
            fmu.instantiate(logMessage=lambda env, status, cat, msg: log.append(msg.decode()))
        else:
            from ctypes import byref

            from fmpy import calloc, free
            from fmpy.fmi2 import (fmi2CallbackAllocateMemoryTYPE, fmi2CallbackFreeMemoryTYPE, fmi2CallbackFunctions,
                                   fmi2CallbackLoggerTYPE)
            from fmpy.logging import addLoggerProxy

            cb = fmi2CallbackFunctions()
            cb.logger = fmi2CallbackLoggerTYPE(lambda env, name, status, cat, msg: log.append(msg.decode()))
            cb.allocateMemory = fmi2CallbackAllocateMemoryTYPE(calloc)
            cb.freeMemory = fmi2CallbackFreeMemoryTYPE(free)
            addLoggerProxy(byref(cb))
            fmu.instantiate(callbacks=cb)
    assert any("instantiation token" in m and "different builds" in m for m in log), log
    fmu.freeLibrary()


def test_debug_logging_reports_the_life_of_the_fmu(built):
    with Instance(built, logging_on=True).init() as fmu:
        assert "16 cells" in fmu.messages and "initialized at t = 0 s, internal step 1 s" in fmu.messages
    with Instance(built).init() as quiet:
        assert quiet.log == []
