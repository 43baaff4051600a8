"""Fixtures for the solti_exec tests: the library, a runner, cleanup checks.

Run with the library named by SOLTI_EXEC_LIBRARY (``make py-test`` sets it),
or any other way solti_exec finds it.  No test may hang: every test runs
under a watchdog that dumps the stacks and exits the run if it overruns, and
every task gets a timeout.
"""

from __future__ import annotations

import faulthandler
import fcntl
import gc
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

import solti_exec

#: Seconds a single test may take before the watchdog ends the run.
WATCHDOG_S = 240
#: The timeout given to tasks that should end by themselves.
TASK_TIMEOUT = 60.0

ROOT = Path(__file__).resolve().parents[3]
HEADER = ROOT / "include" / "solti_exec.h"
PYTHON_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def lib() -> solti_exec._native.Library:
    """The loaded library, warmed up: the Go runtime opens a few descriptors
    of its own on first use, which must not count as leaks."""
    library = solti_exec.load_library()
    with solti_exec.Runner("warmup") as runner:
        with runner.task(solti_exec.Command("true"), timeout=TASK_TIMEOUT) as task:
            task.spawn()
            _ = task.fd
            task.wait(TASK_TIMEOUT)
            list(task.events())
    return library


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    """Ends the whole run with every thread's stack if a test overruns."""
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


_runner_seq = 0


@pytest.fixture
def runner(lib: solti_exec._native.Library) -> Iterator[solti_exec.Runner]:
    """A fresh runner with default config, closed after the test."""
    global _runner_seq
    _runner_seq += 1
    r = solti_exec.Runner(f"pytest-{_runner_seq}")
    yield r
    r.close()


@pytest.fixture
def lossless(lib: solti_exec._native.Library) -> Iterator[solti_exec.Runner]:
    """A runner whose tasks' rings block instead of dropping (nothing is lost)."""
    r = solti_exec.Runner("pytest-lossless", output=solti_exec.Output(when_full="block"))
    yield r
    r.close()


# ---- Cleanup checks -------------------------------------------------------------


def open_fds() -> set[int]:
    """The descriptors open now.  Listing /proc/self/fd opens one of its own,
    on the lowest free number (often the one just closed), and closes it
    again: a number is kept only if it is still open after the listing."""
    listed = {int(name) for name in os.listdir("/proc/self/fd")}
    return {fd for fd in listed if _is_open(fd)}


def _is_open(fd: int) -> bool:
    try:
        fcntl.fcntl(fd, fcntl.F_GETFD)
    except OSError:
        return False
    return True


def child_pids() -> set[int]:
    """Live processes (zombies included) whose parent is this process."""
    me = os.getpid()
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == me:
            out.add(int(entry))
    return out


def process_alive(pid: int) -> bool:
    """True if pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def eventually(check: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Polls `check` until it is true or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def held() -> dict[str, int]:
    """What the library holds for runners and tasks (solti_debug_stats),
    or {} when the loaded library predates it.  A task's script file lives
    exactly as long as the task, so "tasks" accounts for script files too
    (the tests that drop script tasks also check their files by path)."""
    lib = solti_exec._native.loaded()
    if lib is None or not lib.has_debug_stats:
        return {}
    stats = lib.debug_stats()
    return {k: stats[k] for k in ("runners", "tasks", "processes", "fds")}


@dataclass
class Snapshot:
    fds: set[int]
    children: set[int]
    held: dict[str, int]

    @classmethod
    def take(cls) -> Snapshot:
        return cls(open_fds(), child_pids(), held())

    def leaks(self) -> dict[str, set]:
        """What is there now and was not at the snapshot (after a GC and a
        bounded wait for the library's reaping)."""
        gc.collect()
        now: dict[str, set] = {}

        def settled() -> bool:
            now["fds"] = open_fds() - self.fds
            now["children"] = child_pids() - self.children
            now["held by the library"] = {f"{k}={v}" for k, v in held().items() if v > self.held.get(k, 0)}
            return not any(now.values())

        eventually(settled, timeout=10.0)
        return {k: v for k, v in now.items() if v}


@pytest.fixture
def clean(lib: solti_exec._native.Library) -> Iterator[Snapshot]:
    """Asserts the test leaves no new descriptor, child process, or task or
    process held by the library."""
    gc.collect()
    snap = Snapshot.take()
    yield snap
    leaks = snap.leaks()
    assert not leaks, f"left behind: {leaks}"


def run_python(code: str, *args: str, timeout: float = 60.0, env: dict[str, str] | None = None):
    """Runs `code` in a fresh interpreter with the package importable."""
    import subprocess

    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), full_env.get("PYTHONPATH")]))
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )

