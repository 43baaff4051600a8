"""Figure 3, Python: the binding's Task.stdout_lines() against
subprocess.Popen's line iteration, both over `seq 1 N` and both giving str
lines of stdout (Popen in text mode); and Task.lines(), which gives a Line
tuple (stream, text, attempt, seq, truncated, time) per line.  The task's
output is "block" (lossless, like the pipe), so both read every line, and
the counts are checked.

Three ceilings are measured beside them, in the same rounds: the same
lines made from `seq`'s output already in memory, with no pipe and no
library, in 16 KiB pieces (pieces of 4 to 64 KiB measured alike), each
decoded and split by str.split as the binding does, and iterated by the
same loop.  One yields str; one yields Line tuples made as lines() makes
them; one yields the same six fields as plain tuples from zip, the
cheapest six-field item CPython builds (C code, the tuple free list), so
what a Line-per-line iterator could reach with any Line class, or with a
C extension making tuples.  They are what any binding could reach on this
interpreter: the objects a line, and the loop.

    PYTHONPATH=bindings/python SOLTI_EXEC_LIBRARY=build/libsolti_exec.so.0 \\
        /usr/bin/python3 bench/py_lines.py [--lines 5000000] [--rounds 2]

Prints one RESULT line per figure (lines per second, the best round), like
the C programs.
"""

import argparse
import json
import subprocess
import time
from itertools import repeat

import solti_exec


def popen_lines(n: int) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(["seq", "1", str(n)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    count = 0
    for _ in proc.stdout:
        count += 1
    proc.wait()
    secs = time.perf_counter() - t0
    if count != n:
        raise SystemExit(f"popen: {count} lines of {n}")
    return secs


def binding_lines(runner: solti_exec.Runner, n: int, texts: bool) -> float:
    t0 = time.perf_counter()
    with runner.task(solti_exec.Command("seq", "1", str(n)), timeout=600) as task:
        task.spawn()
        count = 0
        for _ in task.stdout_lines() if texts else task.lines():
            count += 1
        report = task.wait()
    secs = time.perf_counter() - t0
    if count != n or report.exit_code != 0:
        raise SystemExit(f"lines(): {count} lines of {n}, exit {report.exit_code}")
    return secs


def pieces_of(n: int, size: int = 16 << 10) -> list[bytes]:
    """seq's output in pieces of about size bytes, each ending at a line
    end (newline dropped), as a lines record holds them."""
    data = subprocess.run(["seq", "1", str(n)], stdout=subprocess.PIPE, check=True).stdout
    out, off = [], 0
    while off < len(data):
        end = data.rfind(b"\n", off, off + size)
        if end < 0:
            end = data.index(b"\n", off)
        out.append(data[off:end])
        off = end + 1
    return out


def ceiling_texts(pieces: list[bytes], n: int) -> float:
    t0 = time.perf_counter()
    count = 0
    for piece in pieces:
        for _ in piece.decode("utf-8", "replace").split("\n"):
            count += 1
    secs = time.perf_counter() - t0
    if count != n:
        raise SystemExit(f"ceiling: {count} lines of {n}")
    return secs


def ceiling_items(pieces: list[bytes], n: int, line_class: type | None) -> float:
    """Six fields a line from memory: Line tuples made as lines() makes
    them (tuple.__new__ on line_class), or plain tuples from zip (None)."""
    new, stdout = tuple.__new__, solti_exec.Stream.STDOUT
    t0 = time.perf_counter()
    count = seq = 0
    for piece in pieces:
        text = piece.decode("utf-8", "replace").split("\n")
        k = len(text)
        items = zip(repeat(stdout), text, repeat(1), range(seq, seq + k), repeat(False), repeat(0))
        if line_class is not None:
            items = map(new, repeat(line_class, k), items)
        for _ in items:
            count += 1
        seq += k
    secs = time.perf_counter() - t0
    if count != n:
        raise SystemExit(f"ceiling: {count} items of {n}")
    return secs


def result(name: str, value: float, unit: str, **extra: object) -> None:
    print("RESULT " + json.dumps({"name": name, "value": value, "unit": unit, **extra}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    n = args.lines
    # A ring of 65536 lines: how far the child may run ahead of the reader,
    # as the pipe's buffer does for Popen.
    output = solti_exec.Output(when_full="block", capacity=65536, max_bytes=64 << 20)
    runner = solti_exec.Runner("bench", output=output)
    pieces = pieces_of(n)
    base, lib, texts, ceil_t, ceil_l, ceil_z = [], [], [], [], [], []
    for _ in range(args.rounds):  # alternated, so all see the same machine
        base.append(popen_lines(n))
        texts.append(binding_lines(runner, n, True))
        lib.append(binding_lines(runner, n, False))
        ceil_t.append(ceiling_texts(pieces, n))
        ceil_l.append(ceiling_items(pieces, n, solti_exec.Line))
        ceil_z.append(ceiling_items(pieces, n, None))
    runner.close()
    result("py_popen", n / min(base), "lines/s", rounds=[round(n / s) for s in base])
    result("py_stdout_lines", n / min(texts), "lines/s", rounds=[round(n / s) for s in texts])
    result("py_lines", n / min(lib), "lines/s", rounds=[round(n / s) for s in lib])
    result("py_ceiling_texts", n / min(ceil_t), "lines/s", rounds=[round(n / s) for s in ceil_t])
    result("py_ceiling_lines", n / min(ceil_l), "lines/s", rounds=[round(n / s) for s in ceil_l])
    result("py_ceiling_tuples", n / min(ceil_z), "lines/s", rounds=[round(n / s) for s in ceil_z])


if __name__ == "__main__":
    main()
