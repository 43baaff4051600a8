"""A runner: a name and a configuration shared by the tasks built on it."""

from __future__ import annotations

import ctypes
import json
import os
import weakref
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from . import _native as n
from ._exact import c_text, check_document
from .errors import BadHandle, CalledProcessError, SoltiError
from .events import ExitReport, Stream
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
    """What :meth:`Runner.run` returns: the report and the output lines."""

    id: str
    report: ExitReport
    stdout: list[str]
    stderr: list[str]

    @property
    def returncode(self) -> int | None:
        """The exit code, or -N when signal N killed it (like subprocess)."""
        return self.report.returncode


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
        shim_path: the exec shim; default: beside the library, or
            ``$SOLTI_EXEC_SHIM``.
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

    def run(self, mode: Mode | Mapping[str, Any], *, check: bool = False, **task_args: Any) -> Completed:
        """Runs a task to its end and returns its report and output, like
        ``subprocess.run(..., capture_output=True, text=True)``.

        Takes the arguments of :meth:`task`.  Unless `output` says
        otherwise the task's ring is lossless (``when_full="block"``), since
        this call reads everything.  A spawn error is raised.  With
        `check`, a task that did not succeed raises
        :class:`~solti_exec.CalledProcessError` (a
        :class:`subprocess.CalledProcessError`) carrying the output.
        ``input=`` (bytes or str) is fed to the child's stdin, which is then
        closed, as ``subprocess.run(input=...)`` does; without it the
        child's stdin is /dev/null.
        """
        task_args.setdefault("output", Output(when_full="block"))
        with self.task(mode, **task_args) as task:
            stdout: list[str] = []
            stderr: list[str] = []
            lines = task.lines(on_lag="ignore")  # reader first: no line is missed
            task.spawn()
            for line in lines:
                (stdout if line.stream is Stream.STDOUT else stderr).append(line.text)
            done = Completed(task.id, task.wait(), stdout, stderr)
        if check and not done.report.success:
            code = done.returncode
            raise CalledProcessError(
                code if code is not None else -1, _command_of(mode), done.stdout, done.stderr, done.report, done.id
            )
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
