package runner

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Debug counts a runner, its task, the running child and the descriptors they
// hold, and every count goes back once the runner is closed (twice: Close is
// idempotent and must not count twice).
func TestDebugCountsAndReturnsToBaseline(t *testing.T) {
	before := Debug()
	r := newRunner(t, "")
	task := build(t, r, spec("debug", command("sleep", "30"), nil))
	_, err := task.ReadyFD()
	require.NoError(t, err)
	require.NoError(t, task.Spawn())

	during := Debug()
	assert.Equal(t, before.Runners+1, during.Runners)
	assert.Equal(t, before.Tasks+1, during.Tasks)
	assert.Equal(t, before.Processes+1, during.Processes)
	assert.Equal(t, before.FDs+5, during.FDs, "pidfd, control socket, two pipes, the readiness eventfd")
	assert.Greater(t, during.Goroutines, before.Goroutines)

	r.Close()
	r.Close()
	after := Debug()
	assert.Equal(t, before.Runners, after.Runners)
	assert.Equal(t, before.Tasks, after.Tasks)
	assert.Equal(t, before.Processes, after.Processes)
	assert.Equal(t, before.FDs, after.FDs)
	// Watchers return asynchronously. Not require.Eventually: it checks on
	// a goroutine of its own.
	deadline := time.Now().Add(5 * time.Second)
	for Debug().Goroutines > before.Goroutines+1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, Debug().Goroutines, before.Goroutines+1)
}
