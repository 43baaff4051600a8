"""Output mode "bytes": Task.read() and Task.chunks() give exactly the bytes written."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT

BLOCK = se.Output(mode="bytes", when_full="block", capacity=8, max_bytes=1 << 17)


def run_read(runner: se.Runner, argv: list[str], output: se.Output = BLOCK, stream: str = "stdout") -> bytes:
    with runner.task(se.Command(*argv), timeout=TASK_TIMEOUT, output=output) as task:
        task.spawn()
        data = task.read(stream)
        assert task.wait(TASK_TIMEOUT).success
    return data


def test_binary_byte_exact(runner: se.Runner) -> None:
    assert run_read(runner, ["cat", "/bin/true"]) == Path("/bin/true").read_bytes()


def test_random_file_and_tar_byte_exact(runner: se.Runner, tmp_path: Path) -> None:
    blob = os.urandom(200 * 1000 * 1000)
    (tmp_path / "random").write_bytes(blob)
    (tmp_path / "crlf.txt").write_bytes(b"a\r\nb\xff\xfe\r\n")
    assert run_read(runner, ["cat", str(tmp_path / "random")]) == blob
    argv = ["tar", "-cf", "-", "-C", str(tmp_path), "."]
    want = subprocess.run(argv, check=True, capture_output=True).stdout
    assert run_read(runner, argv) == want


def test_chunks_keep_streams_apart(runner: se.Runner) -> None:
    script = "printf 'o1\\r\\n'; sleep 0.1; printf 'e1\\377' >&2; sleep 0.1; printf o2"
    with runner.task(se.Command("sh", "-c", script), timeout=TASK_TIMEOUT, output=se.Output(mode="bytes")) as task:
        both = task.chunks()
        only_err = task.chunks("stderr", buffer_bytes=1)
        task.spawn()
        got = list(both)
        err = list(only_err)
    out = b"".join(data for stream, data in got if stream is se.Stream.STDOUT)
    assert out == b"o1\r\no2"
    assert b"".join(data for stream, data in got if stream is se.Stream.STDERR) == b"e1\xff"
    assert {stream for stream, _ in err} == {se.Stream.STDERR}
    assert [data for _, data in err] == [b"e", b"1", b"\xff"], "a 1-byte buffer splits a chunk"


def test_read_reports_loss(runner: se.Runner) -> None:
    lossy = se.Output(mode="bytes", capacity=2, max_bytes=4096)
    with runner.task(se.Command("head", "-c", "1000000", "/dev/zero"), timeout=TASK_TIMEOUT, output=lossy) as task:
        task.spawn()
        assert task.wait(TASK_TIMEOUT).success
        with pytest.raises(se.OutputLagged):
            task.read()


def test_lines_mode_is_unchanged(runner: se.Runner) -> None:
    with runner.task(se.Command("printf", "a\\r\\nb"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        assert [line.text for line in task.lines()] == ["a", "b"]
