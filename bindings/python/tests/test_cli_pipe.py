"""python -m solti_exec run as a faithful pipe: bytes passed through as they
come, exit statuses from the failing step and errno, a closed output."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import PYTHON_DIR, process_alive
from .test_cli import cli


def test_bytes_pass_through_unchanged(lib, tmp_path: Path) -> None:
    blob = os.urandom(1 << 20) + b"\xff\xfe no newline"
    path = tmp_path / "blob"
    path.write_bytes(blob)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")])))
    res = subprocess.run(
        [sys.executable, "-m", "solti_exec", "run", "--", "sh", "-c", 'cat "$1"; cat "$1" >&2', "sh", str(path)],
        capture_output=True, timeout=60, env=env,
    )
    assert res.returncode == 0
    assert res.stdout == blob and res.stderr == blob


def test_stderr_is_not_prefixed_by_default(lib) -> None:
    res = cli("run", "--", "sh", "-c", "echo out; echo err >&2")
    assert (res.stdout, res.stderr) == ("out\n", "err\n")


@pytest.mark.parametrize(
    "make, status",
    [
        ("missing cwd", 125),
        ("cwd named like ENOENT", 125),
        ("not executable", 126),
        ("not executable, in a directory named like ENOENT", 126),
        ("a directory", 126),
        ("not found", 127),
    ],
)
def test_exit_status_from_step_and_errno(lib, tmp_path: Path, make: str, status: int) -> None:
    odd = tmp_path / "no such file or directory"
    odd.mkdir()
    plain = odd / "plain"
    plain.write_text("echo hi\n")
    plain.chmod(0o644)
    argv = {
        "missing cwd": ["--cwd", "/nonexistent-solti-dir", "--", "true"],
        "cwd named like ENOENT": ["--cwd", str(odd / "missing"), "--", "true"],
        "not executable": ["--", str(plain)],
        "not executable, in a directory named like ENOENT": ["--", str(plain)],
        "a directory": ["--", str(tmp_path)],
        "not found": ["--", "solti-nosuch-program"],
    }[make]
    res = cli("run", *argv)
    assert res.returncode == status, res.stderr


def test_closed_output_kills_the_tree_and_exits_141(lib, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")])))
    script = 'sleep 60 & echo $! >> "$1"; echo $$ >> "$1"; seq 1 100000000; sleep 104'
    writer = subprocess.Popen(
        [sys.executable, "-m", "solti_exec", "run", "--", "sh", "-c", script, "sh", str(pids)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    assert writer.stdout is not None
    first = writer.stdout.readline()
    writer.stdout.close()  # what `| head -1` does
    t0 = time.monotonic()
    status = writer.wait(60)
    assert first == b"1\n"
    assert status == 141, writer.stderr.read() if writer.stderr else ""
    assert time.monotonic() - t0 < 30
    left = [int(p) for p in pids.read_text().split() if process_alive(int(p))]
    assert left == [] and len(pids.read_text().split()) == 2
