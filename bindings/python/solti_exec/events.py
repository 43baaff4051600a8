"""What a task tells: its events, their enums, and the exit report.

A task's output ring holds events in order: :class:`Line` (one line of
stdout or stderr), :class:`Started` (an attempt's process started),
:class:`Finished` (an attempt ended), :class:`Lagged` (this reader fell
behind the bounded ring and missed some events) and :class:`WarningEvent`
(a message from the engine, e.g. why a spawn failed).  :class:`ExitReport`
is what ``Task.wait()`` returns: the report of the task's last attempt.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NamedTuple, Union

from . import _native as n

__all__ = [
    "EventKind",
    "Stream",
    "Outcome",
    "Line",
    "Started",
    "Finished",
    "Lagged",
    "WarningEvent",
    "Event",
    "ExitReport",
]


class EventKind(enum.IntEnum):
    """``enum solti_event_kind``."""

    LINE = n.SOLTI_EVENT_LINE
    STARTED = n.SOLTI_EVENT_STARTED
    FINISHED = n.SOLTI_EVENT_FINISHED
    LAGGED = n.SOLTI_EVENT_LAGGED
    WARNING = n.SOLTI_EVENT_WARNING


class Stream(enum.IntEnum):
    """``enum solti_stream``: which pipe a line came from."""

    STDOUT = n.SOLTI_STDOUT
    STDERR = n.SOLTI_STDERR

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: Stream | str | int) -> Stream:
        """Accepts a Stream, its value, or "stdout"/"stderr"."""
        if isinstance(value, str):
            try:
                return cls[value.upper()]
            except KeyError:
                raise ValueError(f"stream must be 'stdout' or 'stderr', not {value!r}") from None
        return cls(value)


class Outcome(enum.IntEnum):
    """``enum solti_outcome``: how an attempt ended."""

    SUCCESS = n.SOLTI_OUTCOME_SUCCESS
    """Exit 0, or any exit with ``fail_on_non_zero=False``."""
    FAILURE = n.SOLTI_OUTCOME_FAILURE
    """Non-zero exit (with fail_on_non_zero) or killed by a signal."""
    CANCELED = n.SOLTI_OUTCOME_CANCELED
    """``Task.cancel()``, or the task or runner was closed."""
    TIMEOUT = n.SOLTI_OUTCOME_TIMEOUT
    """The attempt's timeout passed; the whole process tree was killed."""
    FATAL = n.SOLTI_OUTCOME_FATAL
    """The process could not be started or sandboxed; never restarted."""
    LOST = n.SOLTI_OUTCOME_LOST
    """The exit status is unknown: the task's shim was killed from outside
    (``wait`` raises ``ChildLost``); never restarted."""

    def __str__(self) -> str:
        return self.name.lower()


def _datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


class Line(NamedTuple):
    """One line of a child's output (a ``SOLTI_EVENT_LINE``).

    A named tuple, so that reading a million lines stays cheap; ``str(line)``
    is its text.  The text has no trailing newline (nor ``\\r``) and is valid
    UTF-8 (invalid bytes were replaced by U+FFFD).
    """

    stream: Stream
    """STDOUT or STDERR."""
    text: str
    """The line without its newline."""
    attempt: int
    """The attempt that printed it, from 1."""
    seq: int
    """Its number in its stream of its attempt, from 0."""
    truncated: bool
    """True when it was cut (the runner's ``log.maxLineBytes``/``maxLineLength``)."""
    ts_ms: int
    """When it was read, Unix milliseconds."""

    def __str__(self) -> str:
        return self.text

    @property
    def time(self) -> datetime:
        """:attr:`ts_ms` as an aware UTC datetime."""
        return _datetime(self.ts_ms)


@dataclass(frozen=True, slots=True)
class Started:
    """An attempt's process started (``SOLTI_EVENT_STARTED``)."""

    attempt: int
    pid: int
    ts_ms: int

    @property
    def time(self) -> datetime:
        return _datetime(self.ts_ms)


@dataclass(frozen=True, slots=True)
class Finished:
    """An attempt ended (``SOLTI_EVENT_FINISHED``).

    ``exit_code`` is None when there is none (killed by a signal); ``signal``
    is the killing signal's number (never 128+N), None when none.
    """

    attempt: int
    outcome: Outcome
    exit_code: int | None
    signal: int | None
    ts_ms: int

    @property
    def time(self) -> datetime:
        return _datetime(self.ts_ms)


@dataclass(frozen=True, slots=True)
class Lagged:
    """This reader fell behind the bounded ring and missed ``missed`` events
    (``SOLTI_EVENT_LAGGED``); reading goes on from the oldest event kept.

    ``attempt`` is the attempt of that oldest event kept.  Use the output
    setting ``when_full="block"`` for lossless reading.
    """

    attempt: int
    missed: int
    ts_ms: int

    @property
    def time(self) -> datetime:
        return _datetime(self.ts_ms)


@dataclass(frozen=True, slots=True)
class WarningEvent:
    """A message from the engine (``SOLTI_EVENT_WARNING``), e.g. why a spawn
    failed or a limit that could not be applied but was not required.
    ``attempt`` is 0 when it belongs to no attempt (a failed start)."""

    attempt: int
    message: str
    ts_ms: int

    @property
    def time(self) -> datetime:
        return _datetime(self.ts_ms)


#: Any event of a task's ring.
Event = Union[Line, Started, Finished, Lagged, WarningEvent]


@dataclass(frozen=True, slots=True)
class ExitReport:
    """The report of one attempt (``solti_exit_t``), returned by ``Task.wait()``.

    Times are Unix milliseconds (``started_ms`` is 0 when no attempt ever
    started); CPU times are microseconds.  Properties give the same as
    datetimes and seconds.
    """

    attempt: int
    """Which attempt, from 1; 0 if none ever started."""
    outcome: Outcome
    exit_code: int | None
    """The exit code; None if there is none (killed by a signal, never started)."""
    signal: int | None
    """The number of the signal that killed it (never 128+N); None if none."""
    core_dumped: bool
    started_ms: int
    finished_ms: int
    user_us: int
    """rusage: user CPU time, microseconds."""
    system_us: int
    """rusage: system CPU time, microseconds."""
    max_rss_kb: int
    """rusage: maximum resident set, KiB."""
    oom_kills: int | None
    """cgroup OOM kills; None without memory accounting (no cgroup)."""
    memory_peak_bytes: int | None
    """cgroup memory peak of the whole tree, bytes; None when unknown."""
    cgroup_cpu_us: int | None
    """cgroup CPU time of every process of the task, microseconds; None when unknown."""
    reason: str
    """Why it ended, e.g. "process exited with non-zero code: 3"; "" on plain success."""

    @classmethod
    def from_c(cls, ex: n.solti_exit_t) -> ExitReport:
        """Converts a filled ``solti_exit_t``."""
        return cls(
            attempt=ex.attempt,
            outcome=Outcome(ex.outcome),
            exit_code=ex.exit_code if ex.exit_code >= 0 else None,
            signal=ex.signal if ex.signal > 0 else None,
            core_dumped=bool(ex.core_dumped),
            started_ms=ex.started_ms,
            finished_ms=ex.finished_ms,
            user_us=ex.user_us,
            system_us=ex.system_us,
            max_rss_kb=ex.max_rss_kb,
            oom_kills=ex.oom_kills if ex.oom_kills >= 0 else None,
            memory_peak_bytes=ex.memory_peak_bytes if ex.memory_peak_bytes >= 0 else None,
            cgroup_cpu_us=ex.cgroup_cpu_us if ex.cgroup_cpu_us >= 0 else None,
            reason=ex.reason.decode("utf-8", "replace"),
        )

    @property
    def success(self) -> bool:
        """True when the outcome is SUCCESS."""
        return self.outcome is Outcome.SUCCESS

    @property
    def returncode(self) -> int | None:
        """Like ``subprocess``: the exit code, or -N when signal N killed it;
        None when the process never ran."""
        if self.exit_code is not None:
            return self.exit_code
        if self.signal is not None:
            return -self.signal
        return None

    @property
    def started(self) -> datetime | None:
        """When the attempt started (UTC), None if it never did."""
        return _datetime(self.started_ms) if self.started_ms > 0 else None

    @property
    def finished(self) -> datetime | None:
        """When the attempt ended (UTC)."""
        return _datetime(self.finished_ms) if self.finished_ms > 0 else None

    @property
    def duration(self) -> float:
        """Seconds from start to end; 0.0 if it never started."""
        if self.started_ms <= 0 or self.finished_ms < self.started_ms:
            return 0.0
        return (self.finished_ms - self.started_ms) / 1000

    @property
    def user_cpu(self) -> float:
        """User CPU time in seconds."""
        return self.user_us / 1e6

    @property
    def system_cpu(self) -> float:
        """System CPU time in seconds."""
        return self.system_us / 1e6
