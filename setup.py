"""Builds the one extension, twin._core, from twin/_core.pyx and the C kernel in csrc/."""

from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).parent
C_SOURCES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "csrc").glob("*.c"))

# C99 as written: no -ffast-math (it would change results between this build and the FMU's);
# -fno-trapping-math only lets the compiler vectorize branch-free selects, and changes no value.
CFLAGS = ["-std=c99", "-O3", "-fno-trapping-math", "-Wall", "-Wno-unused-function"]

extension = Extension(
    "twin._core",
    sources=["twin/_core.pyx", *C_SOURCES],
    include_dirs=["csrc", numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"), ("TWIN_MULTIVERSION", "1")],
    extra_compile_args=CFLAGS,
)

setup(ext_modules=cythonize([extension], compiler_directives={"language_level": "3"}))
