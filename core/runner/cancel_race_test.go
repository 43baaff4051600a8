package runner

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A cancel right after the spawn must be reported as canceled, every time.
// Cancel signals the group before it returns, so the child may be dead
// before the attempt sees the cancel: its death by our signal is still a
// cancel, not a failure "terminated by signal: SIGKILL" (found by the stress
// test, about once in a few hundred cycles).
func TestCancelRightAfterSpawnIsAlwaysCanceled(t *testing.T) {
	r := newRunner(t, "")
	for i := 0; i < 300; i++ {
		task := build(t, r, spec("cancel-race", command("sleep", "30"), nil))
		require.NoError(t, task.Spawn())
		task.Cancel()
		rep, err := task.Wait(10 * time.Second)
		require.NoError(t, err)
		require.Equal(t, OutcomeCanceled, rep.Outcome, "cycle %d: %s", i, rep.Reason)
		assert.Equal(t, int32(syscall.SIGKILL), rep.Signal)
		assert.Equal(t, "canceled", rep.Reason)
		task.Close()
	}
}

// The same with a kill grace: a child that dies of the SIGTERM at once.
func TestGracefulCancelRightAfterSpawnIsAlwaysCanceled(t *testing.T) {
	r := newRunner(t, "")
	for i := 0; i < 100; i++ {
		task := build(t, r, spec("cancel-race", command("sleep", "30"), map[string]any{"killGraceMs": 5000}))
		require.NoError(t, task.Spawn())
		task.Cancel()
		rep, err := task.Wait(10 * time.Second)
		require.NoError(t, err)
		require.Equal(t, OutcomeCanceled, rep.Outcome, "cycle %d: %s", i, rep.Reason)
		assert.Equal(t, int32(syscall.SIGTERM), rep.Signal)
		task.Close()
	}
}
