"""Figure 3, Python: the binding's Task.stdout_lines() against
subprocess.Popen's line iteration, both over `seq 1 N` and both giving str
lines of stdout (Popen in text mode); and Task.lines(), which gives a Line
tuple (stream, text, attempt, seq, truncated, time) per line.  The task's output is "block" (lossless, like the pipe), so
both read every line, and the counts are checked.

    PYTHONPATH=bindings/python SOLTI_EXEC_LIBRARY=build/libsolti_exec.so.0 \\
        /usr/bin/python3 bench/py_lines.py [--lines 5000000] [--rounds 2]

Prints one RESULT line per figure (lines per second, the best round), like
the C programs.
"""

import argparse
import json
import subprocess
import time

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
    base, lib, texts = [], [], []
    for _ in range(args.rounds):  # alternated, so all see the same machine
        base.append(popen_lines(n))
        texts.append(binding_lines(runner, n, True))
        lib.append(binding_lines(runner, n, False))
    runner.close()
    result("py_popen", n / min(base), "lines/s", rounds=[round(n / s) for s in base])
    result("py_stdout_lines", n / min(texts), "lines/s", rounds=[round(n / s) for s in texts])
    result("py_lines", n / min(lib), "lines/s", rounds=[round(n / s) for s in lib])


if __name__ == "__main__":
    main()
