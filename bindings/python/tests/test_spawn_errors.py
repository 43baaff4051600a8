"""A failed spawn raises the OSError that subprocess.Popen would: chosen
from the failing step's errno (solti_task_spawn_failure), never from text."""

from __future__ import annotations

import ctypes
import errno
import os
import pickle
import subprocess
from pathlib import Path

import pytest

import solti_exec as se
from solti_exec import _native as n

from .conftest import TASK_TIMEOUT


def _spawn_error(runner: se.Runner, mode: se.Command, **kw) -> se.SpawnError:
    with runner.task(mode, timeout=TASK_TIMEOUT, **kw) as task:
        with pytest.raises(se.SpawnError) as info:
            task.spawn()
        assert task.wait(TASK_TIMEOUT).outcome is se.Outcome.FATAL
        return info.value


def test_missing_program_is_file_not_found(runner: se.Runner) -> None:
    try:
        runner.run(se.Command("solti-nosuch-program", "x"), timeout=TASK_TIMEOUT)
    except FileNotFoundError as e:
        caught = e
    else:
        pytest.fail("no FileNotFoundError")
    with pytest.raises(FileNotFoundError) as popen:
        subprocess.Popen(["solti-nosuch-program", "x"])
    assert isinstance(caught, se.SpawnError) and isinstance(caught, se.SpawnFileNotFoundError)
    assert (caught.errno, caught.filename) == (popen.value.errno, popen.value.filename) == (errno.ENOENT, "solti-nosuch-program")
    assert caught.step == "exec"
    assert caught.code == n.SOLTI_ESPAWN
    assert 'exec "solti-nosuch-program": no such file or directory' in str(caught)


def test_not_executable_is_permission_error(runner: se.Runner, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("data\n")
    plain.chmod(0o644)
    err = _spawn_error(runner, se.Command(str(plain)))
    with pytest.raises(PermissionError) as popen:
        subprocess.Popen([str(plain)])
    assert isinstance(err, PermissionError) and isinstance(err, se.SpawnPermissionError)
    assert (err.errno, err.filename, err.step) == (popen.value.errno, str(plain), "exec")


def test_missing_cwd_is_file_not_found(runner: se.Runner) -> None:
    err = _spawn_error(runner, se.Command("true"), cwd="/nonexistent-solti-dir")
    with pytest.raises(FileNotFoundError) as popen:
        subprocess.Popen(["true"], cwd="/nonexistent-solti-dir")
    assert isinstance(err, FileNotFoundError)
    assert (err.errno, err.filename, err.step) == (popen.value.errno, popen.value.filename, "chdir")


def test_other_errno_is_an_os_error(runner: se.Runner, tmp_path: Path) -> None:
    # Executable, but neither a binary nor a script with #!: ENOEXEC.
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00\x01\x02\x03")
    junk.chmod(0o755)
    err = _spawn_error(runner, se.Command(str(junk)))
    assert type(err) is se.SpawnOSError
    assert isinstance(err, OSError) and not isinstance(err, (FileNotFoundError, PermissionError))
    assert (err.errno, err.step, err.filename) == (errno.ENOEXEC, "exec", str(junk))


def test_missing_shim_names_it(lib: n.Library) -> None:
    with se.Runner("noshim", shim_path="/nonexistent/solti-exec-shim") as runner:
        err = _spawn_error(runner, se.Command("true"))
    assert isinstance(err, FileNotFoundError)
    assert (err.step, err.filename) == ("shim", "/nonexistent/solti-exec-shim")


def test_sandbox_error_has_its_step(lib: n.Library) -> None:
    # An RLIMIT_NOFILE above the kernel's nr_open cannot be set, even by root.
    with se.Runner("sandbox", rlimits={"maxOpenFiles": 1 << 40}) as runner:
        with runner.task(se.Command("true"), timeout=TASK_TIMEOUT) as task:
            with pytest.raises(se.SandboxError) as info:
                task.spawn()
    err = info.value
    assert not isinstance(err, OSError)
    assert err.step == "rlimit" and err.filename == "RLIMIT_NOFILE" and err.errno


def test_spawn_errors_pickle_with_their_fields(runner: se.Runner) -> None:
    err = _spawn_error(runner, se.Command("solti-nosuch-program"))
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert (copy.errno, copy.filename, copy.step, copy.code, copy.message, copy.strerror) == (
        err.errno,
        err.filename,
        err.step,
        err.code,
        err.message,
        err.strerror,
    )


def test_class_tree() -> None:
    assert issubclass(se.SpawnFileNotFoundError, se.SpawnError)
    assert issubclass(se.SpawnFileNotFoundError, FileNotFoundError)
    assert issubclass(se.SpawnPermissionError, PermissionError)
    assert issubclass(se.SpawnOSError, OSError)
    assert not issubclass(se.SpawnError, OSError)  # no errno: e.g. no shim configured
    assert se.errors.error_for_code(n.SOLTI_ESPAWN) is se.SpawnError
    assert os.strerror(errno.ENOENT)  # the errno's text is os.strerror(e.errno)


def test_struct_layout_matches_c(tmp_path: Path) -> None:
    from .test_library import _c_layout

    names = [f[0] for f in n.solti_spawn_failure_t._fields_]
    layout = _c_layout("solti_spawn_failure_t", names, tmp_path)
    assert layout["size"] == ctypes.sizeof(n.solti_spawn_failure_t)
    for name in names:
        assert layout[name] == getattr(n.solti_spawn_failure_t, name).offset, name
