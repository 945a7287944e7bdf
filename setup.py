"""Builds the one extension, twin._core, from twin/_core.pyx and the C kernel in csrc/."""

import importlib.util
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_py import build_py

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


class build_py_with_c_sources(build_py):
    """Also ships csrc/ and fmu/ as twin/_c/ so that `twin fmu build` works after `pip install .`
    (twin/c_sources.py finds them there; in a checkout it uses the top-level directories)."""

    def run(self):
        super().run()
        if not self.dry_run:
            spec = importlib.util.spec_from_file_location("_twin_c_sources", ROOT / "twin" / "c_sources.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module.copy_c_sources(ROOT, Path(self.build_lib) / "twin")


setup(
    ext_modules=cythonize([extension], compiler_directives={"language_level": "3"}),
    cmdclass={"build_py": build_py_with_c_sources},
)
