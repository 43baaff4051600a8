"""python -m solti_exec run: output, exit codes, options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PYTHON_DIR


def cli(*args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "solti_exec", *args], capture_output=True, text=True, timeout=timeout, env=env, **kwargs
    )


def test_echo_hi(lib) -> None:
    res = cli("run", "--", "echo", "hi")
    assert (res.returncode, res.stdout, res.stderr) == (0, "hi\n", "")


@pytest.mark.parametrize(
    "command, status",
    [
        (["sh", "-c", "exit 3"], 3),
        (["sh", "-c", "exit 0"], 0),
        (["sh", "-c", "kill -TERM $$"], 128 + 15),
        (["solti-nosuch-binary"], 127),
    ],
)
def test_exit_code_follows_the_task(lib, command: list[str], status: int) -> None:
    assert cli("run", "--", *command).returncode == status


def test_timeout_exits_124(lib) -> None:
    res = cli("run", "--timeout", "300ms", "--", "sleep", "30")
    assert res.returncode == 124


def test_streams_and_stderr_prefix(lib) -> None:
    res = cli("run", "--lines", "--", "sh", "-c", "echo out; echo err >&2; printf 'no newline'")
    assert res.stdout == "out\nno newline\n"
    assert res.stderr == "[stderr] err\n"


def test_json_report(lib) -> None:
    res = cli("run", "--json", "--", "sh", "-c", "echo x; exit 2")
    assert res.returncode == 2
    assert res.stdout == "x\n", "the report is not in the command's stdout"
    report = json.loads(res.stderr.splitlines()[-1])
    assert report["outcome"] == "failure" and report["exitCode"] == 2 and report["signal"] == 0
    assert report["reason"] == "process exited with non-zero code: 2"
    assert set(report) >= {"attempt", "startedMs", "finishedMs", "durationMs", "userUs", "systemUs", "maxRssKb", "oomKills"}


def test_options(lib, tmp_path: Path) -> None:
    res = cli(
        "run", "--nofile", "64", "--no-new-privs", "--env", "A=1", "--env", "B=two=2",
        "--cwd", str(tmp_path), "--", "sh", "-c", 'ulimit -n; echo "$A $B"; pwd; grep -E "^NoNewPrivs" /proc/self/status',
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["64", "1 two=2", str(tmp_path), "NoNewPrivs:\t1"]


def _has_setpcap() -> bool:
    """CAP_SETPCAP (bit 8) in this process's effective set: what dropping the
    bounding set needs."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> 8 & 1)
    return False


def test_drop_caps(lib) -> None:
    res = cli("run", "--drop-caps", "--", "grep", "^CapEff", "/proc/self/status")
    if _has_setpcap():
        assert res.returncode == 0, res.stderr
        assert res.stdout == "CapEff:\t0000000000000000\n"
    else:
        # Without the privilege the drop is refused, naming the step: never ignored.
        assert res.returncode == 125, res.stderr
        assert 'caps "bounding set"' in res.stderr


def test_script_and_runtime(lib, tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("import sys\nprint('args', sys.argv[1:])\n")
    res = cli("run", "--script", str(script), "--runtime", "python", "--", "a", "b")
    assert (res.returncode, res.stdout) == (0, "args ['a', 'b']\n")


def test_memory_and_pids_are_required(lib) -> None:
    res = cli("run", "--memory", "64M", "--pids", "64", "--", "true")
    # Applied, or refused with the sandbox error naming why: never ignored.
    assert res.returncode == 0 or ("sandbox" in res.stderr and res.returncode == 125)


def test_stdin(lib) -> None:
    res = cli("run", "--stdin", "--", "cat", input="fed\n")
    assert res.stdout == "fed\n"
    assert cli("run", "--", "cat", input="ignored\n").stdout == ""


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "no command given"),
        (["--runtime", "bash", "--", "x"], "--runtime needs --script"),
        (["--keep-cap", "CHOWN", "--", "x"], "--keep-cap needs --drop-caps"),
        (["--timeout", "soon", "--", "x"], "invalid duration"),
        (["--memory", "lots", "--", "x"], "invalid size"),
        (["--env", "NOEQUALS", "--", "x"], "is not KEY=VALUE"),
    ],
)
def test_usage_errors(lib, args: list[str], message: str) -> None:
    res = cli("run", *args)
    assert res.returncode in (2, 125)
    assert message in res.stderr


def test_version_and_help(lib) -> None:
    res = cli("--version")
    assert res.returncode == 0 and res.stdout.startswith("solti_exec 0.1.0 (libsolti_exec 0.1.0")
    res = cli("run", "--help")
    assert res.returncode == 0 and "--timeout" in res.stdout and "Exit status" in res.stdout


def test_interrupt_cancels_the_task(lib) -> None:
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    proc = subprocess.Popen(
        [sys.executable, "-m", "solti_exec", "run", "--", "sh", "-c", "echo up; sleep 30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout.readline() == "up\n"
        proc.send_signal(2)
        assert proc.wait(20) == 128 + 2
    finally:
        if proc.poll() is None:  # pragma: no cover
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
