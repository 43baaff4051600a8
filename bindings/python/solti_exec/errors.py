"""Exceptions: one class per ``SOLTI_E*`` code, all under :class:`SoltiError`.

Every failing C call returns a negative code and leaves a message for the
calling thread.  The binding reads that message on the same thread right
after the call and raises the class registered for the code, so::

    try:
        runner.task(Command("nosuch")).spawn()
    except SpawnError as e:
        e.code       # -6 (SOLTI_ESPAWN)
        e.strerror   # "process could not be started"
        e.message    # 'spawn failed: exec "nosuch": no such file or directory'
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from .events import ExitReport

__all__ = [
    "SoltiError",
    "InvalidArgument",
    "SpecError",
    "Unsupported",
    "BadHandle",
    "StateError",
    "SpawnError",
    "SandboxError",
    "Timeout",
    "BufferTooSmall",
    "EndOfEvents",
    "ForkedError",
    "ChildLost",
    "InternalError",
    "BrokenPipe",
    "CalledProcessError",
    "error_for_code",
]


class SoltiError(Exception):
    """A call into libsolti_exec failed.

    Attributes:
        code: the negative ``SOLTI_E*`` code the C function returned.
        strerror: the code's fixed text (``solti_strerror``).
        message: the calling thread's message (``solti_last_error``), which
            names the field, step or errno at fault; falls back to strerror.
        function: the C function that failed, e.g. ``"solti_task_build"``.
    """

    #: The C code this class stands for (None on the base class).
    CODE: ClassVar[int | None] = None

    code: int
    strerror: str  # type: ignore[assignment]  # OSError subclasses have it too
    message: str
    function: str

    def __init__(self, code: int, strerror: str, message: str = "", function: str = "") -> None:
        text = message or strerror
        super().__init__(text)
        self.code = code
        self.strerror = strerror
        self.message = text
        self.function = function

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r})"

    def __reduce__(self):  # picklable, e.g. across multiprocessing queues
        return (type(self), (self.code, self.strerror, self.message, self.function))


class InvalidArgument(SoltiError, ValueError):
    """SOLTI_EINVAL: a bad argument (NULL, out of range)."""

    CODE = -1


class SpecError(SoltiError, ValueError):
    """SOLTI_ESPEC: the task spec or runner config is invalid; the message names the field."""

    CODE = -2


class Unsupported(SoltiError):
    """SOLTI_EUNSUPPORTED: the task kind (wasm, container, embedded) or feature is not available."""

    CODE = -3


class BadHandle(SoltiError):
    """SOLTI_EBADF: the runner or task was freed (closed) or never existed."""

    CODE = -4


class StateError(SoltiError):
    """SOLTI_ESTATE: not allowed now, e.g. a spawn refused by admission, or a wait on a never-spawned task."""

    CODE = -5


class SpawnError(SoltiError):
    """SOLTI_ESPAWN: the process could not be started (missing binary, bad cwd, ...)."""

    CODE = -6


class SandboxError(SoltiError):
    """SOLTI_ESANDBOX: a required limit or isolation could not be applied."""

    CODE = -7


class Timeout(SoltiError, TimeoutError):
    """SOLTI_ETIMEDOUT: the wait's timeout passed while the task still runs."""

    CODE = -8


class BufferTooSmall(SoltiError):
    """SOLTI_ERANGE: a caller buffer was too small (the binding grows its own buffers)."""

    CODE = -9


class EndOfEvents(SoltiError):
    """SOLTI_EOF: the task is done and this reader has every event."""

    CODE = -10


class ForkedError(SoltiError):
    """SOLTI_EFORKED: called in a child forked from the process that loaded the library.

    Only the loading process may use the library; a ``multiprocessing``
    child made with the "fork" start method gets this at once.  Use the
    "spawn" or "forkserver" start method, or build runners in the child
    only after an exec.
    """

    CODE = -11


class ChildLost(SoltiError):
    """SOLTI_ECHILD: the task is done but its exit status was lost.

    The task's resident shim was killed from outside before it reported (a
    host that reaps children, SIGCHLD ignored or ``os.waitpid(-1, ...)``,
    does not cause it).  :attr:`report` holds what is known.
    """

    CODE = -12
    report: ExitReport | None = None


class InternalError(SoltiError):
    """SOLTI_EINTERNAL: a bug in the library; the message says where."""

    CODE = -13


class BrokenPipe(SoltiError, BrokenPipeError):
    """SOLTI_EPIPE: nothing reads the task's stdin any more.

    The child (with everything sharing its stdin) closed its end, or its
    attempt ended.  Also a :class:`BrokenPipeError`, as a write to
    ``Popen.stdin`` raises; the host never gets a SIGPIPE.
    """

    CODE = -14


class CalledProcessError(subprocess.CalledProcessError):
    """``Runner.run(..., check=True)``: the task did not succeed.

    A :class:`subprocess.CalledProcessError` (``except
    subprocess.CalledProcessError`` catches it), with ``returncode``
    (-N when signal N killed it), ``cmd``, ``output``/``stdout`` and
    ``stderr`` as :meth:`Runner.run` gives them, plus the task's
    :attr:`report` (outcome, reason) and :attr:`id`.
    """

    def __init__(self, returncode: int, cmd: Any, output: Any, stderr: Any, report: ExitReport, id: str) -> None:
        super().__init__(returncode, cmd, output, stderr)
        self.report = report
        self.id = id

    def __str__(self) -> str:
        return f"task {self.id} ({self.cmd!r}) did not succeed: {self.report.outcome.name.lower()}: {self.report.reason}"

    def __reduce__(self):  # picklable, like SoltiError
        return (type(self), (self.returncode, self.cmd, self.output, self.stderr, self.report, self.id))


_BY_CODE: dict[int, type[SoltiError]] = {
    cls.CODE: cls
    for cls in (
        InvalidArgument,
        SpecError,
        Unsupported,
        BadHandle,
        StateError,
        SpawnError,
        SandboxError,
        Timeout,
        BufferTooSmall,
        EndOfEvents,
        ForkedError,
        ChildLost,
        InternalError,
        BrokenPipe,
    )
    if cls.CODE is not None
}


def error_for_code(code: int) -> type[SoltiError]:
    """Returns the exception class for a ``SOLTI_E*`` code (SoltiError for unknown ones)."""
    return _BY_CODE.get(code, SoltiError)
