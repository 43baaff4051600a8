"""The JSON the builders produce (no library needed), and its round trip."""

from __future__ import annotations

import base64
import json

import pytest

import solti_exec as se
from solti_exec.spec import NO_TIMEOUT, runner_config, task_spec, wire_keys


def test_command() -> None:
    assert se.Command("tar", "-czf", "x.tgz").to_wire() == {"command": {"command": "tar", "args": ["-czf", "x.tgz"]}}
    assert se.Command(["ls", "-l"]) == se.Command("ls", "-l")
    assert se.Command("echo").to_wire() == {"command": {"command": "echo", "args": []}}
    with pytest.raises(ValueError):
        se.Command([])
    with pytest.raises(TypeError):
        se.Command(["ls"], "-l")


def test_script_encodes_base64() -> None:
    wire = se.Script("echo héllo $1", args=["a"]).to_wire()["script"]
    assert wire["runtime"] == "bash" and wire["args"] == ["a"]
    assert base64.b64decode(wire["body"], validate=True) == "echo héllo $1".encode()
    assert se.Script(b"print(1)", "python").to_wire()["script"]["runtime"] == "python"
    custom = se.Script("puts 1", se.Custom("ruby", "-e")).to_wire()["script"]
    assert custom["runtime"] == {"custom": {"command": "ruby", "flag": "-e"}}
    with pytest.raises(TypeError):
        se.Script(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        se.Script("x", args="a b")


def test_task_spec_wire_format() -> None:
    spec = task_spec(
        se.Command("make", "-j8"),
        slot="build",
        timeout=1.5,
        env={"LANG": "C"},
        cwd="/tmp",
        fail_on_non_zero=False,
        stdin="inherit",
        restart="on_failure",
        backoff=se.Backoff(first=0.5, max=10, factor=3, jitter="equal"),
        admission="drop_if_running",
        max_retries=4,
        kill_grace=0.25,
        output=se.Output(capacity=10, max_bytes=1000, when_full="block"),
    )
    assert spec == {
        "slot": "build",
        "kind": {
            "subprocess": {
                "mode": {"command": {"command": "make", "args": ["-j8"]}},
                "env": [{"key": "LANG", "value": "C"}],
                "cwd": "/tmp",
                "failOnNonZero": False,
                "stdin": "inherit",
            }
        },
        "timeout": 1500,
        "restart": {"type": "onFailure"},
        "backoff": {"jitter": "equal", "firstMs": 500, "maxMs": 10000, "factor": 3.0},
        "admission": "dropIfRunning",
        "maxRetries": 4,
        "killGraceMs": 250,
        "output": {"capacity": 10, "maxBytes": 1000, "whenFull": "block"},
    }
    json.dumps(spec)


def test_task_spec_defaults() -> None:
    spec = task_spec(se.Command("/usr/bin/seq", "3"))
    assert spec["slot"] == "seq"
    assert spec["timeout"] == NO_TIMEOUT * 1000
    assert spec["kind"]["subprocess"]["failOnNonZero"] is True
    assert "restart" not in spec and "output" not in spec
    assert task_spec(se.Script("x"))["slot"] == "script"
    assert task_spec(se.Command("we!rd name"))["slot"] == "we_rd_name"
    assert task_spec(se.Command("..")) ["slot"] == "task"


def test_policies() -> None:
    assert se.Restart.always(interval=2).to_wire() == {"type": "always", "intervalMs": 2000}
    assert se.Restart.never().to_wire() == {"type": "never"}
    assert task_spec(se.Command("x"), restart="always")["restart"] == {"type": "always"}
    assert task_spec(se.Command("x"), restart={"type": "always", "interval_ms": 5})["restart"] == {"type": "always", "intervalMs": 5}
    assert se.Output(when_full="drop_oldest").to_wire() == {"whenFull": "dropOldest"}
    assert task_spec(se.Command("x"), timeout=0.0001)["timeout"] == 1  # never rounded to 0
    with pytest.raises(ValueError):
        task_spec(se.Command("x"), timeout=-1)
    with pytest.raises(TypeError):
        task_spec(se.Command("x"), timeout="5s")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        task_spec("ls")  # type: ignore[arg-type]


def test_env_forms() -> None:
    pairs = [("A", "1"), ("A", "2")]
    assert task_spec(se.Command("x"), env=pairs)["kind"]["subprocess"]["env"] == [
        {"key": "A", "value": "1"},
        {"key": "A", "value": "2"},
    ]
    with pytest.raises(TypeError):
        task_spec(se.Command("x"), env=["A=1"])


def test_runner_config_camel_case() -> None:
    cfg = runner_config(
        env={"PATH": "/bin"},
        rlimits={"max_open_files": 64, "disable_core_dumps": True},
        cgroups={"cpu": {"quota": 50000, "period": 100000}, "fail_on_error": False},
        security={"drop_all_caps": True, "keep_caps": ["NET_BIND_SERVICE"], "noNewPrivs": True},
        log={"max_line_length": 100},
        output=se.Output(capacity=5),
        shim_path="/opt/shim",
        drain_grace_ms=10,
    )
    assert cfg == {
        "env": [{"key": "PATH", "value": "/bin"}],
        "rlimits": {"maxOpenFiles": 64, "disableCoreDumps": True},
        "cgroups": {"cpu": {"quota": 50000, "period": 100000}, "failOnError": False},
        "security": {"dropAllCaps": True, "keepCaps": ["NET_BIND_SERVICE"], "noNewPrivs": True},
        "log": {"maxLineLength": 100},
        "output": {"capacity": 5},
        "shimPath": "/opt/shim",
        "drainGraceMs": 10,
    }
    assert runner_config() == {}


def test_runner_config_base() -> None:
    base = {"env": {"MY_VAR": "x"}, "log": {"maxLineBytes": 10}}
    cfg = runner_config(config=base, log={"max_line_length": 5})
    assert cfg == {"env": [{"key": "MY_VAR", "value": "x"}], "log": {"maxLineLength": 5}}
    assert runner_config(config='{"drainGraceMs": 5}', drain_grace_ms=7) == {"drainGraceMs": 7}
    with pytest.raises(TypeError):
        runner_config(config="[1]")
    assert wire_keys({"a_b": [{"c_d": "e_f"}]}) == {"aB": [{"cD": "e_f"}]}


def test_round_trip_through_the_library(runner: se.Runner) -> None:
    spec = task_spec(se.Script("echo $0 $1", args=["one"]), slot="rt", timeout=30)
    with runner.build(json.dumps(spec)) as task:
        assert task.spec == spec
        task.spawn()
        assert list(task.stdout_lines())[0].endswith(" one")
        assert task.wait(30).success


def test_old_timeout_ms_alias_still_builds(runner):
    """Specs written for earlier versions say timeoutMs; the alias keeps them working."""
    spec = {"slot": "alias", "timeoutMs": 5000, "kind": {"subprocess": {"mode": {"command": {"command": "true"}}}}}
    with runner.build(spec) as task:
        task.spawn()
        assert task.wait().outcome == se.Outcome.SUCCESS


def test_labels_reach_the_task(runner):
    spec = {"slot": "labelled", "timeout": 5000, "labels": {"team": "infra", "tier": "batch"},
            "kind": {"subprocess": {"mode": {"command": {"command": "true"}}}}}
    with runner.build(spec) as task:
        assert task.labels == {"team": "infra", "tier": "batch"}
    with runner.build({**spec, "labels": {}}) as task:
        assert task.labels == {}
