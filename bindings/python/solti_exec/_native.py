"""The C ABI through ctypes: loading the library, the structs, the prototypes.

Everything here mirrors ``include/solti_exec.h``.  Each function gets its
``argtypes``, ``restype`` and an ``errcheck`` that turns a negative code into
the exception for that code, reading the calling thread's message
(``solti_last_error``) right after the failing call.  Codes that are part of a
function's normal flow (SOLTI_EOF and SOLTI_ERANGE from ``solti_task_poll``,
SOLTI_ETIMEDOUT from ``solti_task_wait``, SOLTI_ERANGE from the size queries)
are returned to the caller instead of raised.

The library is loaded once per process and never unloaded (the Go runtime
inside cannot be): see :func:`load`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import ChildLost, SoltiError, error_for_code, spawn_error

__all__ = [
    "SOLTI_INFINITE",
    "SOLTI_OK",
    "SOLTI_EINVAL",
    "SOLTI_ESPEC",
    "SOLTI_EUNSUPPORTED",
    "SOLTI_EBADF",
    "SOLTI_ESTATE",
    "SOLTI_ESPAWN",
    "SOLTI_ESANDBOX",
    "SOLTI_ETIMEDOUT",
    "SOLTI_ERANGE",
    "SOLTI_EOF",
    "SOLTI_EFORKED",
    "SOLTI_ECHILD",
    "SOLTI_EINTERNAL",
    "SOLTI_EPIPE",
    "SOLTI_SIGNAL_LEADER",
    "SOLTI_EVENT_LINE",
    "SOLTI_EVENT_STARTED",
    "SOLTI_EVENT_FINISHED",
    "SOLTI_EVENT_LAGGED",
    "SOLTI_EVENT_WARNING",
    "SOLTI_EVENT_CHUNK",
    "SOLTI_STDOUT",
    "SOLTI_STDERR",
    "SOLTI_LINE_TRUNCATED",
    "SOLTI_OUTCOME_SUCCESS",
    "SOLTI_OUTCOME_FAILURE",
    "SOLTI_OUTCOME_CANCELED",
    "SOLTI_OUTCOME_TIMEOUT",
    "SOLTI_OUTCOME_FATAL",
    "SOLTI_OUTCOME_LOST",
    "SOLTI_METRICS_JSON",
    "SOLTI_METRICS_PROMETHEUS",
    "solti_event_t",
    "solti_exit_t",
    "solti_debug_stats_t",
    "solti_spawn_failure_t",
    "Library",
    "load",
    "library_candidates",
    "LIBRARY_ENV",
    "SONAME",
]

# ---- Constants (solti_exec.h) ------------------------------------------------

SOLTI_EXEC_VERSION_MAJOR = 0
SOLTI_EXEC_VERSION_MINOR = 1
SOLTI_EXEC_VERSION_PATCH = 0

SOLTI_INFINITE = -1

SOLTI_OK = 0
SOLTI_EINVAL = -1
SOLTI_ESPEC = -2
SOLTI_EUNSUPPORTED = -3
SOLTI_EBADF = -4
SOLTI_ESTATE = -5
SOLTI_ESPAWN = -6
SOLTI_ESANDBOX = -7
SOLTI_ETIMEDOUT = -8
SOLTI_ERANGE = -9
SOLTI_EOF = -10
SOLTI_EFORKED = -11
SOLTI_ECHILD = -12
SOLTI_EINTERNAL = -13
SOLTI_EPIPE = -14

SOLTI_SIGNAL_LEADER = 1 << 0  # solti_task_signal: the leader alone

SOLTI_EVENT_LINE = 1
SOLTI_EVENT_STARTED = 2
SOLTI_EVENT_FINISHED = 3
SOLTI_EVENT_LAGGED = 4
SOLTI_EVENT_WARNING = 5
SOLTI_EVENT_CHUNK = 6

SOLTI_STDOUT = 1
SOLTI_STDERR = 2

SOLTI_LINE_TRUNCATED = 1 << 0

SOLTI_OUTCOME_SUCCESS = 0
SOLTI_OUTCOME_FAILURE = 1
SOLTI_OUTCOME_CANCELED = 2
SOLTI_OUTCOME_TIMEOUT = 3
SOLTI_OUTCOME_FATAL = 4
SOLTI_OUTCOME_LOST = 5

SOLTI_METRICS_JSON = 0
SOLTI_METRICS_PROMETHEUS = 1

solti_runner_t = ctypes.c_uint64
solti_task_t = ctypes.c_uint64

# ---- Structs -------------------------------------------------------------------


class solti_event_t(ctypes.Structure):
    """``struct solti_event``: one event read by ``solti_task_poll`` (64 bytes on LP64).

    ``data`` is a ``const char *`` into the caller's buffer; it is declared
    as ``c_void_p`` so that reading it gives the address (an int) rather than
    bytes cut at the first NUL.
    """

    _fields_ = [
        ("kind", ctypes.c_uint32),
        ("attempt", ctypes.c_uint32),
        ("stream", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("seq", ctypes.c_uint64),
        ("ts_ms", ctypes.c_int64),
        ("value", ctypes.c_int64),
        ("exit_code", ctypes.c_int32),
        ("signal", ctypes.c_int32),
        ("data", ctypes.c_void_p),
        ("len", ctypes.c_size_t),
    ]


class solti_read_cursor_t(ctypes.Structure):
    """``struct solti_read_cursor``: a bytes reader's place; zero to start."""

    _fields_ = [("seq", ctypes.c_uint64), ("pos", ctypes.c_uint64)]


class solti_read_info_t(ctypes.Structure):
    """``struct solti_read_info``: what one ``solti_task_read`` copied."""

    _fields_ = [
        ("stream", ctypes.c_uint32),
        ("attempt", ctypes.c_uint32),
        ("lost_events", ctypes.c_uint64),
        ("lost_bytes", ctypes.c_uint64),
    ]


class solti_lines_cursor_t(ctypes.Structure):
    """``struct solti_lines_cursor``: a bulk lines reader's place; zero to start."""

    _fields_ = [("seq", ctypes.c_uint64), ("line", ctypes.c_uint64), ("pos", ctypes.c_uint64)]


class solti_line_run_t(ctypes.Structure):
    """``struct solti_line_run``: the header of one record of
    ``solti_task_read_lines`` (40 bytes); its text follows."""

    _fields_ = [
        ("stream", ctypes.c_uint32),
        ("attempt", ctypes.c_uint32),
        ("seq", ctypes.c_uint64),
        ("ts_ms", ctypes.c_int64),
        ("count", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("len", ctypes.c_uint64),
    ]


class solti_lines_info_t(ctypes.Structure):
    """``struct solti_lines_info``: what one ``solti_task_read_lines`` copied."""

    _fields_ = [
        ("lines", ctypes.c_uint64),
        ("runs", ctypes.c_uint64),
        ("lost_lines", ctypes.c_uint64),
        ("lost_bytes", ctypes.c_uint64),
    ]


class solti_exit_t(ctypes.Structure):
    """``struct solti_exit``: the report of one attempt, filled by ``solti_task_wait``."""

    _fields_ = [
        ("attempt", ctypes.c_uint32),
        ("outcome", ctypes.c_int32),
        ("exit_code", ctypes.c_int32),
        ("signal", ctypes.c_int32),
        ("core_dumped", ctypes.c_int32),
        ("started_ms", ctypes.c_int64),
        ("finished_ms", ctypes.c_int64),
        ("user_us", ctypes.c_int64),
        ("system_us", ctypes.c_int64),
        ("max_rss_kb", ctypes.c_int64),
        ("oom_kills", ctypes.c_int64),
        ("memory_peak_bytes", ctypes.c_int64),
        ("cgroup_cpu_us", ctypes.c_int64),
        ("reason", ctypes.c_char * 256),
    ]


class solti_spawn_failure_t(ctypes.Structure):
    """``struct solti_spawn_failure``: the step, errno and argument of a failed spawn."""

    _fields_ = [
        ("step", ctypes.c_char * 16),
        ("errnum", ctypes.c_int32),
        ("sandbox", ctypes.c_int32),
        ("arg_len", ctypes.c_size_t),
        ("arg", ctypes.c_char * 4096),
    ]


class solti_debug_stats_t(ctypes.Structure):
    """``struct solti_debug_stats``: what the library holds at one moment."""

    _fields_ = [
        ("goroutines", ctypes.c_int64),
        ("runners", ctypes.c_int64),
        ("tasks", ctypes.c_int64),
        ("processes", ctypes.c_int64),
        ("fds", ctypes.c_int64),
    ]


# ---- Finding the library -------------------------------------------------------

#: Environment variable naming the library file to load.
LIBRARY_ENV = "SOLTI_EXEC_LIBRARY"
#: The library's SONAME, for the system loader.
SONAME = "libsolti_exec.so.0"

_BUNDLED = Path(__file__).resolve().parent / "_lib" / SONAME


def library_candidates(path: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """Returns the places :func:`load` tries, in order, as (source, path) pairs.

    1. ``path``, when given;
    2. ``$SOLTI_EXEC_LIBRARY``, when set;
    3. the copy bundled in the package (``solti_exec/_lib/libsolti_exec.so.0``,
       with the exec shim beside it), when present;
    4. the system loader: ``ctypes.util.find_library("solti_exec")``, then the
       SONAME itself (``LD_LIBRARY_PATH``, ``/etc/ld.so.cache``).

    An explicit path or the environment variable, when given, is the only
    candidate: a typo there must fail rather than silently load another copy.
    """
    if path is not None:
        return [("argument", os.fspath(path))]
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return [(LIBRARY_ENV, env)]
    out: list[tuple[str, str]] = []
    if _BUNDLED.exists():
        out.append(("bundled", str(_BUNDLED)))
    found = ctypes.util.find_library("solti_exec")
    if found:
        out.append(("find_library", found))
    out.append(("system", SONAME))
    return out


# ---- errcheck ------------------------------------------------------------------


def _last_error(lib: ctypes.CDLL) -> str:
    """The calling thread's last failure message (snprintf-style copy)."""
    buf = ctypes.create_string_buffer(1024)
    n = lib.solti_last_error(buf, len(buf))
    if n >= len(buf):
        buf = ctypes.create_string_buffer(n + 1)
        lib.solti_last_error(buf, len(buf))
    return buf.value.decode("utf-8", "replace")


def _strerror(lib: ctypes.CDLL, code: int) -> str:
    return lib.solti_strerror(code)  # type: ignore[no-any-return]  # str, by its errcheck


def make_error(lib: ctypes.CDLL, code: int, function: str) -> SoltiError:
    """Builds the exception for `code`, with this thread's last message."""
    cls = error_for_code(code)
    return cls(code, _strerror(lib, code), _last_error(lib), function)


def _code_checker(lib: ctypes.CDLL, passthrough: Iterable[int] = ()) -> Callable[..., Any]:
    """An errcheck raising for negative results, except the `passthrough` codes."""
    allowed = frozenset(passthrough)

    def errcheck(result: int, func: Any, args: tuple[Any, ...]) -> int:
        if result < 0 and result not in allowed:
            raise make_error(lib, result, func.__name__)
        return result

    return errcheck


def _static_string(result: bytes | None, func: Any, args: tuple[Any, ...]) -> str:
    """errcheck for the functions returning a static, never-NULL string."""
    if result is None:
        raise SoltiError(SOLTI_EINTERNAL, "internal error", f"{func.__name__} returned NULL", func.__name__)
    return result.decode("utf-8", "replace")


def _non_negative(result: int, func: Any, args: tuple[Any, ...]) -> int:
    """errcheck for solti_last_error, which never fails."""
    return max(result, 0)


# ---- The loaded library --------------------------------------------------------


class Library:
    """The loaded ``libsolti_exec.so`` with every prototype declared.

    Attributes:
        path: the file (or name) it was loaded from.
        source: which lookup step found it (``"argument"``, ``"SOLTI_EXEC_LIBRARY"``,
            ``"bundled"``, ``"find_library"``, ``"system"``).
        dll: the ``ctypes.CDLL``; its functions raise :class:`SoltiError`.
    """

    def __init__(self, dll: ctypes.CDLL, path: str, source: str) -> None:
        self.dll = dll
        self.path = path
        self.source = source
        self._declare(dll)
        self.pid = os.getpid()

    def _declare(self, lib: ctypes.CDLL) -> None:
        p_u64 = ctypes.POINTER(ctypes.c_uint64)
        p_size = ctypes.POINTER(ctypes.c_size_t)
        p_u32 = ctypes.POINTER(ctypes.c_uint32)
        c_int = ctypes.c_int
        size_t = ctypes.c_size_t
        check = _code_checker(lib)

        def proto(name: str, restype: Any, argtypes: list[Any], errcheck: Callable[..., Any]) -> None:
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
            fn.errcheck = errcheck

        proto("solti_version", ctypes.c_char_p, [], _static_string)
        proto("solti_strerror", ctypes.c_char_p, [c_int], _static_string)
        proto("solti_last_error", c_int, [ctypes.c_char_p, size_t], _non_negative)

        proto("solti_runner_new", c_int, [ctypes.c_char_p, ctypes.c_char_p, p_u64], check)
        proto("solti_runner_free", c_int, [solti_runner_t], check)
        proto(
            "solti_runner_metrics",
            c_int,
            [solti_runner_t, c_int, ctypes.c_char_p, size_t, p_size],
            _code_checker(lib, (SOLTI_ERANGE,)),
        )

        proto("solti_task_build", c_int, [solti_runner_t, ctypes.c_char_p, p_u64], check)
        proto("solti_task_id", c_int, [solti_task_t, ctypes.c_char_p, size_t], _code_checker(lib, (SOLTI_ERANGE,)))
        proto("solti_task_labels", c_int, [solti_task_t, ctypes.c_char_p, size_t], _code_checker(lib, (SOLTI_ERANGE,)))
        proto("solti_task_spawn", c_int, [solti_task_t], check)
        proto("solti_task_cancel", c_int, [solti_task_t], check)
        # SOLTI_ECHILD is passed through: the report is written with it, and
        # the caller raises ChildLost carrying it.
        proto(
            "solti_task_wait",
            c_int,
            [solti_task_t, c_int, ctypes.POINTER(solti_exit_t)],
            _code_checker(lib, (SOLTI_ETIMEDOUT, SOLTI_ECHILD)),
        )
        proto(
            "solti_task_poll",
            c_int,
            [
                solti_task_t,
                p_u64,
                ctypes.POINTER(solti_event_t),
                size_t,
                ctypes.c_void_p,
                size_t,
                c_int,
                p_size,
            ],
            _code_checker(lib, (SOLTI_EOF, SOLTI_ERANGE)),
        )
        proto(
            "solti_task_read",
            c_int,
            [
                solti_task_t,
                ctypes.POINTER(solti_read_cursor_t),
                ctypes.c_uint32,
                ctypes.c_void_p,
                size_t,
                c_int,
                p_size,
                ctypes.POINTER(solti_read_info_t),
            ],
            _code_checker(lib, (SOLTI_EOF,)),
        )
        proto(
            "solti_task_read_lines",
            c_int,
            [
                solti_task_t,
                ctypes.POINTER(solti_lines_cursor_t),
                ctypes.c_uint32,
                ctypes.c_void_p,
                size_t,
                c_int,
                p_size,
                ctypes.POINTER(solti_lines_info_t),
            ],
            _code_checker(lib, (SOLTI_EOF, SOLTI_ERANGE)),
        )
        proto("solti_task_fd", c_int, [solti_task_t], check)
        proto("solti_task_attempts", c_int, [solti_task_t, p_u32], check)
        proto("solti_task_free", c_int, [solti_task_t], check)
        # Talking to the child: stdin, terminal, signals.  SOLTI_ETIMEDOUT
        # from a write is its normal flow (a partial write).
        proto(
            "solti_task_write",
            c_int,
            [solti_task_t, ctypes.c_void_p, size_t, c_int, p_size],
            _code_checker(lib, (SOLTI_ETIMEDOUT,)),
        )
        proto("solti_task_close_stdin", c_int, [solti_task_t], check)
        proto("solti_task_stdin_fd", c_int, [solti_task_t], check)
        proto("solti_task_resize", c_int, [solti_task_t, ctypes.c_uint32, ctypes.c_uint32], check)
        proto("solti_task_signal", c_int, [solti_task_t, c_int, ctypes.c_uint32], check)
        # Spawn failures: the step and errno behind SOLTI_ESPAWN and
        # SOLTI_ESANDBOX, so that errors.py can raise FileNotFoundError or
        # PermissionError as Popen does (declared when the library has it).
        self.has_spawn_failure = hasattr(lib, "solti_task_spawn_failure")
        if self.has_spawn_failure:
            proto("solti_task_spawn_failure", c_int, [solti_task_t, ctypes.POINTER(solti_spawn_failure_t)], check)
            proto("solti_task_spawn", c_int, [solti_task_t], self._spawn_checker(check))
        # Debugging, newer than the rest: declared when the library has it.
        self.has_debug_stats = hasattr(lib, "solti_debug_stats")
        if self.has_debug_stats:
            proto("solti_debug_stats", c_int, [ctypes.POINTER(solti_debug_stats_t)], check)

    def _spawn_checker(self, check: Callable[..., Any]) -> Callable[..., Any]:
        """errcheck for solti_task_spawn: a failed start raises the
        exception errors.spawn_error picks from its step and errno."""
        dll = self.dll

        def errcheck(result: int, func: Any, args: tuple[Any, ...]) -> int:
            if result in (SOLTI_ESPAWN, SOLTI_ESANDBOX):
                message = _last_error(dll)  # before any other call
                f = solti_spawn_failure_t()
                if dll.solti_task_spawn_failure(args[0], ctypes.byref(f)) == 1:
                    step, errnum, arg = f.step.decode("ascii", "replace"), f.errnum, os.fsdecode(f.arg)
                else:
                    step, errnum, arg = None, 0, None
                raise spawn_error(result, _strerror(dll, result), message, step, errnum, arg)
            return check(result, func, args)  # type: ignore[no-any-return]

        return errcheck

    # Thin wrappers, so callers need not know the ctypes details.

    def version(self) -> str:
        """``solti_version()``: "MAJOR.MINOR.PATCH"."""
        return self.dll.solti_version()  # type: ignore[no-any-return]

    def strerror(self, code: int) -> str:
        """``solti_strerror(code)``: the fixed text of an error code."""
        return self.dll.solti_strerror(code)  # type: ignore[no-any-return]

    def last_error(self) -> str:
        """``solti_last_error``: this thread's last failure message ("" if none)."""
        return _last_error(self.dll)

    def error(self, code: int, function: str) -> SoltiError:
        """The exception for `code` returned by `function` on this thread."""
        return make_error(self.dll, code, function)

    def debug_stats(self) -> dict[str, int]:
        """``solti_debug_stats``: goroutines, runners, tasks, processes and
        fds the library holds now.  Raises NotImplementedError when the
        loaded library predates it."""
        if not self.has_debug_stats:
            raise NotImplementedError(f"{self.path} has no solti_debug_stats")
        stats = solti_debug_stats_t()
        self.dll.solti_debug_stats(ctypes.byref(stats))
        return {name: getattr(stats, name) for name, _ in solti_debug_stats_t._fields_}

    def child_lost(self, report: Any) -> ChildLost:
        """The ChildLost exception for a wait that returned SOLTI_ECHILD."""
        err = make_error(self.dll, SOLTI_ECHILD, "solti_task_wait")
        assert isinstance(err, ChildLost)
        err.report = report
        return err


_lock = threading.Lock()
_loaded: Library | None = None


def load(path: str | os.PathLike[str] | None = None) -> Library:
    """Loads libsolti_exec once per process and returns it.

    The first call decides which file is loaded (see
    :func:`library_candidates`); later calls return the same library.  A
    later call naming a different file raises ``RuntimeError``: a second copy
    would start a second Go runtime in the process, which is not supported,
    and the library is never unloaded.

    Raises:
        OSError: no candidate could be loaded; the message lists what was tried.
    """
    global _loaded
    with _lock:
        if _loaded is not None:
            if path is not None and not _same_file(os.fspath(path), _loaded.path):
                raise RuntimeError(
                    f"libsolti_exec is already loaded from {_loaded.path}; "
                    f"it cannot be loaded again from {os.fspath(path)}"
                )
            return _loaded
        tried: list[str] = []
        for source, candidate in library_candidates(path):
            try:
                dll = ctypes.CDLL(candidate)
            except OSError as e:
                tried.append(f"{source}: {candidate}: {e}")
                continue
            _loaded = Library(dll, _resolved(candidate), source)
            return _loaded
        raise OSError(
            "libsolti_exec could not be loaded; tried:\n  "
            + "\n  ".join(tried)
            + f"\nSet {LIBRARY_ENV} to the library's path, or pass it to solti_exec.load_library()."
        )


def loaded() -> Library | None:
    """The library if it is loaded, else None (never loads it)."""
    return _loaded


def _resolved(candidate: str) -> str:
    return candidate if os.sep not in candidate else str(Path(candidate).resolve())


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a == b
