"""A runner: a name and a configuration shared by the tasks built on it."""

from __future__ import annotations

import ctypes
import json
import locale
import os
import warnings
import weakref
from dataclasses import dataclass, replace
from typing import Any, Literal, Mapping

from . import _native as n
from ._exact import c_text, check_document
from ._bytes import ByteReader
from ._reader import OutputLagged
from .errors import BadHandle, CalledProcessError, SoltiError, TimeoutExpired
from .events import ExitReport, Outcome, Stream
from .spec import EnvLike, Mode, Output, runner_config, task_spec
from .task import Task

__all__ = ["Runner", "Completed"]


def _free_runner(lib: n.Library, handle: int) -> None:
    """Frees a runner dropped without close(); never raises (see _free_task)."""
    try:
        lib.dll.solti_runner_free(handle)
    except SoltiError:
        pass


def _command_of(mode: Any) -> Any:
    """What CalledProcessError.cmd shows: the argv of a command, else the mode."""
    command = getattr(mode, "command", None)
    if isinstance(command, str):
        return [command, *getattr(mode, "args", ())]
    return mode


@dataclass(frozen=True)
class Completed:
    """What :meth:`Runner.run` returns, like ``subprocess.CompletedProcess``:
    the report and the whole output.

    ``stdout`` and ``stderr`` are every byte the task wrote, decoded to
    ``str`` as ``subprocess.run(..., text=True)`` decodes them (the
    `encoding`, `errors` and newline translation of :meth:`Runner.run`), or
    ``bytes`` with ``text=False``.  ``stdout_lines`` and ``stderr_lines``
    split them into lines.
    """

    id: str
    report: ExitReport
    stdout: Any  # str, or bytes with text=False
    stderr: Any
    #: What was run: the argv of a command, else the mode.
    args: Any = None

    @property
    def returncode(self) -> int | None:
        """The exit code, or -N when signal N killed it (like subprocess)."""
        return self.report.returncode

    @property
    def stdout_lines(self) -> list[Any]:
        """stdout split on newlines, without them (a last line without one
        included): ``str`` items, or ``bytes`` with ``text=False``."""
        return _split_lines(self.stdout)

    @property
    def stderr_lines(self) -> list[Any]:
        """stderr split like :attr:`stdout_lines`."""
        return _split_lines(self.stderr)

    def check_returncode(self) -> None:
        """Raises :class:`~solti_exec.CalledProcessError` if the task did
        not succeed (as ``run(check=True)`` does)."""
        if not self.report.success:
            code = self.returncode
            raise CalledProcessError(code if code is not None else -1, self.args, self.stdout, self.stderr, self.report, self.id)


def _split_lines(data: Any) -> list[Any]:
    """Lines as the task wrote them: split on "\n" only (not on the other
    characters ``str.splitlines`` takes), with no empty last item."""
    if not data:
        return []
    lines = data.split("\n" if isinstance(data, str) else b"\n")
    if not lines[-1]:
        lines.pop()
    return lines


def _bytes_output(output: Output | Mapping[str, Any] | None) -> Output | dict[str, Any]:
    """The output settings for run(): bytes mode, lossless unless `output`
    asks otherwise."""
    if output is None:
        return Output(mode="bytes", when_full="block")
    if isinstance(output, Output):
        if output.mode not in (None, "bytes"):
            raise ValueError(f"run() reads the output in bytes mode; output.mode {output.mode!r} cannot be used")
        return replace(output, mode="bytes", when_full=output.when_full or "block")
    wire = dict(output)
    if wire.get("mode", "bytes") != "bytes":
        raise ValueError(f"run() reads the output in bytes mode; output mode {wire['mode']!r} cannot be used")
    wire["mode"] = "bytes"
    if "whenFull" not in wire and "when_full" not in wire:
        wire["whenFull"] = "block"
    return wire


def _decode(data: bytes, encoding: str | None, errors: str | None) -> str:
    """As subprocess decodes a text-mode pipe: `encoding` (default the
    locale's), `errors` (default strict), universal newlines."""
    text = data.decode(encoding or locale.getpreferredencoding(False), errors or "strict")
    return text.replace("\r\n", "\n").replace("\r", "\n")


class Runner:
    """A runner: tasks built on it share its configuration.

    Example::

        with Runner("build", rlimits={"max_open_files": 256}) as runner:
            with runner.task(Command("make", "-j8"), timeout=600) as task:
                task.spawn()
                for line in task.lines():
                    print(line.stream, line.text)
                print(task.wait().exit_code)

    Args:
        name: labels run ids (``"{name}-{slot}-{seq}"``) and metrics; 1..64
            bytes of ``[A-Za-z0-9._-]``.
        env: added to every task's environment; wins over the task's own
            pairs on a duplicate key.
        rlimits: e.g. ``{"maxOpenFiles": 256, "maxFileSizeBytes": 1 << 20,
            "disableCoreDumps": True}`` (snake_case keys are accepted too).
        cgroups: e.g. ``{"memory": 64 << 20, "pids": 64, "cpu": {"quota":
            50000, "period": 100000}, "failOnError": True}``.
        security: e.g. ``{"dropAllCaps": True, "keepCaps":
            ["NET_BIND_SERVICE"], "noNewPrivs": True}``.
        log: line bounds, ``{"maxLineLength": 4096, "maxLineBytes": 65536}``.
        output: the tasks' output ring, an :class:`~solti_exec.Output` or
            ``{"capacity": 1024, "maxBytes": 4 << 20, "whenFull": "dropOldest"}``.
        shim_path: an exec shim to start every attempt through; default:
            ``$SOLTI_EXEC_SHIM``, else the shim built into the library,
            started without an exec.
        drain_grace_ms: how long output is still read after a task's leader
            exits before the rest of its group is killed (default 2000).
        config: a whole runner config (dict or JSON string) as the base;
            the other arguments replace its parts.
        library: the library file to load, if it is not loaded yet (see
            :func:`solti_exec.load_library`).

    Raises:
        SpecError: the name or the configuration is invalid; the message
            names the field ("invalid runner configuration: cgroups.pids
            cannot be zero").
    """

    def __init__(
        self,
        name: str,
        *,
        env: EnvLike | None = None,
        rlimits: Mapping[str, Any] | None = None,
        cgroups: Mapping[str, Any] | None = None,
        security: Mapping[str, Any] | None = None,
        log: Mapping[str, Any] | None = None,
        output: Output | Mapping[str, Any] | None = None,
        shim_path: str | os.PathLike[str] | None = None,
        drain_grace_ms: int | None = None,
        config: Mapping[str, Any] | str | None = None,
        library: str | os.PathLike[str] | None = None,
    ) -> None:
        self._lib = n.load(library)
        self._handle = 0
        self._closed = True
        #: The runner name.
        self.name = name
        #: The runner config sent to the library (wire format; {} = defaults).
        self.config = runner_config(
            env=env,
            rlimits=rlimits,
            cgroups=cgroups,
            security=security,
            log=log,
            output=output,
            shim_path=shim_path,
            drain_grace_ms=drain_grace_ms,
            config=config,
        )
        check_document(self.config, "runner config")
        config_json = json.dumps(self.config).encode() if self.config else None
        name_c = c_text(os.fsdecode(name), "runner name")
        handle = ctypes.c_uint64()
        self._lib.dll.solti_runner_new(name_c, config_json, ctypes.byref(handle))
        self._handle = handle.value
        self._closed = False
        self._finalizer = weakref.finalize(self, _free_runner, self._lib, handle.value)

    @property
    def handle(self) -> int:
        """The C handle (``solti_runner_t``); stale once closed."""
        return self._handle

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    @property
    def library(self) -> n.Library:
        """The loaded library."""
        return self._lib

    def task(
        self,
        mode: Mode | Mapping[str, Any],
        *,
        slot: str | None = None,
        timeout: float | None = None,
        env: EnvLike | None = None,
        cwd: str | os.PathLike[str] | None = None,
        fail_on_non_zero: bool = True,
        stdin: Literal["null", "inherit", "pipe"] = "null",
        restart: Any = None,
        backoff: Any = None,
        admission: str | None = None,
        max_retries: int | None = None,
        kill_grace: float | None = None,
        output: Output | Mapping[str, Any] | None = None,
        stderr: Literal["pipe", "stdout"] | None = None,
        pty: bool | tuple[int, int] | None = None,
        input: bytes | str | None = None,
    ) -> Task:
        """Builds a task (nothing starts until ``spawn()``).

        The spec's arguments are those of :func:`solti_exec.spec.task_spec`:
        `timeout` and `kill_grace` in seconds, `restart` "never",
        "on_failure", "always" or a :class:`~solti_exec.Restart`, `admission`
        "drop_if_running", "replace" or "queue", `output` an
        :class:`~solti_exec.Output`.  A script body is written to a private
        file that lives as long as the task.

        Raises:
            SpecError: the spec is invalid; the message names the field
                ("invalid specification: timeout must be greater than zero").
            Unsupported: a kind this library does not run.
            BadHandle: the runner was closed.
        """
        spec = task_spec(
            mode,
            slot=slot,
            timeout=timeout,
            env=env,
            cwd=cwd,
            fail_on_non_zero=fail_on_non_zero,
            stdin=stdin,
            restart=restart,
            backoff=backoff,
            admission=admission,
            max_retries=max_retries,
            kill_grace=kill_grace,
            output=output,
            stderr=stderr,
            pty=pty,
            input=input,
        )
        return self.build(spec)

    def build(self, spec: Mapping[str, Any] | str) -> Task:
        """Builds a task from a whole task spec in the wire format (a dict or
        a JSON string), as ``solti_task_build`` takes it."""
        if isinstance(spec, str):
            text = spec
            c_text(text, "task spec")
            try:
                wire = json.loads(text)
            except json.JSONDecodeError:
                wire = None  # the library names what is wrong with it
            check_document(wire, "task spec")
        else:
            check_document(spec, "task spec")
            text = json.dumps(spec)
            wire = dict(spec)
        handle = ctypes.c_uint64()
        self._lib.dll.solti_task_build(self._handle, c_text(text, "task spec"), ctypes.byref(handle))
        try:
            return Task(self, handle.value, wire)
        except BaseException:
            _free_task_now(self._lib, handle.value)
            raise

    def run(
        self,
        mode: Mode | Mapping[str, Any],
        *,
        check: bool = False,
        text: bool = True,
        encoding: str | None = None,
        errors: str | None = None,
        **task_args: Any,
    ) -> Completed:
        """Runs a task to its end and returns its report and whole output,
        like ``subprocess.run(..., capture_output=True, text=True)``.

        Takes the arguments of :meth:`task` (`timeout` in seconds).  The
        output is read in bytes mode, complete and byte-exact: unless
        `output` says otherwise the ring is lossless (``when_full="block"``,
        the child waits for this reader as it would for a pipe).

        Args:
            check: raise :class:`~solti_exec.CalledProcessError` (a
                ``subprocess.CalledProcessError``, with the output) when the
                task did not succeed.
            text: decode stdout and stderr to ``str``; False keeps ``bytes``.
            encoding, errors: the decoding, as for ``subprocess.run``:
                default the locale's encoding and "strict" (an undecodable
                byte raises ``UnicodeDecodeError``); "\r\n" and "\r" become
                "\n" as in text mode.

        Raises:
            SpawnError: the program could not be started; a missing program
                or ``cwd`` is also a ``FileNotFoundError``, one that may not
                be run a ``PermissionError``, as ``subprocess`` raises.
            TimeoutExpired: the task's `timeout` passed (its tree was
                killed); a ``subprocess.TimeoutExpired`` with the output
                read until then.
            CalledProcessError: with `check`, the task did not succeed.

        ``input=`` (bytes or str) is fed to the child's stdin, which is then
        closed, as ``subprocess.run(input=...)`` does; without it the
        child's stdin is /dev/null.
        """
        task_args["output"] = _bytes_output(task_args.get("output"))
        cmd = _command_of(mode)
        with self.task(mode, **task_args) as task:
            reader = ByteReader(task)  # before the spawn: nothing is missed
            task.spawn()
            out: list[bytes] = []
            err: list[bytes] = []
            for stream, data in reader.chunks():
                (out if stream is Stream.STDOUT else err).append(data)
            report = task.wait()
            if reader.lost_events or reader.lost_bytes:
                # Only with a dropOldest output asked for: one warning, the total.
                warnings.warn(OutputLagged(reader.lost_events, task.id), stacklevel=2)
            task_id = task.id
        stdout: Any = b"".join(out)
        stderr: Any = b"".join(err)
        if text or encoding or errors:
            stdout, stderr = _decode(stdout, encoding, errors), _decode(stderr, encoding, errors)
        done = Completed(task_id, report, stdout, stderr, cmd)
        if report.outcome is Outcome.TIMEOUT:
            timeout = task_args.get("timeout")
            raise TimeoutExpired(cmd, timeout, stdout, stderr, report, task_id)
        if check:
            done.check_returncode()
        return done

    def metrics(self, format: Literal["json", "prometheus"] = "json") -> Any:
        """The runner's counters and duration histograms: a dict for "json",
        Prometheus text for "prometheus"."""
        code = {"json": n.SOLTI_METRICS_JSON, "prometheus": n.SOLTI_METRICS_PROMETHEUS}.get(format)
        if code is None:
            raise ValueError(f"format must be 'json' or 'prometheus', not {format!r}")
        dll = self._lib.dll
        size = ctypes.c_size_t()
        buf = ctypes.create_string_buffer(4096)
        while dll.solti_runner_metrics(self._handle, code, buf, len(buf), ctypes.byref(size)) == n.SOLTI_ERANGE:
            buf = ctypes.create_string_buffer(size.value + 1)
        text = buf.value.decode("utf-8", "replace")
        return json.loads(text) if format == "json" else text

    def close(self) -> None:
        """Frees the runner: cancels and frees every task built on it, then
        itself.  Blocks until those tasks' process trees are gone.
        Idempotent.  Its tasks' handles are invalid afterwards (BadHandle)."""
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        try:
            self._lib.dll.solti_runner_free(self._handle)
        except BadHandle:
            pass

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"handle={self._handle}"
        return f"<solti_exec.Runner {self.name!r} {state}>"


def _free_task_now(lib: n.Library, handle: int) -> None:
    try:
        lib.dll.solti_task_free(handle)
    except SoltiError:
        pass
