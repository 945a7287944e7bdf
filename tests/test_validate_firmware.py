"""Firmware plug-ins for `twin validate`: the C ABI, Python callables, and firmware that misbehaves
(crashes, hangs, wrong-length outputs, NaN) reported as a failure of the firmware, not of twin."""

import ctypes
import functools
import subprocess
from pathlib import Path

import numpy as np
import pytest

from twin.errors import FirmwareError
from twin.firmware import Decision, Firmware, _Setup, include_dir, parse_firmware
from twin.validate import validate
from twin.validate_limits import Limits
from twin.validate_run import run_scenario
from twin.validate_scenarios import from_mapping

from .conftest import ROOT

EXAMPLES = ROOT / "examples" / "firmware"
LIMITS = Limits.from_mapping({
    "cells": {"max_voltage": "3.8 V", "min_voltage": "2.5 V"},
    "protection": {"cell_overvoltage": {"limit": "3.65 V", "release": "3.40 V", "delay": "2 s"},
                   "cell_undervoltage": {"limit": "2.50 V", "release": "3.10 V", "delay": "2 s"}},
    "charge_limits": {"max_cvl_per_cell": "3.55 V"},
}, "test limits")


def scenario(minutes=10, **data):
    base = {"name": "short", "drive": [{"charge": "0.1C", "for": f"{minutes} min"}]}
    return from_mapping({**base, **data}, Path("short.toml"))


def firmware_source(tmp_path, body: str, create: str = "static int dummy; return &dummy;") -> Firmware:
    """A small C firmware: body runs in twin_fw_step after safe decisions are filled in."""
    src = tmp_path / "fw.c"
    src.write_text(f"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "twin_firmware.h"
void *twin_fw_create(twin_fw_setup *setup) {{ (void)setup; {create} }}
void twin_fw_destroy(void *fw) {{ (void)fw; }}
int twin_fw_step(void *fw, const twin_fw_inputs *in, twin_fw_outputs *out) {{
    (void)fw;
    for (int i = 0; i < in->n_cells; ++i) out->balance[i] = 0;
    out->charge_enable = 1; out->discharge_enable = 1;
    out->cvl = 3.5 * in->n_cells; out->ccl = 28.0; out->dcl = 28.0;
    {body}
    return 0;
}}
""")
    return parse_firmware(str(src), build_dir=tmp_path / "build")


def firmware_result(validation):
    run = validation.runs[0]
    return next(c for c in run.results if c.id == "firmware.runs"), run


def test_the_shipped_header_and_ctypes_agree_on_the_setup_layout(tmp_path):
    prog = tmp_path / "layout.c"
    prog.write_text('#include <stdio.h>\n#include <stddef.h>\n#include "twin_firmware.h"\nint main(void) {\n'
                    'printf("%zu %zu %zu %zu %zu %zu\\n", sizeof(twin_fw_setup), offsetof(twin_fw_setup, n_cells),\n'
                    'offsetof(twin_fw_setup, period), offsetof(twin_fw_setup, name), offsetof(twin_fw_setup, error),\n'
                    'offsetof(twin_fw_setup, abi_version)); return 0; }\n')
    subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", "-I", str(include_dir()), str(prog), "-o", str(tmp_path / "a")],
                   check=True)
    got = subprocess.run([str(tmp_path / "a")], capture_output=True, text=True, check=True).stdout.split()
    expected = [ctypes.sizeof(_Setup), _Setup.n_cells.offset, _Setup.period.offset, _Setup.name.offset,
                _Setup.error.offset, _Setup.abi_version.offset]
    assert [int(x) for x in got] == expected


def test_the_examples_compile_warning_free_against_the_header(tmp_path):
    for name in ("voltage_delta.c", "flawed_ov_delay.c"):
        subprocess.run(["cc", "-std=c99", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I",
                        str(include_dir()), str(EXAMPLES / name), "-o", str(tmp_path / (name + ".so"))], check=True)


def test_c_firmware_as_a_c_file_and_as_a_shared_library_give_the_same_run(tmp_path):
    built = parse_firmware(str(EXAMPLES / "voltage_delta.c"), build_dir=tmp_path)
    assert built.kind == "c" and built.path.suffix == ".so"
    library = parse_firmware(str(built.path))
    s = scenario(minutes=30, parameters={"cell.initial_soc": 0.9, "spread.soc": 0.01})
    a, b = run_scenario(built, s, LIMITS), run_scenario(library, s, LIMITS)
    assert a.firmware_name == "voltage_delta 1.0" and a.status == "pass"
    assert [c.message for c in a.results] == [c.message for c in b.results]


class Keeper:
    """A Python firmware: keeps every cell bleeding below 3.4 V? no: it just holds safe limits."""

    period = 2.0
    name = "keeper 0.1"

    def __init__(self, n_cells, cvl=3.5):
        self.n, self.cvl = n_cells, cvl

    def __call__(self, r):
        return Decision(np.zeros(self.n, dtype=int), True, True, self.cvl * self.n, 28.0, 28.0)


def test_python_firmware_by_module_name_by_file_and_as_an_object(tmp_path, monkeypatch):
    (tmp_path / "my_bms.py").write_text("import numpy as np\n"
                                        "def make(n):\n"
                                        "    return lambda r: {'balance': np.zeros(n), 'charge_enable': 1,\n"
                                        "                      'discharge_enable': 1, 'cvl': 3.5 * n, 'ccl': 28.0,\n"
                                        "                      'dcl': 28.0}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    s = scenario()
    runs = [run_scenario(parse_firmware(text), s, LIMITS) for text in ("my_bms:make", f"{tmp_path / 'my_bms.py'}:make")]
    runs.append(run_scenario(Firmware.from_callable(Keeper), s, LIMITS))
    assert all(r.status == "pass" for r in runs)
    assert runs[2].period == 2.0 and runs[2].firmware_name == "keeper 0.1"


def test_a_firmware_that_cannot_be_loaded_is_bad_input(tmp_path):
    with pytest.raises(FirmwareError, match="no such file"):
        parse_firmware(str(tmp_path / "missing.so"))
    with pytest.raises(FirmwareError, match="no Python module 'no_such_module'"):
        parse_firmware("no_such_module:make")
    bad = tmp_path / "bad.c"
    bad.write_text("int twin_fw_step(void) { return undefined_name; }\n")
    with pytest.raises(FirmwareError, match="does not compile against twin_firmware.h.*undefined_name"):
        parse_firmware(str(bad), build_dir=tmp_path)
    other = tmp_path / "other.c"
    other.write_text("int something_else(void) { return 0; }\n")
    lib = parse_firmware(str(other), build_dir=tmp_path)
    with pytest.raises(FirmwareError, match="does not export twin_fw_create"):
        validate(lib, [scenario()], LIMITS, isolate=False)


@pytest.mark.parametrize("body, expected", [
    ("if (in->time >= 30) { volatile int *p = NULL; *p = 1; }",
     r"crashed with SIGSEGV \(segmentation fault.*\) at 00:00:30"),
    ("if (in->time >= 45) abort();", r"crashed with SIGABRT .* at 00:00:45"),
    ("if (in->time >= 20) exit(3);", r"ended the process \(exit status 3\) at 00:00:20"),
    ("if (in->time >= 12) for (;;) {}", r"did not return from a control period within 2 s .* at 00:00:12: it hangs"),
    ("if (in->time >= 7) { snprintf(out->message, sizeof out->message, \"AFE timeout\"); return 7; }",
     r"twin_fw_step returned 7 at 00:00:07: AFE timeout"),
    ("if (in->time >= 9) out->cvl = NAN;", r"returned CVL = nan V .* at 00:00:09"),
    ("if (in->time >= 3) out->balance[5] = 2;", r"returned balance = 2 for cell 5 .* at 00:00:03"),
    ("if (in->time >= 4) out->charge_enable = 3;", r"returned charge_enable = 3 .* at 00:00:04"),
])
def test_c_firmware_misbehaving_fails_its_scenario_with_the_time(tmp_path, body, expected):
    fw = firmware_source(tmp_path, body)
    result = validate(fw, [scenario(minutes=2), scenario(minutes=1, name="second")], LIMITS, watchdog=2.0)
    check, run = firmware_result(result)
    assert check.status == "fail" and re.search(expected, check.message), check.message
    assert not result.passed
    # the other scenario of the suite still ran (and failed the same way, on its own)
    assert result.runs[1].scenario == "second" and any(c.id == "firmware.runs" for c in result.runs[1].results)
    # what could not be measured after the failure is skipped, not passed
    assert all(c.status in ("fail", "skip") for c in run.results)


def test_c_firmware_refusing_to_start_fails_with_its_reason(tmp_path):
    fw = firmware_source(tmp_path, "", create='snprintf(setup->error, sizeof setup->error, "built for 8 cells"); '
                                               'return NULL;')
    check, _ = firmware_result(validate(fw, [scenario()], LIMITS))
    assert check.message == "the firmware did not start: twin_fw_create refused 16 cells: built for 8 cells"


class Broken:
    """A Python firmware going wrong in the ways the parameter says, from t = 5 s."""

    def __init__(self, n_cells, how="raise"):
        self.n, self.how = n_cells, how

    def __call__(self, r):
        balance, cvl = np.zeros(self.n), 3.5 * self.n
        if r.time >= 5:
            if self.how == "raise":
                return 1 / 0
            if self.how == "short":
                balance = np.zeros(self.n - 1)
            if self.how == "nan":
                cvl = float("nan")
            if self.how == "none":
                return None
            if self.how == "text":
                return {"balance": balance, "charge_enable": 1, "discharge_enable": 1, "cvl": "56 V", "ccl": 1,
                        "dcl": 1}
        return Decision(balance, True, True, cvl, 28.0, 28.0)


@pytest.mark.parametrize("how, expected", [
    ("raise", r"the firmware raised ZeroDivisionError: division by zero \(test_validate_firmware.py line \d+, in "
              r"__call__\) at 00:00:05"),
    ("short", r"the firmware returned 15 balancing decisions for 16 cells at 00:00:05"),
    ("nan", r"the firmware returned CVL = nan V"),
    ("none", r"the firmware returned None instead of a Decision at 00:00:05"),
    ("text", r"the firmware returned cvl = '56 V', not a number at 00:00:05"),
])
def test_python_firmware_misbehaving_fails_its_scenario(how, expected):
    fw = Firmware.from_callable(functools.partial(Broken, how=how), label=f"broken-{how}")
    check, _ = firmware_result(validate(fw, [scenario(minutes=1)], LIMITS, isolate=False))
    assert check.status == "fail" and re.search(expected, check.message), check.message


import re  # noqa: E402  (used by the tests above; kept beside them)
