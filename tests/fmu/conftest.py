"""FMUs built once per test session, and FMPy instances of them with their log captured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fmpy import extract, read_model_description
from fmpy.fmi1 import FMICallException
from fmpy.fmi2 import (FMU2Slave, fmi2CallbackAllocateMemoryTYPE, fmi2CallbackFreeMemoryTYPE,
                       fmi2CallbackFunctions, fmi2CallbackLoggerTYPE)
from fmpy.fmi3 import FMU3Slave

from twin.fmu_build import build_fmu

__all__ = ["Built", "Instance", "FMICallException"]


class Built:
    """A built FMU, extracted, with its model description; variables are looked up by spec id
    (FMI 2.0 arrays through their elements group.name[1] .. [N])."""

    def __init__(self, path: Path, directory: Path, version: int, n: int, md):
        self.path, self.directory, self.version, self.n, self.md = path, directory, version, n, md
        self.by_name = {v.name: v for v in md.modelVariables}

    def is_array(self, name: str) -> bool:
        if self.version == 3:
            return bool(self.by_name[name].shape)
        return f"{name}[1]" in self.by_name

    def elements(self, name: str) -> list:
        """The FMI variables that hold name's values: one in FMI 3.0, one per element in FMI 2.0."""
        if self.version == 3 or not self.is_array(name):
            return [self.by_name[name]]
        out, k = [], 1
        while f"{name}[{k}]" in self.by_name:
            out.append(self.by_name[f"{name}[{k}]"])
            k += 1
        return out

    def count(self, name: str) -> int:
        if self.version == 3:
            return int(np.prod(self.by_name[name].shape)) if self.is_array(name) else 1
        return len(self.elements(name))

    def vrs(self, name: str) -> list[int]:
        return [v.valueReference for v in self.elements(name)]

    def type(self, name: str) -> str:
        return self.elements(name)[0].type


def _build(factory, version: int, cells: int | None = None, **kw) -> Built:
    directory = factory.mktemp(f"fmi{version}")
    name = kw.pop("name", "Pack")
    path = build_fmu(directory / f"{name}.fmu", fmi_version=version, cells=cells, **kw).path
    unzipped = Path(extract(str(path), unzipdir=str(directory / "unzipped")))
    md = read_model_description(str(path))
    return Built(path, unzipped, version, cells or 16, md)


@pytest.fixture(scope="session")
def fmu2(tmp_path_factory) -> Built:
    return _build(tmp_path_factory, 2)


@pytest.fixture(scope="session")
def fmu3(tmp_path_factory) -> Built:
    return _build(tmp_path_factory, 3)


@pytest.fixture(scope="session")
def fmu3_4cells(tmp_path_factory) -> Built:
    return _build(tmp_path_factory, 3, cells=4, name="Pack4")


@pytest.fixture(params=[2, 3], ids=["fmi2", "fmi3"])
def built(request) -> Built:
    return request.getfixturevalue(f"fmu{request.param}")


class Instance:
    """One FMPy co-simulation instance with every log message kept in ``log`` (status, text)."""

    def __init__(self, built: Built, name: str = "twin", logging_on: bool = False):
        self.built, self.log, self.time = built, [], 0.0
        cs = built.md.coSimulation
        cls = FMU3Slave if built.version == 3 else FMU2Slave
        self.fmu = cls(guid=built.md.guid, unzipDirectory=str(built.directory), modelIdentifier=cs.modelIdentifier,
                       instanceName=name)
        if built.version == 3:
            self.fmu.instantiate(loggingOn=logging_on, logMessage=self._log3)
        else:
            from fmpy import calloc, free
            from fmpy.logging import addLoggerProxy
            from ctypes import byref

            self._callbacks = fmi2CallbackFunctions()
            self._callbacks.logger = fmi2CallbackLoggerTYPE(self._log2)
            self._callbacks.allocateMemory = fmi2CallbackAllocateMemoryTYPE(calloc)
            self._callbacks.freeMemory = fmi2CallbackFreeMemoryTYPE(free)
            addLoggerProxy(byref(self._callbacks))
            self.fmu.instantiate(callbacks=self._callbacks, loggingOn=logging_on)

    def _log2(self, env, name, status, category, message):
        self.log.append((status, message.decode()))

    def _log3(self, env, status, category, message):
        self.log.append((status, message.decode()))

    @property
    def messages(self) -> str:
        return "\n".join(text for _, text in self.log)

    # --- life cycle -----------------------------------------------------------------------------

    def init(self, start: float = 0.0, **values):
        if self.built.version == 2:
            self.fmu.setupExperiment(startTime=start)
            self.fmu.enterInitializationMode()
        else:
            self.fmu.enterInitializationMode(startTime=start)
        for name, value in values.items():
            self.set(name.replace("__", "."), value)
        self.fmu.exitInitializationMode()
        self.time = start
        return self

    def step(self, h: float):
        self.fmu.doStep(self.time, h)
        self.time += h

    def close(self):
        try:
            self.fmu.terminate()
        except FMICallException:
            pass
        self.fmu.freeInstance()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- values by spec id ----------------------------------------------------------------------

    def _functions(self, kind: str):
        f, v3 = self.fmu, self.built.version == 3
        table = {
            "Real": (f.getReal, f.setReal) if not v3 else None,
            "Integer": (f.getInteger, f.setInteger) if not v3 else None,
            "Enumeration": (f.getInteger, f.setInteger) if not v3 else (f.getInt64, f.setInt64),
            "Boolean": (f.getBoolean, f.setBoolean),
            "Float64": (f.getFloat64, f.setFloat64) if v3 else None,
            "Int32": (f.getInt32, f.setInt32) if v3 else None,
            "UInt64": (f.getUInt64, f.setUInt64) if v3 else None,
        }
        return table[kind]

    def get(self, name: str):
        getter, _ = self._functions(self.built.type(name))
        vrs, count = self.built.vrs(name), self.built.count(name)
        values = getter(vrs, nValues=count) if self.built.version == 3 else getter(vrs)
        return np.array(values, dtype=float) if self.built.is_array(name) else float(values[0])

    def set(self, name: str, value):
        kind = self.built.type(name)
        _, setter = self._functions(kind)
        values = list(np.broadcast_to(np.asarray(value, dtype=float), (self.built.count(name),)))
        if kind in ("Integer", "Int32", "Enumeration", "UInt64"):
            values = [int(v) for v in values]
        elif kind == "Boolean":
            values = [bool(v) for v in values]
        setter(self.built.vrs(name), values)
