"""The package installs offline with the documented pip command."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PYTHON_DIR

needed = ("pip", "setuptools", "wheel")
missing = [m for m in needed if importlib.util.find_spec(m) is None]


@pytest.mark.skipif(bool(missing), reason=f"this Python lacks {missing}")
def test_pip_install_no_build_isolation(lib, tmp_path: Path) -> None:
    src = tmp_path / "src"  # a copy, so the build leaves nothing in the tree
    shutil.copytree(
        PYTHON_DIR, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", ".pytest_cache", "_lib")
    )
    target = tmp_path / "target"
    res = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-index", "--no-deps",
         "--disable-pip-version-check", "--target", str(target), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    installed = target / "solti_exec"
    assert (installed / "py.typed").exists() and (installed / "__main__.py").exists()
    env = dict(os.environ, PYTHONPATH=str(target))
    code = "import solti_exec as s; print(s.__file__); print(s.Runner('inst').run(s.Command('echo', 'ok'), timeout=30).stdout_lines)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    path, out = res.stdout.splitlines()
    assert Path(path).parent == installed and out == "['ok']"
    res = subprocess.run(
        [sys.executable, "-m", "solti_exec", "run", "--", "echo", "hi"], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path
    )
    assert (res.returncode, res.stdout) == (0, "hi\n")
