"""twin fmu build: what goes into the FMU, how it is compiled, where the sources come from, the command."""

import ast
import re
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from fmpy import read_model_description, simulate_fmu
from fmpy.validation import validate_fmu

import twin.fmu_build
from twin.c_sources import copy_c_sources, locate_c_sources
from twin.cli import main
from twin.fmu_build import KERNEL_CFLAGS, KERNEL_DEFINES, build_fmu, model_identifier_for

from ..conftest import ROOT

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks the Linux binary")


def test_fmpy_validation_reports_no_problem(built):
    assert validate_fmu(str(built.path)) == []


@linux_only
def test_the_fmu_holds_the_binary_the_description_and_every_source(built):
    names = set(zipfile.ZipFile(built.path).namelist())
    platform = "linux64" if built.version == 2 else "x86_64-linux"
    assert {"modelDescription.xml", f"binaries/{platform}/Pack.so"} <= names
    shipped = {n.split("/", 1)[1] for n in names if n.startswith("sources/")}
    kernel = {p.name for p in (ROOT / "csrc").glob("*.[ch]")}
    adapter = {p.name for p in (ROOT / "fmu").glob("*.[ch]")} - {f"fmi{5 - built.version}_functions.c"}
    assert kernel | adapter | {"twin_fmu_data.c"} <= shipped
    assert f"fmi{5 - built.version}_functions.c" not in shipped
    assert ("buildDescription.xml" in shipped) == (built.version == 3)
    listed = set(built.md.buildConfigurations[0].sourceFileSets[0].sourceFiles)  # SourceFiles or buildDescription
    assert listed == {n for n in shipped if n.endswith(".c")}


@linux_only
def test_only_the_fmi_functions_are_exported(built):
    if shutil.which("nm") is None:
        pytest.skip("nm is not installed")
    with zipfile.ZipFile(built.path) as zf:
        binary = next(n for n in zf.namelist() if n.endswith(".so"))
        zf.extract(binary, built.directory.parent / "nm")
    out = subprocess.run(["nm", "-D", "--defined-only", str(built.directory.parent / "nm" / binary)],
                         capture_output=True, text=True, check=True).stdout
    symbols = {line.split()[-1] for line in out.splitlines() if line.strip()}
    prefix = f"fmi{built.version}"
    assert symbols and all(s.startswith(prefix) for s in symbols), sorted(s for s in symbols if not s.startswith(prefix))
    assert {f"{prefix}DoStep", f"{prefix}GetFloat64" if built.version == 3 else "fmi2GetReal"} <= symbols


def test_the_binary_is_compiled_with_the_extension_flags():
    """Same flags as setup.py, so that the FMU and twin.Pack agree to the last bit."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    flags = next(ast.literal_eval(node.value) for node in ast.walk(tree)
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "CFLAGS")
    assert KERNEL_CFLAGS == flags
    assert "TWIN_MULTIVERSION" in (ROOT / "setup.py").read_text() and KERNEL_DEFINES == ["-DTWIN_MULTIVERSION=1"]


@pytest.mark.skipif(shutil.which("cmake") is None, reason="fmpy compile needs cmake")
def test_fmpy_compile_builds_the_shipped_sources(built, tmp_path):
    copy = tmp_path / "Pack.fmu"
    shutil.copy(built.path, copy)
    done = subprocess.run([sys.executable, "-m", "fmpy", "compile", str(copy)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert validate_fmu(str(copy)) == []
    output = ["pack.voltage", "cell.voltage" if built.version == 3 else "cell.voltage[7]"]
    runs = [simulate_fmu(str(f), stop_time=600, output_interval=10, start_values={"pack.current": -140.0},
                         output=output) for f in (built.path, copy)]
    for name in output:
        np.testing.assert_array_equal(np.array(runs[0][name].tolist()), np.array(runs[1][name].tolist()))


def test_an_installed_package_finds_its_own_copy_of_the_sources(tmp_path, monkeypatch):
    """What `pip install .` ships (setup.py's build_py copies csrc/ and fmu/ to twin/_c) is complete:
    the locator finds it away from any checkout, and an FMU builds from it."""
    package = tmp_path / "site-packages" / "twin"
    package.mkdir(parents=True)
    written = copy_c_sources(ROOT, package)
    assert {"twin.h", "pack.c", "fmi_layer.c", "fmi2_functions.c", "fmi3_functions.c"} <= {p.name for p in written}
    assert locate_c_sources(package) == (package / "_c" / "csrc", package / "_c" / "fmu")
    assert locate_c_sources(ROOT / "twin") == (ROOT / "csrc", ROOT / "fmu")  # a checkout uses its own tree
    assert locate_c_sources(tmp_path / "elsewhere" / "twin") is None
    monkeypatch.setattr(twin.fmu_build, "locate_c_sources", lambda: locate_c_sources(package))
    done = build_fmu(tmp_path / "Installed.fmu", fmi_version=3, cells=2)
    assert validate_fmu(str(done.path)) == []


def test_the_model_identifier_comes_from_the_file_name():
    assert model_identifier_for("out/Pack.fmu") == "Pack"
    assert model_identifier_for("my-pack v2.fmu") == "my_pack_v2"
    assert model_identifier_for("16S.fmu") == "_16S"


def test_the_token_changes_with_the_parameter_set_and_a_sources_only_fmu_is_valid(tmp_path):
    a = build_fmu(tmp_path / "A.fmu", fmi_version=2, cells=2, binary=False)
    b = build_fmu(tmp_path / "B.fmu", fmi_version=2, cells=2, model_identifier="A", binary=False)
    c = build_fmu(tmp_path / "C.fmu", fmi_version=2, cells=3, model_identifier="A", binary=False)
    assert a.token == b.token != c.token  # same inputs, same build; another pack, another build
    assert read_model_description(str(a.path)).guid == a.token
    assert a.platform is None and not any(n.startswith("binaries/") for n in zipfile.ZipFile(a.path).namelist())
    assert validate_fmu(str(a.path)) == []


# --- the command ---------------------------------------------------------------------------------


def test_fmu_commands_explain_themselves_with_an_example():
    runner = CliRunner()
    for args in (["fmu"], ["fmu", "build"]):
        out = runner.invoke(main, [*args, "--help"])
        assert out.exit_code == 0, out.output
        assert "Example" in out.output, args
    assert "fmu" in runner.invoke(main, ["--help"]).output


def test_fmu_build_writes_a_valid_fmu(tmp_path):
    out = tmp_path / "Pack3.fmu"
    res = CliRunner().invoke(main, ["fmu", "build", "--fmi", "3", "--cells", "3", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert re.search(r"wrote .*Pack3\.fmu: FMI 3\.0 co-simulation, model identifier Pack3, 3 cells", res.output)
    assert validate_fmu(str(out)) == []


@pytest.mark.parametrize("args, message", [
    (["-o", "{tmp}/pack.zip"], "ends in .fmu"),
    (["-o", "{tmp}/missing/Pack.fmu"], "is not a directory"),
    (["--params", "nosuchset", "-o", "{tmp}/P.fmu"], "neither a parameter file nor a named parameter set"),
    (["--cc", "no-such-compiler-xyz", "-o", "{tmp}/P.fmu"], "C compiler 'no-such-compiler-xyz' not found"),
])
def test_expected_mistakes_give_one_line_and_status_2(tmp_path, args, message):
    res = CliRunner().invoke(main, ["fmu", "build", *[a.format(tmp=tmp_path) for a in args]])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
