"""One reader of a task's ring: a cursor, its buffers, and batch decoding.

``solti_task_poll`` copies up to ``max_events`` events into an array of
``solti_event_t`` and packs their bytes, one after the other, into a byte
buffer.  Turning that into Python objects one ctypes attribute at a time
would cost microseconds per line, so a batch is decoded in bulk:

* the event array lives in a ``bytearray``; strided ``memoryview`` slices of
  it give whole columns (kinds, streams, lengths, ...) as lists in one C call;
* the bytes of a run of consecutive line events are cut apart by one
  ``struct`` unpack whose format is built from the lengths ("7s7s3s..."),
  joined with newlines, decoded once and split again (a line never holds a
  newline: the engine splits on them), so each line costs a handful of
  C-level operations and no Python bytecode;
* the per-line objects are built with ``map``/``zip`` over those columns,
  lazily, as the consumer takes them.

Lifecycle events (started, finished, lagged, warning) are few and decoded
one by one.
"""

from __future__ import annotations

import ctypes
import math
import struct
import time
import warnings
from itertools import accumulate, chain, compress, repeat
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal

from . import _native as n
from .events import Event, Finished, Lagged, Line, Outcome, Started, Stream, WarningEvent

if TYPE_CHECKING:  # pragma: no cover
    from .task import Task

__all__ = ["Reader", "OutputLagged", "LagPolicy", "POLL_SLICE_MS", "lag_handler", "slice_ms"]

#: Blocking calls wait in slices this long, so Ctrl-C (KeyboardInterrupt) is
#: delivered promptly: Python runs signal handlers only between bytecodes.
POLL_SLICE_MS = 200


def slice_ms(deadline: float | None) -> int:
    """The next wait slice in ms before a ``time.monotonic()`` deadline
    (None: no deadline), at most POLL_SLICE_MS and never negative."""
    if deadline is None:
        return POLL_SLICE_MS
    return max(0, min(POLL_SLICE_MS, math.ceil((deadline - time.monotonic()) * 1000)))

DEFAULT_MAX_EVENTS = 1024
DEFAULT_BUFFER_BYTES = 1 << 20
MAX_BUFFER_BYTES = 1 << 30

_EVENT_SIZE = ctypes.sizeof(n.solti_event_t)
# Column positions in the event array seen as uint32 (16 per event) and as
# 64-bit words (8 per event); checked against the struct's offsets below.
_W32 = _EVENT_SIZE // 4
_W64 = _EVENT_SIZE // 8
_KIND, _ATTEMPT, _STREAM, _FLAGS = 0, 1, 2, 3  # uint32 words
_SEQ, _TS, _VALUE, _DATA, _LEN = 2, 3, 4, 6, 7  # 64-bit words
_EXIT_CODE, _SIGNAL = 10, 11  # int32 words

for _name, _word, _size in (
    ("kind", _KIND, 4),
    ("attempt", _ATTEMPT, 4),
    ("stream", _STREAM, 4),
    ("flags", _FLAGS, 4),
    ("exit_code", _EXIT_CODE, 4),
    ("signal", _SIGNAL, 4),
    ("seq", _SEQ, 8),
    ("ts_ms", _TS, 8),
    ("value", _VALUE, 8),
    ("data", _DATA, 8),
    ("len", _LEN, 8),
):
    if getattr(n.solti_event_t, _name).offset != _word * _size:  # pragma: no cover
        raise ImportError(f"solti_event_t layout unexpected at field {_name}")
del _name, _word, _size

_LINE = n.SOLTI_EVENT_LINE
_STARTED = n.SOLTI_EVENT_STARTED
_FINISHED = n.SOLTI_EVENT_FINISHED
_LAGGED = n.SOLTI_EVENT_LAGGED
_WARNING = n.SOLTI_EVENT_WARNING

_STREAMS = (None, Stream.STDOUT, Stream.STDERR)
_new_line = tuple.__new__
# "0s", "1s", ... : struct codes for line lengths, built once.
_SFORMAT = [f"{i}s" for i in range(8192)]

LagPolicy = Literal["warn", "raise", "ignore"]


class OutputLagged(UserWarning):
    """A reader fell behind the task's bounded ring and lost output.

    Issued as a warning by ``Task.lines()`` and the other line readers
    (``on_lag="warn"``, the default: once per reader, with the total, when
    its iteration ends) or raised (``on_lag="raise"``: at the first loss).
    ``missed`` is how many lines were lost (events, for ``events()`` and the
    bytes readers), ``lost_bytes`` their bytes where known (each line counted
    with its newline).  For lossless reading give the task the output
    setting ``when_full="block"`` (or a bigger ring).
    """

    def __init__(self, missed: int, task_id: str = "", lost_bytes: int = 0) -> None:
        super().__init__(
            f"{task_id or 'task'}: reader fell behind the output ring and missed {missed} "
            f"{'lines' if lost_bytes else 'events'}"
            f"{f' ({lost_bytes} bytes)' if lost_bytes else ''} "
            "(use output when_full='block' or a larger capacity for lossless reading)"
        )
        self.missed = missed
        self.task_id = task_id
        self.lost_bytes = lost_bytes

    def __reduce__(self):  # picklable despite the custom __init__
        return (type(self), (self.missed, self.task_id, self.lost_bytes))


class Reader:
    """A cursor on one task's ring with its own event array and byte buffer.

    Each reader sees every event still in the ring from its cursor on,
    independently of other readers.  Not thread-safe: one reader per thread
    (the C cursor must not be shared).
    """

    def __init__(
        self,
        task: Task,
        max_events: int = DEFAULT_MAX_EVENTS,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
    ) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self._task = task
        self._lib = task._lib.dll
        self._poll = self._lib.solti_task_poll
        self._cursor = ctypes.c_uint64(0)
        self._count = ctypes.c_size_t(0)
        self._max = max_events
        self._raw = bytearray(_EVENT_SIZE * max_events)
        self._events = (n.solti_event_t * max_events).from_buffer(self._raw)
        view = memoryview(self._raw)
        self._u32 = view.cast("I")
        self._i32 = view.cast("i")
        self._u64 = view.cast("Q")
        self._i64 = view.cast("q")
        self._set_buffer(buffer_bytes)
        #: Events this reader lost to lag so far.
        self.missed = 0
        #: True once the task is done and every event was read.
        self.eof = False

    def _set_buffer(self, size: int) -> None:
        self._buf = bytearray(size)
        self._cbuf = (ctypes.c_char * size).from_buffer(self._buf)
        self._base = ctypes.addressof(self._cbuf)
        self._bview = memoryview(self._buf)

    @property
    def cursor(self) -> int:
        """The opaque position of the next event to read."""
        return self._cursor.value

    # ---- polling ---------------------------------------------------------------

    def poll(self, timeout_ms: int) -> int:
        """One ``solti_task_poll``: returns the number of events now in the
        array (0 when the timeout passed first), or -1 at the end.  Grows the
        byte buffer on SOLTI_ERANGE."""
        if self.eof:
            return -1
        handle = self._task._require_handle()
        while True:
            rc = self._poll(
                handle,
                ctypes.byref(self._cursor),
                self._events,
                self._max,
                self._base,
                len(self._buf),
                timeout_ms,
                ctypes.byref(self._count),
            )
            if rc == n.SOLTI_EOF:
                self.eof = True
                return -1
            if rc == n.SOLTI_ERANGE:
                if len(self._buf) >= MAX_BUFFER_BYTES:
                    raise self._task._lib.error(rc, "solti_task_poll")
                self._set_buffer(len(self._buf) * 2)
                continue
            return self._count.value

    def _wait_batch(self) -> int:
        """Blocks (in Ctrl-C-friendly slices) for the next batch; -1 at the end."""
        while True:
            count = self.poll(POLL_SLICE_MS)
            if count != 0:
                return count

    # ---- decoding --------------------------------------------------------------

    def _layout(self, count: int) -> tuple[list[int] | None, list[int], list[int] | None, bool]:
        """kinds, lens, each event's byte offset in the buffer, and whether
        the bytes are packed in event order from the buffer's start (what
        the library does, and what the bulk decoding needs).  In the common
        case, every event a line and packed, kinds and offsets are None."""
        lens = self._u64[_LEN : count * _W64 : _W64].tolist()
        kinds = self._u32[_KIND : count * _W32 : _W32].tolist()
        packed = self._packed(count, lens)
        if packed and kinds.count(_LINE) == count:
            return None, lens, None, True
        if packed:
            offsets = [0]
            offsets += accumulate(lens)
            return kinds, lens, offsets, True
        ptrs = self._u64[_DATA : count * _W64 : _W64].tolist()  # pragma: no cover
        return kinds, lens, [p - self._base if ln else 0 for p, ln in zip(ptrs, lens)], False  # pragma: no cover

    def _packed(self, count: int, lens: list[int]) -> bool:
        """True if the bytes are packed in event order from the buffer's
        start, checked from the pointers at both ends of the batch."""
        total = sum(lens)
        if not total:
            return True
        u64 = self._u64
        first = next(i for i, ln in enumerate(lens) if ln)
        last = count - 1 - next(i for i, ln in enumerate(reversed(lens)) if ln)
        return u64[first * _W64 + _DATA] == self._base and u64[last * _W64 + _DATA] + lens[last] == self._base + total

    def _texts(self, start: int, stop: int, lens: list[int], offsets: list[int] | None, packed: bool) -> list[str]:
        """The decoded texts of events start..stop-1, all of them lines."""
        if not packed:  # pragma: no cover
            assert offsets is not None
            return [self._text(offsets[i], lens[i]) for i in range(start, stop)]
        part = lens[start:stop]
        try:
            fmt = "".join(map(_SFORMAT.__getitem__, part))
        except IndexError:  # a line longer than the table
            fmt = "s".join(map(str, part)) + "s"
        fields = struct.Struct(fmt).unpack_from(self._buf, 0 if offsets is None else offsets[start])
        texts = b"\n".join(fields).decode("utf-8", "replace").split("\n")
        if len(texts) != stop - start:  # pragma: no cover - a line never holds a newline
            return [str(field, "utf-8", "replace") for field in fields]
        return texts

    def _text(self, offset: int, length: int) -> str:
        return str(self._bview[offset : offset + length], "utf-8", "replace") if length else ""

    @staticmethod
    def _runs(kinds: list[int] | None, count: int) -> Iterator[tuple[int, int]]:
        """Splits the batch into runs: (start, stop) of consecutive line
        events, and (i, -1) for each other event.  kinds None: all lines."""
        if not count:
            return
        if kinds is None or kinds.count(_LINE) == count:
            yield 0, count
            return
        start = 0
        for i, kind in enumerate(kinds):
            if kind != _LINE:
                if start < i:
                    yield start, i
                yield i, -1
                start = i + 1
        if start < count:
            yield start, count

    def _line_objects(self, start: int, stop: int, texts: list[str]) -> Iterator[Line]:
        """The Line objects of events start..stop-1 (all lines), made lazily
        as they are consumed: the columns are copied out of the array now,
        and each Line is built when asked for.  Lines made one at a time and
        dropped by the consumer do not pile up in the garbage collector's
        youngest generation, which made a whole batch of them cost twice as
        much."""
        u32 = self._u32
        lo, hi = start * _W32, stop * _W32
        streams = u32[lo + _STREAM : hi : _W32].tolist()
        attempts = u32[lo + _ATTEMPT : hi : _W32].tolist()
        flags = u32[lo + _FLAGS : hi : _W32].tolist()
        lo64, hi64 = start * _W64, stop * _W64
        seqs = self._u64[lo64 + _SEQ : hi64 : _W64].tolist()
        stamps = self._i64[lo64 + _TS : hi64 : _W64].tolist()
        m = stop - start
        if streams.count(n.SOLTI_STDOUT) == m:
            stream_objs: Any = repeat(Stream.STDOUT, m)
        else:
            stream_objs = map(_STREAMS.__getitem__, streams)
        truncated: Any = [bool(f & n.SOLTI_LINE_TRUNCATED) for f in flags] if any(flags) else repeat(False, m)
        return map(_new_line, repeat(Line), zip(stream_objs, texts, attempts, seqs, truncated, stamps))

    def _event(self, i: int, lens: list[int], offsets: list[int] | None, packed: bool) -> Event:
        """Decodes one event (any kind) from the array."""
        w, w64 = i * _W32, i * _W64
        kind = self._u32[w + _KIND]
        attempt = self._u32[w + _ATTEMPT]
        ts = self._i64[w64 + _TS]
        if kind == _LINE:
            return next(self._line_objects(i, i + 1, self._texts(i, i + 1, lens, offsets, packed)))
        value = self._i64[w64 + _VALUE]
        if kind == _STARTED:
            return Started(attempt, value, ts)
        if kind == _FINISHED:
            code = self._i32[w + _EXIT_CODE]
            sig = self._i32[w + _SIGNAL]
            return Finished(attempt, Outcome(value), code if code >= 0 else None, sig if sig > 0 else None, ts)
        if kind == _LAGGED:
            return Lagged(attempt, value, ts)
        if kind == _WARNING:
            assert offsets is not None  # a batch with a warning is never all lines
            return WarningEvent(attempt, self._text(offsets[i], lens[i]), ts)
        # An event kind newer than this binding: shown as a warning, not lost.
        return WarningEvent(attempt, f"unknown event kind {kind}", ts)  # pragma: no cover

    def decode_events(self, count: int) -> Iterable[Event]:
        """Every event of the batch in the array, in order.  Consume it
        before the next poll only if it is a list; the lazy line iterators
        hold their own copies of the columns, so they may be consumed later."""
        kinds, lens, offsets, packed = self._layout(count)
        parts: list[Iterable[Event]] = []
        for start, stop in self._runs(kinds, count):
            if stop < 0:
                ev = self._event(start, lens, offsets, packed)
                if isinstance(ev, Lagged):
                    self.missed += ev.missed
                parts.append((ev,))
            else:
                parts.append(self._line_objects(start, stop, self._texts(start, stop, lens, offsets, packed)))
        return parts[0] if len(parts) == 1 else chain.from_iterable(parts)

    def decode_lines(
        self,
        count: int,
        stream: Stream | None,
        texts_only: bool,
        on_lag: Callable[[int], None],
    ) -> Iterable[Any]:
        """The lines of the batch (Line objects, or just their texts), of one
        stream or both; lag events go to `on_lag`, others are skipped."""
        kinds, lens, offsets, packed = self._layout(count)
        parts: list[Iterable[Any]] = []
        u32 = self._u32
        for start, stop in self._runs(kinds, count):
            if stop < 0:
                assert kinds is not None
                if kinds[start] == _LAGGED:
                    missed = self._i64[start * _W64 + _VALUE]
                    self.missed += missed
                    on_lag(missed)
                continue
            texts = self._texts(start, stop, lens, offsets, packed)
            selected = None
            if stream is not None:
                wanted = int(stream)
                streams = u32[start * _W32 + _STREAM : stop * _W32 : _W32].tolist()
                same = streams.count(wanted)
                if same == 0:
                    continue
                if same != stop - start:
                    selected = [s == wanted for s in streams]
            items: Iterable[Any] = texts if texts_only else self._line_objects(start, stop, texts)
            parts.append(items if selected is None else compress(items, selected))
        if len(parts) == 1:
            return parts[0]
        return chain.from_iterable(parts)

    # ---- iteration ---------------------------------------------------------------

    def read(self, timeout: float | None = 0.0) -> list[Event] | None:
        """Reads the next batch of events: waits up to `timeout` seconds
        (None: until there are some) and returns them, [] when the timeout
        passed first, or None once the task is done and all were read."""
        if timeout is None:
            count = self._wait_batch()
        else:
            deadline = time.monotonic() + max(timeout, 0.0)
            while True:
                count = self.poll(slice_ms(deadline))
                if count != 0 or time.monotonic() >= deadline:
                    break
        return None if count < 0 else list(self.decode_events(count))

    def line_batches(
        self, stream: Stream | None, texts_only: bool, lagged: Callable[[int], None]
    ) -> Iterator[Iterable[Any]]:
        """Yields batches of lines until the task is done and every line is read;
        `lagged` is told how many events were lost each time this reader lags
        (see :func:`lag_handler`)."""
        while True:
            count = self._wait_batch()
            if count < 0:
                return
            yield self.decode_lines(count, stream, texts_only, lagged)

    def event_batches(self) -> Iterator[Iterable[Event]]:
        """Yields batches of events until the task is done and every event is read."""
        while True:
            count = self._wait_batch()
            if count < 0:
                return
            yield self.decode_events(count)


def lag_handler(on_lag: LagPolicy, task_id: str, stacklevel: int = 4) -> Callable[[int], None]:
    """The callback applying a line reader's `on_lag` policy; `stacklevel`
    points a warning at the caller's loop."""
    if on_lag == "warn":

        def warn(missed: int) -> None:
            warnings.warn(OutputLagged(missed, task_id), stacklevel=stacklevel)

        return warn
    if on_lag == "raise":

        def fail(missed: int) -> None:
            raise OutputLagged(missed, task_id)

        return fail
    if on_lag == "ignore":
        return lambda missed: None
    raise ValueError(f"on_lag must be 'warn', 'raise' or 'ignore', not {on_lag!r}")
