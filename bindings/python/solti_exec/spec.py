"""Building the JSON documents the library reads: task specs and runner configs.

The wire format is camelCase JSON (see the project's SPEC, section 2).  The
builders here take Python values (seconds, dicts, snake_case keys) and
produce it; wherever a dict is accepted its keys may be given in the wire's
camelCase or in snake_case (``max_open_files`` is sent as ``maxOpenFiles``).
Values are checked by the library, whose messages name the field.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping, Union

from ._exact import parse_document

__all__ = [
    "Command",
    "Script",
    "Custom",
    "Mode",
    "Restart",
    "Backoff",
    "Output",
    "EnvLike",
    "task_spec",
    "runner_config",
    "wire_keys",
    "NO_TIMEOUT",
]

#: The timeout used when none is given: 100 years, i.e. none in practice
#: (the spec requires one).
NO_TIMEOUT = 100 * 365 * 24 * 3600.0

EnvLike = Union[Mapping[str, str], Iterable[tuple[str, str]]]


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_keys(value: Any) -> Any:
    """Returns `value` with every dict key in camelCase (``max_open_files`` ->
    ``maxOpenFiles``); camelCase keys are left as they are."""
    if isinstance(value, Mapping):
        return {_camel(str(k)) if "_" in str(k) else str(k): wire_keys(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire_keys(v) for v in value]
    return value


def _ms(seconds: float, what: str) -> int:
    """Seconds (int or float) to whole milliseconds, rounding up so that a
    small positive value does not become 0."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {type(seconds).__name__}")
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"{what} must be >= 0 seconds, not {seconds!r}")
    return math.ceil(seconds * 1000)


def _env_list(env: EnvLike | None) -> list[dict[str, str]]:
    """``{"K": "V"}``, ``[("K", "V"), ...]`` or wire entries to
    ``[{"key": "K", "value": "V"}]``.
    A list keeps its order (the library lets the last entry win)."""
    if env is None:
        return []
    pairs = env.items() if isinstance(env, Mapping) else env
    out = []
    for pair in pairs:
        if isinstance(pair, Mapping) and set(pair) == {"key", "value"}:
            pair = (pair["key"], pair["value"])
        if isinstance(pair, str) or len(pair) != 2:
            raise TypeError(f"env entries must be (key, value) pairs, not {pair!r}")
        key, value = pair
        out.append({"key": os.fsdecode(key), "value": os.fsdecode(value)})
    return out


# ---- Modes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """Runs a program: ``Command("tar", "-czf", "/tmp/x.tgz", "/etc")``.

    The program is found on ``PATH`` like ``execvp`` does; no shell is
    involved.  ``Command(["ls", "-l"])`` (one list) is accepted too.
    """

    command: str
    args: tuple[str, ...] = ()

    def __init__(self, command: str | os.PathLike[str] | Iterable[str], *args: str | os.PathLike[str]) -> None:
        if not isinstance(command, (str, bytes, os.PathLike)):
            argv = [os.fsdecode(a) for a in command]
            if not argv:
                raise ValueError("Command() needs a program")
            if args:
                raise TypeError("Command() takes a list or separate arguments, not both")
            command, args = argv[0], tuple(argv[1:])
        object.__setattr__(self, "command", os.fsdecode(command))
        object.__setattr__(self, "args", tuple(os.fsdecode(a) for a in args))

    def to_wire(self) -> dict[str, Any]:
        """The ``mode`` object of the spec."""
        return {"command": {"command": self.command, "args": list(self.args)}}

    def default_slot(self) -> str:
        return os.path.basename(self.command) or "command"


@dataclass(frozen=True)
class Custom:
    """A script runtime other than bash, python or node: the interpreter
    command, and its flag (accepted and checked non-empty; the body is passed
    as a file path, so the flag is not used)."""

    command: str
    flag: str

    def to_wire(self) -> dict[str, Any]:
        return {"custom": {"command": self.command, "flag": self.flag}}


Runtime = Union[Literal["bash", "python", "node"], Custom]


@dataclass(frozen=True)
class Script:
    """Runs an inline script: ``Script("echo $1", args=["hi"])``.

    The body (str, or UTF-8 bytes) is base64-encoded for the wire; the
    library writes it to a private 0600 file that lives as long as the task,
    and runs ``bash``, ``python3``, ``node`` or the :class:`Custom` command
    on it with `args`.
    """

    body: bytes
    runtime: Runtime = "bash"
    args: tuple[str, ...] = field(default=())

    def __init__(self, body: str | bytes, runtime: Runtime | str = "bash", args: Iterable[str] = ()) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(f"Script body must be str or bytes, not {type(body).__name__}")
        if isinstance(args, str):
            raise TypeError("Script args must be a list of strings, not one string")
        object.__setattr__(self, "body", bytes(body))
        object.__setattr__(self, "runtime", runtime)
        object.__setattr__(self, "args", tuple(os.fsdecode(a) for a in args))

    def to_wire(self) -> dict[str, Any]:
        """The ``mode`` object of the spec, the body in standard base64."""
        runtime = self.runtime.to_wire() if isinstance(self.runtime, Custom) else self.runtime
        return {
            "script": {
                "runtime": runtime,
                "body": base64.b64encode(self.body).decode("ascii"),
                "args": list(self.args),
            }
        }

    def default_slot(self) -> str:
        return "script"


Mode = Union[Command, Script]


# ---- Policies ----------------------------------------------------------------------


@dataclass(frozen=True)
class Restart:
    """When a task starts again: ``Restart.never()``, ``Restart.on_failure()``
    (after a failure or timeout), ``Restart.always(interval=seconds)`` (after
    any end but a cancel).  The strings "never", "on_failure"/"onFailure" and
    "always" are accepted wherever a Restart is."""

    type: Literal["never", "onFailure", "always"] = "never"
    interval: float | None = None

    @classmethod
    def never(cls) -> Restart:
        return cls("never")

    @classmethod
    def on_failure(cls) -> Restart:
        return cls("onFailure")

    @classmethod
    def always(cls, interval: float | None = None) -> Restart:
        return cls("always", interval)

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": _camel(self.type)}
        if self.interval is not None:
            out["intervalMs"] = _ms(self.interval, "restart interval")
        return out


@dataclass(frozen=True)
class Backoff:
    """The delay between restarts: ``first * factor**n`` seconds capped at
    ``max``, then jittered ("none", "full", "equal", "decorrelated")."""

    first: float = 1.0
    max: float = 30.0
    factor: float = 2.0
    jitter: Literal["none", "full", "equal", "decorrelated"] = "full"

    def to_wire(self) -> dict[str, Any]:
        return {
            "jitter": self.jitter,
            "firstMs": _ms(self.first, "backoff first"),
            "maxMs": _ms(self.max, "backoff max"),
            "factor": float(self.factor),
        }


@dataclass(frozen=True)
class Output:
    """A task's output ring: at most `capacity` events and `max_bytes` bytes.

    ``when_full="dropOldest"`` (the default) drops the oldest events, so the
    child is never slowed and a slow reader gets a lag notice;
    ``when_full="block"`` is lossless like a pipe: the child blocks until
    readers catch up, so a task nobody reads then stalls, like a child
    writing to a pipe nobody drains.  None fields take the library defaults
    (1024 events, 4 MiB).  ``mode="bytes"`` keeps exactly the bytes the
    child wrote, read with ``Task.read()`` / ``Task.chunks()``; ``"lines"``
    (the default) frames them into lines.
    """

    capacity: int | None = None
    max_bytes: int | None = None
    when_full: Literal["dropOldest", "block", "drop_oldest"] | None = None
    mode: Literal["lines", "bytes"] | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.capacity is not None:
            out["capacity"] = self.capacity
        if self.max_bytes is not None:
            out["maxBytes"] = self.max_bytes
        if self.when_full is not None:
            out["whenFull"] = _camel(self.when_full)
        if self.mode is not None:
            out["mode"] = self.mode
        return out


_SLOT_BAD = re.compile(r"[^A-Za-z0-9._-]")


def _wire(value: Any) -> Any:
    """A policy object, a mapping (keys made camelCase) or a plain value."""
    if hasattr(value, "to_wire"):
        return value.to_wire()
    return wire_keys(value)


def _default_slot(mode: Mode) -> str:
    slot = _SLOT_BAD.sub("_", mode.default_slot())[:64]
    return "task" if slot in ("", ".", "..") else slot


def task_spec(
    mode: Mode | Mapping[str, Any],
    *,
    slot: str | None = None,
    timeout: float | None = None,
    env: EnvLike | None = None,
    cwd: str | os.PathLike[str] | None = None,
    fail_on_non_zero: bool = True,
    stdin: Literal["null", "inherit", "pipe"] = "null",
    restart: Restart | str | Mapping[str, Any] | None = None,
    backoff: Backoff | Mapping[str, Any] | None = None,
    admission: str | None = None,
    max_retries: int | None = None,
    kill_grace: float | None = None,
    output: Output | Mapping[str, Any] | None = None,
    stderr: Literal["pipe", "stdout"] | None = None,
    pty: bool | tuple[int, int] | None = None,
    input: bytes | str | None = None,
) -> dict[str, Any]:
    """Builds a task spec (a dict ready for ``json.dumps``).

    Args:
        mode: a :class:`Command` or :class:`Script` (or a wire ``mode`` dict).
        slot: the task's name in run ids and metrics, 1..64 bytes of
            ``[A-Za-z0-9._-]``; default: from the program's name.
        timeout: seconds per attempt; the tree is killed when it passes.
            None: no timeout in practice (:data:`NO_TIMEOUT`).
        env: added to the child's environment (the host's at spawn time).
        cwd: working directory; default the host's.
        fail_on_non_zero: a non-zero exit is a failure (default True).
        stdin: "null" (default, /dev/null), "inherit" (the host's stdin) or
            "pipe" (a pipe per attempt, written with ``Task.write``).
        restart: "never" (default), "on_failure", "always" or a :class:`Restart`.
        backoff: a :class:`Backoff` for the delays between restarts.
        admission: what spawn does while an attempt runs: "drop_if_running"
            (default: refused with StateError), "replace" or "queue".
        max_retries: restarts after the first attempt at most (0 = unlimited).
        kill_grace: seconds between SIGTERM and SIGKILL on cancel and
            timeout (default: SIGKILL at once).
        output: this task's output ring (:class:`Output`), replacing the
            runner's.
        stderr: "stdout" merges stderr into stdout (``2>&1``): one stream
            in the child's own order, every line marked stdout.  Two pipes
            (the default) keep no order between stdout and stderr.
        pty: a terminal on the child's 0, 1 and 2: True (24 x 80) or
            (rows, cols).  Output is one stream; echo is on.
        input: bytes (str is encoded as UTF-8) written to each attempt's
            stdin, which is then closed; implies stdin "pipe".  At most
            16 MiB: write more with ``Task.write``.
    """
    if isinstance(mode, (Command, Script)):
        wire_mode: Any = mode.to_wire()
        slot = slot if slot is not None else _default_slot(mode)
    elif isinstance(mode, Mapping):
        wire_mode = wire_keys(mode)
        slot = slot if slot is not None else "task"
    else:
        raise TypeError(f"mode must be a Command or a Script, not {type(mode).__name__}")
    sub: dict[str, Any] = {"mode": wire_mode}
    if env is not None:
        sub["env"] = _env_list(env)
    if cwd is not None:
        sub["cwd"] = os.fsdecode(cwd)
    sub["failOnNonZero"] = bool(fail_on_non_zero)
    sub["stdin"] = stdin
    _stdio_fields(sub, stderr, pty, input)
    spec: dict[str, Any] = {
        "slot": slot,
        "kind": {"subprocess": sub},
        "timeout": _ms(NO_TIMEOUT if timeout is None else timeout, "timeout"),
    }
    if restart is not None:
        spec["restart"] = Restart(_camel(restart)).to_wire() if isinstance(restart, str) else _wire(restart)  # type: ignore[arg-type]
    if backoff is not None:
        spec["backoff"] = _wire(backoff)
    if admission is not None:
        # An unknown value is sent as is: the library's message names the
        # allowed ones.
        spec["admission"] = _camel(admission)
    if max_retries is not None:
        spec["maxRetries"] = max_retries
    if kill_grace is not None:
        spec["killGraceMs"] = _ms(kill_grace, "kill_grace")
    if output is not None:
        spec["output"] = _wire(output)
    return spec


def _stdio_fields(sub: dict[str, Any], stderr: str | None, pty: bool | tuple[int, int] | None, input: bytes | str | None) -> None:
    """Adds the spec's stderr, pty and input fields (wire format)."""
    if stderr is not None:
        sub["stderr"] = stderr
    if pty is not None and pty is not False:
        if pty is True:
            sub["pty"] = {}
        else:
            rows, cols = pty
            sub["pty"] = {"rows": rows, "cols": cols}
    if input is not None:
        data = input.encode("utf-8") if isinstance(input, str) else bytes(input)
        sub["input"] = base64.b64encode(data).decode("ascii")
        if sub.get("stdin") == "null":
            sub["stdin"] = "pipe"


def runner_config(
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
) -> dict[str, Any]:
    """Builds a runner config dict.  `config` (a dict or a JSON string) is
    the base; the other arguments replace its parts."""
    if isinstance(config, str):
        base = parse_document(config, "runner config", "invalid runner configuration")
        if not isinstance(base, dict):
            raise TypeError("config must be a JSON object")
    else:
        base = dict(config or {})
        base_env = base.pop("env", None)
        base = wire_keys(base)
        if base_env is not None:
            base["env"] = _env_list(base_env)
    if env is not None:
        base["env"] = _env_list(env)
    for key, part in (("rlimits", rlimits), ("cgroups", cgroups), ("security", security), ("log", log)):
        if part is not None:
            base[key] = wire_keys(part)
    if output is not None:
        base["output"] = _wire(output)
    if shim_path is not None:
        base["shimPath"] = os.fsdecode(shim_path)
    if drain_grace_ms is not None:
        base["drainGraceMs"] = drain_grace_ms
    return base
