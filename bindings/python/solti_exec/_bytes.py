"""Reading a bytes-mode task's output with ``solti_task_read``.

One C call fills a whole buffer with the bytes of one stream, exactly as the
child wrote them; nothing is decoded or split, so a chunk costs one ctypes
call and one copy into a ``bytes`` object.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Iterator

from . import _native as n
from ._reader import POLL_SLICE_MS
from .events import Stream

if TYPE_CHECKING:  # pragma: no cover
    from .task import Task

__all__ = ["BulkReader", "ByteReader", "DEFAULT_READ_BYTES"]

DEFAULT_READ_BYTES = 1 << 20

_STREAMS = (None, Stream.STDOUT, Stream.STDERR)


class BulkReader:
    """What the bulk readers share: a task, a stream mask, a cursor and an
    info struct of the C call's types, a buffer, and the call itself."""

    def __init__(self, task: Task, func: str, stream: Stream | None, cursor: ctypes.Structure,
                 info: ctypes.Structure, buffer_bytes: int) -> None:
        self._task = task
        self._read = getattr(task._lib.dll, func)
        self._mask = n.SOLTI_STDOUT | n.SOLTI_STDERR if stream is None else int(stream)
        self._cursor = cursor
        self._info = info
        self._count = ctypes.c_size_t(0)
        self._buf = ctypes.create_string_buffer(buffer_bytes)
        self.eof = False

    def _call(self, timeout_ms: int) -> int:
        """One read into the buffer; its code (SOLTI_EOF also sets eof)."""
        rc = self._read(
            self._task._require_handle(),
            ctypes.byref(self._cursor),
            self._mask,
            self._buf,
            len(self._buf),
            timeout_ms,
            ctypes.byref(self._count),
            ctypes.byref(self._info),
        )
        if rc == n.SOLTI_EOF:
            self.eof = True
        return rc


class ByteReader(BulkReader):
    """A cursor on a bytes-mode task's output, with its own buffer.

    Not thread-safe: one reader per thread.  ``lost_bytes`` and
    ``lost_events`` count what this reader missed because a ``dropOldest``
    ring dropped it first (always 0 with ``when_full="block"``).
    """

    def __init__(self, task: Task, stream: Stream | None = None, buffer_bytes: int = DEFAULT_READ_BYTES) -> None:
        if buffer_bytes < 1:
            raise ValueError("buffer_bytes must be at least 1")
        super().__init__(task, "solti_task_read", stream, n.solti_read_cursor_t(), n.solti_read_info_t(), buffer_bytes)
        self.lost_bytes = 0
        self.lost_events = 0

    def chunk(self, timeout_ms: int) -> tuple[Stream | None, bytes] | None:
        """One ``solti_task_read``: (stream, bytes) read, (None, b"") when
        the timeout passed first, None at the end."""
        if self.eof or self._call(timeout_ms) == n.SOLTI_EOF:
            return None
        self.lost_bytes += self._info.lost_bytes
        self.lost_events += self._info.lost_events
        count = self._count.value
        if not count:
            return None, b""
        return _STREAMS[self._info.stream], ctypes.string_at(self._buf, count)

    def chunks(self) -> Iterator[tuple[Stream, bytes]]:
        """Yields (stream, bytes) until the task is done and all are read;
        blocks in Ctrl-C-friendly slices."""
        while True:
            got = self.chunk(POLL_SLICE_MS)
            if got is None:
                return
            stream, data = got
            if stream is not None:
                yield stream, data
