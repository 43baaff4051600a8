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

import errno as _errno
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
    "SpawnOSError",
    "SpawnFileNotFoundError",
    "SpawnPermissionError",
    "SandboxError",
    "Timeout",
    "BufferTooSmall",
    "EndOfEvents",
    "ForkedError",
    "ChildLost",
    "InternalError",
    "BrokenPipe",
    "CalledProcessError",
    "TimeoutExpired",
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


class _StepError(SoltiError):
    """A spawn that failed at a step: the attributes both kinds share."""

    #: The step that failed ("exec", "chdir", "shim", "rlimit", ...), or None.
    step: str | None
    #: What the step worked on: the program for "exec", the directory for
    #: "chdir", the shim's path for "shim"; None when nothing.
    filename: str | None
    #: The failing call's errno, or None.
    errno: int | None  # type: ignore[assignment]  # OSError subclasses have it too

    def __init__(self, code: int, strerror: str, message: str = "", function: str = "") -> None:
        super().__init__(code, strerror, message, function)
        self.step = None
        self.filename = None
        self.errno = None

    def __reduce__(self):  # picklable with the step, errno and filename
        state = {"step": self.step, "filename": self.filename, "errno": self.errno, "strerror": self.strerror}
        return (type(self), (self.code, self.strerror, self.message, self.function), state)


class SpawnError(_StepError):
    """SOLTI_ESPAWN: the process could not be started (missing binary, bad cwd, ...).

    :attr:`step`, :attr:`errno` and :attr:`filename` say where and why.
    A failure with an errno is raised as a subclass that is also the
    ``OSError`` ``subprocess.Popen`` would raise, so existing handlers
    work: :class:`SpawnFileNotFoundError` (ENOENT: a missing program, or a
    missing ``cwd``), :class:`SpawnPermissionError` (EACCES, EPERM), else
    :class:`SpawnOSError`.  ``strerror`` stays the code's text, as on every
    :class:`SoltiError`; ``os.strerror(e.errno)`` gives the errno's.
    """

    CODE = -6


class SpawnOSError(SpawnError, OSError):
    """A :class:`SpawnError` with an errno: also an ``OSError``."""


class SpawnFileNotFoundError(SpawnOSError, FileNotFoundError):
    """A :class:`SpawnError` for ENOENT: also a ``FileNotFoundError``
    (``filename`` is the program, or the directory for step "chdir")."""


class SpawnPermissionError(SpawnOSError, PermissionError):
    """A :class:`SpawnError` for EACCES or EPERM: also a ``PermissionError``."""


class SandboxError(_StepError):
    """SOLTI_ESANDBOX: a required limit or isolation could not be applied.

    :attr:`step` ("cgroup", "rlimit", "caps", "nnp"), :attr:`errno` and
    :attr:`filename` (the limit) say which, when a shim step failed.
    """

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


class TimeoutExpired(subprocess.TimeoutExpired):
    """``Runner.run(..., timeout=...)``: the task's timeout passed and its
    whole tree was killed.

    A :class:`subprocess.TimeoutExpired` (``except
    subprocess.TimeoutExpired`` catches it), with ``cmd``, ``timeout``
    (seconds), ``output``/``stdout`` and ``stderr`` as read until the kill,
    plus the task's :attr:`report` (outcome TIMEOUT) and :attr:`id`.
    """

    def __init__(self, cmd: Any, timeout: Any, output: Any, stderr: Any, report: ExitReport, id: str) -> None:
        super().__init__(cmd, timeout, output, stderr)
        self.report = report
        self.id = id

    def __reduce__(self):  # picklable, like SoltiError
        return (type(self), (self.cmd, self.timeout, self.output, self.stderr, self.report, self.id))


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


_SPAWN_OS_ERRORS: dict[int, type[SpawnOSError]] = {
    _errno.ENOENT: SpawnFileNotFoundError,
    _errno.EACCES: SpawnPermissionError,
    _errno.EPERM: SpawnPermissionError,
}


def spawn_error(code: int, strerror: str, message: str, step: str | None, errnum: int, arg: str | None) -> SoltiError:
    """The exception for a failed ``solti_task_spawn``: chosen from the code
    and, for SOLTI_ESPAWN, the failing step's errno (never from the
    message), carrying the step, errno and argument that
    ``solti_task_spawn_failure`` reported (None when it reported none)."""
    cls: type[SoltiError] = error_for_code(code)
    if cls is SpawnError and errnum:
        cls = _SPAWN_OS_ERRORS.get(errnum, SpawnOSError)
    err = cls(code, strerror, message, "solti_task_spawn")
    if isinstance(err, _StepError):
        err.step = step
        err.filename = arg or None
        err.errno = errnum or None
    return err
