"""Runs the benchmark suite and prints one table: each figure of the
performance issue, its baseline measured in the same run, the ratio, the
target and whether it is met.

    /usr/bin/python3 bench/run.py --build BUILD [--markdown] [--rounds 2]

BUILD is the CMake build directory (`make bench` passes it): the library,
the exec shim beside it, and the benchmark programs in BUILD/bench.  The
machine is shared and noisy, so programs run alternately with their
baselines for several rounds, and each figure keeps its least disturbed
round (see bench/bench.h for the chunked timing inside a round).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The full sandbox of figure 1: rlimits, every capability dropped,
# no_new_privs, and cgroup limits that must be applied (failOnError).
SANDBOX = {
    "rlimits": {"maxOpenFiles": 1024, "maxFileSizeBytes": 1 << 30, "disableCoreDumps": True},
    "security": {"dropAllCaps": True, "noNewPrivs": True},
    "cgroups": {"memory": 256 << 20, "pids": 64, "failOnError": True},
}
SANDBOX_NO_CGROUP = {k: v for k, v in SANDBOX.items() if k != "cgroups"}


@dataclass
class Row:
    figure: str
    what: str
    measured: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None  # None: report only, or could not be measured
    note: str = ""


@dataclass
class Suite:
    build: Path
    rounds: int
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def bin(self) -> Path:
        return self.build / "bench"

    def run(self, argv: list[str], env: dict[str, str] | None = None, timeout: float = 240) -> dict[str, dict]:
        """Runs one program; returns its RESULT lines by name."""
        full_env = dict(os.environ)
        full_env.update(env or {})
        proc = subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=timeout)
        results = {}
        for line in proc.stdout.splitlines():
            if line.startswith("RESULT "):
                r = json.loads(line[len("RESULT "):])
                results[r["name"]] = r
        if proc.returncode != 0:
            msg = (proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1]
            raise BenchError(msg)
        return results

    def alternate(self, programs: dict[str, list[str]], best=min) -> dict[str, dict]:
        """Runs the programs in turn for `rounds` rounds; for each result
        name keeps the round whose value `best` picks."""
        kept: dict[str, list[dict]] = {}
        for _ in range(self.rounds):
            for argv in programs.values():
                for name, r in self.run(argv).items():
                    kept.setdefault(name, []).append(r)
        out = {}
        for name, rs in kept.items():
            pick = best(r["value"] for r in rs)
            out[name] = next(r for r in rs if r["value"] == pick)
            out[name]["rounds"] = [r["value"] for r in rs]
        return out


class BenchError(Exception):
    pass


def us(v: float) -> str:
    return f"{v:,.0f} us/run"


def rate(v: float, unit: str) -> str:
    if v >= 1e6:
        return f"{v / 1e6:.2f} M {unit}"
    if v >= 1e4:
        return f"{v / 1e3:.1f} k {unit}"
    return f"{v:,.0f} {unit}"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def figure1(s: Suite) -> None:
    n = ["--n", "2000", "--chunk", "100"]
    spawn, base = str(s.bin / "spawn"), str(s.bin / "base_spawn")
    sandbox, cgroup_note = SANDBOX, ""
    try:
        s.run([spawn, "--n", "5", "--config", json.dumps(SANDBOX), "--name", "probe"])
    except BenchError as e:
        sandbox = SANDBOX_NO_CGROUP
        cgroup_note = f"cgroup limits not available here ({e}); measured without a cgroup"
    programs = {
        "base": [base, *n, "--name", "spawn_base"],
        "lib": [spawn, *n, "--name", "spawn_lib"],
        "sandbox": [spawn, *n, "--config", json.dumps(sandbox), "--name", "spawn_sandbox"],
        "heap": [spawn, *n, "--heap-mib", "1024", "--name", "spawn_heap"],
    }
    floor = [] if cgroup_note else cgroup_floor(s, spawn, sandbox)
    if floor:
        programs["floor"] = [str(s.bin / "base_cgroups"), *n, *floor]
        programs["floor_ahead"] = [str(s.bin / "base_cgroups"), *n, *floor, "--ahead", "--name", "spawn_cgroups_ahead"]
    r = s.alternate(programs)
    b, lib, sb, heap = (r[k]["value"] for k in ("spawn_base", "spawn_lib", "spawn_sandbox", "spawn_heap"))
    s.rows.append(Row("1", "spawn + drain + wait of /bin/true, 2000 in sequence",
                      us(lib), us(b) + " (posix_spawn)", lib / b, "<= 1.3", lib / b <= 1.3))
    what = "the same, full sandbox (rlimits, caps, no_new_privs, cgroup)"
    if cgroup_note:
        what = "the same, sandbox WITHOUT cgroup (rlimits, caps, no_new_privs)"
        s.notes.append("figure 1, sandbox: " + cgroup_note)
    s.rows.append(Row("1", what, us(sb), us(b) + " (posix_spawn)", sb / b, "<= 1.8",
                      sb / b <= 1.8 if not cgroup_note else None,
                      "cgroup not available" if cgroup_note else ""))
    if floor:
        f = r["spawn_cgroups_base"]["value"]
        s.rows.append(Row("1", "floor: posix_spawn in the same per-run cgroups, plain C, no library",
                          us(f), us(b) + " (posix_spawn)", f / b, "report", None))
        s.rows.append(Row("1", "the full sandbox against that floor", us(sb), us(f) + " (floor)",
                          sb / f, "report", None))
        fa = r["spawn_cgroups_ahead"]["value"]
        s.rows.append(Row("1", "floor, the cgroups made ahead and removed behind on other threads",
                          us(fa), us(b) + " (posix_spawn)", fa / b, "report", None))
    s.rows.append(Row("1", "the same, host holding 1 GiB of touched heap",
                      us(heap), us(lib) + " (small host)", heap / lib, "<= 1.2", heap / lib <= 1.2))
    phases(s)
    peers(s, b)


def cgroup_floor(s: Suite, spawn: str, config: dict) -> list[str]:
    """base_cgroups' --cgroup arguments: beside each cgroup the library put
    a task in under config (its /proc/self/cgroup, read by `spawn
    --show-cgroups`), the files the library writes and reads there for
    config's limits. Empty, with a note, if they cannot be found."""
    try:
        out = subprocess.run([spawn, "--show-cgroups", "--config", json.dumps(config)], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        s.notes.append(f"figure 1, floor: not measured ({e})")
        return []
    known = {line.split()[0] for line in Path("/proc/cgroups").read_text().splitlines()[1:] if line.strip()}
    mounts = {}  # "" for v2, else a v1 hierarchy's controllers: (mount root, mount point)
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        f, r = left.split(), right.split()
        if r and r[0] == "cgroup2":
            mounts[""] = (f[3], f[4])
        elif r and r[0] == "cgroup":
            names = [o for o in r[2].split(",") if o in known or o.startswith("name=")]
            mounts[",".join(sorted(names))] = (f[3], f[4])
    cg = config.get("cgroups", {})
    task = []  # (controllers, mount key, path) of the probe task's own cgroups
    for line in out.splitlines():
        if line.startswith("CGROUP "):
            _, controllers, path = line[len("CGROUP "):].split(":", 2)
            key = ",".join(sorted(controllers.split(",")))
            if "/bench-cgroups-" in path and key in mounts:
                task.append((controllers, key, path))
    on_v1 = {c for controllers, _, _ in task for c in controllers.split(",") if controllers}
    args = []
    for controllers, key, path in task:
        root, point = mounts[key]
        rel = path[len(root):] if root != "/" and path.startswith(root) else path
        parent = os.path.dirname(point.rstrip("/") + rel)
        have = set(controllers.split(","))
        writes, stats = [], []
        if controllers == "":
            writes.append("cgroup.max.depth=0")
            stats.append("cpu.stat")
            # A limit goes to v2 where no v1 hierarchy took it.
            enable = [c for c in ("memory", "pids") if c in cg and c not in on_v1]
            if enable:
                writes.append("^cgroup.subtree_control=" + " ".join("+" + c for c in enable))
            if "memory" in enable:
                writes += [f"memory.max={cg['memory']}", "?memory.swap.max=0"]
                stats += ["memory.peak", "memory.events"]
            if "pids" in enable:
                writes.append(f"pids.max={cg['pids']}")
        else:
            if "memory" in cg and "memory" in have:
                writes += [f"memory.limit_in_bytes={cg['memory']}", "?memory.swappiness=0"]
                stats += ["memory.max_usage_in_bytes", "memory.oom_control"]
            if "pids" in cg and "pids" in have:
                writes.append(f"pids.max={cg['pids']}")
        args += ["--cgroup", f"{parent}|{','.join(writes)}|{','.join(stats)}"]
    if not args:
        s.notes.append("figure 1, floor: no task cgroup found in the probe's /proc/self/cgroup")
    return args


def phases(s: Suite) -> None:
    """Figure 1 split in two, each against posix_spawn in the same rounds:
    the first call to the child's main, and the child's exit to the host's
    EOF (bench/phases.c). Report only: they say where the ratio goes."""
    r = s.alternate({"phases": [str(s.bin / "phases"), "--stamp", str(s.bin / "stamp"), "--n", "500"]})
    for what, key in (("phase: first call to the child's main (stamp)", "start"),
                      ("phase: the child's exit to the host's EOF", "end")):
        lib, base = r[f"phase_{key}_lib"]["value"], r[f"phase_{key}_base"]["value"]
        s.rows.append(Row("1", what, f"{lib:,.0f} us", f"{base:,.0f} us (posix_spawn)", lib / base, "report", None))


def peers(s: Suite, base: float) -> None:
    """Go os/exec and Python subprocess on the same /bin/true, reported beside
    posix_spawn (no target: they are peers, not goals)."""
    goexec = s.build / "bench" / "goexec"
    try:
        subprocess.run(["go", "build", "-o", str(goexec), "./bench/goexec"], cwd=ROOT, check=True,
                       capture_output=True, timeout=300)
        r = s.alternate({"go": [str(goexec), "--n", "2000", "--chunk", "100"]})["spawn_goexec"]["value"]
        s.rows.append(Row("1", "peer: Go os/exec of /bin/true, output captured", us(r),
                          us(base) + " (posix_spawn)", r / base, "report", None))
    except (OSError, subprocess.SubprocessError, BenchError) as e:
        s.notes.append(f"Go os/exec peer not measured: {e}")
    try:
        r = s.alternate({"py": ["/usr/bin/python3", str(ROOT / "bench" / "py_spawn.py"), "--n", "2000",
                                "--chunk", "100"]})["spawn_python"]["value"]
        s.rows.append(Row("1", "peer: Python subprocess.run of /bin/true, output captured", us(r),
                          us(base) + " (posix_spawn)", r / base, "report", None))
    except (OSError, subprocess.SubprocessError, BenchError) as e:
        s.notes.append(f"Python subprocess peer not measured: {e}")


def figure2(s: Suite) -> None:
    r = s.alternate({
        "base": [str(s.bin / "base_spawn"), "--n", "2000", "--chunk", "500", "--threads", "32",
                 "--name", "concurrent_base"],
        "lib": [str(s.bin / "concurrent"), "--n", "2000", "--chunk", "500", "--threads", "32"],
    }, best=max)
    b, lib = r["concurrent_base"]["value"], r["concurrent_lib"]["value"]
    s.rows.append(Row("2", "2000 tasks of /bin/true, 32 at once (tasks/s)",
                      rate(lib, "tasks/s"), rate(b, "tasks/s") + " (32 threads)", lib / b, ">= 0.8",
                      lib / b >= 0.8))


def figure3(s: Suite) -> None:
    # Both library readers get a ring of 65536 lines (block mode): how far
    # the child may run ahead of its reader, as a pipe's 64 KiB buffer lets
    # it run ahead of getline. With the default 1024 the reader is woken
    # every 1024 lines (see docs/format.md, output).
    r = s.alternate({
        "base": [str(s.bin / "base_getline"), "--lines", "5000000"],
        "lib": [str(s.bin / "stream"), "--lines", "5000000", "--capacity", "65536"],
        "bulk": [str(s.bin / "lines"), "--lines", "5000000", "--capacity", "65536"],
    }, best=max)
    b, lib, bulk = r["stream_base"]["value"], r["stream_lib"]["value"], r["lines_lib"]["value"]
    s.rows.append(Row("3", "seq 1 5000000 through solti_task_read_lines, in bulk (lines/s)",
                      rate(bulk, "lines/s"), rate(b, "lines/s") + " (getline)", bulk / b, ">= 0.8",
                      bulk / b >= 0.8))
    s.rows.append(Row("3", "the same through solti_task_poll, an event a line (lines/s)",
                      rate(lib, "lines/s"), rate(b, "lines/s") + " (getline)", lib / b, ">= 0.4",
                      lib / b >= 0.4))
    env = {
        "PYTHONPATH": str(ROOT / "bindings" / "python"),
        "SOLTI_EXEC_LIBRARY": str(s.build / "libsolti_exec.so.0"),
    }
    what = "the same through Python: stdout_lines() (str) vs subprocess.Popen"
    if not (ROOT / "bindings" / "python").is_dir():
        s.rows.append(Row("3", what, "-", "-", None, ">= 1.5", None, "Python binding not present"))
        return
    try:
        py = s.run(["/usr/bin/python3", str(ROOT / "bench" / "py_lines.py"), "--lines", "5000000",
                    "--rounds", str(s.rounds)], env=env)
    except BenchError as e:
        s.rows.append(Row("3", what, "-", "-", None, ">= 1.5", None, f"Python run failed: {e}"))
        return
    b = py["py_popen"]["value"]
    for key, label in (("py_stdout_lines", what),
                       ("py_lines", "the same through Python: lines() (a Line tuple a line) vs Popen")):
        lib = py[key]["value"]
        s.rows.append(Row("3", label, rate(lib, "lines/s"), rate(b, "lines/s") + " (Popen, text)", lib / b,
                          ">= 1.5", lib / b >= 1.5))
    # What no pure-Python binding can pass: the same lines made from memory
    # (no pipe, no library) by str.split, as Line tuples, and as the cheapest
    # six-field item, a plain tuple made by zip (py_lines.py).
    for key, label in (("py_ceiling_texts", "ceiling: the same str lines split from memory, no pipe, no library"),
                       ("py_ceiling_lines", "ceiling: the same as Line tuples from memory, no pipe, no library"),
                       ("py_ceiling_tuples", "ceiling: the same as plain 6-tuples made by zip, from memory")):
        lib = py[key]["value"]
        s.rows.append(Row("3", label, rate(lib, "lines/s"), rate(b, "lines/s") + " (Popen, text)", lib / b,
                          "report", None))


def figure4(s: Suite) -> None:
    tree = str(s.bin / "tree")
    r = s.alternate({
        "base": [str(s.bin / "base_cancel"), "--tree", tree, "--runs", "20"],
        "lib": [str(s.bin / "cancel"), "--tree", tree, "--runs", "20"],
    })
    b, lib = r["cancel_base"]["value"], r["cancel_lib"]["value"]
    s.rows.append(Row("4", "cancel a tree of 100 sleepers: last one gone, p50 of 20",
                      f"{lib:.1f} ms", f"{b:.1f} ms (kill -pgid)", lib / b, "<= 10 ms", lib <= 10))


def figure5(s: Suite) -> None:
    r = s.run([str(s.bin / "memory"), "--library", str(s.build / "libsolti_exec.so.0"),
               "--flood", str(s.bin / "flood"), "--seconds", "10"])
    load, idle, flood = r["mem_load"], r["mem_idle_task"], r["mem_flood"]
    s.rows.append(Row("5", "RSS growth: loading the library (dlopen + a runner)",
                      mib(load["value"]), mib(load["rss_before_kib"]) + " (host before)", None,
                      "<= 8 MiB", load["value"] <= 8 * 1024))
    s.rows.append(Row("5", f"RSS growth per idle task ({idle['tasks']} built)",
                      f"{idle['value']:.1f} KiB", "-", None, "<= 16 KiB", idle["value"] <= 16))
    bound, q2, q4 = flood["rings_kib"], flood["q2_kib"], flood["q4_kib"]
    flat = q4 <= 1.1 * q2 + 2048
    within = flood["value"] <= bound
    s.rows.append(Row("5", f"RSS, {flood['floods']} tasks flooding {flood['seconds']} s, nobody reading",
                      f"peak +{mib(flood['value'])}; +{mib(q2)} -> +{mib(q4)}",
                      mib(bound) + " (rings' bytes)", flood["value"] / bound,
                      "flat, within rings", flat and within))


def figure6(s: Suite) -> None:
    r = s.run([str(s.bin / "rate"), "--pacer", str(s.bin / "pacer")])["rate_lib"]
    s.rows.append(Row("6", "lossless output rate, reader polling every 10 ms",
                      rate(r["value"], "lines/s"), rate(r["ring_bound"], "lines/s") + " (1024 ev / 10 ms)",
                      r["value"] / r["ring_bound"], "report", None))


def figure7(s: Suite) -> None:
    r = s.alternate({
        "base": [str(s.bin / "base_read"), "--mib", "2048"],
        "lib": [str(s.bin / "bytes"), "--mib", "2048"],
    }, best=max)
    b, lib = r["bytes_base"]["value"], r["bytes_lib"]["value"]
    s.rows.append(Row("7", "head -c 2G /dev/zero, bytes mode, solti_task_read (bytes/s)",
                      rate(lib, "B/s"), rate(b, "B/s") + " (read(2))", lib / b, ">= 0.8", lib / b >= 0.8))


def machine() -> list[str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        go = "go: not found"
    return [f"nproc {os.cpu_count()}, {model}", f"kernel {platform.release()}", go,
            f"load average at start {os.getloadavg()[0]:.2f}"]


def table(rows: list[Row], markdown: bool) -> str:
    head = ["fig", "figure", "measured", "baseline", "ratio", "target", "met"]
    body = []
    for r in rows:
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        if r.note and r.met is None:
            met = "n/a"
        body.append([r.figure, r.what, r.measured, r.baseline,
                     "-" if r.ratio is None else f"{r.ratio:.2f}", r.target, met])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(out)
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in body]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, type=Path)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    s = Suite(build=args.build.resolve(), rounds=args.rounds)
    info = machine()
    t0 = time.monotonic()
    for fig in (figure1, figure2, figure3, figure4, figure5, figure6, figure7):
        print(f"bench: {fig.__name__} ...", file=sys.stderr, flush=True)
        try:
            fig(s)
        except BenchError as e:
            s.rows.append(Row(fig.__name__[-1], fig.__name__, "-", "-", None, "-", None, f"failed: {e}"))
            s.notes.append(f"{fig.__name__} failed: {e}")
    info.append(f"load average at end {os.getloadavg()[0]:.2f}; suite took {time.monotonic() - t0:.0f} s")
    print("\n".join(info))
    print()
    print(table(s.rows, args.markdown))
    for note in s.notes:
        print("note: " + note)
    failed = [r for r in s.rows if r.met is False]
    print(f"\n{len(s.rows) - len(failed)} of {len(s.rows)} rows met or report-only; "
          f"{len(failed)} not met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
