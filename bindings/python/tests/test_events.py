"""events(): every kind of event, in order, as typed values."""

from __future__ import annotations

from datetime import datetime

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT, process_alive


def test_event_sequence(runner: se.Runner) -> None:
    with runner.task(se.Command("sh", "-c", "echo one; echo two >&2; exit 2"), timeout=TASK_TIMEOUT) as task:
        events = task.events()
        task.spawn()
        got = list(events)
        report = task.wait(TASK_TIMEOUT)
    started, *lines, finished = got
    assert isinstance(started, se.Started) and started.attempt == 1 and started.pid > 0
    assert isinstance(started.time, datetime)
    assert sorted((ln.stream, ln.text) for ln in lines) == [(se.Stream.STDOUT, "one"), (se.Stream.STDERR, "two")]
    assert all(isinstance(ln, se.Line) for ln in lines)
    assert isinstance(finished, se.Finished)
    assert (finished.attempt, finished.outcome, finished.exit_code, finished.signal) == (1, se.Outcome.FAILURE, 2, None)
    assert finished.ts_ms >= started.ts_ms and finished.time >= started.time
    assert report.exit_code == finished.exit_code


def test_started_pid_is_the_child(runner: se.Runner) -> None:
    with runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT) as task:
        events = task.events()
        task.spawn()
        started = next(events)
        assert isinstance(started, se.Started) and process_alive(started.pid)
        task.cancel()
        finished = next(ev for ev in events if isinstance(ev, se.Finished))
        assert finished.outcome is se.Outcome.CANCELED and finished.signal == 9 and finished.exit_code is None


def test_warning_event_for_a_failed_start(runner: se.Runner) -> None:
    with runner.task(se.Command("solti-nosuch-binary"), timeout=TASK_TIMEOUT) as task:
        events = task.events()
        with pytest.raises(se.SpawnError):
            task.spawn()
        got = list(events)
    warnings = [ev for ev in got if isinstance(ev, se.WarningEvent)]
    assert warnings and "no such file or directory" in warnings[0].message
    assert warnings[0].attempt == 0
    assert not any(isinstance(ev, se.Started) for ev in got)


def test_event_kinds_and_values_are_typed() -> None:
    assert se.EventKind.LINE == 1 and se.EventKind.WARNING == 5
    assert str(se.Stream.STDERR) == "stderr" and str(se.Outcome.TIMEOUT) == "timeout"
    lag = se.Lagged(attempt=1, missed=3, ts_ms=0)
    assert lag.time.year == 1970
    with pytest.raises(Exception):
        lag.missed = 4  # type: ignore[misc]  # frozen
