"""``python -m solti_exec run [options] -- CMD [ARGS...]``: the Python twin of ``solti-run``.

Runs one command (or script) through the library, passes its stdout and
stderr through byte for byte as they come (output mode "bytes", lossless
``when_full="block"``: the command waits for the reader rather than output
being dropped; ``--lines`` frames them in lines, stderr prefixed
``[stderr] ``), and exits with its exit code: 128+N if signal N killed it
or this program was interrupted, 141 if its output was closed (the tree is
killed), 124 on timeout, 125 for this program's own errors (a bad ``--cwd``
included), 126 if the command was found but could not be run, 127 if it was
not found: chosen from the failing step and errno, never from a message.
"""

from __future__ import annotations

import argparse
import errno
import json
import re
import signal
import sys
from pathlib import Path
from typing import Any, BinaryIO, Sequence

from . import _native
from ._bytes import ByteReader
from ._reader import POLL_SLICE_MS
from .errors import SoltiError
from .events import Event, ExitReport, Finished, Lagged, Line, Outcome, Started, Stream, WarningEvent
from .runner import Runner
from .spec import Command, Output, Script
from .task import Task

__all__ = ["main", "exit_status"]

PROG = "python -m solti_exec"
EXIT_TIMEOUT = 124
EXIT_TOOL = 125
EXIT_CANNOT_RUN = 126
EXIT_NOT_FOUND = 127

_DURATION = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)?$")
_SIZE = re.compile(r"^(\d+)([kKmMgGtT](?:i?B)?)?$")


def _duration(text: str) -> float:
    """"500ms", "1.5s", "2m", "1h", "30" (seconds) -> seconds."""
    m = _DURATION.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"invalid duration '{text}' (use e.g. 500ms, 5s, 2m, 1h)")
    scale = {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]
    return float(m.group(1)) * scale


def _size(text: str) -> int:
    """"64M", "1G", "512K", "4096" (powers of 1024) -> bytes."""
    m = _SIZE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"invalid size '{text}' (use e.g. 64M, 1G)")
    suffix = (m.group(2) or " ")[0].upper()
    return int(m.group(1)) * {" ": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[suffix]


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"invalid number '{text}'")
    return int(text)


def _env_pair(text: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    if not eq or not key:
        raise argparse.ArgumentTypeError(f"'{text}' is not KEY=VALUE")
    return key, value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Run commands through libsolti_exec.",
    )
    p.add_argument("--version", action="store_true", help="print the versions and exit")
    sub = p.add_subparsers(dest="action", metavar="run")
    run = sub.add_parser(
        "run",
        prog=f"{PROG} run",
        usage=f"{PROG} run [options] -- CMD [ARGS...]\n       {PROG} run [options] --script FILE [--runtime R] [-- ARGS...]",
        description=(
            "Runs CMD in its own process group through libsolti_exec, passes its stdout and "
            "stderr through byte for byte as they come, and exits with its exit code."
        ),
        epilog=(
            "DUR is a number with ms, s, m or h (no suffix: seconds), e.g. 500ms, 1.5s. "
            "Exit status: the command's; 128+N if a signal N killed it or this program was "
            "interrupted; 141 its output was closed; 124 on timeout; 125 this program's own error "
            "(a bad --cwd included); 126 the command was found but could not be run; 127 it was "
            "not found."
        ),
    )
    run.add_argument("--timeout", type=_duration, default=24 * 3600.0, metavar="DUR",
                     help="kill the whole tree after DUR (default 24h); exit 124")
    run.add_argument("--kill-grace", type=_duration, metavar="DUR",
                     help="on cancel or timeout, SIGTERM first and SIGKILL after DUR")
    run.add_argument("--memory", type=_size, metavar="SIZE", help="cgroup memory limit (K, M, G suffixes)")
    run.add_argument("--pids", type=_count, metavar="N", help="cgroup limit on the number of processes")
    run.add_argument("--nofile", type=_count, metavar="N", help="RLIMIT_NOFILE for the command")
    run.add_argument("--no-new-privs", action="store_true", help="set no_new_privs before exec")
    run.add_argument("--drop-caps", action="store_true", help="drop every capability (but those kept)")
    run.add_argument("--keep-cap", action="append", default=[], metavar="NAME",
                     help="keep capability NAME (e.g. NET_BIND_SERVICE) with --drop-caps")
    run.add_argument("--cwd", metavar="DIR", help="run in DIR")
    run.add_argument("--env", type=_env_pair, action="append", default=[], metavar="KEY=VALUE",
                     help="add to the command's environment (repeatable)")
    run.add_argument("--stdin", action="store_true", help="pass this program's stdin to the command")
    run.add_argument("--script", metavar="FILE", help="run FILE's contents with --runtime (default bash)")
    run.add_argument("--runtime", choices=("bash", "python", "node"), help="the script's runtime")
    run.add_argument("--name", default="solti-run", help="runner name in run ids and metrics")
    run.add_argument("--lines", action="store_true",
                     help='frame the output in lines: stderr prefixed "[stderr] ", long lines cut')
    run.add_argument("--json", action="store_true", help="print the exit report as JSON on stderr at the end")
    run.add_argument("--library", metavar="PATH", help="the libsolti_exec.so to load")
    run.add_argument("command", nargs=argparse.REMAINDER, help="the command and its arguments")
    return p


def _fail(message: str) -> int:
    sys.stdout.flush()
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_TOOL


def _library_error(err: SoltiError) -> str:
    return f"{err.strerror}: {err.message}"


def spawn_status(err: SoltiError) -> int:
    """The status for a task that could not start, from the failing step and
    errno as env(1) does: 127 the program not found (exec, ENOENT), 126
    found but not runnable (exec, another errno), 125 anything else (a bad
    --cwd, a limit, the library)."""
    if getattr(err, "step", None) != "exec":
        return EXIT_TOOL
    return EXIT_NOT_FOUND if getattr(err, "errno", None) == errno.ENOENT else EXIT_CANNOT_RUN


def exit_status(report: ExitReport, canceled_by: int = 0) -> int:
    """The shell-style exit status for how the task ended (as solti-run)."""
    if canceled_by:
        return 128 + canceled_by
    if report.outcome in (Outcome.SUCCESS, Outcome.FAILURE):
        if report.signal:
            return 128 + report.signal
        return report.exit_code & 0xFF if report.exit_code is not None else EXIT_TOOL
    if report.outcome is Outcome.TIMEOUT:
        return EXIT_TIMEOUT
    if report.outcome is Outcome.CANCELED:
        return 128 + (report.signal or signal.SIGKILL)
    return EXIT_TOOL


def report_json(report: ExitReport) -> str:
    """The exit report in solti-run's ``--json`` shape."""
    return json.dumps(
        {
            "attempt": report.attempt,
            "outcome": str(report.outcome),
            "exitCode": -1 if report.exit_code is None else report.exit_code,
            "signal": report.signal or 0,
            "coreDumped": report.core_dumped,
            "startedMs": report.started_ms,
            "finishedMs": report.finished_ms,
            "durationMs": round(report.duration * 1000),
            "userUs": report.user_us,
            "systemUs": report.system_us,
            "maxRssKb": report.max_rss_kb,
            "oomKills": -1 if report.oom_kills is None else report.oom_kills,
            "memoryPeakBytes": -1 if report.memory_peak_bytes is None else report.memory_peak_bytes,
            "cgroupCpuUs": -1 if report.cgroup_cpu_us is None else report.cgroup_cpu_us,
            "reason": report.reason,
        }
    )


class _Printer:
    """Writes events to stdout/stderr as UTF-8 bytes, whatever the locale."""

    def __init__(self, out: BinaryIO, err: BinaryIO) -> None:
        self.out = out
        self.err = err

    def event(self, ev: Event) -> None:
        if isinstance(ev, Line):
            mark = " [truncated]" if ev.truncated else ""
            if ev.stream is Stream.STDERR:
                self.out.flush()  # keep the two streams' relative order on a terminal
                self.err.write(f"[stderr] {ev.text}{mark}\n".encode("utf-8", "replace"))
                self.err.flush()
            else:
                self.out.write(f"{ev.text}{mark}\n".encode("utf-8", "replace"))
        elif isinstance(ev, Lagged):
            self.out.flush()
            self.err.write(f"{PROG}: {ev.missed} events lost (output ring overflowed)\n".encode())
            self.err.flush()
        elif isinstance(ev, WarningEvent):
            self.out.flush()
            self.err.write(f"{PROG}: warning: {ev.message}\n".encode("utf-8", "replace"))
            self.err.flush()
        # Started, Finished: the exit report says it.
        assert isinstance(ev, (Line, Lagged, WarningEvent, Started, Finished))


def _start_warnings(task: Task, printer: _Printer) -> None:
    """The first attempt's sandbox warnings, the events before its STARTED.
    This reader stops there, before any output, so that the bytes reader
    stays the one block mode keeps everything for."""
    reader = task.reader(max_events=1, buffer_bytes=8192)
    while reader.poll(0) == 1:
        for ev in reader.decode_events(1):
            if not isinstance(ev, WarningEvent):
                return
            printer.event(ev)


def _stream_bytes(task: Task, printer: _Printer, canceled: list[int]) -> None:
    """Copies the task's bytes to stdout and stderr as they come, until the
    end; a caught signal cancels the task."""
    _start_warnings(task, printer)
    reader = ByteReader(task)
    requested = 0
    while True:
        if canceled and not requested:
            requested = canceled[0]
            task.cancel()
        got = reader.chunk(POLL_SLICE_MS)
        if got is None:
            break
        stream, data = got
        if stream is None:
            continue
        out = printer.err if stream is Stream.STDERR else printer.out
        out.write(data)
        out.flush()


def _stream(task: Task, printer: _Printer, canceled: list[int]) -> None:
    """Streams every event until the end; a caught signal cancels the task."""
    reader = task.reader()
    requested = 0
    while True:
        if canceled and not requested:
            requested = canceled[0]
            task.cancel()
        count = reader.poll(POLL_SLICE_MS)
        if count < 0:
            break
        if not count:
            continue
        for ev in reader.decode_events(count):
            printer.event(ev)
        printer.out.flush()


def _run(args: argparse.Namespace) -> int:
    cmd: list[str] = list(args.command)
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    if args.script is None and not cmd:
        return _fail("no command given\nTry 'python -m solti_exec run --help'.")
    if args.runtime is not None and args.script is None:
        return _fail("--runtime needs --script")
    if args.keep_cap and not args.drop_caps:
        return _fail("--keep-cap needs --drop-caps")

    cgroups: dict[str, Any] | None = None
    if args.memory or args.pids:
        cgroups = {"failOnError": True}
        if args.memory:
            cgroups["memory"] = args.memory
        if args.pids:
            cgroups["pids"] = args.pids
    rlimits = {"maxOpenFiles": args.nofile} if args.nofile else None
    security: dict[str, Any] | None = None
    if args.no_new_privs or args.drop_caps:
        security = {"noNewPrivs": args.no_new_privs, "dropAllCaps": args.drop_caps}
        if args.keep_cap:
            security["keepCaps"] = args.keep_cap
    if args.script is not None:
        try:
            body = Path(args.script).read_bytes()
        except OSError as e:
            return _fail(f"--script {args.script}: {e.strerror}")
        mode: Command | Script = Script(body, args.runtime or "bash", cmd)
        slot = "solti-run"
    else:
        mode = Command(cmd[0], *cmd[1:])
        slot = "solti-run"

    try:
        runner = Runner(args.name, rlimits=rlimits, cgroups=cgroups, security=security, library=args.library)
    except (SoltiError, OSError, RuntimeError) as e:
        return _fail(_library_error(e) if isinstance(e, SoltiError) else str(e))
    printer = _Printer(sys.stdout.buffer, sys.stderr.buffer)
    canceled: list[int] = []

    def on_signal(signo: int, frame: object) -> None:
        if not canceled:
            canceled.append(signo)

    with runner:
        try:
            task = runner.task(
                mode,
                slot=slot,
                timeout=args.timeout,
                env=args.env or None,
                cwd=args.cwd,
                stdin="inherit" if args.stdin else "null",
                kill_grace=args.kill_grace,
                # Lossless: this program reads everything, so a full ring
                # only makes the command wait for the terminal, like a pipe.
                output=Output(mode="lines" if args.lines else "bytes", when_full="block"),
            )
        except SoltiError as e:
            return _fail(_library_error(e))
        with task:
            previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
            try:
                try:
                    task.spawn()
                except SoltiError as e:
                    status = spawn_status(e)
                    _fail(_library_error(e))
                    if args.json:
                        try:
                            print(report_json(task.wait(0)), file=sys.stderr, flush=True)
                        except SoltiError:
                            pass
                    return status
                (_stream if args.lines else _stream_bytes)(task, printer, canceled)
                report = task.wait()
            except SoltiError as e:
                return _fail(_library_error(e))
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)
            if args.json:
                print(report_json(report), file=sys.stderr, flush=True)
            if report.outcome is Outcome.FATAL:
                print(f"{PROG}: {report.reason}", file=sys.stderr)
            return exit_status(report, canceled[0] if canceled else 0)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        try:
            lib = _native.load()
            print(f"solti_exec {__version__} (libsolti_exec {lib.version()} from {lib.path})")
        except OSError as e:
            print(f"solti_exec {__version__} (library not loadable: {e})")
        return 0
    if args.action != "run":
        parser.print_help(sys.stderr)
        return EXIT_TOOL
    try:
        return _run(args)
    except BrokenPipeError:
        # Our stdout was closed (e.g. piped into head); like a shell tool.
        try:
            sys.stdout = None  # type: ignore[assignment]
        finally:
            return 128 + signal.SIGPIPE
