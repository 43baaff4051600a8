package model

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upstreamSpec wraps a kind and extra members in a TaskSpec exactly as
// solti-model 0.0.2's serde_json::to_string writes it: camelCase fields, the
// required restart/backoff/admission always present, labels and
// runnerSelector only when not empty (skip_serializing_if).
func upstreamSpec(kind, extra string) string {
	s := `{"slot":"build","kind":` + kind + `,"timeout":5000,"restart":{"type":"never"},` +
		`"backoff":{"jitter":"full","firstMs":1000,"maxMs":30000,"factor":2.0},"admission":"dropIfRunning"`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

const upstreamCommand = `{"subprocess":{"mode":{"command":{"command":"echo","args":["hi"]}},"failOnNonZero":true}}`

// Specs as upstream 0.0.2 serializes them; each must parse. The source of
// each shape is named: all in crates/solti-model/src of soltiHQ/sdk.
func TestUpstreamSpecsAreAccepted(t *testing.T) {
	for name, doc := range map[string]string{
		// resource/spec.rs: TaskSpec, camelCase, timeout in ms.
		"command": upstreamSpec(upstreamCommand, ""),
		// domain/kind/task.rs: SubprocessSpec env (TaskEnv, a list of
		// KeyValue) and cwd (Option<PathBuf>, skipped when None).
		"env and cwd": upstreamSpec(`{"subprocess":{"mode":{"command":{"command":"env","args":[]}},"env":[{"key":"A","value":"1"}],"cwd":"/tmp","failOnNonZero":false}}`, ""),
		// domain/kind/subprocess.rs, runtime.rs: script mode, each runtime.
		"script bash":   upstreamSpec(`{"subprocess":{"mode":{"script":{"runtime":"bash","body":"ZWNobyBoaQ==","args":[]}},"failOnNonZero":true}}`, ""),
		"script python": upstreamSpec(`{"subprocess":{"mode":{"script":{"runtime":"python","body":"cHJpbnQoMSk=","args":["x"]}},"failOnNonZero":true}}`, ""),
		"script node":   upstreamSpec(`{"subprocess":{"mode":{"script":{"runtime":"node","body":"MQ==","args":[]}},"failOnNonZero":true}}`, ""),
		"script custom": upstreamSpec(`{"subprocess":{"mode":{"script":{"runtime":{"custom":{"command":"ruby","flag":"-e"}},"body":"cCAx","args":[]}},"failOnNonZero":true}}`, ""),
		// domain/policy/restart.rs: internally tagged, Always's interval
		// skipped when None.
		"restart onFailure": rep(upstreamSpec(upstreamCommand, ""), `{"type":"never"}`, `{"type":"onFailure"}`),
		"restart always":    rep(upstreamSpec(upstreamCommand, ""), `{"type":"never"}`, `{"type":"always"}`),
		"restart periodic":  rep(upstreamSpec(upstreamCommand, ""), `{"type":"never"}`, `{"type":"always","intervalMs":60000}`),
		// domain/policy/jitter.rs: every jitter.
		"jitter none":         rep(upstreamSpec(upstreamCommand, ""), `"jitter":"full"`, `"jitter":"none"`),
		"jitter equal":        rep(upstreamSpec(upstreamCommand, ""), `"jitter":"full"`, `"jitter":"equal"`),
		"jitter decorrelated": rep(upstreamSpec(upstreamCommand, ""), `"jitter":"full"`, `"jitter":"decorrelated"`),
		// domain/policy/admission.rs: every admission.
		"admission replace": rep(upstreamSpec(upstreamCommand, ""), `"dropIfRunning"`, `"replace"`),
		"admission queue":   rep(upstreamSpec(upstreamCommand, ""), `"dropIfRunning"`, `"queue"`),
		// domain/label.rs: Labels, a map of strings.
		"labels": upstreamSpec(upstreamCommand, `"labels":{"team":"infra","tier":"prod"}`),
		// domain/selector/runner.rs, requirement.rs, operator.rs: every operator.
		"selector": upstreamSpec(upstreamCommand, `"runnerSelector":{"matchLabels":{"runner-name":"r1"},"matchExpressions":[`+
			`{"key":"zone","operator":"In","values":["eu","us"]},{"key":"tier","operator":"NotIn","values":["dev"]},`+
			`{"key":"gpu","operator":"Exists"},{"key":"tainted","operator":"DoesNotExist"}]}`),
		// domain/selector/runner.rs: an empty selector serializes as {}.
		"empty selector": upstreamSpec(upstreamCommand, `"runnerSelector":{}`),
	} {
		t.Run(name, func(t *testing.T) {
			s, err := ParseTaskSpec([]byte(doc))
			require.NoError(t, err, doc)
			assert.Equal(t, uint64(5000), s.TimeoutMs)
		})
	}
}

func TestUpstreamFieldsAreKept(t *testing.T) {
	s, err := ParseTaskSpec([]byte(upstreamSpec(upstreamCommand, `"labels":{"team":"infra"},"runnerSelector":{"matchExpressions":[{"key":"zone","operator":"In","values":["eu"]}]}`)))
	require.NoError(t, err)
	assert.Equal(t, Labels{"team": "infra"}, s.Labels)
	require.NotNil(t, s.RunnerSelector)
	assert.Equal(t, []SelectorRequirement{{Key: "zone", Operator: OpIn, Values: []string{"eu"}}}, s.RunnerSelector.MatchExpressions)
	assert.Equal(t, "", s.RunnerSelector.Mismatch(Labels{"zone": "eu"}))
	assert.Equal(t, "matchExpressions[0] zone In [eu]", s.RunnerSelector.Mismatch(Labels{"zone": "us"}))
}

// Specs upstream refuses, refused here, with the rule's upstream source.
func TestUpstreamRejectsAreRejected(t *testing.T) {
	for name, c := range map[string]struct{ doc, msg string }{
		// resource/spec.rs validate: timeout > 0.
		"timeout zero": {rep(upstreamSpec(upstreamCommand, ""), `"timeout":5000`, `"timeout":0`), "timeout must be greater than zero"},
		// resource/spec.rs validate: slot not empty.
		"slot empty": {rep(upstreamSpec(upstreamCommand, ""), `"slot":"build"`, `"slot":""`), "slot must not be empty"},
		// domain/selector/requirement.rs validate: In/NotIn need values.
		"In without values": {upstreamSpec(upstreamCommand, `"runnerSelector":{"matchExpressions":[{"key":"zone","operator":"In","values":[]}]}`),
			"selector requirement 'zone' with operator In must have non-empty values"},
		"NotIn without values": {upstreamSpec(upstreamCommand, `"runnerSelector":{"matchExpressions":[{"key":"zone","operator":"NotIn"}]}`),
			"selector requirement 'zone' with operator NotIn must have non-empty values"},
		// requirement.rs validate: Exists/DoesNotExist take no values.
		"Exists with values": {upstreamSpec(upstreamCommand, `"runnerSelector":{"matchExpressions":[{"key":"gpu","operator":"Exists","values":["a"]}]}`),
			"selector requirement 'gpu' with operator Exists must have empty values"},
		// requirement.rs: key not empty.
		"empty key": {upstreamSpec(upstreamCommand, `"runnerSelector":{"matchExpressions":[{"key":" ","operator":"Exists"}]}`),
			"runnerSelector.matchExpressions[0].key: selector requirement key must not be empty"},
		// operator.rs: the variants are PascalCase.
		"operator lower case": {upstreamSpec(upstreamCommand, `"runnerSelector":{"matchExpressions":[{"key":"gpu","operator":"exists"}]}`),
			`runnerSelector.matchExpressions[0].operator must be "In", "NotIn", "Exists" or "DoesNotExist"`},
		// requirement.rs: deny_unknown_fields.
		"requirement unknown field": {upstreamSpec(upstreamCommand, `"runnerSelector":{"matchExpressions":[{"key":"gpu","operator":"Exists","value":"x"}]}`),
			`unknown field "value" in runnerSelector.matchExpressions[0]`},
		// domain/kind/subprocess.rs validate: command trimmed non-empty.
		"blank command": {upstreamSpec(`{"subprocess":{"mode":{"command":{"command":"  ","args":[]}},"failOnNonZero":true}}`, ""), "subprocess command cannot be empty"},
		// runtime.rs validate: custom command and flag trimmed non-empty.
		"blank custom flag": {upstreamSpec(`{"subprocess":{"mode":{"script":{"runtime":{"custom":{"command":"ruby","flag":" "}},"body":"cCAx","args":[]}},"failOnNonZero":true}}`, ""),
			"script runtime custom flag cannot be empty"},
		"blank custom command": {upstreamSpec(`{"subprocess":{"mode":{"script":{"runtime":{"custom":{"command":"\t","flag":"-e"}},"body":"cCAx","args":[]}},"failOnNonZero":true}}`, ""),
			"script runtime custom command cannot be empty"},
		// domain/kv.rs: KeyValue has no default for key or value.
		"env without value": {upstreamSpec(`{"subprocess":{"mode":{"command":{"command":"env","args":[]}},"env":[{"key":"A"}],"failOnNonZero":true}}`, ""),
			"kind.subprocess.env[0].value is required"},
		"env without key": {upstreamSpec(`{"subprocess":{"mode":{"command":{"command":"env","args":[]}},"env":[{"value":"1"}],"failOnNonZero":true}}`, ""),
			"kind.subprocess.env[0].key is required"},
		// domain/policy/backoff.rs validate.
		"backoff first zero":       {rep(upstreamSpec(upstreamCommand, ""), `"firstMs":1000`, `"firstMs":0`), "backoff first_ms must be greater than zero"},
		"backoff max below first":  {rep(upstreamSpec(upstreamCommand, ""), `"maxMs":30000`, `"maxMs":10`), "backoff max_ms must be >= first_ms"},
		"backoff factor below one": {rep(upstreamSpec(upstreamCommand, ""), `"factor":2.0`, `"factor":0.5`), "backoff factor must be finite and >= 1.0"},
		// domain/policy/restart.rs: an unknown tag.
		"restart unknown": {rep(upstreamSpec(upstreamCommand, ""), `{"type":"never"}`, `{"type":"sometimes"}`), `restart.type must be "never", "onFailure" or "always"`},
		// domain/label.rs: labels are strings.
		"label not a string": {upstreamSpec(upstreamCommand, `"labels":{"n":1}`), "labels.n: expected a string, got 1"},
		// This project: timeout and its alias at once.
		"timeout twice": {upstreamSpec(upstreamCommand, `"timeoutMs":5000`), `"timeout" and "timeoutMs" are the same field: give only one`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseTaskSpec([]byte(c.doc))
			require.Error(t, err, c.doc)
			assert.Equal(t, "invalid specification: "+c.msg, err.Error())
		})
	}
}

func TestTimeoutMsIsAnAlias(t *testing.T) {
	s, err := ParseTaskSpec([]byte(`{"slot":"s","kind":"embedded","timeoutMs":42}`))
	require.NoError(t, err)
	assert.Equal(t, uint64(42), s.TimeoutMs)
}

func rep(s, old, new string) string { return strings.Replace(s, old, new, 1) }

// Invalid UTF-8 in a string is refused, naming the string's field: the
// JSON decoder would have replaced it with U+FFFD, changing an argument or
// a value without a word.
func TestInvalidUTF8IsRefusedNamingTheField(t *testing.T) {
	for doc, want := range map[string]string{
		"{\"slot\":\"s\",\"kind\":\"embedded\",\"timeout\":1,\"labels\":{\"a\":\"x\xffy\"}}":                                                      `labels.a: invalid UTF-8 at byte 58`,
		"{\"slot\":\"s\",\"kind\":\"embedded\",\"timeout\":1,\"labels\":{\"a\xc3\":\"x\"}}":                                                       `a key of labels: invalid UTF-8 at byte 54`,
		"{\"slot\":\"s\",\"timeout\":1,\"kind\":{\"subprocess\":{\"mode\":{\"command\":{\"command\":\"echo\",\"args\":[\"ok\",\"\xe2\x82\"]}}}}}": `kind.subprocess.mode.command.args[1]: invalid UTF-8 at byte 96`,
	} {
		_, err := ParseTaskSpec([]byte(doc))
		require.Error(t, err, doc)
		assert.Equal(t, "invalid specification: "+want, err.Error())
	}
	_, err := ParseRunnerConfig([]byte("{\"env\":[{\"key\":\"A\",\"value\":\"\xff\"}]}"))
	require.Error(t, err)
	assert.Equal(t, `invalid runner configuration: env[0].value: invalid UTF-8 at byte 28`, err.Error())
}

// upstream004 is a spec in upstream solti-model 0.0.4's shape
// (resource/spec.rs with the workload envelope of domain/kind/task.rs).
func upstream004(spec, extra string) string {
	s := `{"slot":"build","workload":{"apiVersion":"solti.io/v1","kind":"Subprocess","spec":` + spec + `},` +
		`"timeout":5000,"restart":{"type":"never"},"backoff":{"jitter":"full","firstMs":1000,"maxMs":30000,"factor":2.0},"admission":"dropIfRunning"`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func TestUpstream004SpecsAreAccepted(t *testing.T) {
	s, err := ParseTaskSpec([]byte(upstream004(`{"mode":{"command":{"command":"echo","args":["hi"]}},"failOnNonZero":true}`, `"maxRetries":3`)))
	require.NoError(t, err)
	require.NotNil(t, s.Kind.Subprocess)
	assert.Equal(t, "echo", s.Kind.Subprocess.Mode.Command.Command)
	assert.Equal(t, uint32(3), s.MaxRetries)
	assert.True(t, s.FailureRetries)

	// domain/kind/subprocess.rs 0.0.4: Script { interpreter, body, args }.
	s, err = ParseTaskSpec([]byte(upstream004(`{"mode":{"script":{"interpreter":"bash","body":"ZWNobyBoaQ==","args":[]}}}`, "")))
	require.NoError(t, err)
	assert.Equal(t, "bash", s.Kind.Subprocess.Mode.Script.Runtime.Program())
}

func TestUpstream004RejectsAndMixedShapes(t *testing.T) {
	cmd := `{"mode":{"command":{"command":"echo"}}}`
	for name, c := range map[string]struct{ doc, msg string }{
		"both kind and workload": {rep(upstream004(cmd, ""), `"slot":"build",`, `"slot":"build","kind":"embedded",`),
			`task spec mixes the 0.0.2 shape ("kind") and the 0.0.4 shape ("workload"): give one`},
		"runtime in a workload": {upstream004(`{"mode":{"script":{"runtime":"bash","body":"YQ=="}}}`, ""),
			`workload.spec.mode.script.runtime: "runtime" belongs to the other task spec shape; with "kind" a script has "runtime", with "workload" it has "interpreter"`},
		"interpreter in a kind": {upstreamSpec(`{"subprocess":{"mode":{"script":{"interpreter":"bash","body":"YQ=="}}}}`, ""),
			`kind.subprocess.mode.script.interpreter: "interpreter" belongs to the other task spec shape; with "kind" a script has "runtime", with "workload" it has "interpreter"`},
		// resource/spec.rs 0.0.4: max_retries is Option<NonZeroU32>.
		"maxRetries zero": {upstream004(cmd, `"maxRetries":0`), "maxRetries must be greater than zero (leave it out for unlimited)"},
		// domain/kind/task.rs: RawWorkloadEnvelope denies unknown fields.
		"envelope unknown field": {rep(upstream004(cmd, ""), `"kind":"Subprocess",`, `"kind":"Subprocess","name":"x",`), `unknown field "name" in workload`},
		"wrong apiVersion":       {rep(upstream004(cmd, ""), `solti.io/v1`, `solti.io/v2`), `workload.apiVersion must be "solti.io/v1"`},
		"blank interpreter":      {upstream004(`{"mode":{"script":{"interpreter":" ","body":"YQ=="}}}`, ""), "script interpreter cannot be empty"},
		"missing spec":           {rep(upstream004(cmd, ""), `,"spec":`+cmd, ``), "workload.spec is required"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseTaskSpec([]byte(c.doc))
			require.Error(t, err, c.doc)
			assert.Equal(t, "invalid specification: "+c.msg, err.Error())
		})
	}
}
