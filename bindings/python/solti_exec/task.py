"""A task: one spec bound to a runner, its attempts, its events and its end."""

from __future__ import annotations

import asyncio
import ctypes
import json
import signal
import threading
import time
import weakref
from itertools import chain
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterable, Iterator

from . import _native as n
from . import _lines
from ._bytes import ByteReader
from ._lines import LineRunReader
from ._reader import POLL_SLICE_MS, LagPolicy, OutputLagged, Reader, slice_ms
from .errors import BadHandle, SoltiError, StateError, Timeout
from .events import Event, ExitReport, Line, Stream

if TYPE_CHECKING:  # pragma: no cover
    from .runner import Runner

__all__ = ["Task"]

# An async reader wakes on the task's fd; this timer is the safety net for
# the case where another reader of the same task cleared the fd first.
_ASYNC_RECHECK_S = 0.5


def _free_task(lib: n.Library, handle: int) -> None:
    """Frees a task that was dropped without close(); never raises (it runs
    from the garbage collector or at exit, where nobody could catch it)."""
    try:
        lib.dll.solti_task_free(handle)
    except SoltiError:
        # BadHandle: its runner was closed first, which freed it.
        # ForkedError: a forked child dropping its copy; the parent owns it.
        pass


class Task:
    """A task built by :meth:`Runner.task`: nothing runs until :meth:`spawn`.

    Read its output with :meth:`lines` (or :meth:`stdout_lines`,
    :meth:`stderr_lines`, :meth:`events`, and their async forms), which can
    start before the spawn; wait for its end with :meth:`wait`.  Each call to
    an iterator starts a new reader at the oldest event the ring still holds.

    Closing (``close()``, the end of a ``with`` block, or the garbage
    collector for a task dropped without closing) cancels it if it runs,
    kills its whole process tree, removes its script file and frees it.
    All methods are thread-safe.
    """

    def __init__(self, runner: Runner, handle: int, spec: dict[str, Any]) -> None:
        self._runner = runner  # keeps the runner (and so the task) alive
        self._lib: n.Library = runner._lib
        self._handle = handle
        self._closed = False
        #: The task spec sent to the library (wire format).
        self.spec = spec
        self._watches: dict[asyncio.AbstractEventLoop, _FdWatch] = {}
        self._finalizer = weakref.finalize(self, _free_task, self._lib, handle)
        self._id = self._read_id()

    # ---- identity and state --------------------------------------------------------

    def _require_handle(self) -> int:
        # A closed task keeps its (never reused) handle, which the library
        # answers with SOLTI_EBADF: "task handle N is unknown or already freed".
        return self._handle

    def _read_id(self) -> str:
        # Run ids are at most 64 + 64 + 20 digits and two dashes; the loop
        # only guards against a longer format.
        size = 256
        while True:
            buf = ctypes.create_string_buffer(size)
            if self._lib.dll.solti_task_id(self._handle, buf, size) != n.SOLTI_ERANGE:
                return buf.value.decode("utf-8", "replace")
            size *= 4

    @property
    def id(self) -> str:
        """The run id, ``"{runner}-{slot}-{seq}"``: the task's identity in
        output and metrics."""
        return self._id

    @property
    def labels(self) -> dict[str, str]:
        """The spec's ``labels`` (upstream's task labels), as a new dict."""
        size = self._lib.dll.solti_task_labels(self._require_handle(), None, 0) + 1
        buf = ctypes.create_string_buffer(size)
        self._lib.dll.solti_task_labels(self._handle, buf, size)
        return json.loads(buf.value.decode("utf-8"))

    @property
    def handle(self) -> int:
        """The C handle (``solti_task_t``); stale once closed."""
        return self._handle

    @property
    def runner(self) -> Runner:
        """The runner the task was built on."""
        return self._runner

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    @property
    def attempts(self) -> int:
        """Attempts started so far (successful spawns)."""
        out = ctypes.c_uint32()
        self._lib.dll.solti_task_attempts(self._handle, ctypes.byref(out))
        return out.value

    @property
    def fd(self) -> int:
        """A descriptor that polls readable when the task has unread events or
        has ended (for poll/select/asyncio).  Owned by the library: do not
        close it, and stop watching it before closing the task.  Drain with
        a reader after each readiness."""
        return int(self._lib.dll.solti_task_fd(self._handle))

    # ---- lifecycle -----------------------------------------------------------------

    def spawn(self) -> Task:
        """Starts the task per its policies and returns it (for chaining).

        Returns once the first attempt runs (or is queued by admission).

        Raises:
            SpawnError: the process could not be started; the message names
                the cause ('spawn failed: exec "nosuch": no such file or
                directory').  The task is then done with outcome FATAL.
            SandboxError: a required limit could not be applied.
            StateError: an attempt runs and admission is "drop_if_running".
        """
        self._lib.dll.solti_task_spawn(self._handle)
        return self

    def cancel(self) -> None:
        """Kills the running attempt's whole process tree and stops restarts
        for good.  Idempotent; returns once the kill is sent (use
        :meth:`wait` for the end, outcome CANCELED)."""
        self._lib.dll.solti_task_cancel(self._handle)

    def wait(self, timeout: float | None = None) -> ExitReport:
        """Waits until the task is done and returns its last attempt's report.

        Args:
            timeout: seconds; None waits for as long as it takes.  The wait
                is made in short slices, so Ctrl-C interrupts it.

        Raises:
            Timeout: `timeout` passed and the task still runs (it keeps
                running).  Timeout is also a ``TimeoutError``.
            StateError: the task was never spawned.
            ChildLost: the task's shim was killed from outside before it
                reported; ``.report`` holds what is known.
        """
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        report = n.solti_exit_t()
        dll = self._lib.dll
        while True:
            rc = dll.solti_task_wait(self._handle, slice_ms(deadline), ctypes.byref(report))
            if rc == n.SOLTI_OK:
                return ExitReport.from_c(report)
            if rc == n.SOLTI_ECHILD:
                raise self._lib.child_lost(ExitReport.from_c(report))
            if deadline is not None and time.monotonic() >= deadline:
                raise self._lib.error(rc, "solti_task_wait")

    def done(self) -> bool:
        """True when the task has ended (no attempt running or scheduled);
        False while it runs or before it was spawned."""
        rc = 0
        try:
            rc = self._lib.dll.solti_task_wait(self._handle, 0, None)
        except StateError:
            return False
        return rc != n.SOLTI_ETIMEDOUT

    def close(self) -> None:
        """Frees the task: cancels it if it runs (outcome CANCELED), kills
        and reaps its process tree, removes its script file and closes its
        fd.  Blocks until the tree is gone (bounded by the drain grace).
        Idempotent.  Afterwards every call but :attr:`id` raises BadHandle."""
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        for watch in list(self._watches.values()):
            watch.close()
        self._watches.clear()
        try:
            self._lib.dll.solti_task_free(self._handle)
        except BadHandle:
            pass  # its runner was closed first, which freed it

    def __enter__(self) -> Task:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"handle={self._handle}"
        return f"<solti_exec.Task {self._id} {state}>"

    # ---- reading -------------------------------------------------------------------

    def reader(self, max_events: int = 1024, buffer_bytes: int = 1 << 20) -> Reader:
        """A new reader (cursor) of this task's ring, for polling by hand:
        ``reader.read(timeout)`` returns the next batch of events."""
        return Reader(self, max_events, buffer_bytes)

    def lines(self, stream: Stream | str | None = None, *, on_lag: LagPolicy = "warn") -> Iterator[Line]:
        """Iterates over the task's output lines, stdout and stderr in the
        order they were read, until the task is done and all are read.

        Each item is a :class:`Line` (stream, text, attempt, seq, truncated,
        ts_ms).  Blocks while the task runs (Ctrl-C interrupts).  Lines are
        read in bulk (``solti_task_read_lines``): one C call fills a buffer
        with many pipe reads' lines, each read's text decoded and split at
        once.

        Args:
            stream: only this stream ("stdout" or "stderr"); None for both.
            on_lag: what to do when this reader fell behind the bounded ring
                and lines were lost: "warn" (an :class:`OutputLagged`
                warning), "raise" (raise it) or "ignore".
        """
        wanted = None if stream is None else Stream.parse(stream)
        reader = LineRunReader(self, wanted, on_lag)
        return chain.from_iterable(chain.from_iterable(map(_lines.lines, reader.batches())))

    def stdout_lines(self, *, on_lag: LagPolicy = "warn") -> Iterator[str]:
        """Like :meth:`lines` for stdout only, giving just each line's text:
        the fastest way to read a task's output."""
        return self._texts(Stream.STDOUT, on_lag)

    def stderr_lines(self, *, on_lag: LagPolicy = "warn") -> Iterator[str]:
        """Like :meth:`stdout_lines`, for stderr."""
        return self._texts(Stream.STDERR, on_lag)

    def _texts(self, stream: Stream, on_lag: LagPolicy) -> Iterator[str]:
        reader = LineRunReader(self, stream, on_lag)
        return chain.from_iterable(chain.from_iterable(map(_lines.texts, reader.batches())))

    def chunks(self, stream: Stream | str | None = None, *, buffer_bytes: int = 1 << 20) -> Iterator[tuple[Stream, bytes]]:
        """Iterates over a bytes-mode task's output (``Output(mode="bytes")``)
        as (stream, bytes) pairs, exactly the bytes the child wrote, in
        order, until the task is done and all are read.  Each pair is one
        ``solti_task_read``: up to `buffer_bytes` bytes of one stream."""
        wanted = None if stream is None else Stream.parse(stream)
        return ByteReader(self, wanted, buffer_bytes).chunks()

    def read(self, stream: Stream | str = Stream.STDOUT) -> bytes:
        """All of a bytes-mode task's output on `stream` (stdout by
        default), byte-exact, once the task is done.  Raises
        :class:`OutputLagged` if a ``dropOldest`` ring dropped some of it
        (use ``when_full="block"`` to read any amount losslessly)."""
        reader = ByteReader(self, Stream.parse(stream))
        data = b"".join(chunk for _, chunk in reader.chunks())
        if reader.lost_bytes or reader.lost_events:
            raise OutputLagged(reader.lost_events, self._id)
        return data

    def events(self) -> Iterator[Event]:
        """Iterates over every event: :class:`Line`, :class:`Started`,
        :class:`Finished`, :class:`Lagged` and :class:`WarningEvent`, in
        order, until the task is done and all are read."""
        return chain.from_iterable(Reader(self).event_batches())

    async def aevents(self) -> AsyncIterator[Event]:
        """``async for`` over every event (see :meth:`events`).

        Uses the task's fd with the running event loop (``add_reader``): no
        thread, and any number of tasks streamed concurrently in one loop.
        """
        reader = Reader(self)
        async for batch in self._abatches(reader, reader.decode_events):
            for event in batch:
                yield event

    async def alines(self, stream: Stream | str | None = None, *, on_lag: LagPolicy = "warn") -> AsyncIterator[Line]:
        """``async for`` over the output lines (see :meth:`lines`), read in
        bulk on the task's fd with the running event loop."""
        wanted = None if stream is None else Stream.parse(stream)
        reader = LineRunReader(self, wanted, on_lag)
        try:
            async for data in self._adrain(reader.batch, lambda: reader.eof):
                for record in _lines.lines(data):
                    for line in record:
                        yield line
        finally:
            reader.warn_lag(stacklevel=3)

    async def achunks(
        self, stream: Stream | str | None = None, *, buffer_bytes: int = 1 << 20
    ) -> AsyncIterator[tuple[Stream, bytes]]:
        """``async for`` over a bytes-mode task's output (see :meth:`chunks`)
        on the task's fd with the running event loop: no thread."""
        reader = ByteReader(self, None if stream is None else Stream.parse(stream), buffer_bytes)
        async for got in self._adrain(reader.chunk, lambda: reader.eof):
            chunk_stream, data = got
            if chunk_stream is not None:
                yield chunk_stream, data

    async def aread(self, stream: Stream | str = Stream.STDOUT) -> bytes:
        """The asyncio version of :meth:`read`: all of a bytes-mode task's
        output on `stream`, byte-exact, once the task is done."""
        reader = ByteReader(self, Stream.parse(stream))
        parts = []
        async for got in self._adrain(reader.chunk, lambda: reader.eof):
            parts.append(got[1])
        if reader.lost_bytes or reader.lost_events:
            raise OutputLagged(reader.lost_events, self._id)
        return b"".join(parts)

    async def _adrain(self, read: Callable[[int], Any], eof: Callable[[], bool]) -> AsyncIterator[Any]:
        """Yields what timeout-0 reads give, waiting for the task's fd
        between them, until `eof()` (read returns None at the end and an
        empty result when nothing was there)."""
        loop = asyncio.get_running_loop()
        while True:
            got = read(0)
            if got is None and eof():
                return
            if got and (not isinstance(got, tuple) or got[1]):
                yield got
                continue
            await self._readable(loop)

    # ---- talking to the child: stdin, terminal, signals -----------------------------

    def write(self, data: bytes | bytearray | memoryview | str, timeout: float | None = None) -> int:
        """Writes `data` (str is encoded as UTF-8) to the running attempt's
        stdin (``stdin="pipe"``) or terminal (``pty``) and returns how many
        bytes went in: all of them, unless `timeout` (seconds; None waits
        as long as it takes, in slices so Ctrl-C interrupts) passed first,
        which raises :class:`Timeout` with ``.written`` set.  Read the
        output in another thread (or with asyncio) while writing more than
        a pipe holds to a child that answers as it reads.

        Raises:
            BrokenPipe: nothing reads it any more (the child closed its
                stdin, or its attempt ended); a :class:`BrokenPipeError`.
            StateError: no stdin pipe or pty, the spec has an ``input``, the
                task was never spawned, or :meth:`close_stdin` was called.
        """
        buf = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        return self._write_from(buf, 0, timeout)

    def _write_from(self, buf: bytes, start: int, timeout: float | None) -> int:
        """write() of buf[start:], without copying it; returns the bytes written."""
        total = len(buf)
        base = ctypes.cast(ctypes.c_char_p(buf), ctypes.c_void_p).value or 0
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        done = start
        written = ctypes.c_size_t()
        dll = self._lib.dll
        while True:
            wait_ms = slice_ms(deadline)
            written.value = 0
            try:
                rc = dll.solti_task_write(self._handle, base + done, total - done, wait_ms, ctypes.byref(written))
            except SoltiError as e:
                e.written = done - start + written.value  # type: ignore[attr-defined]
                raise
            done += written.value
            if rc == n.SOLTI_OK:
                return done - start
            if deadline is not None and time.monotonic() >= deadline:
                err = self._lib.error(rc, "solti_task_write")
                err.written = done - start  # type: ignore[attr-defined]
                raise err

    def close_stdin(self) -> None:
        """Closes the running attempt's stdin, so the child reads EOF (under
        a pty: writes ^D, the terminal's end of file).  Idempotent."""
        self._lib.dll.solti_task_close_stdin(self._handle)

    @property
    def stdin_fd(self) -> int:
        """The running attempt's stdin descriptor, for a poll for
        writability; valid until :meth:`close_stdin` or the attempt's end.
        Owned by the library: do not write to it or close it."""
        return int(self._lib.dll.solti_task_stdin_fd(self._handle))

    async def awrite(self, data: bytes | bytearray | memoryview | str) -> int:
        """Writes all of `data` to the child's stdin without blocking the
        event loop: writes what fits, then waits for the stdin descriptor
        to poll writable (``add_writer``), until all is written.  Returns
        the number of bytes written; raises as :meth:`write`."""
        buf = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        loop = asyncio.get_running_loop()
        done = 0
        while done < len(buf):
            try:
                done += self._write_from(buf, done, 0)
                return done
            except Timeout as e:
                done += e.written  # type: ignore[attr-defined]
            fd = self.stdin_fd
            fut = loop.create_future()
            loop.add_writer(fd, _wake, fut)
            timer = loop.call_later(_ASYNC_RECHECK_S, _wake, fut)
            try:
                await fut
            finally:
                timer.cancel()
                loop.remove_writer(fd)
        return done

    def resize(self, rows: int, cols: int) -> None:
        """Sets the terminal size of a ``pty`` task; the child gets SIGWINCH.
        Later attempts start at this size too."""
        self._lib.dll.solti_task_resize(self._handle, rows, cols)

    def send_signal(self, sig: int, *, leader_only: bool = False) -> None:
        """Sends signal `sig` to the running attempt's process group (and
        every orphaned descendant), or with `leader_only` to its leader
        alone; race-free (the attempt's shim, the leader's parent, sends
        it).  Like ``Popen.send_signal``, does nothing once the task is done.

        Raises:
            StateError: the task was never spawned, or is between attempts.
        """
        flags = n.SOLTI_SIGNAL_LEADER if leader_only else 0
        try:
            self._lib.dll.solti_task_signal(self._handle, int(sig), flags)
        except StateError:
            if self.done():
                return
            raise

    def terminate(self) -> None:
        """SIGTERM to the running attempt (see :meth:`send_signal`).  The
        attempt ends as killed by a signal and restart policies apply; use
        :meth:`cancel` to stop the task for good."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to the running attempt (see :meth:`terminate`)."""
        self.send_signal(signal.SIGKILL)

    async def wait_async(self, timeout: float | None = None) -> ExitReport:
        """``await`` form of :meth:`wait`: waits in a worker thread, in
        slices, without blocking the event loop; cancelling the await stops
        the worker's wait at its next slice."""
        stop = threading.Event()
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)

        def sliced() -> ExitReport:
            while True:
                left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                step = POLL_SLICE_MS / 1000 if left is None else min(POLL_SLICE_MS / 1000, left)
                try:
                    return self.wait(step)
                except Timeout:
                    if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
                        raise

        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, sliced)
        finally:
            stop.set()

    async def _abatches(self, reader: Reader, decode: Callable[[int], Iterable[Any]]) -> AsyncIterator[Iterable[Any]]:
        """Drains with timeout-0 polls after each readiness of the fd."""
        loop = asyncio.get_running_loop()
        while True:
            count = reader.poll(0)
            if count < 0:
                return
            if count > 0:
                yield decode(count)
                continue
            await self._readable(loop)

    async def _readable(self, loop: asyncio.AbstractEventLoop) -> None:
        """Returns when the task's fd polls readable (or after the recheck
        interval, in case another reader cleared it first)."""
        watch = self._watches.get(loop)
        if watch is None:
            watch = self._watches[loop] = _FdWatch(loop, self.fd)
        fut = watch.wait()
        timer = loop.call_later(_ASYNC_RECHECK_S, _wake, fut)
        try:
            await fut
        finally:
            timer.cancel()
            watch.discard(fut)


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class _FdWatch:
    """One ``add_reader`` per task and event loop, shared by the loop's async
    readers of the task (a second ``add_reader`` on one fd would replace the
    first).  Registered only while someone waits: the fd is level-triggered."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self.loop = loop
        self.fd = fd
        self.waiters: set[asyncio.Future[None]] = set()
        self.active = False

    def wait(self) -> asyncio.Future[None]:
        fut = self.loop.create_future()
        self.waiters.add(fut)
        if not self.active:
            self.loop.add_reader(self.fd, self._ready)
            self.active = True
        return fut

    def _ready(self) -> None:
        waiters, self.waiters = self.waiters, set()
        for fut in waiters:
            _wake(fut)
        self._stop()

    def discard(self, fut: asyncio.Future[None]) -> None:
        self.waiters.discard(fut)
        if not self.waiters:
            self._stop()

    def _stop(self) -> None:
        if self.active:
            self.active = False
            if not self.loop.is_closed():
                self.loop.remove_reader(self.fd)

    def close(self) -> None:
        """Stops watching (before the library closes the fd) and wakes the
        waiters, whose next poll then reports the closed task."""
        waiters, self.waiters = self.waiters, set()
        self._stop()
        for fut in waiters:
            if not self.loop.is_closed():
                _wake(fut)
