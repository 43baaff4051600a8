package model

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fuzz targets run their seeds as ordinary tests; `go test -fuzz` digs
// further. The properties: no panic, every failure is the package's own
// error type with its prefix, nothing that is not JSON ever parses, and
// whatever parses is valid.

func FuzzParseTaskSpec(f *testing.F) {
	for _, seed := range []string{
		specExample,
		withTop(`"maxRetries": 3, "killGraceMs": 10, "output": {"capacity": 1, "maxBytes": 1, "whenFull": "block"}`),
		withTop(`"restart": {"type": "always", "intervalMs": 5}, "backoff": {"jitter": "none", "firstMs": 1, "maxMs": 1, "factor": 1}`),
		withMode(`{"script": {"runtime": "bash", "body": "ZWNobyBoaQ==", "args": ["x"]}}`),
		withMode(`{"script": {"runtime": {"custom": {"command": "ruby", "flag": "-e"}}, "body": "cHV0cyAx"}}`),
		withSubprocess(`{"mode": {"command": {"command": "x"}}, "env": [{"key": "A", "value": "B"}], "stdin": "inherit"}`),
		`{"slot": "s", "kind": "embedded", "timeoutMs": 1e3}`,
		`{"slot": "s", "kind": {"wasm": {"a": [1, {"b": null}]}}, "timeoutMs": 1}`,
		`{"slot": "s", "kind": {"container": {}}, "timeoutMs": 1}`,
		`{"slot": "a/b", "kind": "embedded", "timeoutMs": 0}`,
		`{"slot": "s", "timeoutMS": 1}`,
		`{"slot": "s", "slot": "t"}`,
		withMode(`{"script": {"runtime": "bash", "body": "YQ"}}`),
		`{} {}`, ``, `null`, `[`, `{"slot": -0.0e-1}`, `"\ud800"`,
		upstreamSpec(upstreamCommand, `"labels":{"a":"b"},"runnerSelector":{"matchLabels":{"x":"y"},"matchExpressions":[{"key":"k","operator":"In","values":["v"]}]}`),
		`{"slot": "s", "kind": "embedded", "timeout": 1, "timeoutMs": 1}`,
		"{\"slot\": \"s\", \"kind\": \"embedded\", \"timeout\": 1, \"labels\": {\"a\": \"\xff\"}}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseTaskSpec(data)
		if err != nil {
			assert.Nil(t, spec)
			var se *SpecError
			require.True(t, errors.As(err, &se), "want *SpecError, got %T: %v", err, err)
			assert.True(t, strings.HasPrefix(err.Error(), "invalid specification: "), err.Error())
			assert.NotEmpty(t, se.Msg)
			return
		}
		require.NotNil(t, spec)
		assert.True(t, json.Valid(data), "parsed a document that is not JSON: %q", data)
		require.NoError(t, spec.Validate())
		if sub := spec.Kind.Subprocess; sub != nil && sub.Mode.Script != nil {
			body, err := sub.Mode.Script.DecodeBody()
			require.NoError(t, err)
			assert.LessOrEqual(t, len(body), MaxScriptBodyBytes)
			assert.NotEmpty(t, sub.Mode.Script.Runtime.Program())
		}
	})
}

func FuzzParseRunnerConfig(f *testing.F) {
	for _, seed := range []string{
		configExample,
		`{}`,
		`{"cgroups": {"cpu": {}}, "security": {}, "rlimits": {}, "drainGraceMs": 0}`,
		`{"rlimits": {"maxAddressSpaceBytes": 1, "maxCpuSeconds": 1, "maxProcesses": 0}}`,
		`{"cgroups": {"cpu": {"quota": 200000, "period": 100000}}}`,
		`{"cgroups": {"parent": "/a/../b"}}`,
		`{"security": {"dropAllCaps": true, "keepCaps": ["cap_chown", "FOO"]}}`,
		`{"security": {"keepCaps": ["CHOWN"]}}`,
		`{"output": {"capacity": 0}}`,
		`{"log": {"maxLineLength": 1.5}}`,
		`{"rlimit": {}}`, ``, `null`, `[]`, `{"env": [{"key": "A=B"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseRunnerConfig(data)
		if err != nil {
			assert.Nil(t, cfg)
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "want *ConfigError, got %T: %v", err, err)
			assert.True(t, strings.HasPrefix(err.Error(), "invalid runner configuration: "), err.Error())
			assert.NotEmpty(t, ce.Msg)
			return
		}
		require.NotNil(t, cfg)
		assert.True(t, json.Valid(data), "parsed a document that is not JSON: %q", data)
		require.NoError(t, cfg.Validate())
		if s := cfg.Security; s != nil {
			var mask uint64
			for _, name := range s.KeepCaps {
				n, ok := CapabilityByName(name)
				require.True(t, ok, name)
				mask |= 1 << uint(n)
			}
			assert.Equal(t, mask, s.KeepCapMask)
		}
	})
}
