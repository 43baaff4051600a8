"""Nothing is left behind: dropped tasks and runners, closing, interpreter exit."""

from __future__ import annotations

import gc
import os
import weakref
from pathlib import Path

import solti_exec as se

from .conftest import TASK_TIMEOUT, Snapshot, eventually, open_fds, process_alive, run_python
from .test_task import started_pid


# The script-file tests ask for files: by default a body is in a memfd,
# which the kernel frees with its last descriptor (test_isolation.py).
FILES = {"scriptStorage": "file"}


def script_of(pid: int) -> Path:
    """The script file a running `bash <script>` child was given."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return Path(os.fsdecode(argv[1]))


def test_dropped_task_leaves_nothing(lib, clean: Snapshot) -> None:
    runner = se.Runner("dropped-task", config=FILES)
    task = runner.task(se.Script("sleep 30"), timeout=TASK_TIMEOUT)
    task.spawn()
    pid = started_pid(task)
    fd = task.fd
    script = script_of(pid)
    assert script.is_file()
    assert process_alive(pid) and fd in open_fds()
    gone = weakref.ref(task)
    del task
    gc.collect()
    assert gone() is None
    assert eventually(lambda: not process_alive(pid))
    assert eventually(lambda: not script.exists())
    assert eventually(lambda: fd not in open_fds())
    runner.close()
    # and `clean` checks every descriptor, child and script file


def test_dropped_task_in_a_cycle(runner: se.Runner, clean: Snapshot) -> None:
    task = runner.task(se.Script("sleep 30"), timeout=TASK_TIMEOUT)
    task.spawn()
    pid = started_pid(task)
    task.cycle = task  # type: ignore[attr-defined]
    del task
    gc.collect()
    assert eventually(lambda: not process_alive(pid))


def test_dropped_iterator_and_task(runner: se.Runner, clean: Snapshot) -> None:
    task = runner.task(se.Command("sh", "-c", "sleep 0.3; seq 1 100000; sleep 30"), timeout=TASK_TIMEOUT)
    lines = task.lines(on_lag="ignore")
    task.spawn()
    pid = started_pid(task)  # read before the flood pushes it out of the ring
    assert next(lines).stream is se.Stream.STDOUT
    del task  # the iterator still holds it
    gc.collect()
    assert process_alive(pid)
    del lines
    gc.collect()
    assert eventually(lambda: not process_alive(pid))


def test_script_file_lives_as_long_as_the_task(lib, clean: Snapshot) -> None:
    runner = se.Runner("script-file", config=FILES)
    task = runner.task(se.Script('echo "$0"'), timeout=TASK_TIMEOUT)
    lines = task.stdout_lines()
    task.spawn()
    script = Path(next(lines))
    assert task.wait(TASK_TIMEOUT).success
    assert script.is_file() and oct(script.stat().st_mode & 0o777) == "0o600"  # kept until freed
    del task, lines
    gc.collect()
    assert eventually(lambda: not script.exists())
    assert not script.parent.exists()  # its private directory too
    runner.close()


def test_dropped_runner_and_tasks(lib, clean: Snapshot) -> None:
    runner = se.Runner("dropped")
    tasks = [runner.task(se.Script("sleep 30"), timeout=TASK_TIMEOUT) for _ in range(3)]
    for t in tasks:
        t.spawn()
    pids = [started_pid(t) for t in tasks]
    del runner, tasks, t
    gc.collect()
    assert eventually(lambda: not any(process_alive(p) for p in pids))


def test_closed_runner_then_dropped_tasks(lib, clean: Snapshot) -> None:
    runner = se.Runner("closed-first")
    task = runner.task(se.Script("sleep 30"), timeout=TASK_TIMEOUT)
    task.spawn()
    runner.close()
    del task  # its finalizer meets a freed handle: silently fine
    gc.collect()


def test_interpreter_exit_frees_tasks(lib) -> None:
    code = (
        "import solti_exec as s, time\n"
        "r = s.Runner('exiting', config={'scriptStorage': 'file'})\n"
        "t = r.task(s.Script('sleep 30'), timeout=60)\n"
        "ev = t.events(); t.spawn()\n"
        "pid = next(ev).pid\n"
        "print(pid, open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')[1].decode(), flush=True)\n"
    )
    res = run_python(code)
    assert res.returncode == 0, res.stderr
    pid_text, script = res.stdout.split()
    assert eventually(lambda: not process_alive(int(pid_text)))
    assert eventually(lambda: not Path(script).exists())
