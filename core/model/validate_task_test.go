package model

import (
	"encoding/base64"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTaskSpecValidationMessages(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name  string
		doc   string
		msg   string
		field string
	}{
		// slot
		{"slot absent", `{"kind": "embedded", "timeoutMs": 1}`, "slot must not be empty", "slot"},
		{"slot empty", `{"slot": "", "kind": "embedded", "timeoutMs": 1}`, "slot must not be empty", "slot"},
		{"slot too long", `{"slot": "` + strings.Repeat("a", 70) + `", "kind": "embedded", "timeoutMs": 1}`, "slot length 70 exceeds max 64", "slot"},
		{"slot dot", `{"slot": ".", "kind": "embedded", "timeoutMs": 1}`, "slot cannot be '.' or '..'", "slot"},
		{"slot dotdot", `{"slot": "..", "kind": "embedded", "timeoutMs": 1}`, "slot cannot be '.' or '..'", "slot"},
		{"slot slash", `{"slot": "abc/def", "kind": "embedded", "timeoutMs": 1}`, "slot contains forbidden byte 0x2f at position 3 (allowed: [A-Za-z0-9._-])", "slot"},
		{"slot space", `{"slot": " x", "kind": "embedded", "timeoutMs": 1}`, "slot contains forbidden byte 0x20 at position 0 (allowed: [A-Za-z0-9._-])", "slot"},
		{"slot non-ascii", `{"slot": "aé", "kind": "embedded", "timeoutMs": 1}`, "slot contains forbidden byte 0xc3 at position 1 (allowed: [A-Za-z0-9._-])", "slot"},
		{"slot checked before timeout", `{"slot": "", "kind": "embedded"}`, "slot must not be empty", "slot"},

		// timeout
		{"timeout absent", `{"slot": "s", "kind": "embedded"}`, "timeout must be greater than zero", "timeout"},
		{"timeout zero", `{"slot": "s", "kind": "embedded", "timeoutMs": 0}`, "timeout must be greater than zero", "timeout"},
		{"timeout checked before kind", `{"slot": "s"}`, "timeout must be greater than zero", "timeout"},

		// kind and mode presence
		{"kind absent", `{"slot": "s", "timeoutMs": 1}`, `kind is required ("subprocess", "wasm", "container" or "embedded")`, "kind"},
		{"mode absent", withSubprocess(`{}`), `kind.subprocess.mode: expected "command" or "script"`, "kind.subprocess.mode"},

		// command mode
		{"command empty", withMode(`{"command": {"command": ""}}`), "subprocess command cannot be empty", "kind.subprocess.mode.command.command"},
		{"command blank", withMode(`{"command": {"command": "   "}}`), "subprocess command cannot be empty", "kind.subprocess.mode.command.command"},
		{"command absent", withMode(`{"command": {"args": ["x"]}}`), "subprocess command cannot be empty", "kind.subprocess.mode.command.command"},
		{"command NUL", withMode(`{"command": {"command": "tr\u0000ue"}}`), "command must not contain NUL", "kind.subprocess.mode.command.command"},
		{"command args NUL", withMode(`{"command": {"command": "echo", "args": ["ok", "b\u0000ad"]}}`), "args[1] must not contain NUL", "kind.subprocess.mode.command.args[1]"},

		// script mode
		{"script body empty", withMode(`{"script": {"runtime": "bash", "body": ""}}`), "script body cannot be empty", "kind.subprocess.mode.script.body"},
		{"script body absent", withMode(`{"script": {"runtime": "bash"}}`), "script body cannot be empty", "kind.subprocess.mode.script.body"},
		{"script body bad char", withMode(`{"script": {"runtime": "bash", "body": "ZWNo*w=="}}`), "invalid base64 body: illegal base64 data at input byte 4", "kind.subprocess.mode.script.body"},
		{"script body url alphabet", withMode(`{"script": {"runtime": "bash", "body": "-_-_"}}`), "invalid base64 body: illegal base64 data at input byte 0", "kind.subprocess.mode.script.body"},
		{"script body no padding", withMode(`{"script": {"runtime": "bash", "body": "YQ"}}`), "invalid base64 body: length 2 is not a multiple of 4 (padding is required)", "kind.subprocess.mode.script.body"},
		{"script body short padding", withMode(`{"script": {"runtime": "bash", "body": "YQ="}}`), "invalid base64 body: length 3 is not a multiple of 4 (padding is required)", "kind.subprocess.mode.script.body"},
		{"script body non-canonical bits", withMode(`{"script": {"runtime": "bash", "body": "YR=="}}`), "invalid base64 body: illegal base64 data at input byte 2", "kind.subprocess.mode.script.body"},
		{"script body line wrapped", withMode(`{"script": {"runtime": "bash", "body": "ZWNo\nbyBoaQ=="}}`), "invalid base64 body: illegal base64 data at input byte 4", "kind.subprocess.mode.script.body"},
		{"script body not UTF-8", withMode(`{"script": {"runtime": "bash", "body": "` + b64([]byte("ab\xffc")) + `"}}`), "script body is not valid UTF-8: invalid byte 0xff at offset 2", "kind.subprocess.mode.script.body"},
		{"script body too large", withMode(`{"script": {"runtime": "bash", "body": "` + b64([]byte(strings.Repeat("a", MaxScriptBodyBytes+1))) + `"}}`), "script body is 2097153 bytes (decoded), maximum allowed is 2097152 bytes", "kind.subprocess.mode.script.body"},
		{"script custom command empty", withMode(`{"script": {"runtime": {"custom": {"command": " ", "flag": "-e"}}, "body": "YQ=="}}`), "script runtime custom command cannot be empty", "kind.subprocess.mode.script.runtime.custom.command"},
		{"script custom flag empty", withMode(`{"script": {"runtime": {"custom": {"command": "ruby", "flag": ""}}, "body": "YQ=="}}`), "script runtime custom flag cannot be empty", "kind.subprocess.mode.script.runtime.custom.flag"},
		{"script custom flag absent", withMode(`{"script": {"runtime": {"custom": {"command": "ruby"}}, "body": "YQ=="}}`), "script runtime custom flag cannot be empty", "kind.subprocess.mode.script.runtime.custom.flag"},
		{"script body checked before runtime", withMode(`{"script": {"runtime": {"custom": {"command": "", "flag": ""}}, "body": ""}}`), "script body cannot be empty", "kind.subprocess.mode.script.body"},
		{"script runtime absent", withMode(`{"script": {"body": "YQ=="}}`), `kind.subprocess.mode.script.runtime: expected "bash", "python", "node" or {"custom": {"command": ..., "flag": ...}}`, "kind.subprocess.mode.script.runtime"},
		{"script args NUL", withMode(`{"script": {"runtime": "node", "body": "YQ==", "args": ["\u0000"]}}`), "args[0] must not contain NUL", "kind.subprocess.mode.script.args[0]"},

		// backoff
		{"backoff first zero", withTop(`"backoff": {"jitter": "full", "firstMs": 0, "maxMs": 10, "factor": 2}`), "backoff first_ms must be greater than zero", "backoff.firstMs"},
		{"backoff max below first", withTop(`"backoff": {"jitter": "full", "firstMs": 100, "maxMs": 99, "factor": 2}`), "backoff max_ms must be >= first_ms", "backoff.maxMs"},
		{"backoff factor below one", withTop(`"backoff": {"jitter": "full", "firstMs": 1, "maxMs": 10, "factor": 0.5}`), "backoff factor must be finite and >= 1.0", "backoff.factor"},
		{"backoff factor infinite", withTop(`"backoff": {"factor": 1e400}`), "backoff factor must be finite and >= 1.0", "backoff.factor"},
		{"backoff checked before env", `{"slot": "s", "kind": {"subprocess": {"mode": {"command": {"command": "x"}}, "env": [{"key": "", "value": "v"}]}}, "timeoutMs": 1, "backoff": {"firstMs": 0}}`, "backoff first_ms must be greater than zero", "backoff.firstMs"},

		// env
		{"env key empty", withSubprocess(`{"mode": {"command": {"command": "x"}}, "env": [{"key": "A", "value": "1"}, {"key": "", "value": "2"}]}`), "env[1].key must not be empty", "kind.subprocess.env[1].key"},
		{"env key with equals", withSubprocess(`{"mode": {"command": {"command": "x"}}, "env": [{"key": "A", "value": "1"}, {"key": "B", "value": "2"}, {"key": "C=D", "value": "3"}]}`), "env[2].key must not contain '='", "kind.subprocess.env[2].key"},
		{"env key NUL", withSubprocess(`{"mode": {"command": {"command": "x"}}, "env": [{"key": "A\u0000", "value": "1"}]}`), "env[0].key must not contain NUL", "kind.subprocess.env[0].key"},
		{"env value NUL", withSubprocess(`{"mode": {"command": {"command": "x"}}, "env": [{"key": "A", "value": "1\u00002"}]}`), "env[0].value must not contain NUL", "kind.subprocess.env[0].value"},

		// cwd, restart, output override
		{"cwd NUL", withSubprocess(`{"mode": {"command": {"command": "x"}}, "cwd": "/tmp\u0000"}`), "cwd must not contain NUL", "kind.subprocess.cwd"},
		{"interval on never", withTop(`"restart": {"type": "never", "intervalMs": 5}`), `restart.intervalMs is only allowed with type "always"`, "restart.intervalMs"},
		{"interval on onFailure", withTop(`"restart": {"type": "onFailure", "intervalMs": 0}`), `restart.intervalMs is only allowed with type "always"`, "restart.intervalMs"},
		{"output capacity zero", withTop(`"output": {"capacity": 0}`), "output.capacity must be greater than zero", "output.capacity"},
		{"output max bytes zero", withTop(`"output": {"maxBytes": 0}`), "output.max_bytes must be greater than zero", "output.maxBytes"},
		{"output when full", withTop(`"output": {"whenFull": "dropNewest"}`), `output.whenFull must be "dropOldest" or "block"`, "output.whenFull"},
		{"output mode", withTop(`"output": {"mode": "raw"}`), `output.mode must be "lines" or "bytes"`, "output.mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := requireSpecError(t, tt.doc)
			assert.Equal(t, tt.msg, se.Msg)
			assert.Equal(t, tt.field, se.Field)
		})
	}
}

// Specs built in Go skip the decoder, so Validate checks the enums and the
// shapes the decoder would have refused.
func TestTaskSpecValidateGoBuiltMistakes(t *testing.T) {
	valid := func() *TaskSpec {
		return &TaskSpec{
			Slot: "s",
			Kind: TaskKind{Name: KindSubprocess, Subprocess: &SubprocessSpec{
				Mode:  Mode{Command: &CommandMode{Command: "true"}},
				Stdin: StdinNull,
			}},
			TimeoutMs: 1,
			Restart:   RestartPolicy{Type: RestartNever},
			Backoff:   DefaultBackoff(),
			Admission: AdmissionDropIfRunning,
		}
	}
	tests := []struct {
		name   string
		mutate func(s *TaskSpec)
		msg    string
	}{
		{"unknown kind", func(s *TaskSpec) { s.Kind.Name = "vm" }, `kind: expected "subprocess", "wasm", "container" or "embedded"`},
		{"subprocess without body", func(s *TaskSpec) { s.Kind.Subprocess = nil }, "kind.subprocess is missing"},
		{"body on another kind", func(s *TaskSpec) { s.Kind.Name = KindWasm }, `kind is "wasm" but a subprocess spec is set`},
		{"both modes", func(s *TaskSpec) {
			s.Kind.Subprocess.Mode.Script = &ScriptMode{Runtime: Runtime{Name: RuntimeBash}, Body: "YQ=="}
		}, `kind.subprocess.mode: expected "command" or "script"`},
		{"unknown runtime", func(s *TaskSpec) {
			s.Kind.Subprocess.Mode = Mode{Script: &ScriptMode{Runtime: Runtime{Name: "perl"}, Body: "YQ=="}}
		}, `kind.subprocess.mode.script.runtime: expected "bash", "python", "node" or {"custom": {"command": ..., "flag": ...}}`},
		{"custom command NUL", func(s *TaskSpec) {
			s.Kind.Subprocess.Mode = Mode{Script: &ScriptMode{Runtime: Runtime{Name: RuntimeCustom, Command: "r\x00", Flag: "-e"}, Body: "YQ=="}}
		}, "script runtime custom command must not contain NUL"},
		{"stdin empty", func(s *TaskSpec) { s.Kind.Subprocess.Stdin = "" }, `kind.subprocess.stdin must be "null", "inherit" or "pipe"`},
		{"restart empty", func(s *TaskSpec) { s.Restart.Type = "" }, `restart.type must be "never", "onFailure" or "always"`},
		{"interval on never", func(s *TaskSpec) { s.Restart.IntervalMs = 1 }, `restart.intervalMs is only allowed with type "always"`},
		{"jitter empty", func(s *TaskSpec) { s.Backoff.Jitter = "" }, `backoff.jitter must be "none", "full", "equal" or "decorrelated"`},
		{"factor NaN", func(s *TaskSpec) { s.Backoff.Factor = math.NaN() }, "backoff factor must be finite and >= 1.0"},
		{"admission empty", func(s *TaskSpec) { s.Admission = "" }, `admission must be "dropIfRunning", "replace" or "queue"`},
		{"output negative", func(s *TaskSpec) { s.Output = &OutputConfig{Capacity: -1, MaxBytes: 1, WhenFull: WhenFullBlock} }, "output.capacity must be greater than zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.mutate(s)
			assert.EqualError(t, s.Validate(), "invalid specification: "+tt.msg)
		})
	}
}
