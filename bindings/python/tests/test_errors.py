"""Every error class, raised by real calls, with the library's message."""

from __future__ import annotations

import ctypes
import json
import pickle
import signal

import pytest

import solti_exec as se
from solti_exec import _native as n
from solti_exec.errors import error_for_code

from .conftest import TASK_TIMEOUT

ALL = [
    (se.InvalidArgument, n.SOLTI_EINVAL),
    (se.SpecError, n.SOLTI_ESPEC),
    (se.Unsupported, n.SOLTI_EUNSUPPORTED),
    (se.BadHandle, n.SOLTI_EBADF),
    (se.StateError, n.SOLTI_ESTATE),
    (se.SpawnError, n.SOLTI_ESPAWN),
    (se.SandboxError, n.SOLTI_ESANDBOX),
    (se.Timeout, n.SOLTI_ETIMEDOUT),
    (se.BufferTooSmall, n.SOLTI_ERANGE),
    (se.EndOfEvents, n.SOLTI_EOF),
    (se.ForkedError, n.SOLTI_EFORKED),
    (se.ChildLost, n.SOLTI_ECHILD),
    (se.InternalError, n.SOLTI_EINTERNAL),
    (se.BrokenPipe, n.SOLTI_EPIPE),
]


@pytest.mark.parametrize("cls, code", ALL)
def test_one_class_per_code(cls: type[se.SoltiError], code: int, lib: n.Library) -> None:
    assert issubclass(cls, se.SoltiError)
    assert cls.CODE == code
    assert error_for_code(code) is cls
    err = cls(code, lib.strerror(code), "the message", "solti_fn")
    assert (err.code, err.strerror, err.message, err.function) == (code, lib.strerror(code), "the message", "solti_fn")
    assert str(err) == "the message"
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is cls and copy.message == "the message" and copy.code == code


def test_class_extras() -> None:
    assert issubclass(se.Timeout, TimeoutError)
    assert issubclass(se.SpecError, ValueError) and issubclass(se.InvalidArgument, ValueError)
    assert error_for_code(-1000) is se.SoltiError
    assert str(se.SoltiError(-1000, "unknown error code")) == "unknown error code"


def test_invalid_argument(lib: n.Library, runner: se.Runner) -> None:
    with pytest.raises(se.InvalidArgument) as info:
        lib.dll.solti_task_wait(1, -7, None)
    assert info.value.code == n.SOLTI_EINVAL
    assert "timeout_ms -7 is negative" in info.value.message
    assert info.value.function == "solti_task_wait"
    with pytest.raises(se.InvalidArgument, match="must not be NULL"):
        lib.dll.solti_runner_new(b"x", None, None)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"slot": ""}, "invalid specification: slot must not be empty"),
        ({"slot": "a/b"}, "slot contains forbidden byte 0x2f at position 1"),
        ({"slot": "x" * 70}, "slot length 70 exceeds max 64"),
        ({"timeout": 0}, "invalid specification: timeout must be greater than zero"),
        ({"env": {"A=B": "x"}}, "env"),
        ({"backoff": se.Backoff(first=2, max=1)}, "backoff max_ms must be >= first_ms"),
        ({"admission": "sometimes"}, "admission"),
    ],
)
def test_spec_error_names_the_field(runner: se.Runner, kwargs: dict, message: str) -> None:
    with pytest.raises(se.SpecError) as info:
        runner.task(se.Command("true"), **kwargs)
    assert message in info.value.message
    assert info.value.strerror == "invalid task spec or runner configuration"


def test_spec_error_for_script_and_command(runner: se.Runner) -> None:
    with pytest.raises(se.SpecError, match="subprocess command cannot be empty"):
        runner.task(se.Command("  "), slot="s")
    with pytest.raises(se.SpecError, match="script body cannot be empty"):
        runner.task(se.Script(""))
    with pytest.raises(se.SpecError, match="script body is not valid UTF-8"):
        runner.task(se.Script(b"echo \xff"))
    with pytest.raises(se.SpecError, match="custom command cannot be empty"):
        runner.task(se.Script("x", runtime=se.Custom(" ", "-e")))


def test_spec_error_unknown_field(runner: se.Runner) -> None:
    spec = {"slot": "s", "timeout": 1000, "tiemout": 5, "kind": {"subprocess": {"mode": {"command": {"command": "true"}}}}}
    with pytest.raises(se.SpecError, match="tiemout"):
        runner.build(spec)
    with pytest.raises(se.SpecError, match="invalid specification"):
        runner.build("{not json")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cgroups": {"pids": 0}}, "invalid runner configuration: cgroups.pids cannot be zero"),
        ({"cgroups": {"memory": 0}}, "cgroups.memory cannot be zero"),
        ({"rlimits": {"max_file_size_bytes": 0}}, "rlimits.max_file_size_bytes cannot be zero"),
        ({"security": {"keep_caps": ["CHOWN"]}}, "keepCaps"),
        ({"security": {"drop_all_caps": True, "keep_caps": ["NOPE"]}}, "NOPE"),
        ({"config": {"bogus": 1}}, "bogus"),
    ],
)
def test_runner_config_error_names_the_field(lib: n.Library, kwargs: dict, message: str) -> None:
    with pytest.raises(se.SpecError) as info:
        se.Runner("bad", **kwargs)
    assert message in info.value.message


def test_runner_name_error(lib: n.Library) -> None:
    with pytest.raises(se.SpecError, match="runner name must not be empty"):
        se.Runner("")


def test_unsupported_kind(runner: se.Runner) -> None:
    for kind in ("embedded", {"wasm": {}}, {"container": {}}):
        spec = {"slot": "s", "timeout": 1000, "kind": kind}
        try:
            runner.build(spec)
        except se.Unsupported as e:
            assert f"unsupported task kind for runner '{runner.name}'" in e.message
        except se.SpecError:
            assert kind != "embedded"  # wasm/container bodies may be validated first
        else:  # pragma: no cover
            pytest.fail(f"{kind} was built")


def test_bad_handle_after_close(runner: se.Runner) -> None:
    task = runner.task(se.Command("true"), timeout=TASK_TIMEOUT)
    handle = task.handle
    task.close()
    assert task.closed
    for call in (task.spawn, task.cancel, task.wait, lambda: task.attempts, lambda: task.fd):
        with pytest.raises(se.BadHandle) as info:
            call()
        assert f"task handle {handle} is unknown or already freed" in info.value.message
        assert info.value.strerror == "bad handle"
    with pytest.raises(se.BadHandle):
        next(task.lines())
    task.close()  # twice is harmless
    assert task.id.startswith(f"{runner.name}-true-")


def test_bad_handle_after_runner_close(lib: n.Library) -> None:
    runner = se.Runner("closing")
    task = runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT)
    task.spawn()
    runner.close()
    with pytest.raises(se.BadHandle, match="unknown or already freed"):
        task.wait(1)
    with pytest.raises(se.BadHandle, match="runner handle"):
        runner.task(se.Command("true"))
    with pytest.raises(se.BadHandle):
        runner.metrics()
    task.close()  # its runner freed it already: harmless
    runner.close()


def test_bad_handle_wrong_kind(lib: n.Library, runner: se.Runner) -> None:
    with pytest.raises(se.BadHandle, match="is a runner, not a task"):
        lib.dll.solti_task_spawn(runner.handle)


def test_state_error(runner: se.Runner) -> None:
    with runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT) as task:
        with pytest.raises(se.StateError):
            task.wait(1)
        assert not task.done()
        task.spawn()
        with pytest.raises(se.StateError) as info:
            task.spawn()  # admission dropIfRunning
        assert info.value.message


def test_spawn_error_missing_binary(runner: se.Runner) -> None:
    with runner.task(se.Command("solti-nosuch-binary"), timeout=TASK_TIMEOUT) as task:
        with pytest.raises(se.SpawnError) as info:
            task.spawn()
        assert 'spawn failed: exec "solti-nosuch-binary": no such file or directory' in info.value.message
        assert info.value.strerror == "process could not be started"
        report = task.wait(TASK_TIMEOUT)
        assert report.outcome is se.Outcome.FATAL
        assert "no such file or directory" in report.reason


def test_spawn_error_bad_cwd(runner: se.Runner) -> None:
    with runner.task(se.Command("true"), cwd="/nonexistent-dir", timeout=TASK_TIMEOUT) as task:
        with pytest.raises(se.SpawnError, match="nonexistent-dir|no such file"):
            task.spawn()


def test_sandbox_error(lib: n.Library) -> None:
    # An RLIMIT_NOFILE above the kernel's nr_open cannot be set, even by root.
    with se.Runner("sandbox", rlimits={"maxOpenFiles": 1 << 40}) as runner:
        with runner.task(se.Command("true"), timeout=TASK_TIMEOUT) as task:
            with pytest.raises(se.SandboxError) as info:
                task.spawn()
            assert "RLIMIT_NOFILE" in info.value.message
            assert task.wait(TASK_TIMEOUT).outcome is se.Outcome.FATAL


def test_timeout_error(runner: se.Runner) -> None:
    with runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        with pytest.raises(se.Timeout) as info:
            task.wait(0.3)
        assert isinstance(info.value, TimeoutError)
        assert info.value.code == n.SOLTI_ETIMEDOUT and info.value.message
        with pytest.raises(TimeoutError):
            task.wait(0)
        assert not task.done()


def test_buffer_too_small_and_end_of_events(lib: n.Library, lossless: se.Runner) -> None:
    with lossless.task(se.Command("python3", "-c", "print('x' * 3000)"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        task.wait(TASK_TIMEOUT)
        cursor = ctypes.c_uint64(0)
        events = (n.solti_event_t * 8)()
        buf = ctypes.create_string_buffer(16)
        count = ctypes.c_size_t()
        rc = 0
        while rc == 0:  # STARTED first, then the long line does not fit
            rc = lib.dll.solti_task_poll(task.handle, ctypes.byref(cursor), events, 1, buf, 16, 0, ctypes.byref(count))
        assert rc == n.SOLTI_ERANGE
        err = lib.error(rc, "solti_task_poll")
        assert isinstance(err, se.BufferTooSmall) and "needs 3000 bytes" in err.message
        # The binding's readers grow their buffer instead.
        reader = task.reader(buffer_bytes=16)
        lines = [ev for ev in iter(lambda: reader.read(1), None) for ev in ev if isinstance(ev, se.Line)]
        assert lines[0].text == "x" * 3000
        assert reader.eof
        rc = lib.dll.solti_task_poll(task.handle, ctypes.byref(cursor), events, 8, ctypes.create_string_buffer(1 << 16), 1 << 16, 0, ctypes.byref(count))
        while rc == 0 and count.value:
            rc = lib.dll.solti_task_poll(task.handle, ctypes.byref(cursor), events, 8, ctypes.create_string_buffer(1 << 16), 1 << 16, 0, ctypes.byref(count))
        assert rc == n.SOLTI_EOF
        err = lib.error(rc, "solti_task_poll")
        assert isinstance(err, se.EndOfEvents) and err.strerror == "no more events"


def test_child_lost_when_the_host_ignores_sigchld(runner: se.Runner) -> None:
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        with runner.task(se.Command("sleep", "0.2"), timeout=TASK_TIMEOUT) as task:
            task.spawn()
            try:
                report = task.wait(TASK_TIMEOUT)
            except se.ChildLost as e:
                assert "exit status lost" in e.message
                assert isinstance(e.report, se.ExitReport) and e.report.attempt == 1
            else:  # a library that copes with SIG_IGN is fine too
                assert report.attempt == 1
    finally:
        signal.signal(signal.SIGCHLD, previous)


def test_internal_error_class(lib: n.Library) -> None:
    err = lib.error(n.SOLTI_EINTERNAL, "solti_x")
    assert isinstance(err, se.InternalError) and err.strerror == "internal error"


def test_buffer_too_small_for_id_and_metrics(lib: n.Library, runner: se.Runner) -> None:
    with runner.task(se.Command("true"), timeout=TASK_TIMEOUT) as task:
        small = ctypes.create_string_buffer(4)
        rc = lib.dll.solti_task_id(task.handle, small, 4)
        assert rc == n.SOLTI_ERANGE
        err = lib.error(rc, "solti_task_id")
        assert isinstance(err, se.BufferTooSmall) and str(len(task.id) + 1) in err.message
        size = ctypes.c_size_t()
        rc = lib.dll.solti_runner_metrics(runner.handle, n.SOLTI_METRICS_JSON, None, 0, ctypes.byref(size))
        assert rc == n.SOLTI_ERANGE and size.value > 0
        assert isinstance(lib.error(rc, "solti_runner_metrics"), se.BufferTooSmall)
        assert len(json.dumps(runner.metrics())) > 0
