package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specExample is the task spec of SPEC section 2, verbatim.
const specExample = `{
  "slot": "nightly-backup",
  "kind": {"subprocess": {
      "mode": {"command": {"command": "tar", "args": ["-czf", "/tmp/x.tgz", "/etc"]}},
      "env": [{"key": "LANG", "value": "C"}],
      "cwd": "/tmp",
      "failOnNonZero": true}},
  "timeoutMs": 60000,
  "restart": {"type": "never"},
  "backoff": {"jitter": "full", "firstMs": 1000, "maxMs": 30000, "factor": 2.0},
  "admission": "dropIfRunning"
}`

func TestParseTaskSpecSpecExample(t *testing.T) {
	spec := parseSpec(t, specExample)

	assert.Equal(t, "nightly-backup", spec.Slot)
	assert.Equal(t, KindSubprocess, spec.Kind.Name)
	require.NotNil(t, spec.Kind.Subprocess)
	sub := spec.Kind.Subprocess
	require.NotNil(t, sub.Mode.Command)
	assert.Nil(t, sub.Mode.Script)
	assert.Equal(t, &CommandMode{Command: "tar", Args: []string{"-czf", "/tmp/x.tgz", "/etc"}}, sub.Mode.Command)
	assert.Equal(t, []EnvVar{{Key: "LANG", Value: "C"}}, sub.Env)
	assert.Equal(t, "/tmp", sub.Cwd)
	assert.True(t, sub.FailOnNonZero)
	assert.Equal(t, StdinNull, sub.Stdin)
	assert.Equal(t, uint64(60000), spec.TimeoutMs)
	assert.Equal(t, 60*time.Second, spec.Timeout())
	assert.Equal(t, RestartPolicy{Type: RestartNever}, spec.Restart)
	assert.Equal(t, BackoffPolicy{Jitter: JitterFull, FirstMs: 1000, MaxMs: 30000, Factor: 2.0}, spec.Backoff)
	assert.Equal(t, AdmissionDropIfRunning, spec.Admission)
	assert.Zero(t, spec.MaxRetries)
	assert.Zero(t, spec.KillGraceMs)
	assert.Nil(t, spec.Output)
}

func TestParseTaskSpecDefaults(t *testing.T) {
	spec := parseSpec(t, `{"slot": "s", "kind": {"subprocess": {"mode": {"command": {"command": "true"}}}}, "timeoutMs": 5}`)

	assert.Equal(t, RestartPolicy{Type: RestartNever}, spec.Restart)
	assert.Equal(t, DefaultBackoff(), spec.Backoff)
	assert.Equal(t, BackoffPolicy{Jitter: JitterFull, FirstMs: 1000, MaxMs: 30000, Factor: 2.0}, DefaultBackoff())
	assert.Equal(t, AdmissionDropIfRunning, spec.Admission)
	assert.Zero(t, spec.MaxRetries, "0 = unlimited")
	assert.Zero(t, spec.KillGraceMs, "0 = SIGKILL at once")
	assert.Nil(t, spec.Output)
	sub := spec.Kind.Subprocess
	require.NotNil(t, sub)
	assert.True(t, sub.FailOnNonZero, "failOnNonZero defaults to true")
	assert.Equal(t, StdinNull, sub.Stdin)
	assert.Empty(t, sub.Env)
	assert.Empty(t, sub.Cwd)
	assert.Empty(t, sub.Mode.Command.Args, "args may be omitted")
}

func TestParseTaskSpecNullMeansAbsent(t *testing.T) {
	spec := parseSpec(t, `{"slot": "s", "kind": {"subprocess": {"mode": {"command": {"command": "true", "args": null}},
		"env": null, "cwd": null, "failOnNonZero": null, "stdin": null}}, "timeoutMs": 5,
		"restart": null, "backoff": null, "admission": null, "maxRetries": null, "killGraceMs": null, "output": null}`)

	assert.Equal(t, RestartPolicy{Type: RestartNever}, spec.Restart)
	assert.Equal(t, DefaultBackoff(), spec.Backoff)
	assert.Equal(t, AdmissionDropIfRunning, spec.Admission)
	assert.Nil(t, spec.Output)
	assert.True(t, spec.Kind.Subprocess.FailOnNonZero)
	assert.Equal(t, StdinNull, spec.Kind.Subprocess.Stdin)
}

func TestParseTaskSpecAddedFields(t *testing.T) {
	spec := parseSpec(t, withSubprocess(`{"mode": {"command": {"command": "cat"}}, "stdin": "inherit", "failOnNonZero": false}`))
	assert.Equal(t, StdinInherit, spec.Kind.Subprocess.Stdin)
	assert.False(t, spec.Kind.Subprocess.FailOnNonZero)

	spec = parseSpec(t, withTop(`"maxRetries": 3, "killGraceMs": 2500, "output": {"capacity": 10, "maxBytes": 4096, "whenFull": "block"}`))
	assert.Equal(t, uint32(3), spec.MaxRetries)
	assert.Equal(t, uint64(2500), spec.KillGraceMs)
	assert.Equal(t, 2500*time.Millisecond, spec.KillGrace())
	require.NotNil(t, spec.Output)
	assert.Equal(t, OutputConfig{Capacity: 10, MaxBytes: 4096, WhenFull: WhenFullBlock, Mode: OutputModeLines}, *spec.Output)
}

func TestParseTaskSpecOutputOverrideDefaults(t *testing.T) {
	spec := parseSpec(t, withTop(`"output": {"whenFull": "block"}`))
	require.NotNil(t, spec.Output)
	assert.Equal(t, OutputConfig{Capacity: DefaultOutputCapacity, MaxBytes: DefaultOutputMaxBytes, WhenFull: WhenFullBlock, Mode: OutputModeLines}, *spec.Output)
}

func TestParseTaskSpecPolicies(t *testing.T) {
	tests := []struct {
		name      string
		extra     string
		restart   RestartPolicy
		backoff   BackoffPolicy
		admission Admission
	}{
		{"on failure", `"restart": {"type": "onFailure"}`, RestartPolicy{Type: RestartOnFailure}, DefaultBackoff(), AdmissionDropIfRunning},
		{"always without interval", `"restart": {"type": "always"}`, RestartPolicy{Type: RestartAlways}, DefaultBackoff(), AdmissionDropIfRunning},
		{"always with interval", `"restart": {"type": "always", "intervalMs": 250}`, RestartPolicy{Type: RestartAlways, IntervalMs: 250}, DefaultBackoff(), AdmissionDropIfRunning},
		{"replace", `"admission": "replace"`, RestartPolicy{Type: RestartNever}, DefaultBackoff(), AdmissionReplace},
		{"queue", `"admission": "queue"`, RestartPolicy{Type: RestartNever}, DefaultBackoff(), AdmissionQueue},
		{"jitter none", `"backoff": {"jitter": "none", "firstMs": 10, "maxMs": 10, "factor": 1}`, RestartPolicy{Type: RestartNever}, BackoffPolicy{JitterNone, 10, 10, 1}, AdmissionDropIfRunning},
		{"jitter equal", `"backoff": {"jitter": "equal", "firstMs": 5, "maxMs": 50, "factor": 1.5}`, RestartPolicy{Type: RestartNever}, BackoffPolicy{JitterEqual, 5, 50, 1.5}, AdmissionDropIfRunning},
		{"jitter decorrelated", `"backoff": {"jitter": "decorrelated", "firstMs": 5, "maxMs": 50, "factor": 3}`, RestartPolicy{Type: RestartNever}, BackoffPolicy{JitterDecorrelated, 5, 50, 3}, AdmissionDropIfRunning},
		{"partial backoff keeps defaults", `"backoff": {"maxMs": 60000}`, RestartPolicy{Type: RestartNever}, BackoffPolicy{JitterFull, 1000, 60000, 2.0}, AdmissionDropIfRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := parseSpec(t, withTop(tt.extra))
			assert.Equal(t, tt.restart, spec.Restart)
			assert.Equal(t, tt.backoff, spec.Backoff)
			assert.Equal(t, tt.admission, spec.Admission)
		})
	}
}

func TestParseTaskSpecKinds(t *testing.T) {
	tests := []struct {
		name string
		kind string
		want KindName
	}{
		{"subprocess", `{"subprocess": {"mode": {"command": {"command": "true"}}}}`, KindSubprocess},
		{"wasm", `{"wasm": {"module": "x.wasm", "nested": {"anything": [1, 2, {"goes": null}]}}}`, KindWasm},
		{"empty wasm", `{"wasm": {}}`, KindWasm},
		{"container", `{"container": {"image": "alpine", "whatever": true}}`, KindContainer},
		{"embedded", `"embedded"`, KindEmbedded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := parseSpec(t, `{"slot": "s", "kind": `+tt.kind+`, "timeoutMs": 1}`)
			assert.Equal(t, tt.want, spec.Kind.Name)
			assert.Equal(t, tt.want == KindSubprocess, spec.Kind.Subprocess != nil)
		})
	}
}

func TestParseTaskSpecScriptMode(t *testing.T) {
	spec := parseSpec(t, withMode(`{"script": {"runtime": "python", "body": "cHJpbnQoMSk=", "args": ["a", "b"]}}`))
	s := spec.Kind.Subprocess.Mode.Script
	require.NotNil(t, s)
	assert.Nil(t, spec.Kind.Subprocess.Mode.Command)
	assert.Equal(t, Runtime{Name: RuntimePython}, s.Runtime)
	assert.Equal(t, "cHJpbnQoMSk=", s.Body, "the body is kept as given")
	assert.Equal(t, []string{"a", "b"}, s.Args)
	body, err := s.DecodeBody()
	require.NoError(t, err)
	assert.Equal(t, "print(1)", string(body))

	spec = parseSpec(t, withMode(`{"script": {"runtime": {"custom": {"command": "ruby", "flag": "-e"}}, "body": "cHV0cyAxCg=="}}`))
	s = spec.Kind.Subprocess.Mode.Script
	require.NotNil(t, s)
	assert.Equal(t, Runtime{Name: RuntimeCustom, Command: "ruby", Flag: "-e"}, s.Runtime)
	assert.Equal(t, "ruby", s.Runtime.Program())
	assert.Empty(t, s.Args)
}

// Writers like Python's json print a computed count as 1000.0; any
// spelling of a whole number is that number.
func TestParseTaskSpecIntegerSpellings(t *testing.T) {
	for _, lit := range []string{"1000", "1000.0", "1e3", "1E3", "1e+3", "10000e-1", "0.1e4", "1000.000"} {
		t.Run(lit, func(t *testing.T) {
			spec := parseSpec(t, `{"slot": "s", "kind": "embedded", "timeoutMs": `+lit+`}`)
			assert.Equal(t, uint64(1000), spec.TimeoutMs)
		})
	}
	spec := parseSpec(t, `{"slot": "s", "kind": "embedded", "timeoutMs": 18446744073709551615}`)
	assert.Equal(t, uint64(18446744073709551615), spec.TimeoutMs)
	assert.Equal(t, time.Duration(1<<63-1), spec.Timeout(), "a huge timeout saturates instead of wrapping negative")
}

func TestTaskSpecValidateGoBuilt(t *testing.T) {
	spec := &TaskSpec{
		Slot: "go-built",
		Kind: TaskKind{Name: KindSubprocess, Subprocess: &SubprocessSpec{
			Mode:  Mode{Command: &CommandMode{Command: "true"}},
			Stdin: StdinNull,
		}},
		TimeoutMs: 1,
		Restart:   RestartPolicy{Type: RestartNever},
		Backoff:   DefaultBackoff(),
		Admission: AdmissionQueue,
	}
	require.NoError(t, spec.Validate())

	var zero TaskSpec
	assert.EqualError(t, zero.Validate(), "invalid specification: slot must not be empty")
	var nilSpec *TaskSpec
	assert.EqualError(t, nilSpec.Validate(), "invalid specification: task spec is missing")
}

func TestParseTaskSpecOutputMode(t *testing.T) {
	spec := parseSpec(t, withTop(`"output": {"mode": "bytes"}`))
	require.NotNil(t, spec.Output)
	assert.Equal(t, OutputModeBytes, spec.Output.Mode)
	spec = parseSpec(t, withTop(`"output": {"capacity": 5}`))
	assert.Equal(t, OutputModeLines, spec.Output.Mode, "lines is the default mode")
}
