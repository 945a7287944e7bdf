"""Where the C sources of the kernel (csrc/) and the FMI adapter (fmu/) are found.

In a checkout they sit at the top of the repository, beside the package. An installed package
(``pip install .``) carries copies in ``twin/_c/csrc`` and ``twin/_c/fmu``, which setup.py's
build_py step makes with ``copy_c_sources``. This module imports nothing from twin, so that
setup.py can load it before the package is built.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PACKAGED = "_c"  # inside the installed package
DIRECTORIES = ("csrc", "fmu")
PATTERNS = ("*.c", "*.h")
# a file each directory must have, to tell a real source tree from a stray folder
MARKERS = {"csrc": "twin.h", "fmu": "fmi_layer.c"}


def _complete(root: Path) -> bool:
    return all((root / d / MARKERS[d]).is_file() for d in DIRECTORIES)


def copy_c_sources(repo_root: Path, package_dir: Path) -> list[Path]:
    """Copy csrc/ and fmu/ from repo_root into package_dir/_c (the build of an installed package)."""
    written = []
    for d in DIRECTORIES:
        target = Path(package_dir) / PACKAGED / d
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for pattern in PATTERNS:
            for src in sorted((Path(repo_root) / d).glob(pattern)):
                shutil.copy2(src, target / src.name)
                written.append(target / src.name)
    return written


def locate_c_sources(package_dir: Path | None = None) -> tuple[Path, Path] | None:
    """(csrc, fmu) directories: the repository's when the package runs from a checkout, else the
    copies installed with the package; None when neither is there."""
    package_dir = Path(package_dir) if package_dir is not None else Path(__file__).resolve().parent
    for root in (package_dir.parent, package_dir / PACKAGED):
        if _complete(root):
            return root / "csrc", root / "fmu"
    return None
