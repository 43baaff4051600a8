"""stdin "pipe", input=, one ordered stream, a terminal and signals, through
the binding.  The first tests are ports of CPython's test_subprocess stdin
and communicate tests (stdin_pipe, stdin_none, communicate,
communicate_pipe_buf, epipe), written against Task and Runner.run."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT

PY = sys.executable or "python3"
BYTES_BLOCK = se.Output(mode="bytes", when_full="block")


def py(code: str) -> se.Command:
    return se.Command(PY, "-c", code)


# ---- ports of CPython's stdin and communicate tests ------------------------------


def test_stdin_pipe(runner: se.Runner) -> None:
    # The child exits 1 exactly when it read "pear" and then EOF.
    with runner.task(py('import sys; sys.exit(sys.stdin.read() == "pear")'), stdin="pipe", timeout=TASK_TIMEOUT, fail_on_non_zero=False) as task:
        task.spawn()
        assert task.write(b"pear") == 4
        task.close_stdin()
        assert task.wait(TASK_TIMEOUT).exit_code == 1


def test_stdin_none(runner: se.Runner) -> None:
    # Without a pipe the child's stdin is /dev/null: it reads EOF at once.
    done = runner.run(py("import sys; print(repr(sys.stdin.read()))"), timeout=TASK_TIMEOUT)
    assert done.stdout_lines == ["''"]
    with runner.task(se.Command("true"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        with pytest.raises(se.StateError, match="stdin is not a pipe"):
            task.write(b"x")
        task.wait(TASK_TIMEOUT)


def test_communicate(runner: se.Runner) -> None:
    code = 'import sys, os; sys.stderr.write("pineapple\\n"); sys.stdout.write(sys.stdin.read())'
    done = runner.run(py(code), input=b"banana\n", timeout=TASK_TIMEOUT)
    assert done.report.success
    assert done.stdout_lines == ["banana"]
    assert done.stderr_lines == ["pineapple"]
    # str input is UTF-8.
    assert runner.run(py(code), input="pêche\n", timeout=TASK_TIMEOUT).stdout_lines == ["pêche"]


def test_communicate_pipe_buf(runner: se.Runner) -> None:
    # Much more than a pipe holds, in and out (and to stderr) at once: the
    # writer and the reader must not wait for each other.
    pipe_buf = 65536
    data = b"abc" * (pipe_buf * 8)
    code = "import sys; d = sys.stdin.buffer.read(); sys.stderr.buffer.write(b'x' * %d); sys.stdout.buffer.write(d)" % (pipe_buf * 4)
    with runner.task(py(code), stdin="pipe", output=BYTES_BLOCK, timeout=TASK_TIMEOUT) as task:
        task.spawn()
        got: dict[se.Stream, list[bytes]] = {se.Stream.STDOUT: [], se.Stream.STDERR: []}

        def read() -> None:
            for stream, chunk in task.chunks():
                got[stream].append(chunk)

        reader = threading.Thread(target=read)
        reader.start()
        assert task.write(data) == len(data)
        task.close_stdin()
        reader.join(TASK_TIMEOUT)
        assert task.wait(TASK_TIMEOUT).success
    assert b"".join(got[se.Stream.STDOUT]) == data
    assert b"".join(got[se.Stream.STDERR]) == b"x" * (pipe_buf * 4)


def test_epipe(runner: se.Runner) -> None:
    # The child does not read and exits: writing then raises BrokenPipeError
    # (no SIGPIPE reaches this interpreter).
    with runner.task(py("pass"), stdin="pipe", timeout=TASK_TIMEOUT) as task:
        task.spawn()
        task.wait(TASK_TIMEOUT)
        with pytest.raises(BrokenPipeError) as info:
            task.write(b"x" * (1 << 20))
        assert isinstance(info.value, se.BrokenPipe)
        assert info.value.code == -14
    # A child alive that closed its stdin.
    with runner.task(se.Command("sh", "-c", "exec 0<&-; echo closed; sleep 30"), stdin="pipe", timeout=TASK_TIMEOUT) as task:
        task.spawn()
        assert next(task.stdout_lines()) == "closed"
        with pytest.raises(se.BrokenPipe):
            task.write(b"x" * (1 << 20), timeout=10)
        task.cancel()


# ---- the rest of stdin ------------------------------------------------------------


def test_write_timeout_is_partial(runner: se.Runner) -> None:
    with runner.task(se.Command("sleep", "30"), stdin="pipe", timeout=TASK_TIMEOUT) as task:
        task.spawn()
        with pytest.raises(se.Timeout) as info:
            task.write(b"y" * (4 << 20), timeout=0.1)
        assert 0 < info.value.written < 4 << 20  # type: ignore[attr-defined]
        assert task.stdin_fd >= 3
        task.close_stdin()
        with pytest.raises(se.StateError, match="closed"):
            task.write(b"z")
        task.cancel()


def test_sort_and_cat_large(runner: se.Runner) -> None:
    # sort fed 10 MB while its output is read; cat echoing 100 MB in and out.
    lines = [b"%08x" % ((i * 2654435761) & 0xFFFFFFFF) for i in range(1_200_000)]
    data = b"\n".join(lines) + b"\n"
    assert len(data) >= 10 * 1000 * 1000
    for cmd, want in ((se.Command("sort"), b"\n".join(sorted(lines)) + b"\n"), (se.Command("cat"), data * 10)):
        payload = data if cmd.to_wire()["command"]["command"] == "sort" else data * 10
        with runner.task(cmd, stdin="pipe", env={"LC_ALL": "C"}, output=BYTES_BLOCK, timeout=TASK_TIMEOUT) as task:
            task.spawn()
            out: list[bytes] = []
            reader = threading.Thread(target=lambda: out.extend(c for _, c in task.chunks()))
            reader.start()
            assert task.write(payload) == len(payload)
            task.close_stdin()
            reader.join(TASK_TIMEOUT)
            assert task.wait(TASK_TIMEOUT).success
        assert b"".join(out) == want


def test_input_fed_to_each_attempt(runner: se.Runner) -> None:
    with runner.task(se.Command("cat"), input=b"again\n", restart="always", max_retries=2, timeout=TASK_TIMEOUT,
                     backoff=se.Backoff(first=0.001, max=0.001, factor=1.0, jitter="none")) as task:
        with pytest.raises(se.StateError, match="input"):
            task.write(b"x")
        task.spawn()
        assert list(task.stdout_lines()) == ["again"] * 3


# ---- one ordered stream -------------------------------------------------------------


def test_merged_stderr_keeps_the_order(lossless: se.Runner) -> None:
    code = "import os\nfor i in range(1000):\n os.write(1, b'o%d\\n' % i)\n os.write(2, b'e%d\\n' % i)"
    done = lossless.run(py(code), stderr="stdout", timeout=TASK_TIMEOUT)
    want = [f"{s}{i}" for i in range(1000) for s in "oe"]
    assert done.stdout_lines == want
    assert done.stderr_lines == []


# ---- a terminal ------------------------------------------------------------------------


def test_pty(runner: se.Runner) -> None:
    done = runner.run(se.Command("sh", "-c", "test -t 0 -a -t 1 -a -t 2 && echo tty; stty size"), pty=(33, 99), timeout=TASK_TIMEOUT)
    assert done.stdout_lines == ["tty", "33 99"]
    code = (
        "import signal, sys, os, struct, fcntl, termios\n"
        "def size(*_):\n"
        " r, c = struct.unpack('hh', fcntl.ioctl(0, termios.TIOCGWINSZ, b'0000'))\n"
        # os.write, not print: the signal may come while the main thread is
        # still inside print's flush of "read ...", and a print in the
        # handler would then raise "reentrant call" on sys.stdout's buffer.
        " os.write(1, f'size {r} {c}\\n'.encode())\n"
        "signal.signal(signal.SIGWINCH, size)\n"
        "print('ready', flush=True)\n"
        "print('read', sys.stdin.readline().strip(), flush=True)\n"
        "while True: signal.pause()\n"
    )
    with runner.task(py(code), pty=True, timeout=TASK_TIMEOUT) as task:
        task.spawn()
        lines = task.stdout_lines()
        assert next(lines) == "ready"
        task.write("kiwi\n")
        assert next(lines) == "kiwi"  # the terminal's echo
        assert next(lines) == "read kiwi"
        task.resize(50, 140)
        assert next(lines) == "size 50 140"
        task.terminate()
        report = task.wait(TASK_TIMEOUT)
        assert report.signal == signal.SIGTERM


# ---- signals -------------------------------------------------------------------------------


def test_send_signal_terminate_kill(runner: se.Runner) -> None:
    # The handler writes with os.write: a print there can meet the main
    # thread's print of "ready" still inside sys.stdout's buffer.
    code = "import os, signal, sys\nsignal.signal(signal.SIGUSR1, lambda *_: (os.write(1, b'usr1\\n'), sys.exit(0)))\nprint('ready', flush=True)\nsignal.pause()"
    with runner.task(py(code), timeout=TASK_TIMEOUT) as task:
        with pytest.raises(se.StateError):
            task.send_signal(signal.SIGUSR1)
        task.spawn()
        lines = task.stdout_lines()
        assert next(lines) == "ready"
        task.send_signal(signal.SIGUSR1, leader_only=True)
        assert next(lines) == "usr1"
        assert task.wait(TASK_TIMEOUT).success
        task.send_signal(signal.SIGUSR1)  # done: nothing to signal, like Popen
    for method, sig in (("terminate", signal.SIGTERM), ("kill", signal.SIGKILL)):
        with runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT) as task:
            task.spawn()
            getattr(task, method)()
            report = task.wait(TASK_TIMEOUT)
            assert report.signal == sig and report.outcome is se.Outcome.FAILURE


# ---- asyncio ----------------------------------------------------------------------------------


def test_async_writer_and_wait(runner: se.Runner) -> None:
    data = b"0123456789" * 200_000  # 2 MB: many times what the pipe holds

    async def main() -> tuple[int, bytes, se.ExitReport]:
        with runner.task(se.Command("cat"), stdin="pipe", output=BYTES_BLOCK, timeout=TASK_TIMEOUT) as task:
            task.spawn()

            async def read() -> bytes:
                out = []
                while True:
                    chunk = await asyncio.to_thread(lambda: next(chunks, None))
                    if chunk is None:
                        return b"".join(out)
                    out.append(chunk[1])

            chunks = task.chunks()
            reading = asyncio.ensure_future(read())
            written = await task.awrite(data)
            task.close_stdin()
            got = await reading
            return written, got, await task.wait_async(TASK_TIMEOUT)

    written, got, report = asyncio.run(main())
    assert written == len(data)
    assert got == data
    assert report.success
