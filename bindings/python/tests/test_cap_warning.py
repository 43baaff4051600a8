"""security.failOnCapError false: a capability drop the host cannot do is a
WARNING event before the task runs, never a silent full bounding set."""

from __future__ import annotations

import pytest

import solti_exec as se

CAP_SETPCAP = 8


def _has_setpcap() -> bool:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_SETPCAP & 1)
    return False


def test_undroppable_caps_are_a_warning(lib) -> None:
    if _has_setpcap():
        pytest.skip("the host holds CAP_SETPCAP, so the drop succeeds and no warning is due (runs as non-root)")
    with se.Runner("capwarn", security={"dropAllCaps": True, "failOnCapError": False}) as runner:
        with runner.build({"slot": "w", "timeout": 5000,
                           "kind": {"subprocess": {"mode": {"command": {"command": "true"}}}}}) as task:
            task.spawn()
            events = list(task.events())
            report = task.wait()
    assert report.outcome == se.Outcome.SUCCESS
    warnings = [e for e in events if isinstance(e, se.WarningEvent)]
    assert warnings, f"no WARNING event among {events!r}"
    assert "cap" in warnings[0].message.lower()
    first_started = next(i for i, e in enumerate(events) if isinstance(e, se.Started))
    assert events.index(warnings[0]) < first_started, "the warning comes before STARTED"
