"""Inputs the C API or the UTF-8 wire format cannot carry exactly are
refused, naming the input; never cut at a NUL or changed to U+FFFD."""

from __future__ import annotations

import json

import pytest

import solti_exec as se

from .conftest import TASK_TIMEOUT


def test_config_that_is_not_json(lib) -> None:
    with pytest.raises(se.SpecError, match=r"invalid runner configuration: runner config is not valid JSON: .* column 2"):
        se.Runner("bad-config", config="{")


def test_runner_name_with_a_nul(lib) -> None:
    with pytest.raises(ValueError, match="runner name contains a NUL character at index 2"):
        se.Runner("ok\0x")


def test_runner_name_with_a_lone_surrogate(lib) -> None:
    with pytest.raises(se.SpecError, match="runner name: .* lone surrogate"):
        se.Runner("ok\udcff")


def test_spec_string_with_a_nul(runner: se.Runner) -> None:
    spec = json.dumps({"slot": "s", "timeout": 1000, "kind": {"subprocess": {"mode": {"command": {"command": "true"}}}}})
    with pytest.raises(ValueError, match="task spec contains a NUL character at index"):
        runner.build(spec + "\0garbage")


def test_spec_string_with_a_lone_surrogate(runner: se.Runner) -> None:
    spec = '{"slot": "s\udcff", "timeout": 1000, "kind": {"subprocess": {"mode": {"command": {"command": "true"}}}}}'
    with pytest.raises(se.SpecError, match="task spec: .*lone surrogate"):
        runner.build(spec)


def test_escaped_lone_surrogate_in_spec_text(runner: se.Runner) -> None:
    spec = '{"slot": "s\\udcff", "timeout": 1000, "kind": {"subprocess": {"mode": {"command": {"command": "true"}}}}}'
    with pytest.raises(se.SpecError, match=r"task spec: slot: .*lone surrogate"):
        runner.build(spec)


def test_env_value_with_a_lone_surrogate_names_the_variable(runner: se.Runner) -> None:
    with pytest.raises(ValueError, match="variable 'k'.*lone surrogate"):
        runner.task(se.Command("true"), env={"k": "abc\udcff"}, timeout=TASK_TIMEOUT)


def test_runner_env_with_a_lone_surrogate(lib) -> None:
    with pytest.raises(ValueError, match="runner config: env variable 'k'.*lone surrogate"):
        se.Runner("bad-env", env={"k": "\udcff"})


def test_bytes_argument_that_is_not_utf8_names_the_argument(runner: se.Runner) -> None:
    with pytest.raises(ValueError, match=r"args\[1\].*lone surrogate"):
        runner.task(se.Command("echo", "fine", b"\xff"), timeout=TASK_TIMEOUT)


def test_utf8_bytes_arguments_still_work(runner: se.Runner) -> None:
    done = runner.run(se.Command("echo", "caf\u00e9".encode()), timeout=TASK_TIMEOUT)
    assert done.stdout == "caf\u00e9\n"
