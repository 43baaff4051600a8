package model

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseTaskSpecUnknownFields(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		msg   string
		field string
	}{
		{"top level typo", `{"slot": "s", "kind": "embedded", "timeoutMS": 1000}`, `unknown field "timeoutMS" in task spec`, "timeoutMS"},
		{"top level even when null", `{"slot": "s", "kind": "embedded", "timeoutMs": 1, "maxRetry": null}`, `unknown field "maxRetry" in task spec`, "maxRetry"},
		{"reported before other errors", `{"slot": 5, "slott": "s"}`, `unknown field "slott" in task spec`, "slott"},
		{"subprocess", withSubprocess(`{"mode": {"command": {"command": "x"}}, "failOnNonzero": false}`), `unknown field "failOnNonzero" in kind.subprocess`, "kind.subprocess.failOnNonzero"},
		{"command mode", withMode(`{"command": {"command": "x", "argv": []}}`), `unknown field "argv" in kind.subprocess.mode.command`, "kind.subprocess.mode.command.argv"},
		{"script mode", withMode(`{"script": {"runtime": "bash", "body": "YQ==", "flag": "-e"}}`), `unknown field "flag" in kind.subprocess.mode.script`, "kind.subprocess.mode.script.flag"},
		{"custom runtime", withMode(`{"script": {"runtime": {"custom": {"command": "ruby", "flag": "-e", "path": "/x"}}, "body": "YQ=="}}`), `unknown field "path" in kind.subprocess.mode.script.runtime.custom`, "kind.subprocess.mode.script.runtime.custom.path"},
		{"env entry", withSubprocess(`{"mode": {"command": {"command": "x"}}, "env": [{"key": "A", "vaule": "1"}]}`), `unknown field "vaule" in kind.subprocess.env[0]`, "kind.subprocess.env[0].vaule"},
		{"restart", withTop(`"restart": {"type": "always", "interval": 5}`), `unknown field "interval" in restart`, "restart.interval"},
		{"backoff", withTop(`"backoff": {"first": 5}`), `unknown field "first" in backoff`, "backoff.first"},
		{"output", withTop(`"output": {"capacity": 5, "maxbytes": 5}`), `unknown field "maxbytes" in output`, "output.maxbytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := requireSpecError(t, tt.doc)
			assert.Equal(t, tt.msg, se.Msg)
			assert.Equal(t, tt.field, se.Field)
		})
	}
}

func TestParseTaskSpecDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		msg   string
		field string
	}{
		// the document
		{"empty input", ``, "malformed JSON: unexpected end of input", ""},
		{"blank input", " \n\t", "malformed JSON: unexpected end of input", ""},
		{"null", `null`, "task spec must be a JSON object, got null", ""},
		{"array", `[]`, "task spec must be a JSON object, got an array", ""},
		{"truncated", `{"slot": "s"`, "malformed JSON: unexpected end of input", ""},
		{"bad syntax", `{"slot" "s"}`, "malformed JSON at byte 8: invalid character '\"' after object key", ""},
		{"trailing comma", `{"slot": "s",}`, "malformed JSON at byte 13: invalid character '}' looking for beginning of object key string", ""},
		{"trailing object", withTop(`"maxRetries": 1`) + ` {}`, "unexpected data after the JSON value", ""},
		{"trailing garbage", withTop(`"maxRetries": 1`) + `x`, "unexpected data after the JSON value", ""},
		{"duplicate top level", `{"slot": "a", "slot": "b"}`, `duplicate field "slot"`, "slot"},
		{"duplicate nested", withSubprocess(`{"mode": {"command": {"command": "x"}}, "cwd": "/a", "cwd": "/b"}`), `duplicate field "kind.subprocess.cwd"`, "kind.subprocess.cwd"},
		{"too deep", `{"slot": "s", "kind": {"wasm": ` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}}`, "malformed JSON: nested deeper than 128 levels", ""},

		// types
		{"slot number", `{"slot": 5}`, "slot: expected a string, got 5", "slot"},
		{"timeout string", `{"slot": "s", "kind": "embedded", "timeoutMs": "1000"}`, "timeoutMs: expected a non-negative integer, got a string", "timeoutMs"},
		{"timeout negative", `{"slot": "s", "kind": "embedded", "timeoutMs": -5}`, "timeoutMs: expected a non-negative integer, got -5", "timeoutMs"},
		{"timeout fractional", `{"slot": "s", "kind": "embedded", "timeoutMs": 1.5}`, "timeoutMs: expected a non-negative integer, got 1.5", "timeoutMs"},
		{"timeout tiny exponent", `{"slot": "s", "kind": "embedded", "timeoutMs": 1e-400}`, "timeoutMs: expected a non-negative integer, got 1e-400", "timeoutMs"},
		{"timeout too large", `{"slot": "s", "kind": "embedded", "timeoutMs": 18446744073709551616}`, "timeoutMs: 18446744073709551616 is out of range (max 18446744073709551615)", "timeoutMs"},
		{"timeout huge exponent", `{"slot": "s", "kind": "embedded", "timeoutMs": 1e999999999999}`, "timeoutMs: 1e999999999999 is out of range (max 18446744073709551615)", "timeoutMs"},
		{"max retries above uint32", withTop(`"maxRetries": 4294967296`), "maxRetries: 4294967296 is out of range (max 4294967295)", "maxRetries"},
		{"kill grace negative", withTop(`"killGraceMs": -1`), "killGraceMs: expected a non-negative integer, got -1", "killGraceMs"},
		{"fail on non zero string", withSubprocess(`{"mode": {"command": {"command": "x"}}, "failOnNonZero": "yes"}`), "kind.subprocess.failOnNonZero: expected a boolean, got a string", "kind.subprocess.failOnNonZero"},
		{"args not array", withMode(`{"command": {"command": "x", "args": "-l"}}`), "kind.subprocess.mode.command.args: expected an array of strings, got a string", "kind.subprocess.mode.command.args"},
		{"args element", withMode(`{"command": {"command": "x", "args": ["-l", 2]}}`), "kind.subprocess.mode.command.args[1]: expected a string, got 2", "kind.subprocess.mode.command.args[1]"},
		{"args null element", withMode(`{"command": {"command": "x", "args": [null]}}`), "kind.subprocess.mode.command.args[0]: expected a string, got null", "kind.subprocess.mode.command.args[0]"},
		{"env not array", withSubprocess(`{"mode": {"command": {"command": "x"}}, "env": {"A": "1"}}`), `kind.subprocess.env: expected an array of {"key": ..., "value": ...}, got an object`, "kind.subprocess.env"},
		{"env entry not object", withSubprocess(`{"mode": {"command": {"command": "x"}}, "env": ["A=1"]}`), "kind.subprocess.env[0]: expected an object, got a string", "kind.subprocess.env[0]"},
		{"factor string", withTop(`"backoff": {"factor": "2"}`), "backoff.factor: expected a number, got a string", "backoff.factor"},
		{"output capacity negative", withTop(`"output": {"capacity": -1}`), "output.capacity: expected a non-negative integer, got -1", "output.capacity"},

		// externally tagged enums
		{"kind unknown string", `{"slot": "s", "kind": "native", "timeoutMs": 1}`, `kind: expected "subprocess", "wasm", "container" or "embedded"`, "kind"},
		{"kind subprocess as string", `{"slot": "s", "kind": "subprocess", "timeoutMs": 1}`, `kind: expected "subprocess", "wasm", "container" or "embedded"`, "kind"},
		{"kind unknown key", `{"slot": "s", "kind": {"process": {}}, "timeoutMs": 1}`, `kind: expected "subprocess", "wasm", "container" or "embedded"`, "kind"},
		{"kind two keys", `{"slot": "s", "kind": {"wasm": {}, "container": {}}, "timeoutMs": 1}`, `kind: expected "subprocess", "wasm", "container" or "embedded"`, "kind"},
		{"kind empty object", `{"slot": "s", "kind": {}, "timeoutMs": 1}`, `kind: expected "subprocess", "wasm", "container" or "embedded"`, "kind"},
		{"kind embedded as object", `{"slot": "s", "kind": {"embedded": {}}, "timeoutMs": 1}`, `kind: expected "subprocess", "wasm", "container" or "embedded"`, "kind"},
		{"wasm body not object", `{"slot": "s", "kind": {"wasm": "x.wasm"}, "timeoutMs": 1}`, "kind.wasm: expected an object, got a string", "kind.wasm"},
		{"subprocess body null", `{"slot": "s", "kind": {"subprocess": null}, "timeoutMs": 1}`, "kind.subprocess: expected an object, got null", "kind.subprocess"},
		{"mode unknown key", withMode(`{"cmd": {"command": "x"}}`), `kind.subprocess.mode: expected "command" or "script"`, "kind.subprocess.mode"},
		{"mode two keys", withMode(`{"command": {"command": "x"}, "script": {}}`), `kind.subprocess.mode: expected "command" or "script"`, "kind.subprocess.mode"},
		{"mode string", withMode(`"command"`), `kind.subprocess.mode: expected "command" or "script"`, "kind.subprocess.mode"},
		{"runtime unknown", withMode(`{"script": {"runtime": "ruby", "body": "YQ=="}}`), `kind.subprocess.mode.script.runtime: expected "bash", "python", "node" or {"custom": {"command": ..., "flag": ...}}`, "kind.subprocess.mode.script.runtime"},
		{"runtime python3", withMode(`{"script": {"runtime": "python3", "body": "YQ=="}}`), `kind.subprocess.mode.script.runtime: expected "bash", "python", "node" or {"custom": {"command": ..., "flag": ...}}`, "kind.subprocess.mode.script.runtime"},
		{"runtime custom as string", withMode(`{"script": {"runtime": "custom", "body": "YQ=="}}`), `kind.subprocess.mode.script.runtime: expected "bash", "python", "node" or {"custom": {"command": ..., "flag": ...}}`, "kind.subprocess.mode.script.runtime"},

		// enum strings
		{"restart type unknown", withTop(`"restart": {"type": "on_failure"}`), `restart.type must be "never", "onFailure" or "always"`, "restart.type"},
		{"restart type absent", withTop(`"restart": {}`), `restart.type must be "never", "onFailure" or "always"`, "restart.type"},
		{"restart as string", withTop(`"restart": "never"`), `restart: expected an object, got a string`, "restart"},
		{"jitter unknown", withTop(`"backoff": {"jitter": "random"}`), `backoff.jitter must be "none", "full", "equal" or "decorrelated"`, "backoff.jitter"},
		{"admission unknown", withTop(`"admission": "drop"`), `admission must be "dropIfRunning", "replace" or "queue"`, "admission"},
		{"admission wrong type", withTop(`"admission": 1`), `admission must be "dropIfRunning", "replace" or "queue"`, "admission"},
		{"stdin unknown", withSubprocess(`{"mode": {"command": {"command": "x"}}, "stdin": "tty"}`), `kind.subprocess.stdin must be "null", "inherit" or "pipe"`, "kind.subprocess.stdin"},
		{"when full unknown", withTop(`"output": {"whenFull": "drop"}`), `output.whenFull must be "dropOldest" or "block"`, "output.whenFull"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := requireSpecError(t, tt.doc)
			assert.Equal(t, tt.msg, se.Msg)
			assert.Equal(t, tt.field, se.Field)
		})
	}
}

func TestParseUintLiteral(t *testing.T) {
	tests := []struct {
		lit     string
		n       uint64
		ok      bool
		inRange bool
	}{
		{"0", 0, true, true},
		{"-0", 0, true, true},
		{"-0.0e5", 0, true, true},
		{"0e99999999999999999999", 0, true, true},
		{"42", 42, true, true},
		{"4.2e1", 42, true, true},
		{"420e-1", 42, true, true},
		{"18446744073709551615", 18446744073709551615, true, true},
		{"1.8446744073709551615e19", 18446744073709551615, true, true},
		{"18446744073709551616", 0, true, false},
		{"1e20", 0, true, false},
		{"1e99999999999999999999", 0, true, false},
		{"-1", 0, false, false},
		{"-1e-5", 0, false, false},
		{"0.5", 0, false, false},
		{"1.0000000000000000001", 0, false, false},
		{"1e-99999999999999999999", 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.lit, func(t *testing.T) {
			n, ok, inRange := parseUintLiteral(tt.lit)
			assert.Equal(t, tt.ok, ok, "ok")
			assert.Equal(t, tt.inRange, inRange, "inRange")
			assert.Equal(t, tt.n, n)
		})
	}
}
