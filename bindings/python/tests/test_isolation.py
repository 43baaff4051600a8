"""Isolation through the binding: env policy, umask, seccomp, passed
descriptors, and script bodies that never touch TMPDIR."""

from __future__ import annotations

import os

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT, Snapshot


def run_lines(runner: se.Runner, *argv: str, **sub) -> list[str]:
    task = runner.task(se.Command(*argv), timeout=TASK_TIMEOUT, **sub)
    lines = task.stdout_lines()
    task.spawn()
    out = list(lines)
    assert task.wait(TASK_TIMEOUT).success
    task.close()
    return out


def test_env_clear_and_allowlist(lib, clean: Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOLTI_PY_SECRET", "hunter2")
    monkeypatch.setenv("SOLTI_PY_KEEP", "kept")
    runner = se.Runner("py-env", config={"envPolicy": {"mode": "clear"}})
    assert run_lines(runner, "env") == ["PATH=/usr/local/bin:/usr/bin:/bin"]
    allow = {"envPolicy": {"mode": "allowlist", "allow": ["SOLTI_PY_KEEP"]}}
    runner.close()
    runner = se.Runner("py-env", config=allow)
    assert run_lines(runner, "env") == ["SOLTI_PY_KEEP=kept", "PATH=/usr/local/bin:/usr/bin:/bin"]
    runner.close()


def test_umask_and_seccomp(lib, clean: Snapshot) -> None:
    runner = se.Runner("py-iso", config={"umask": "077", "security": {"seccomp": "denyHostControl"}})
    assert run_lines(runner, "sh", "-c", "umask") == ["0077"]
    status = dict(line.split(":\t", 1) for line in run_lines(runner, "cat", "/proc/self/status") if ":\t" in line)
    assert status["Seccomp"] == "2" and status["NoNewPrivs"] == "1"
    runner.close()


def command_spec(slot: str, *argv: str, **sub) -> dict:
    mode = {"command": {"command": argv[0], "args": list(argv[1:])}}
    return {"slot": slot, "timeout": int(TASK_TIMEOUT * 1000), "kind": {"subprocess": {"mode": mode, **sub}}}


def test_passed_descriptor(lib, clean: Snapshot) -> None:
    r, w = os.pipe()
    os.write(w, b"through the pipe\n")
    os.close(w)
    runner = se.Runner("py-fds")
    try:
        script = f"cat /dev/fd/{r} 2>/dev/null || echo closed; ls /proc/self/fd | tr '\\n' ' '"
        task = runner.build(command_spec("fds", "sh", "-c", script, passFds=[r]))
        lines = task.stdout_lines()
        task.spawn()
        out = list(lines)
        assert task.wait(TASK_TIMEOUT).success
        task.close()
        assert out[0] == "through the pipe"
        # sh's own descriptor for ls's listing comes and goes; r stays.
        assert str(r) in out[1].split()
        task = runner.build(command_spec("nofds", "sh", "-c", script))
        lines = task.stdout_lines()
        task.spawn()
        assert list(lines)[0] == "closed"  # not passed: closed in the child
        assert task.wait(TASK_TIMEOUT).success
        task.close()
    finally:
        os.close(r)
        runner.close()


def test_script_body_never_in_tmpdir(lib, clean: Snapshot, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    runner = se.Runner("py-memfd")
    task = runner.task(se.Script('echo "$0"; ls -A "$TMPDIR"; echo done'), timeout=TASK_TIMEOUT)
    assert list(tmp_path.iterdir()) == []
    lines = task.stdout_lines()
    task.spawn()
    assert list(lines) == ["/proc/self/fd/3", "done"]  # ls found nothing while it ran
    assert task.wait(TASK_TIMEOUT).success
    task.close()
    assert list(tmp_path.iterdir()) == []
    runner.close()


def test_privileged_options_need_root(lib, clean: Snapshot) -> None:
    if os.geteuid() == 0:
        pytest.skip("root: the refusal of credentials without privilege cannot be shown")
    runner = se.Runner("py-creds", config={"security": {"credentials": {"uid": 65534, "gid": 65534}}})
    task = runner.task(se.Command("true"), timeout=TASK_TIMEOUT)
    with pytest.raises(se.SandboxError) as info:
        task.spawn()
    assert "groups" in str(info.value) and "CAP_SETGID" in str(info.value)
    task.close()
    runner.close()
