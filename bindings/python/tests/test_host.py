"""The library as a guest in a Python process: signals, threads, fork."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT, run_python


def test_sigpipe_is_default_in_children(runner: se.Runner) -> None:
    # Python ignores SIGPIPE; a child inheriting that would see EPIPE
    # errors instead of dying quietly.
    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN
    done = runner.run(se.Command("sh", "-c", "yes | head -n 1"), timeout=TASK_TIMEOUT)
    assert done.stdout == "y\n"
    assert done.report.exit_code == 0 and done.report.success
    assert done.stderr == ""


def test_children_get_default_signal_dispositions(runner: se.Runner) -> None:
    done = runner.run(se.Command("grep", "-E", "^(SigIgn|SigBlk)", "/proc/self/status"), timeout=TASK_TIMEOUT)
    assert done.stdout_lines == ["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"]


def test_child_outlives_the_thread_that_spawned_it(runner: se.Runner) -> None:
    box: list[se.Task] = []

    def spawn() -> None:
        task = runner.task(se.Command("sh", "-c", "sleep 1; echo finished"), timeout=TASK_TIMEOUT)
        task.spawn()
        box.append(task)

    t0 = time.monotonic()
    thread = threading.Thread(target=spawn)
    thread.start()
    thread.join(TASK_TIMEOUT)
    assert not thread.is_alive() and box
    with box[0] as task:
        lines = task.stdout_lines()
        report = task.wait(TASK_TIMEOUT)
        assert report.outcome is se.Outcome.SUCCESS and report.exit_code == 0
        assert report.signal is None
        assert time.monotonic() - t0 >= 0.9
        assert list(lines) == ["finished"]


def _child_calls_the_library(runner: se.Runner, task: se.Task, results) -> None:  # runs in the fork
    out = []
    for name, call in (
        ("Runner", lambda: se.Runner("in-child")),
        ("task", lambda: runner.task(se.Command("true"))),
        ("spawn", task.spawn),
        ("wait", lambda: task.wait(5)),
    ):
        t0 = time.monotonic()
        try:
            call()
            out.append((name, "no error", "", time.monotonic() - t0))
        except se.SoltiError as e:
            out.append((name, type(e).__name__, e.message, time.monotonic() - t0))
    # Dropping the inherited objects must not touch the parent's.
    del task
    gc.collect()
    results.put(out)


def test_forked_multiprocessing_child_gets_forked_error(runner: se.Runner) -> None:
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    with runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        child = ctx.Process(target=_child_calls_the_library, args=(runner, task, results))
        child.start()
        try:
            out = results.get(timeout=TASK_TIMEOUT)
        finally:
            child.join(TASK_TIMEOUT)
            if child.is_alive():  # pragma: no cover
                child.kill()
        assert child.exitcode == 0
        for name, kind, message, elapsed in out:
            assert kind == "ForkedError", name
            assert "forked child" in message
            assert elapsed < 1.0, name  # at once, no hang
        # The parent keeps working, and its task was not touched.
        assert not task.done()
        task.cancel()
        assert task.wait(TASK_TIMEOUT).outcome is se.Outcome.CANCELED
    assert runner.run(se.Command("echo", "parent"), timeout=TASK_TIMEOUT).stdout == "parent\n"


def test_plain_fork_exit_with_live_objects(runner: se.Runner) -> None:
    task = runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT)
    task.spawn()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            task.close()
        except se.ForkedError:
            code = 7
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 7
    assert not task.done()
    task.close()


def test_loading_leaves_the_host_alone() -> None:
    code = (
        "import resource, sys, solti_exec as s\n"
        "before = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "r = s.Runner('quiet'); c = r.run(s.Command('echo', 'x'), timeout=30); r.close()\n"
        "after = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "import signal\n"
        "handlers = [int(signal.getsignal(x)) for x in (signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE)]\n"
        "sys.stderr.write(repr((before == after, c.stdout_lines, handlers, signal.getsignal(signal.SIGINT) is signal.default_int_handler)))\n"
    )
    res = run_python(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""  # the library prints nothing
    ok, out, handlers, sigint_default = eval(res.stderr)  # noqa: S307 - our own repr
    assert ok and out == ["x"]
    assert handlers == [signal.SIG_DFL, signal.SIG_DFL, signal.SIG_IGN] and sigint_default


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_other_start_methods_work(method: str, tmp_path) -> None:
    code = (
        "import multiprocessing as mp, solti_exec as s\n"
        "def work(q):\n"
        "    r = s.Runner('mp'); q.put(r.run(s.Command('echo', 'ok'), timeout=30).stdout_lines); r.close()\n"
        "if __name__ == '__main__':\n"
        f"    ctx = mp.get_context('{method}'); q = ctx.Queue()\n"
        "    p = ctx.Process(target=work, args=(q,)); p.start(); print(q.get(timeout=60)); p.join(60)\n"
    )
    script = tmp_path / "main.py"  # the workers import __main__ from a file
    script.write_text(code)
    res = run_python(f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')", timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "['ok']"


def test_forked_child_sys_exit_keeps_the_parents_scripts() -> None:
    # sys.exit in an os.fork() child runs the C exit-time destructors: the
    # library's must not remove the parent's script directories (the
    # parent's task would then fail with exit 127) nor hang.
    code = (
        "import os, sys, solti_exec as s\n"
        "r = s.Runner('fork-exit')\n"
        "t = r.task(s.Script('echo live'), timeout=30)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    sys.exit(0)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "t.spawn()\n"
        "lines = list(t.stdout_lines())\n"
        "rep = t.wait(30)\n"
        "sys.stderr.write(repr((os.waitstatus_to_exitcode(status), lines, rep.exit_code)))\n"
    )
    res = run_python(code, timeout=60)
    assert res.returncode == 0, res.stderr
    child_code, lines, exit_code = eval(res.stderr)  # noqa: S307 - our own repr
    assert child_code == 0
    assert (lines, exit_code) == (["live"], 0)
