package model

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withSubprocess is a valid task spec around the given subprocess body.
func withSubprocess(body string) string {
	return fmt.Sprintf(`{"slot": "s", "kind": {"subprocess": %s}, "timeoutMs": 1000}`, body)
}

// withMode is a valid task spec around the given mode.
func withMode(mode string) string {
	return withSubprocess(fmt.Sprintf(`{"mode": %s}`, mode))
}

// withTop is a valid command task spec plus extra top-level fields.
func withTop(extra string) string {
	return `{"slot": "s", "kind": {"subprocess": {"mode": {"command": {"command": "true"}}}}, "timeoutMs": 1000, ` + extra + `}`
}

// requireSpecError parses a task spec that must fail and returns its error.
func requireSpecError(t *testing.T, doc string) *SpecError {
	t.Helper()
	spec, err := ParseTaskSpec([]byte(doc))
	require.Error(t, err, "spec unexpectedly parsed: %+v", spec)
	assert.Nil(t, spec)
	var se *SpecError
	require.True(t, errors.As(err, &se), "want *SpecError, got %T: %v", err, err)
	assert.Equal(t, "invalid specification: "+se.Msg, err.Error())
	return se
}

// requireConfigError parses a runner config that must fail.
func requireConfigError(t *testing.T, doc string) *ConfigError {
	t.Helper()
	cfg, err := ParseRunnerConfig([]byte(doc))
	require.Error(t, err, "config unexpectedly parsed: %+v", cfg)
	assert.Nil(t, cfg)
	var ce *ConfigError
	require.True(t, errors.As(err, &ce), "want *ConfigError, got %T: %v", err, err)
	assert.Equal(t, "invalid runner configuration: "+ce.Msg, err.Error())
	return ce
}

func parseSpec(t *testing.T, doc string) *TaskSpec {
	t.Helper()
	spec, err := ParseTaskSpec([]byte(doc))
	require.NoError(t, err)
	require.NotNil(t, spec)
	return spec
}

func parseConfig(t *testing.T, doc string) *RunnerConfig {
	t.Helper()
	cfg, err := ParseRunnerConfig([]byte(doc))
	require.NoError(t, err)
	require.NotNil(t, cfg)
	return cfg
}

func u64(n uint64) *uint64 { return &n }
