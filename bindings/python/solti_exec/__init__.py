"""solti_exec: run commands and scripts through libsolti_exec, a Linux
subprocess engine, and stream their output line by line.

::

    from solti_exec import Runner, Command, Script

    with Runner("demo") as runner:
        with runner.task(Command("seq", "3"), timeout=10) as task:
            task.spawn()
            for line in task.lines():
                print(line.text)
            report = task.wait()
            print(report.outcome, report.exit_code)

Each task runs in its own process group (and cgroup where allowed), with the
runner's limits and privilege hardening applied before its first
instruction.  Output is read in batches from a bounded ring, synchronously
(``lines()``, ``events()``) or with asyncio (``alines()``, ``aevents()``) on
the task's file descriptor, without threads.

The binding uses ctypes only.  The library is found through
``load_library(path)``, ``$SOLTI_EXEC_LIBRARY``, a copy bundled in the
package (``solti_exec/_lib``), then the system loader.  Only the process that
loaded it may call it: a child made by ``fork()`` without exec (e.g. a
``multiprocessing`` "fork" worker) gets :class:`ForkedError`.
"""

from __future__ import annotations

import os

from . import _native, errors
from ._reader import OutputLagged, Reader
from .errors import (
    BadHandle,
    BrokenPipe,
    CalledProcessError,
    BufferTooSmall,
    ChildLost,
    EndOfEvents,
    ForkedError,
    InternalError,
    InvalidArgument,
    SandboxError,
    SoltiError,
    SpawnError,
    SpecError,
    StateError,
    Timeout,
    Unsupported,
)
# A failed spawn with an errno is also the OSError subprocess.Popen raises.
from .errors import SpawnFileNotFoundError, SpawnOSError, SpawnPermissionError
# Runner.run(timeout=...) that expired, as subprocess.run raises it.
from .errors import TimeoutExpired
from .events import (
    Event,
    EventKind,
    ExitReport,
    Finished,
    Lagged,
    Line,
    Outcome,
    Started,
    Stream,
    WarningEvent,
)
from .runner import Completed, Runner
from .spec import NO_TIMEOUT, Backoff, Command, Custom, Output, Restart, Script
from .task import Task

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "load_library",
    "library_version",
    "debug_stats",
    "Runner",
    "Task",
    "Completed",
    "Reader",
    "Command",
    "Script",
    "Custom",
    "Restart",
    "Backoff",
    "Output",
    "NO_TIMEOUT",
    "Event",
    "EventKind",
    "Stream",
    "Outcome",
    "Line",
    "Started",
    "Finished",
    "Lagged",
    "WarningEvent",
    "ExitReport",
    "OutputLagged",
    # One exception class per error code, as errors.py lists them.
    *(name for name in errors.__all__ if name != "error_for_code"),
]


def load_library(path: str | os.PathLike[str] | None = None) -> _native.Library:
    """Loads libsolti_exec (once per process) and returns it.

    Lookup order: `path`; ``$SOLTI_EXEC_LIBRARY``; the copy bundled in the
    package (``solti_exec/_lib/libsolti_exec.so.0`` with the exec shim beside
    it); the system loader.  Called implicitly by the first ``Runner``.  The
    library is never unloaded, and a second, different copy cannot be loaded
    (RuntimeError).
    """
    return _native.load(path)


def debug_stats() -> dict[str, int]:
    """What the library holds now (``solti_debug_stats``): ``goroutines``,
    ``runners``, ``tasks``, ``processes`` (children not yet reaped) and
    ``fds`` (descriptors held for tasks), for leak checks.  Once every task
    and runner is closed, all but goroutines are 0."""
    return _native.load().debug_stats()


def library_version() -> str:
    """The loaded library's version (``solti_version()``), loading it if needed."""
    return _native.load().version()
