"""Packaging beside pyproject.toml: the wheel holds libsolti_exec.so.0 and
the exec shim in solti_exec/_lib, so it works with no Go, no system install
and no SOLTI_EXEC_LIBRARY.

- ``make wheel`` copies both into a staged copy of this directory first.
- ``pip install bindings/python`` from a checkout, with Go present, builds
  them (``make all`` at the top of the checkout) and puts them in the
  package the same way.
- Anywhere else (no checkout, or no Go) the package is plain Python and
  finds the library at run time (SOLTI_EXEC_LIBRARY, the system loader).

Since the package holds native code, the wheel is tagged for this platform
and Python, not "any".
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]
NATIVE = ("libsolti_exec.so.0", "solti-exec-shim")


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "solti_exec" / "_lib"
        if all((target / name).exists() for name in NATIVE):
            return  # staged by make wheel, copied in as package data
        source = self._native_dir()
        if source is None:
            return
        target.mkdir(parents=True, exist_ok=True)
        for name in NATIVE:
            shutil.copy2(source / name, target / name)  # follows the SONAME link

    def _native_dir(self) -> Path | None:
        staged = HERE / "solti_exec" / "_lib"
        if all((staged / name).exists() for name in NATIVE):
            return staged
        if not (CHECKOUT / "CMakeLists.txt").is_file() or not (CHECKOUT / "capi").is_dir():
            return None
        if shutil.which("go") is None or shutil.which("make") is None:
            return None
        subprocess.run(["make", "-C", str(CHECKOUT), "--no-print-directory", "all"], check=True)
        return CHECKOUT / "build"


class NativeDistribution(Distribution):
    def has_ext_modules(self) -> bool:
        return True


setup(cmdclass={"build_py": BuildPy}, distclass=NativeDistribution)
