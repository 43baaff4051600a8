"""Reading a lines-mode task's lines in bulk with ``solti_task_read_lines``.

One C call fills a buffer with records: a 40-byte header (stream, attempt,
first seq, time, count, flags, length) and the text of the lines one pipe
read completed, each line ending in a newline.  A record's text is decoded
once, straight from the reader's buffer, and split at newlines by
``str.split``, so a line costs a few C-level operations and no bytecode:
that is what makes :meth:`Task.stdout_lines` faster than iterating a
``subprocess.Popen`` pipe.
"""

from __future__ import annotations

import ctypes
import struct
import warnings
from itertools import repeat
from typing import TYPE_CHECKING, Any, Iterator

from . import _native as n
from ._bytes import BulkReader
from ._reader import POLL_SLICE_MS, LagPolicy, OutputLagged
from .events import Line, Stream

if TYPE_CHECKING:  # pragma: no cover
    from .task import Task

__all__ = ["LineRunReader", "DEFAULT_LINES_BYTES"]

DEFAULT_LINES_BYTES = 1 << 20

_HEADER = struct.Struct("=IIQqIIQ")
if _HEADER.size != ctypes.sizeof(n.solti_line_run_t):  # pragma: no cover
    raise ImportError("solti_line_run_t layout unexpected")
_STREAMS = (None, Stream.STDOUT, Stream.STDERR)
_new = tuple.__new__


class LineRunReader(BulkReader):
    """A cursor on a lines-mode task's lines, with its own buffer.

    Not thread-safe: one reader per thread.  ``lost_lines`` and
    ``lost_bytes`` count what this reader missed because a ``dropOldest``
    ring dropped it first (always 0 with ``when_full="block"``).  `on_lag`
    is the reader's policy: "raise" raises :class:`OutputLagged` at the
    first loss; "warn" gives one warning per reader, with the total, when
    the iteration ends (or stops early); "ignore" does neither.
    """

    def __init__(
        self,
        task: Task,
        stream: Stream | None = None,
        on_lag: LagPolicy = "ignore",
        buffer_bytes: int = DEFAULT_LINES_BYTES,
    ) -> None:
        if on_lag not in ("warn", "raise", "ignore"):
            raise ValueError(f"on_lag must be 'warn', 'raise' or 'ignore', not {on_lag!r}")
        super().__init__(task, "solti_task_read_lines", stream, n.solti_lines_cursor_t(), n.solti_lines_info_t(),
                         max(buffer_bytes, 64))
        self._on_lag = on_lag
        self._warned = False
        self.lost_lines = 0
        self.lost_bytes = 0

    def _grow(self) -> None:
        """After SOLTI_ERANGE: a buffer big enough for the next record (the
        message says how big; doubling until it fits is simpler and bounded
        by the runner's maxLineBytes)."""
        self._buf = ctypes.create_string_buffer(len(self._buf) * 2)

    def batch(self, timeout_ms: int, view: bool = False) -> bytes | memoryview | None:
        """One ``solti_task_read_lines``: the records read (b"" when the
        timeout passed first), or None at the end.  With `view`, the records
        are a view of this reader's buffer, valid until its next read: no
        copy, for a caller that decodes them at once."""
        while not self.eof:
            rc = self._call(timeout_ms)
            if rc == n.SOLTI_EOF:
                return None
            if rc == n.SOLTI_ERANGE:
                self._grow()
                continue
            lost = self._info.lost_lines
            if lost or self._info.lost_bytes:
                self.lost_lines += lost
                self.lost_bytes += self._info.lost_bytes
                if self._on_lag == "raise" and lost:
                    raise OutputLagged(self.lost_lines, self._task.id, self.lost_bytes)
            count = self._count.value
            if not count:
                return b""
            return memoryview(self._buf).cast("B")[:count] if view else ctypes.string_at(self._buf, count)
        return None

    def batches(self) -> Iterator[memoryview]:
        """Yields non-empty batches of records until the task is done and
        all are read; blocks in Ctrl-C-friendly slices.  Each batch is a view
        of the reader's buffer, valid until the next is asked for: decode it
        (:func:`texts`, :func:`lines`) before that."""
        try:
            while True:
                data = self.batch(POLL_SLICE_MS, view=True)
                if data is None:
                    return
                if data:
                    yield data
        finally:
            self.warn_lag(stacklevel=3)

    def warn_lag(self, stacklevel: int) -> None:
        """The one warning of a "warn" reader that lost lines (once)."""
        if self._on_lag == "warn" and self.lost_lines and not self._warned:
            self._warned = True
            warnings.warn(OutputLagged(self.lost_lines, self._task.id, self.lost_bytes), stacklevel=stacklevel)


# A record longer than this is decoded in pieces of about this many bytes
# that end at line ends: a piece's str objects stay in the CPU's cache while
# the caller takes them (a whole 1 MiB record split at once made 130,000 of
# them first, and ran at half the speed).  Pieces of 4 to 64 KiB ran alike
# (bench/py_lines.py); a lines-mode pipe read is at most 64 KiB, so most
# records are decoded whole, from the reader's buffer, with no copy.
PIECE_BYTES = 64 << 10


def _pieces(data: bytes | memoryview, start: int, stop: int) -> Iterator[str]:
    """The text of data[start:stop] (lines, each ending in a newline but
    the last, which has none) decoded in pieces that end at line ends.  A
    record that is one piece is decoded where it lies; a longer one is
    copied once, as the search for line ends needs bytes."""
    if stop - start > PIECE_BYTES:
        data, start, stop = bytes(data[start:stop]), 0, stop - start
        while stop - start > PIECE_BYTES:
            cut = data.rfind(b"\n", start, start + PIECE_BYTES)
            if cut < 0:
                cut = data.find(b"\n", start + PIECE_BYTES, stop)
                if cut < 0:
                    break
            yield str(data[start:cut], "utf-8", "replace")
            start = cut + 1
    yield str(data[start:stop], "utf-8", "replace")


def texts(data: bytes | memoryview) -> Iterator[list[str]]:
    """The lines' texts of each record of a batch, a list per piece of a
    record."""
    unpack = _HEADER.unpack_from
    off, end = 0, len(data)
    while off < end:
        length = unpack(data, off)[6]
        start = off + 40
        for piece in _pieces(data, start, start + length - 1):
            yield piece.split("\n")
        off = start + ((length + 7) & ~7)


def lines(data: bytes | memoryview) -> Iterator[Any]:
    """The :class:`Line` objects of each record of a batch, an iterator per
    piece of a record, made lazily as they are consumed."""
    unpack = _HEADER.unpack_from
    off, end = 0, len(data)
    while off < end:
        stream, attempt, seq, ts, count, flags, length = unpack(data, off)
        start = off + 40
        cut = bool(flags & n.SOLTI_LINE_TRUNCATED)
        for piece in _pieces(data, start, start + length - 1):
            text = piece.split("\n")
            k = len(text)
            yield map(
                _new,
                repeat(Line, k),
                zip(repeat(_STREAMS[stream]), text, repeat(attempt), range(seq, seq + k), repeat(cut), repeat(ts)),
            )
            seq += k
        off = start + ((length + 7) & ~7)
