"""Figure 3, Python: the binding's Task.lines() against subprocess.Popen's
line iteration, both over `seq 1 N` and both giving str lines (Popen in
text mode).  The task's output is "block" (lossless, like the pipe), so
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


def binding_lines(runner: solti_exec.Runner, n: int) -> float:
    t0 = time.perf_counter()
    with runner.task(solti_exec.Command("seq", "1", str(n)), timeout=600) as task:
        task.spawn()
        count = 0
        for _ in task.lines():
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
    runner = solti_exec.Runner("bench", output=solti_exec.Output(when_full="block"))
    base, lib = [], []
    for _ in range(args.rounds):  # alternated, so both see the same machine
        base.append(popen_lines(n))
        lib.append(binding_lines(runner, n))
    runner.close()
    result("py_popen", n / min(base), "lines/s", rounds=[round(n / s) for s in base])
    result("py_lines", n / min(lib), "lines/s", rounds=[round(n / s) for s in lib])


if __name__ == "__main__":
    main()
