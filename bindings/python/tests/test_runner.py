"""Runners: configuration in force, metrics, run(), closing."""

from __future__ import annotations

import time

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT, Snapshot, eventually, process_alive
from .test_task import started_pid


def test_runner_config_reaches_the_child(lib) -> None:
    with se.Runner(
        "configured",
        env={"SOLTI_PY_RUNNER": "runner", "SOLTI_PY_BOTH": "runner-wins"},
        rlimits={"max_open_files": 64},
        security={"no_new_privs": True},
    ) as runner:
        done = runner.run(
            se.Command("sh", "-c", 'echo "$SOLTI_PY_RUNNER $SOLTI_PY_BOTH"; ulimit -n; grep NoNewPrivs /proc/self/status'),
            env={"SOLTI_PY_BOTH": "task"},
            timeout=TASK_TIMEOUT,
        )
    assert done.stdout_lines[0] == "runner runner-wins"
    assert done.stdout_lines[1] == "64"
    assert done.stdout_lines[2].split() == ["NoNewPrivs:", "1"]


def test_log_limits_truncate_lines(lib) -> None:
    with se.Runner("short-lines", log={"max_line_length": 10}) as runner, runner.task(
        se.Command("sh", "-c", "echo 0123456789abcdef; echo short"), timeout=TASK_TIMEOUT
    ) as task:
        lines = task.lines()
        task.spawn()
        got = list(lines)
    assert got[0].truncated and got[0].text == "0123456789... (truncated 6 bytes)"
    assert not got[1].truncated and got[1].text == "short"


def test_drain_grace_bounds_a_grandchild_holding_the_pipe(lib) -> None:
    with se.Runner("grace", drain_grace_ms=200) as runner, runner.task(
        se.Command("sh", "-c", "sleep 30 & echo leader-done"), timeout=TASK_TIMEOUT
    ) as task:
        t0 = time.monotonic()
        lines = task.stdout_lines()
        task.spawn()
        assert list(lines) == ["leader-done"]
        assert task.wait(TASK_TIMEOUT).success
        assert time.monotonic() - t0 < 10


def test_metrics(runner: se.Runner) -> None:
    runner.run(se.Command("true"), timeout=TASK_TIMEOUT)
    runner.run(se.Command("false"), timeout=TASK_TIMEOUT)
    data = runner.metrics()
    assert data["runner"] == runner.name
    assert data["tasksStarted"] == 2
    assert data["tasksCompleted"] == {"success": 1, "failure": 1}
    text = runner.metrics("prometheus")
    assert f'solti_runner_tasks_started_total{{runner="{runner.name}"}} 2' in text
    assert "solti_runner_task_duration_seconds" in text
    with pytest.raises(ValueError, match="format"):
        runner.metrics("xml")  # type: ignore[arg-type]


def test_run_collects_output(runner: se.Runner, clean: Snapshot) -> None:
    done = runner.run(se.Script("for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 4"), timeout=TASK_TIMEOUT)
    assert done.stdout == "out1\nout2\nout3\n" and done.stdout_lines == ["out1", "out2", "out3"]
    assert done.stderr == "err1\nerr2\nerr3\n" and done.stderr_lines == ["err1", "err2", "err3"]
    assert done.returncode == 4 and done.report.outcome is se.Outcome.FAILURE
    assert done.id.startswith(f"{runner.name}-script-")
    with pytest.raises(se.SpawnError):
        runner.run(se.Command("solti-nosuch-binary"), timeout=TASK_TIMEOUT)


def test_run_is_lossless(runner: se.Runner) -> None:
    done = runner.run(se.Command("seq", "1", "20000"), timeout=TASK_TIMEOUT)
    assert len(done.stdout_lines) == 20000 and done.stdout_lines[-1] == "20000"


def test_close_kills_and_frees_its_tasks(lib, clean: Snapshot) -> None:
    with se.Runner("closing") as runner:
        tasks = [runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT) for _ in range(3)]
        for task in tasks:
            task.spawn()
        pids = [started_pid(task) for task in tasks]
        assert all(process_alive(pid) for pid in pids)
        assert repr(runner) == f"<solti_exec.Runner 'closing' handle={runner.handle}>"
    assert runner.closed and "closed" in repr(runner)
    assert eventually(lambda: not any(process_alive(pid) for pid in pids))
    for task in tasks:
        with pytest.raises(se.BadHandle):
            task.spawn()
        task.close()
    runner.close()  # twice is harmless


def test_runner_from_a_whole_config(lib) -> None:
    with se.Runner("from-config", config='{"env": [{"key": "SOLTI_PY_C", "value": "c"}]}') as runner:
        assert runner.run(se.Command("printenv", "SOLTI_PY_C"), timeout=TASK_TIMEOUT).stdout == "c\n"
        assert runner.config == {"env": [{"key": "SOLTI_PY_C", "value": "c"}]}
        assert runner.library is se.load_library()


def test_run_check_raises_with_the_output(runner: se.Runner) -> None:
    import pickle
    import subprocess

    with pytest.raises(subprocess.CalledProcessError) as info:
        runner.run(se.Command("sh", "-c", "echo out; echo err >&2; exit 3"), check=True, timeout=60)
    e = info.value
    assert isinstance(e, se.CalledProcessError)
    assert (e.returncode, e.cmd, e.output, e.stdout, e.stderr) == (3, ["sh", "-c", "echo out; echo err >&2; exit 3"], "out\n", "out\n", "err\n")
    assert e.report.exit_code == 3 and e.id.startswith(runner.name)
    assert "process exited with non-zero code: 3" in str(e)
    assert pickle.loads(pickle.dumps(e)).returncode == 3
    # A success raises nothing; without check a failure is returned.
    assert runner.run(se.Command("true"), check=True, timeout=60).returncode == 0
    assert runner.run(se.Command("false"), timeout=60).returncode == 1


def test_run_check_on_a_signal(runner: se.Runner) -> None:
    with pytest.raises(se.CalledProcessError) as info:
        runner.run(se.Command("sh", "-c", "kill -TERM $$"), check=True, timeout=60)
    assert info.value.returncode == -15
