"""Reading lines: order, streams, framing, a million lines, lag, several readers."""

from __future__ import annotations

import pickle
import threading
import time
import warnings

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT, Snapshot


def test_lines_in_order(runner: se.Runner, clean: Snapshot) -> None:
    with runner.task(se.Command("seq", "1", "500"), timeout=TASK_TIMEOUT) as task:
        lines = task.lines()  # a reader made before the spawn sees everything
        task.spawn()
        got = list(lines)
        assert task.wait(TASK_TIMEOUT).success
    assert [ln.text for ln in got] == [str(i) for i in range(1, 501)]
    assert [ln.seq for ln in got] == list(range(500))
    assert {(ln.stream, ln.attempt, ln.truncated) for ln in got} == {(se.Stream.STDOUT, 1, False)}
    first = got[0]
    assert str(first) == "1" and first.ts_ms > 0 and first.time.year >= 2024
    stream, text, *_ = first
    assert (stream, text) == (se.Stream.STDOUT, "1")


SPLIT = "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done"


def test_stderr_is_separated(runner: se.Runner) -> None:
    with runner.task(se.Command("sh", "-c", SPLIT), timeout=TASK_TIMEOUT) as task:
        both = task.lines()
        only_err = task.lines("stderr")
        only_out = task.lines(se.Stream.STDOUT)
        out_texts = task.stdout_lines()
        err_texts = task.stderr_lines()
        task.spawn()
        got = list(both)
        assert [ln.text for ln in got if ln.stream is se.Stream.STDOUT] == [f"out{i}" for i in range(1, 6)]
        assert [ln.text for ln in got if ln.stream is se.Stream.STDERR] == [f"err{i}" for i in range(1, 6)]
        assert [ln.seq for ln in got if ln.stream is se.Stream.STDERR] == list(range(5))
        assert [ln.text for ln in only_err] == [f"err{i}" for i in range(1, 6)]
        assert {ln.stream for ln in only_out} == {se.Stream.STDOUT}
        assert list(out_texts) == [f"out{i}" for i in range(1, 6)]
        assert list(err_texts) == [f"err{i}" for i in range(1, 6)]


def test_framing(runner: se.Runner) -> None:
    body = "printf 'a\\n\\nb\\r\\nc\\rd\\n'; printf 'h\\303\\251llo w\\303\\266rld \\346\\227\\245\\n'; printf 'bad \\377 byte\\n'; printf 'no newline'"
    with runner.task(se.Command("sh", "-c", body), timeout=TASK_TIMEOUT) as task:
        lines = task.stdout_lines()
        task.spawn()
        assert list(lines) == ["a", "", "b", "c\rd", "héllo wörld 日", "bad \ufffd byte", "no newline"]


def test_long_line_is_cut_and_the_next_kept(runner: se.Runner) -> None:
    script = "import sys; sys.stdout.write('x' * 200000 + '\\nafter\\n')"
    with runner.task(se.Command("python3", "-c", script), timeout=TASK_TIMEOUT) as task:
        lines = task.lines()
        task.spawn()
        got = list(lines)
    assert got[0].truncated and got[0].text.startswith("x" * 4096) and "truncated" in got[0].text
    assert (got[1].text, got[1].truncated) == ("after", False)


def test_a_million_lines_read_completely(lossless: se.Runner, clean: Snapshot) -> None:
    total = 1_000_000
    with lossless.task(se.Command("seq", "1", str(total)), timeout=TASK_TIMEOUT) as task:
        lines = task.lines()
        task.spawn()
        count = 0
        for count, line in enumerate(lines, 1):
            if line.seq != count - 1:
                pytest.fail(f"line {count} has seq {line.seq}")
        assert count == total
        assert line.text == str(total)
        assert task.wait(TASK_TIMEOUT).success
        # A late reader gets the ring's recent past only, and says so.
        with pytest.warns(se.OutputLagged):
            assert 0 < sum(1 for _ in task.stdout_lines()) < total


def test_a_million_lines_as_text(lossless: se.Runner) -> None:
    total = 1_000_000
    with lossless.task(se.Command("seq", "1", str(total)), timeout=TASK_TIMEOUT) as task:
        texts = task.stdout_lines()
        task.spawn()
        expected = 1
        for text in texts:
            if text != str(expected):
                pytest.fail(f"line {expected} is {text!r}")
            expected += 1
        assert expected - 1 == total


def _overflowed_task(runner: se.Runner) -> se.Task:
    """A task whose 16-event ring overflowed before anyone read it."""
    task = runner.task(se.Command("seq", "1", "5000"), timeout=TASK_TIMEOUT)
    task.spawn()
    task.wait(TASK_TIMEOUT)
    return task


@pytest.fixture
def small_ring(lib) -> se.Runner:
    runner = se.Runner("small-ring", output=se.Output(capacity=16, when_full="dropOldest"))
    yield runner
    runner.close()


def test_lagged_events_surface(small_ring: se.Runner) -> None:
    with _overflowed_task(small_ring) as task:
        events = list(task.events())
        lagged = events[0]
        assert isinstance(lagged, se.Lagged)
        assert lagged.missed > 0 and lagged.attempt == 1
        assert lagged.missed + len(events) - 1 == 5002  # STARTED + 5000 lines + FINISHED
        assert isinstance(events[-1], se.Finished)
        lines = [ev for ev in events if isinstance(ev, se.Line)]
        assert lines[-1].text == "5000"
        assert lines[0].seq == 5000 - len(lines)


def test_lagged_in_lines(small_ring: se.Runner) -> None:
    with _overflowed_task(small_ring) as task:
        with pytest.warns(se.OutputLagged, match="missed") as caught:
            got = list(task.lines())
        assert caught[0].message.missed > 0 and got[-1].text == "5000"
        with pytest.raises(se.OutputLagged) as info:
            list(task.stdout_lines(on_lag="raise"))
        assert info.value.missed > 0 and task.id in str(info.value)
        copy = pickle.loads(pickle.dumps(info.value))
        assert (copy.missed, copy.task_id) == (info.value.missed, task.id)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert list(task.stdout_lines(on_lag="ignore"))[-1] == "5000"
        with pytest.raises(ValueError, match="on_lag"):
            task.lines(on_lag="shout")  # type: ignore[arg-type]


def test_reader_counts_what_it_missed(small_ring: se.Runner) -> None:
    with _overflowed_task(small_ring) as task:
        reader = task.reader()
        batches = list(iter(lambda: reader.read(1), None))
        assert reader.missed > 0 and reader.eof
        assert sum(len(b) for b in batches) + reader.missed == 5002 + 1  # + the LAGGED event itself


def test_readers_are_independent(lib) -> None:
    # A ring big enough for everything: in "block" mode only the furthest
    # reader is waited for, so slower ones could lag. 20,000 events of
    # 80 bytes of overhead plus their text need about 1.5 MiB.
    output = se.Output(capacity=30000, max_bytes=4 << 20, when_full="block")
    with se.Runner("readers", output=output) as runner, runner.task(se.Command("seq", "1", "20000"), timeout=TASK_TIMEOUT) as task:
        results: list[list[str]] = [[], [], []]

        def read(i: int) -> None:
            results[i] = list(task.stdout_lines())

        threads = [threading.Thread(target=read, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        task.spawn()
        for t in threads:
            t.join(TASK_TIMEOUT)
        expected = [str(i) for i in range(1, 20001)]
        assert results == [expected, expected, expected]


def test_late_reader_sees_the_ring(runner: se.Runner) -> None:
    with runner.task(se.Command("seq", "1", "10"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        task.wait(TASK_TIMEOUT)
        assert list(task.stdout_lines()) == [str(i) for i in range(1, 11)]
        assert list(task.stdout_lines()) == [str(i) for i in range(1, 11)]


def test_reader_read_timeouts(runner: se.Runner) -> None:
    with runner.task(se.Command("sh", "-c", "sleep 0.3; echo late"), timeout=TASK_TIMEOUT) as task:
        reader = task.reader(max_events=4)
        assert reader.read(0) == []  # nothing yet, not spawned
        task.spawn()
        events: list[se.Event] = []
        while (batch := reader.read(0.05)) is not None:
            events += batch
        assert [type(e) for e in events] == [se.Started, se.Line, se.Finished]
        assert reader.read(0) is None and reader.read(None) is None
        assert reader.cursor > 0
        with pytest.raises(ValueError):
            task.reader(max_events=0)


def test_lines_longer_than_the_format_table(lib) -> None:
    with se.Runner("long-lines", log={"max_line_length": 100000}) as runner:
        script = "import sys; sys.stdout.write('y' * 20000 + '\\nnext\\n' + 'z' * 9000 + '\\n')"
        done = runner.run(se.Command("python3", "-c", script), timeout=TASK_TIMEOUT)
    assert done.stdout_lines == ["y" * 20000, "next", "z" * 9000]


def test_one_lag_warning_per_reader_with_the_total(lib) -> None:
    # A reader that keeps falling behind a small ring loses lines many
    # times; it is told once, at the end, with the total, and lines read +
    # lines lost is every line printed.
    output = se.Output(capacity=64, when_full="dropOldest")
    with se.Runner("lag-total", output=output) as runner, runner.task(se.Command("seq", "1", "200000"), timeout=TASK_TIMEOUT) as task:
        task.spawn()
        got = got_bytes = 0
        with pytest.warns(se.OutputLagged) as caught:
            for i, text in enumerate(task.stdout_lines()):
                got += 1
                got_bytes += len(text) + 1
                if i % 50 == 0:
                    time.sleep(0.0005)
        lagged = [w for w in caught if isinstance(w.message, se.OutputLagged)]
        assert len(lagged) == 1, [str(w.message) for w in lagged]
        assert lagged[0].filename == __file__
        # In both units: lines, and bytes (seq 1 200000 prints 1,288,895).
        assert got + lagged[0].message.missed == 200000
        assert got_bytes + lagged[0].message.lost_bytes == sum(len(str(i)) + 1 for i in range(1, 200001))


def _record(lines: list[str], seq: int, flags: int = 0) -> bytes:
    """One solti_task_read_lines record, laid out as the header documents."""
    import struct

    text = "".join(line + "\n" for line in lines).encode()
    head = struct.pack("=IIQqIIQ", 1, 2, seq, 1234, len(lines), flags, len(text))
    return head + text + b"\0" * (-len(text) % 8)


def test_big_records_are_split_at_line_ends() -> None:
    """A record (a pipe read, up to 1 MiB) is decoded in pieces of about
    PIECE_BYTES that end at line ends: every line comes out whole, in order,
    numbered on, whatever the line lengths."""
    from solti_exec import _lines

    piece = _lines.PIECE_BYTES
    lines = ["", "a", "é" * 3000, "x" * (piece + 5), "", ""]
    lines += [str(i) for i in range(100_000)] + ["y" * (3 * piece), "end", ""]
    data = _record(lines, 40) + _record(["next", ""], 40 + len(lines), 1)
    texts = [t for part in _lines.texts(data) for t in part]
    assert texts == lines + ["next", ""]
    # Batches are decoded from a view of the reader's buffer, the same way.
    assert [t for part in _lines.texts(memoryview(data)) for t in part] == texts
    assert [t for part in _lines.texts(_record(["a", "b"], 0)) for t in part] == ["a", "b"]
    got = [ln for part in _lines.lines(data) for ln in part]
    assert [ln.text for ln in got] == texts
    assert [ln.seq for ln in got] == list(range(40, 40 + len(texts)))
    assert {(ln.stream, ln.attempt, ln.ts_ms) for ln in got} == {(se.Stream.STDOUT, 2, 1234)}
    assert [ln.truncated for ln in got[-2:]] == [True, True] and not any(ln.truncated for ln in got[:-2])
    assert len(list(_lines.texts(_record(lines, 0)))) > 10, "a big record is decoded in pieces"
