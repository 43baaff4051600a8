package runner

import (
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/output"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A spec in upstream 0.0.4's shape builds and runs; its maxRetries is a
// budget of consecutive failure retries.
func TestUpstream004SpecRuns(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, []byte(`{"slot":"w4","workload":{"apiVersion":"solti.io/v1","kind":"Subprocess",`+
		`"spec":{"mode":{"script":{"interpreter":"bash","body":"ZWNobyBoaTsgZXhpdCAx","args":[]}},"failOnNonZero":true}},`+
		`"timeout":5000,"restart":{"type":"onFailure"},"maxRetries":2,`+
		`"backoff":{"jitter":"none","firstMs":10,"maxMs":10,"factor":1.0},"admission":"dropIfRunning"}`))
	require.NoError(t, task.Spawn())
	rep, err := task.Wait(10 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, OutcomeFailure, rep.Outcome)
	assert.Equal(t, uint32(3), task.Attempts(), "two failure retries after the first attempt")
	evs := readAll(t, task)
	assert.Equal(t, []string{"hi", "hi", "hi"}, lines(evs, output.Stdout))
}
