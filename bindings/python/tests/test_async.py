"""asyncio: ``async for`` over events and lines on the task's fd, no threads."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT

BOUND = 60.0  # no test waits longer than this


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, BOUND))


def test_aevents(runner: se.Runner) -> None:
    async def main() -> list[se.Event]:
        with runner.task(se.Command("sh", "-c", "echo a; sleep 0.1; echo b >&2"), timeout=TASK_TIMEOUT) as task:
            task.spawn()
            return [ev async for ev in task.aevents()]

    got = run(main())
    assert isinstance(got[0], se.Started) and isinstance(got[-1], se.Finished)
    assert [(ev.stream, ev.text) for ev in got if isinstance(ev, se.Line)] == [
        (se.Stream.STDOUT, "a"),
        (se.Stream.STDERR, "b"),
    ]


TICKER = "for i in $(seq 1 20); do echo {name}$i; sleep 0.04; done"


def test_two_tasks_stream_concurrently_without_threads(runner: se.Runner, record_property) -> None:
    samples: list[tuple[int, int]] = []
    arrivals: list[tuple[str, str, float]] = []

    async def consume(task: se.Task, name: str) -> list[str]:
        texts = []
        async for line in task.alines():
            texts.append(line.text)
            arrivals.append((name, line.text, time.monotonic()))
            samples.append((threading.active_count(), os_threads()))
        return texts

    async def main() -> tuple[list[str], list[str], int, int]:
        loop = asyncio.get_running_loop()
        a = runner.task(se.Command("sh", "-c", TICKER.format(name="a")), timeout=TASK_TIMEOUT)
        b = runner.task(se.Command("sh", "-c", TICKER.format(name="b")), timeout=TASK_TIMEOUT)
        with a, b:
            py_before, os_before = threading.active_count(), os_threads()
            a.spawn()
            b.spawn()
            got_a, got_b = await asyncio.gather(consume(a, "a"), consume(b, "b"))
            assert a.wait(TASK_TIMEOUT).success and b.wait(TASK_TIMEOUT).success
        assert getattr(loop, "_default_executor", None) is None  # no executor threads either
        return got_a, got_b, py_before, os_before

    got_a, got_b, py_before, os_before = run(main())
    assert got_a == [f"a{i}" for i in range(1, 21)]
    assert got_b == [f"b{i}" for i in range(1, 21)]
    # Concurrent, not one after the other: lines of b came before a ended.
    last_a = max(t for name, _, t in arrivals if name == "a")
    first_b = min(t for name, _, t in arrivals if name == "b")
    assert first_b < last_a
    names = [name for name, _, _ in arrivals]
    assert names != sorted(names)
    # No Python thread was started for the streaming.
    assert {py for py, _ in samples} == {py_before}
    assert threading.active_count() == py_before
    # OS threads belong to the library's Go runtime; reported, not asserted.
    os_during = max(o for _, o in samples)
    record_property("os_threads_before", os_before)
    record_property("os_threads_during_max", os_during)
    print(f"OS threads: {os_before} before streaming, at most {os_during} during (Go runtime)")


def test_alines_filters_and_lag(lib) -> None:
    async def main() -> tuple[list[str], list[se.Line]]:
        with se.Runner("async-lag", output=se.Output(capacity=8)) as runner:
            with runner.task(se.Command("sh", "-c", "seq 1 100; sleep 0.1; echo err >&2"), timeout=TASK_TIMEOUT) as task:
                task.spawn()
                task.wait(TASK_TIMEOUT)
                errs = [ln.text async for ln in task.alines("stderr", on_lag="ignore")]
                with pytest.warns(se.OutputLagged):
                    lines = [ln async for ln in task.alines()]
                with pytest.raises(se.OutputLagged):
                    async for _ in task.alines(on_lag="raise"):
                        pass
                return errs, lines

    errs, lines = run(main())
    assert errs == ["err"]
    assert 0 < len(lines) < 101


def test_two_async_readers_of_one_task(runner: se.Runner) -> None:
    async def read(task: se.Task) -> list[str]:
        return [ln.text async for ln in task.alines()]

    async def main() -> list[list[str]]:
        with runner.task(se.Command("sh", "-c", "for i in 1 2 3 4 5; do echo $i; sleep 0.05; done"), timeout=TASK_TIMEOUT) as task:
            readers = [asyncio.ensure_future(read(task)) for _ in range(2)]
            await asyncio.sleep(0.05)
            task.spawn()
            return list(await asyncio.gather(*readers))

    assert run(main()) == [["1", "2", "3", "4", "5"]] * 2


def test_cancelling_the_consumer_stops_watching_the_fd(runner: se.Runner) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        with runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT) as task:
            task.spawn()

            async def consume() -> None:
                async for _ in task.aevents():
                    pass

            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(consume(), 0.3)
            selector = loop._selector  # type: ignore[attr-defined]
            assert task.fd not in selector.get_map()

    run(main())


def test_close_while_awaiting(runner: se.Runner) -> None:
    async def main() -> object:
        task = runner.task(se.Command("sleep", "30"), timeout=TASK_TIMEOUT)
        task.spawn()

        async def consume() -> object:
            try:
                return [ev async for ev in task.aevents()]
            except se.BadHandle as e:
                return e

        consumer = asyncio.ensure_future(consume())
        await asyncio.sleep(0.2)
        task.close()
        return await asyncio.wait_for(consumer, 10)

    result = run(main())
    assert isinstance(result, (list, se.BadHandle))


def test_achunks_and_aread_byte_exact(runner: se.Runner, tmp_path) -> None:
    # The asyncio bytes readers give exactly what the child wrote, with no
    # thread, for two tasks read at once in one loop.
    blob = os.urandom(3 << 20) + b"\r\n\xff no newline"
    path = tmp_path / "blob"
    path.write_bytes(blob)
    block = se.Output(mode="bytes", when_full="block")

    async def main() -> tuple[bytes, bytes, bytes]:
        with runner.task(se.Command("cat", str(path)), output=block, timeout=TASK_TIMEOUT) as a, \
                runner.task(se.Command("sh", "-c", f"cat {path} >&2; printf out"), output=block, timeout=TASK_TIMEOUT) as b:
            a.spawn()
            b.spawn()
            py_threads = threading.active_count()

            async def chunks_of(task: se.Task) -> dict[se.Stream, bytes]:
                got: dict[se.Stream, list[bytes]] = {se.Stream.STDOUT: [], se.Stream.STDERR: []}
                async for stream, data in task.achunks():
                    got[stream].append(data)
                return {s: b"".join(parts) for s, parts in got.items()}

            whole, parts = await asyncio.gather(a.aread(), chunks_of(b))
            # No Python thread for the reading (OS threads belong to the Go
            # runtime, which may add one at any time: not counted).
            assert threading.active_count() == py_threads
            return whole, parts[se.Stream.STDERR], parts[se.Stream.STDOUT]

    whole, err, out = run(main())
    assert whole == blob
    assert err == blob and out == b"out"
