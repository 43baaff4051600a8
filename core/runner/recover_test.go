package runner

import (
	"errors"
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/output"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// setHook installs a test hook for the rest of the test.
func setHook(t *testing.T, h interface {
	Store(*func())
}, f func()) {
	t.Cleanup(func() { h.Store(nil) })
	h.Store(&f)
}

// gone reports whether pid is dead (or a zombie nobody waits for), bounded.
func gone(pid int) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if unix.Kill(pid, 0) == unix.ESRCH {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// A panic in the supervision loop's goroutine fails the task with an internal
// error instead of aborting the host; the attempt's tree dies with it, and
// the restart policy does not run it again.
func TestPanicInSupervisionLoopFailsTheTask(t *testing.T) {
	setHook(t, &hookSupervising, func() { panic("injected") })
	r := newRunner(t, "")
	task := build(t, r, spec("panic-loop", command("sleep", "30"), map[string]any{
		"restart":    map[string]any{"type": "onFailure"},
		"maxRetries": 3,
	}))
	require.NoError(t, task.Spawn())
	rep, err := task.Wait(10 * time.Second)
	var ie *InternalError
	require.True(t, errors.As(err, &ie), "Wait: %v", err)
	assert.Contains(t, ie.Error(), "supervision loop panicked: injected")
	assert.Equal(t, OutcomeFatal, rep.Outcome)
	assert.Equal(t, uint32(1), task.Attempts())
	evs := readAll(t, task)
	started := eventsOf(evs, output.KindStarted)
	require.Len(t, started, 1)
	assert.True(t, gone(int(started[0].Value)), "the attempt's target still runs")
	fin := eventsOf(evs, output.KindFinished)
	require.Len(t, fin, 1)
	assert.Equal(t, int64(OutcomeFatal), fin[0].Value)
}

// A panic on Spawn's own goroutine, after the child started, ends the run:
// Spawn returns the internal error, the task is done, its child is gone.
func TestPanicInSpawnEndsTheRun(t *testing.T) {
	var task *Task
	pid := 0
	setHook(t, &hookLaunched, func() {
		pid = task.run.proc.Pid // task.mu is not needed: Spawn's goroutine set both
		panic("injected")
	})
	r := newRunner(t, "")
	task = build(t, r, spec("panic-spawn", command("sleep", "30"), nil))
	err := task.Spawn()
	var ie *InternalError
	require.True(t, errors.As(err, &ie), "Spawn: %v", err)
	assert.Contains(t, ie.Error(), "spawn panicked: injected")
	rep, err := task.Wait(0)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, OutcomeFatal, rep.Outcome)
	require.NotZero(t, pid)
	assert.True(t, gone(pid), "the attempt's target still runs")
	assert.Len(t, eventsOf(readAll(t, task), output.KindFinished), 1)
}
