"""Loading the library and mirroring the header: constants, structs, prototypes."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

import solti_exec
from solti_exec import _native as n
from solti_exec.errors import SoltiError, error_for_code

from .conftest import HEADER, PYTHON_DIR, run_python

pytestmark = pytest.mark.skipif(not HEADER.exists(), reason="the C header is not beside the bindings")


def header_text() -> str:
    return HEADER.read_text()


def test_version_matches_header(lib: n.Library) -> None:
    text = header_text()
    parts = [re.search(rf"#define SOLTI_EXEC_VERSION_{p}\s+(\d+)", text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    assert lib.version() == ".".join(parts) == solti_exec.library_version()
    assert (n.SOLTI_EXEC_VERSION_MAJOR, n.SOLTI_EXEC_VERSION_MINOR, n.SOLTI_EXEC_VERSION_PATCH) == tuple(map(int, parts))


def test_error_table_matches_header(lib: n.Library) -> None:
    table = re.findall(r'XX\((SOLTI_\w+),\s*(-?\d+),\s*"([^"]*)"\)', header_text())
    assert len(table) >= 14
    for name, value, message in table:
        assert getattr(n, name) == int(value), name
        assert lib.strerror(int(value)) == message
        if int(value) < 0:
            cls = error_for_code(int(value))
            assert cls is not SoltiError and cls.CODE == int(value), name
    assert lib.strerror(-999) == "unknown error code"


@pytest.mark.parametrize(
    "prefix", ["SOLTI_EVENT_", "SOLTI_STDOUT", "SOLTI_STDERR", "SOLTI_OUTCOME_", "SOLTI_METRICS_"]
)
def test_enums_match_header(prefix: str) -> None:
    found = re.findall(rf"\b({prefix}\w*)\s*=\s*(\d+)", header_text())
    assert found
    for name, value in found:
        assert getattr(n, name) == int(value), name


def test_flags_and_infinite_match_header() -> None:
    text = header_text()
    assert re.search(r"#define SOLTI_LINE_TRUNCATED \(1u << 0\)", text)
    assert n.SOLTI_LINE_TRUNCATED == 1
    assert re.search(r"#define SOLTI_INFINITE \(-1\)", text)
    assert n.SOLTI_INFINITE == -1


def test_python_enums_follow_constants() -> None:
    assert solti_exec.Outcome.TIMEOUT == n.SOLTI_OUTCOME_TIMEOUT
    assert solti_exec.Stream.STDERR == n.SOLTI_STDERR
    assert solti_exec.EventKind.LAGGED == n.SOLTI_EVENT_LAGGED
    assert solti_exec.Stream.parse("stderr") is solti_exec.Stream.STDERR
    with pytest.raises(ValueError, match="stream must be"):
        solti_exec.Stream.parse("stdin")


def _c_layout(struct: str, fields: list[str], tmp_path: Path) -> dict[str, int]:
    """sizeof and offsetof as the C compiler sees them."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    lines = [f'printf("size %zu\\n", sizeof({struct}));']
    lines += [f'printf("{f} %zu\\n", offsetof({struct}, {f}));' for f in fields]
    src = tmp_path / "layout.c"
    src.write_text(
        "#include <stddef.h>\n#include <stdio.h>\n#include \"solti_exec.h\"\n"
        "int main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n"
    )
    exe = tmp_path / "layout"
    subprocess.run([cc, "-I", str(HEADER.parent), str(src), "-o", str(exe)], check=True, timeout=60)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=30).stdout
    return {k: int(v) for k, v in (line.split() for line in out.splitlines())}


@pytest.mark.parametrize(
    "struct, ctype",
    [("solti_event_t", n.solti_event_t), ("solti_exit_t", n.solti_exit_t), ("solti_debug_stats_t", n.solti_debug_stats_t)],
)
def test_struct_layout_matches_c(struct: str, ctype: type[ctypes.Structure], tmp_path: Path) -> None:
    if struct not in header_text():
        pytest.skip(f"{struct} is not in this header")
    names = [f[0] for f in ctype._fields_]
    layout = _c_layout(struct, names, tmp_path)
    assert layout["size"] == ctypes.sizeof(ctype)
    for name in names:
        assert layout[name] == getattr(ctype, name).offset, name


def test_every_header_function_is_declared(lib: n.Library) -> None:
    names = re.findall(r"^(?:const char \*|int )(solti_\w+)\(", header_text(), re.M)
    assert "solti_task_poll" in names and len(names) >= 15
    for name in names:
        fn = getattr(lib.dll, name)
        assert fn.restype is not None, name
        assert fn.argtypes is not None, name
        assert fn.errcheck is not None, name


def test_last_error_is_per_thread(lib: n.Library, runner: solti_exec.Runner) -> None:
    with pytest.raises(solti_exec.SpecError):
        runner.task(solti_exec.Command("x"), slot="")
    mine = lib.last_error()
    assert "slot must not be empty" in mine
    other: list[str] = []

    def fail_elsewhere() -> None:
        try:
            runner.task(solti_exec.Command("x"), timeout=0)
        except solti_exec.SpecError:
            other.append(lib.last_error())

    t = threading.Thread(target=fail_elsewhere)
    t.start()
    t.join(30)
    assert other and "timeout must be greater than zero" in other[0]
    assert lib.last_error() == mine


def test_candidates_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert n.library_candidates("/x/lib.so") == [("argument", "/x/lib.so")]
    monkeypatch.setenv(n.LIBRARY_ENV, "/y/lib.so")
    assert n.library_candidates() == [(n.LIBRARY_ENV, "/y/lib.so")]
    monkeypatch.delenv(n.LIBRARY_ENV)
    bundled = tmp_path / n.SONAME
    bundled.write_bytes(b"")
    monkeypatch.setattr(n, "_BUNDLED", bundled)
    found = n.library_candidates()
    assert found[0] == ("bundled", str(bundled))
    assert found[-1] == ("system", n.SONAME)
    monkeypatch.setattr(n, "_BUNDLED", tmp_path / "absent")
    assert n.library_candidates()[0][0] in ("find_library", "system")


def test_load_is_once_per_process(lib: n.Library, tmp_path: Path) -> None:
    assert n.load() is lib
    assert n.load(lib.path) is lib
    assert solti_exec.load_library() is lib
    other = tmp_path / "libother.so"
    shutil.copy(lib.path, other)
    with pytest.raises(RuntimeError, match="already loaded"):
        n.load(other)


def test_load_failure_lists_what_was_tried() -> None:
    res = run_python(
        "import solti_exec\n"
        "try:\n    solti_exec.Runner('x')\n"
        "except OSError as e:\n    print('OSError', e)\n",
        env={n.LIBRARY_ENV: "/nonexistent/libsolti_exec.so.0"},
    )
    assert res.returncode == 0, res.stderr
    assert "OSError libsolti_exec could not be loaded" in res.stdout
    assert "SOLTI_EXEC_LIBRARY: /nonexistent/libsolti_exec.so.0" in res.stdout


def _without_library_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != n.LIBRARY_ENV}
    env["PYTHONPATH"] = str(PYTHON_DIR)
    return env


def test_system_loader_finds_it(lib: n.Library) -> None:
    env = _without_library_env()
    env["LD_LIBRARY_PATH"] = str(Path(lib.path).parent)
    code = (
        "import solti_exec as s\n"
        "lib = s.load_library(); print(lib.source)\n"
        "print(s.Runner('sys').run(s.Command('echo', 'ok'), timeout=30).stdout_lines)\n"
    )
    res = subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    source, out = res.stdout.splitlines()
    assert source in ("find_library", "system")
    assert out == "['ok']"


def test_bundled_copy_with_its_shim(lib: n.Library, tmp_path: Path) -> None:
    shim = Path(lib.path).parent / "solti-exec-shim"
    if not shim.exists():
        pytest.skip("no exec shim beside the library")
    pkg = tmp_path / "solti_exec"
    shutil.copytree(PYTHON_DIR / "solti_exec", pkg, ignore=shutil.ignore_patterns("__pycache__", "_lib"))
    (pkg / "_lib").mkdir()
    shutil.copy(lib.path, pkg / "_lib" / n.SONAME)
    shutil.copy(shim, pkg / "_lib" / "solti-exec-shim")
    env = _without_library_env()
    env["PYTHONPATH"] = str(tmp_path)
    env.pop("SOLTI_EXEC_SHIM", None)
    code = (
        "import solti_exec as s\n"
        "lib = s.load_library(); print(lib.source, lib.path)\n"
        "print(s.Runner('bundled').run(s.Command('echo', 'ok'), timeout=30).stdout_lines)\n"
    )
    # Run from a directory of its own: `python -c` puts the working directory
    # first on sys.path, and a checkout's bindings/python would win there.
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    res = subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, cwd=cwd)
    assert res.returncode == 0, res.stderr
    first, out = res.stdout.splitlines()
    assert first == f"bundled {pkg / '_lib' / n.SONAME}"
    assert out == "['ok']"


def test_debug_stats(lib: n.Library, runner: solti_exec.Runner) -> None:
    if not lib.has_debug_stats:
        pytest.skip("library without solti_debug_stats")
    before = solti_exec.debug_stats()
    assert set(before) == {"goroutines", "runners", "tasks", "processes", "fds"}
    with runner.task(solti_exec.Command("sleep", "30"), timeout=60) as task:
        task.spawn()
        during = solti_exec.debug_stats()
        assert during["tasks"] == before["tasks"] + 1
        assert during["processes"] >= before["processes"] + 1
    after = solti_exec.debug_stats()
    assert after["tasks"] == before["tasks"] and after["processes"] == before["processes"]
