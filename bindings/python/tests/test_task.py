"""Tasks: spawn, wait and the exit report, cancel, timeout, policies, Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT, Snapshot, eventually, process_alive


def started_pid(task: se.Task) -> int:
    """The pid of the task's first attempt, from its STARTED event."""
    reader = task.reader()
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        batch = reader.read(0.2)
        assert batch is not None, "task ended before it started"
        for ev in batch:
            if isinstance(ev, se.Started):
                return ev.pid
    raise AssertionError("no STARTED event")


def group_members(pgid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(entry))
    return out


def test_exit_report_success(runner: se.Runner, clean: Snapshot) -> None:
    with runner.task(se.Command("sh", "-c", "sleep 0.2; exit 0"), timeout=TASK_TIMEOUT) as task:
        before = datetime.now(timezone.utc)
        assert task.spawn() is task
        report = task.wait(TASK_TIMEOUT)
        assert task.done()
    assert report.outcome is se.Outcome.SUCCESS and report.success
    assert (report.attempt, report.exit_code, report.signal, report.returncode) == (1, 0, None, 0)
    assert report.reason == ""
    assert report.core_dumped is False
    assert report.started is not None and report.finished is not None
    assert before.timestamp() - 1 <= report.started.timestamp() <= report.finished.timestamp()
    assert 0.15 <= report.duration < TASK_TIMEOUT
    assert report.max_rss_kb > 0
    assert report.oom_kills is None or report.oom_kills >= 0
    assert report.user_cpu >= 0 and report.system_cpu >= 0


def test_exit_report_failure_and_cpu(runner: se.Runner) -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.2: pass\nraise SystemExit(3)"
    with runner.task(se.Command("python3", "-c", busy), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        report = task.wait(TASK_TIMEOUT)
    assert report.outcome is se.Outcome.FAILURE and not report.success
    assert report.exit_code == 3 and report.returncode == 3
    assert report.reason == "process exited with non-zero code: 3"
    assert report.user_us + report.system_us >= 150_000


def test_non_zero_is_success_when_asked(runner: se.Runner) -> None:
    with runner.task(se.Command("sh", "-c", "exit 5"), fail_on_non_zero=False, timeout=TASK_TIMEOUT) as task:
        task.spawn()
        report = task.wait(TASK_TIMEOUT)
    assert report.outcome is se.Outcome.SUCCESS and report.exit_code == 5


def test_killed_by_a_signal(runner: se.Runner) -> None:
    with runner.task(se.Command("sh", "-c", "kill -KILL $$"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        report = task.wait(TASK_TIMEOUT)
    assert report.outcome is se.Outcome.FAILURE
    assert report.signal == signal.SIGKILL and report.exit_code is None and report.returncode == -9
    assert report.reason == "process terminated by signal: SIGKILL"


def test_cancel_kills_the_whole_tree(runner: se.Runner, clean: Snapshot) -> None:
    with runner.task(se.Command("sh", "-c", "sleep 30 & sleep 30 & echo up; wait"), timeout=TASK_TIMEOUT) as task:
        lines = task.stdout_lines()
        task.spawn()
        assert next(lines) == "up"
        pid = started_pid(task)
        assert eventually(lambda: len(group_members(pid)) >= 3)
        task.cancel()
        task.cancel()  # idempotent
        report = task.wait(TASK_TIMEOUT)
        assert report.outcome is se.Outcome.CANCELED
        assert eventually(lambda: not group_members(pid))
        assert list(lines) == []


def test_cancel_before_spawn_and_after_end(runner: se.Runner) -> None:
    with runner.task(se.Command("true"), timeout=TASK_TIMEOUT) as task:
        task.cancel()
    with runner.task(se.Command("true"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        assert task.wait(TASK_TIMEOUT).success
        task.cancel()
        assert task.wait(TASK_TIMEOUT).success


def test_timeout_outcome(runner: se.Runner) -> None:
    with runner.task(se.Command("sleep", "30"), timeout=0.3) as task:
        t0 = time.monotonic()
        task.spawn()
        report = task.wait(TASK_TIMEOUT)
    assert report.outcome is se.Outcome.TIMEOUT
    assert "timed out after 300 ms" in report.reason
    assert time.monotonic() - t0 < 10


def test_kill_grace_sends_sigterm_first(runner: se.Runner) -> None:
    script = "trap 'echo got-term; exit 0' TERM; echo ready; while :; do sleep 0.05; done"
    with runner.task(se.Command("sh", "-c", script), kill_grace=10, timeout=TASK_TIMEOUT) as task:
        lines = task.stdout_lines()
        task.spawn()
        assert next(lines) == "ready"
        task.cancel()
        assert next(lines) == "got-term"
        assert task.wait(TASK_TIMEOUT).outcome is se.Outcome.CANCELED


def test_env_cwd_and_host_environment(runner: se.Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOLTI_PY_HOST", "from-host")  # read at spawn time
    script = 'echo "$SOLTI_PY_TASK $SOLTI_PY_HOST"; pwd'
    done = runner.run(se.Command("sh", "-c", script), env={"SOLTI_PY_TASK": "from-task"}, cwd=tmp_path, timeout=TASK_TIMEOUT)
    assert done.stdout_lines == ["from-task from-host", str(tmp_path)]
    assert done.returncode == 0


def test_stdin_is_null(runner: se.Runner) -> None:
    done = runner.run(se.Command("cat"), timeout=TASK_TIMEOUT)
    assert done.stdout == "" and done.report.success


def test_id_attempts_fd_repr(runner: se.Runner) -> None:
    with runner.task(se.Command("true"), slot="my.slot", timeout=TASK_TIMEOUT) as task:
        assert task.id.startswith(f"{runner.name}-my.slot-")
        assert task.id.rsplit("-", 1)[1].isdigit()
        assert task.attempts == 0
        fd = task.fd
        assert fd >= 0 and task.fd == fd
        assert task.runner is runner
        assert task.id in repr(task) and not task.closed
        task.spawn()
        task.wait(TASK_TIMEOUT)
        assert task.attempts == 1
    assert task.closed and "closed" in repr(task)
    other = runner.task(se.Command("true"), slot="my.slot", timeout=TASK_TIMEOUT)
    assert other.id != task.id  # same spec, two run ids
    other.close()


def test_restart_on_failure_with_max_retries(runner: se.Runner) -> None:
    with runner.task(
        se.Command("sh", "-c", "echo run; exit 1"),
        restart="on_failure",
        backoff=se.Backoff(first=0.01, max=0.02, jitter="none"),
        max_retries=2,
        timeout=TASK_TIMEOUT,
    ) as task:
        events = task.events()
        task.spawn()
        seen = list(events)
        report = task.wait(TASK_TIMEOUT)
        assert task.attempts == 3
    assert report.attempt == 3 and report.outcome is se.Outcome.FAILURE
    assert [e.attempt for e in seen if isinstance(e, se.Started)] == [1, 2, 3]
    assert [(ln.attempt, ln.seq, ln.text) for ln in seen if isinstance(ln, se.Line)] == [(1, 0, "run"), (2, 0, "run"), (3, 0, "run")]
    assert [e.outcome for e in seen if isinstance(e, se.Finished)] == [se.Outcome.FAILURE] * 3


def parent_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_lost_status_is_its_own_outcome_and_not_restarted(runner: se.Runner) -> None:
    """A shim killed from outside loses the target's status: LOST, not a
    FAILURE that on_failure would restart."""
    with runner.task(
        se.Command("sleep", "1"),
        restart="on_failure",
        backoff=se.Backoff(first=0.01, max=0.02, jitter="none"),
        max_retries=3,
        timeout=TASK_TIMEOUT,
    ) as task:
        task.spawn()
        pid = started_pid(task)
        shim = parent_pid(pid)
        assert shim != os.getpid()
        os.kill(shim, signal.SIGKILL)
        with pytest.raises(se.ChildLost) as info:
            task.wait(TASK_TIMEOUT)
        assert info.value.report.outcome is se.Outcome.LOST
        assert str(info.value.report.outcome) == "lost"
        time.sleep(0.2)
        assert task.attempts == 1


def test_restart_always_stops_on_cancel(runner: se.Runner) -> None:
    with runner.task(se.Command("true"), restart=se.Restart.always(interval=0.01), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        assert eventually(lambda: task.attempts >= 3)
        task.cancel()
        report = task.wait(TASK_TIMEOUT)
        n = task.attempts
        time.sleep(0.2)
        assert task.attempts == n
        assert report.outcome in (se.Outcome.CANCELED, se.Outcome.SUCCESS)


def test_admission_queue_and_replace(runner: se.Runner) -> None:
    with runner.task(se.Command("sh", "-c", "sleep 0.2; echo done"), admission="queue", timeout=TASK_TIMEOUT) as task:
        lines = task.lines()
        task.spawn()
        task.spawn()  # queued behind the first
        assert [(ln.attempt, ln.text) for ln in lines] == [(1, "done"), (2, "done")]
        assert task.wait(TASK_TIMEOUT).attempt == 2
    with runner.task(se.Command("sh", "-c", "echo start; sleep 30"), admission="replace", timeout=TASK_TIMEOUT) as task:
        events = task.events()
        task.spawn()
        assert next(ev for ev in events if isinstance(ev, se.Line)).attempt == 1
        task.spawn()  # cancels the first, starts a second
        finished = next(ev for ev in events if isinstance(ev, se.Finished))
        assert finished.attempt == 1 and finished.outcome is se.Outcome.CANCELED
        assert task.attempts == 2
        task.cancel()


def _interrupt_main_after(delay: float) -> threading.Timer:
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_wait_is_interruptible_by_ctrl_c(runner: se.Runner) -> None:
    with runner.task(se.Command("sleep", "30"), timeout=10) as task:
        task.spawn()
        timer = _interrupt_main_after(0.3)
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            task.wait()
        timer.join()
        assert time.monotonic() - t0 < 3
        task.cancel()


def test_lines_are_interruptible_by_ctrl_c(runner: se.Runner) -> None:
    with runner.task(se.Command("sleep", "30"), timeout=10) as task:
        task.spawn()
        timer = _interrupt_main_after(0.3)
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            for _ in task.lines():
                pass
        timer.join()
        assert time.monotonic() - t0 < 3


def test_wait_with_timeout_loops_until_done(runner: se.Runner) -> None:
    with runner.task(se.Command("sleep", "0.5"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        assert task.wait(5).success


def test_context_manager_kills_a_running_task(runner: se.Runner, clean: Snapshot) -> None:
    with runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        pid = started_pid(task)
        assert process_alive(pid)
    assert eventually(lambda: not process_alive(pid))
    with pytest.raises(se.BadHandle):
        task.wait(0)


def test_close_wakes_a_reader_in_another_thread(runner: se.Runner) -> None:
    task = runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT)
    task.spawn()
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(list(task.lines()))
        except se.BadHandle as e:
            outcome.append(e)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.3)
    task.close()
    reader.join(10)
    assert not reader.is_alive()
    assert outcome and (outcome[0] == [] or isinstance(outcome[0], se.BadHandle))


def test_long_run_id(lib) -> None:
    with se.Runner("r" * 64) as runner, runner.task(se.Command("true"), slot="s" * 64) as task:
        assert task.id.startswith("r" * 64 + "-" + "s" * 64 + "-") and len(task.id) > 128
