"""Runner.run() gives what subprocess.run(..., capture_output=True,
text=True) gives on the same commands: the whole output, decoded the same
way, with check= and timeout= behaving as subprocess's."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT

# Each a command whose output is hard to get exactly right.
COMMANDS = {
    "10,000-character lines": [sys.executable, "-c", "import sys\nfor c in 'abc': print(c * 10000)\nprint('x' * 10000, file=sys.stderr)"],
    "no trailing newline": ["sh", "-c", "printf 'one\\ntwo'; printf 'err' >&2"],
    "empty lines and spaces": ["sh", "-c", "printf '\\n\\n  \\n\\t\\n'"],
    "CR and CRLF": ["sh", "-c", "printf 'a\\r\\nb\\rc\\n\\r\\n'"],
    "NUL bytes": ["sh", "-c", "printf 'a\\000b\\n'"],
    "5 M lines": ["seq", "1", "5000000"],
    "nothing": ["true"],
    "non-zero exit": ["sh", "-c", "echo out; echo err >&2; exit 3"],
    "interleaved streams": ["sh", "-c", "for i in $(seq 1000); do echo o$i; echo e$i >&2; done"],
}


def _subprocess(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[Any]:
    return subprocess.run(argv, capture_output=True, timeout=120, stdin=subprocess.DEVNULL, **kw)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_text_output_equals_subprocess(runner: se.Runner, name: str) -> None:
    argv = COMMANDS[name]
    want = _subprocess(argv, text=True)
    got = runner.run(se.Command(*argv), timeout=120)
    assert isinstance(got.stdout, str) and isinstance(got.stderr, str)
    assert got.stdout == want.stdout
    assert got.stderr == want.stderr
    assert got.returncode == want.returncode
    assert got.args == argv


@pytest.mark.parametrize("name", list(COMMANDS))
def test_bytes_output_equals_subprocess(runner: se.Runner, name: str) -> None:
    argv = COMMANDS[name]
    want = _subprocess(argv)
    got = runner.run(se.Command(*argv), text=False, timeout=120)
    assert isinstance(got.stdout, bytes)
    assert (got.stdout, got.stderr, got.returncode) == (want.stdout, want.stderr, want.returncode)


def test_random_bytes_are_byte_exact(runner: se.Runner, tmp_path: Path) -> None:
    blob = os.urandom(8 << 20)
    path = tmp_path / "blob"
    path.write_bytes(blob)
    got = runner.run(se.Command("sh", "-c", 'cat "$1"; cat "$1" >&2', "sh", str(path)), text=False, timeout=120)
    assert got.stdout == blob and got.stderr == blob


INVALID = ["sh", "-c", "printf 'ok \\377\\376 caf\\303\\251 \\355\\240\\200\\n'; printf '\\377' >&2"]


@pytest.mark.parametrize("errors", ["replace", "surrogateescape", "backslashreplace", "ignore"])
def test_invalid_utf8_with_errors(runner: se.Runner, errors: str) -> None:
    want = _subprocess(INVALID, encoding="utf-8", errors=errors)
    got = runner.run(se.Command(*INVALID), encoding="utf-8", errors=errors, timeout=TASK_TIMEOUT)
    assert (got.stdout, got.stderr) == (want.stdout, want.stderr)


def test_invalid_utf8_strict_raises_as_subprocess_does(runner: se.Runner) -> None:
    with pytest.raises(UnicodeDecodeError):
        _subprocess(INVALID, encoding="utf-8")
    with pytest.raises(UnicodeDecodeError):
        runner.run(se.Command(*INVALID), encoding="utf-8", timeout=TASK_TIMEOUT)


def test_other_encoding(runner: se.Runner) -> None:
    argv = ["sh", "-c", "printf 'caf\\351\\n'"]  # latin-1
    want = _subprocess(argv, encoding="latin-1")
    assert runner.run(se.Command(*argv), encoding="latin-1", timeout=TASK_TIMEOUT).stdout == want.stdout == "caf\u00e9\n"


def test_lines(runner: se.Runner) -> None:
    got = runner.run(se.Command("sh", "-c", "printf 'a\\n\\nb\\013c\\nlast'; printf 'e\\n' >&2"), timeout=TASK_TIMEOUT)
    # Split on newlines only: \x0b (which str.splitlines would split on) stays.
    assert got.stdout_lines == ["a", "", "b\x0bc", "last"]
    assert got.stderr_lines == ["e"]
    raw = runner.run(se.Command("sh", "-c", "printf 'x\\ny\\n'"), text=False, timeout=TASK_TIMEOUT)
    assert raw.stdout_lines == [b"x", b"y"] and raw.stderr_lines == []


def test_check_raises_with_the_whole_output(runner: se.Runner) -> None:
    argv = ["sh", "-c", "seq 1 100000; echo bad >&2; exit 5"]
    with pytest.raises(subprocess.CalledProcessError) as info:
        runner.run(se.Command(*argv), check=True, timeout=TASK_TIMEOUT)
    e = info.value
    want = _subprocess(argv, text=True)
    assert isinstance(e, se.CalledProcessError)
    assert (e.returncode, e.cmd, e.stdout, e.stderr) == (5, argv, want.stdout, "bad\n")
    assert pickle.loads(pickle.dumps(e)).stdout == want.stdout
    done = runner.run(se.Command(*argv), timeout=TASK_TIMEOUT)
    with pytest.raises(se.CalledProcessError):
        done.check_returncode()
    runner.run(se.Command("true"), timeout=TASK_TIMEOUT).check_returncode()


def test_timeout_raises_timeout_expired_and_kills_the_tree(runner: se.Runner) -> None:
    with pytest.raises(subprocess.TimeoutExpired) as info:
        runner.run(se.Command("sh", "-c", "echo before; sleep 30"), timeout=0.5)
    e = info.value
    assert isinstance(e, se.TimeoutExpired)
    assert (e.cmd, e.timeout, e.stdout) == (["sh", "-c", "echo before; sleep 30"], 0.5, "before\n")
    assert e.report.outcome is se.Outcome.TIMEOUT
    assert pickle.loads(pickle.dumps(e)).report.outcome is se.Outcome.TIMEOUT


def test_missing_program_is_file_not_found(runner: se.Runner) -> None:
    with pytest.raises(FileNotFoundError) as info:
        runner.run(se.Command("solti-nosuch-program"), timeout=TASK_TIMEOUT)
    assert info.value.filename == "solti-nosuch-program"


def test_output_settings_a_user_can_raise(runner: se.Runner) -> None:
    big = runner.run(se.Command("seq", "1", "300000"), output=se.Output(capacity=4096, max_bytes=64 << 20), timeout=TASK_TIMEOUT)
    assert big.stdout_lines[-1] == "300000" and len(big.stdout_lines) == 300000
    with pytest.raises(ValueError, match="bytes mode"):
        runner.run(se.Command("true"), output=se.Output(mode="lines"), timeout=TASK_TIMEOUT)
    with pytest.raises(ValueError, match="bytes mode"):
        runner.run(se.Command("true"), output={"mode": "lines"}, timeout=TASK_TIMEOUT)


def test_a_dropping_ring_warns_once_with_the_total(runner: se.Runner) -> None:
    # Asked for explicitly: a tiny dropOldest ring, a chatty child.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = runner.run(
            se.Command("seq", "1", "2000000"),
            output=se.Output(capacity=2, max_bytes=4096, when_full="dropOldest"),
            timeout=TASK_TIMEOUT,
        )
    lagged = [w.message for w in caught if isinstance(w.message, se.OutputLagged)]
    lost = len(done.stdout_lines) < 2000000
    assert len(lagged) == (1 if lost else 0)
    if lost:
        assert lagged[0].missed > 0 and lagged[0].task_id == done.id
