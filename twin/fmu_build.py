"""Build a co-simulation FMU (FMI 2.0 or 3.0) of the twin from the same C core.

    >>> from twin.fmu_build import build_fmu
    >>> build = build_fmu("Pack.fmu", fmi_version=3)          # default 16S EVE LF280K pack

The FMU holds the model description, ``binaries/<platform>/`` compiled here with the system C
compiler, and ``sources/``: the kernel (csrc/), the FMI adapter (fmu/) and the generated data file
with the baked parameter set, plus ``buildDescription.xml`` for FMI 3.0 (FMI 2.0 lists the files
in the model description), so that ``fmpy compile`` or any importer can build it elsewhere. The
binary is compiled from exactly those sources, with the flags setup.py gives the Python extension,
so the FMU and ``twin.Pack`` agree to the last bit.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import parameter_sets
from .c_sources import locate_c_sources
from .errors import FmuError
from .fmu_data import bake, c_source
from .fmu_description import fmi2_description, fmi3_build_description, fmi3_description
from .fmu_variables import fmu_variables
from .params import ParameterSet

# setup.py's flags for the extension (tests/fmu/test_build.py checks they stay the same): no
# -ffast-math, so that the FMU's results equal twin.Pack's
KERNEL_CFLAGS = ["-std=c99", "-O3", "-fno-trapping-math", "-Wall", "-Wno-unused-function"]
KERNEL_DEFINES = ["-DTWIN_MULTIVERSION=1"]
ADAPTER_CFLAGS = [*KERNEL_CFLAGS, "-Wextra"]
SHARED_CFLAGS = ["-fPIC", "-fvisibility=hidden"]  # only the fmi* functions are exported
DATA_FILE = "twin_fmu_data.c"
ENTRY_POINTS = {2: "fmi2_functions.c", 3: "fmi3_functions.c"}
TOKEN_PLACEHOLDER = "@TWIN_INSTANTIATION_TOKEN@"


@dataclass(frozen=True)
class FmuBuild:
    """What build_fmu wrote."""

    path: Path
    fmi_version: int
    model_identifier: str
    n_cells: int
    token: str
    parameter_set: str
    platform: str | None  # binaries/ sub-directory; None for a sources-only FMU
    n_variables: int


def fmi_headers_dir() -> Path:
    """The FMI 2.0 and 3.0 headers shipped with the installed FMPy."""
    try:
        import fmpy
    except ImportError:  # pragma: no cover - fmpy is a dependency
        raise FmuError("FMPy is not installed; `pip install fmpy` provides the FMI headers") from None
    path = Path(fmpy.__file__).parent / "c-code"
    if not (path / "fmi2Functions.h").is_file() or not (path / "fmi3Functions.h").is_file():
        raise FmuError(f"the FMI headers are missing from {path}; reinstall FMPy (pip install --force-reinstall fmpy)")
    return path


def binary_platform(fmi_version: int) -> tuple[str, str]:
    """(binaries/ sub-directory, shared library suffix) for this machine."""
    import fmpy

    return (fmpy.platform if fmi_version == 2 else fmpy.platform_tuple), fmpy.sharedLibraryExtension


def find_compiler(cc: str | None = None) -> str:
    """The compiler asked for (it must exist), else $CC, cc, gcc or clang."""
    if cc is not None:
        if shutil.which(cc) is None:
            raise FmuError(f"C compiler {cc!r} not found; give a compiler on PATH or a full path")
        return shutil.which(cc)
    for candidate in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise FmuError("no C compiler found (tried $CC, cc, gcc, clang); install one (e.g. apt install gcc) or set CC")


def _is_gcc_or_clang(cc: str) -> bool:
    try:
        out = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(re.search(r"gcc|GCC|Free Software Foundation|clang", out))


def model_identifier_for(output: Path) -> str:
    """A C identifier from the FMU's file name (Pack.fmu -> Pack)."""
    name = re.sub(r"\W", "_", Path(output).stem, flags=re.ASCII) or "twin"
    return f"_{name}" if name[0].isdigit() else name


def _token(*texts: str) -> str:
    digest = hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()
    return "{" + f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}" + "}"


def _stage_sources(sources: Path, fmi_version: int) -> tuple[list[str], set]:
    """Copy the kernel and the adapter into sources/; returns the .c files to compile, in order,
    and which of them are the kernel's."""
    located = locate_c_sources()
    if located is None:
        raise FmuError("the C sources (csrc/, fmu/) are neither beside the package nor installed in twin/_c; "
                       "reinstall twin with `pip install .` from its repository")
    csrc, fmu_dir = located
    other_entry = ENTRY_POINTS[5 - fmi_version]
    compiled = []
    kernel = {p.name for p in csrc.glob("*.c")}
    for directory in (csrc, fmu_dir):
        for src in sorted(directory.glob("*.[ch]")):
            if src.name == other_entry or src.name == DATA_FILE:
                continue
            shutil.copy2(src, sources / src.name)
            if src.suffix == ".c":
                compiled.append(src.name)
    return [*compiled, DATA_FILE], kernel


def _compile(cc: str, sources: Path, files: list[str], kernel_files: set, target: Path, work: Path) -> None:
    strict = ["-Werror"] if _is_gcc_or_clang(cc) else []
    include = ["-I", str(sources), "-I", str(fmi_headers_dir())]
    objects = [str(work / (Path(name).stem + ".o")) for name in files]
    commands = [([cc, *(KERNEL_CFLAGS if name in kernel_files else ADAPTER_CFLAGS), *strict, *SHARED_CFLAGS,
                  *KERNEL_DEFINES, *include, "-c", str(sources / name), "-o", obj], f"compiling {name}")
                for name, obj in zip(files, objects)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # one compiler process per core
        for done in [pool.submit(_run, *c) for c in commands]:
            done.result()
    link = ["-Wl,--no-undefined"] if os.uname().sysname == "Linux" else []
    target.parent.mkdir(parents=True, exist_ok=True)
    _run([cc, "-shared", *link, "-o", str(target), *objects, "-lm"], "linking")


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except OSError as e:
        raise FmuError(f"{what}: cannot run {command[0]}: {e.strerror}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise FmuError(f"{what} failed ({command[0]} exit {done.returncode}): " + " | ".join(detail[:8]))


def _zip(directory: Path, output: Path) -> None:
    tmp = output.with_name(output.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if path.suffix in (".so", ".dylib", ".dll") else 0o644) << 16
            zf.writestr(info, path.read_bytes())
    tmp.replace(output)


def build_fmu(output, fmi_version: int = 3, params=None, cells: int | None = None,
              model_identifier: str | None = None, cc: str | None = None, binary: bool = True) -> FmuBuild:
    """Write a co-simulation FMU of the twin to ``output``.

    params: a ParameterSet, a named set or a TOML/JSON file (default: eve_lf280k_16s); cells:
    cells in series, overriding the set's. The parameter set is baked in: its values are the start
    values of the FMU's parameters, and its tables and faults are fixed in the binary. binary=False
    writes the sources only (an importer compiles them, e.g. `fmpy compile`).
    """
    if fmi_version not in (2, 3):
        raise FmuError(f"--fmi must be 2 or 3, got {fmi_version!r}")
    output = Path(output)
    if output.suffix.lower() != ".fmu":
        raise FmuError(f"{output}: an FMU file name ends in .fmu (e.g. Pack.fmu)")
    if not output.parent.is_dir():
        raise FmuError(f"{output.parent} is not a directory; create it first")
    pset = params if isinstance(params, ParameterSet) else ParameterSet.load(params or parameter_sets.DEFAULT)
    if cells is not None:
        pset = pset.updated({"pack.cells_in_series": cells})
    identifier = model_identifier or model_identifier_for(output)
    if not re.fullmatch(r"[A-Za-z_]\w*", identifier, flags=re.ASCII):
        raise FmuError(f"model identifier {identifier!r} is not a C identifier")
    baked = bake(pset)
    cc = find_compiler(cc) if binary else None
    platform, suffix = binary_platform(fmi_version) if binary else (None, None)
    with tempfile.TemporaryDirectory(prefix="twin-fmu-") as tmp:
        root, work = Path(tmp) / "fmu", Path(tmp) / "objects"
        sources = root / "sources"
        sources.mkdir(parents=True)
        work.mkdir()
        files, kernel_files = _stage_sources(sources, fmi_version)
        data = c_source(baked, fmi_version, TOKEN_PLACEHOLDER)
        if fmi_version == 2:
            description = fmi2_description(identifier, baked, TOKEN_PLACEHOLDER, files)
        else:
            description = fmi3_description(identifier, baked, TOKEN_PLACEHOLDER)
            (sources / "buildDescription.xml").write_text(fmi3_build_description(identifier, files), encoding="utf-8")
        code = [(sources / f).read_text(encoding="utf-8") for f in sorted(os.listdir(sources)) if f != DATA_FILE]
        token = _token(description, data, *code)
        (sources / DATA_FILE).write_text(data.replace(TOKEN_PLACEHOLDER, token), encoding="utf-8")
        (root / "modelDescription.xml").write_text(description.replace(TOKEN_PLACEHOLDER, token), encoding="utf-8")
        if binary:
            _compile(cc, sources, files, kernel_files, root / "binaries" / platform / (identifier + suffix), work)
        _zip(root, output)
    variables = fmu_variables(fmi_version)
    n_vars = sum(len(v.fmi2_scalars(baked.n_cells)) for v in variables) if fmi_version == 2 else len(variables)
    return FmuBuild(output, fmi_version, identifier, baked.n_cells, token, pset.source, platform, n_vars)


__all__ = ["build_fmu", "FmuBuild", "fmi_headers_dir", "KERNEL_CFLAGS"]
