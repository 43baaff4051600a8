package runner

import (
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// runningProc waits for the task's running attempt and returns its process.
func runningProc(t *testing.T, task *Task) *proc.Process {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		task.mu.Lock()
		rn := task.run
		task.mu.Unlock()
		if rn != nil {
			rn.mu.Lock()
			p := rn.proc
			rn.mu.Unlock()
			if p != nil {
				return p
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no running attempt")
	return nil
}

// A shim killed from outside loses the target's status: the attempt ends as
// LOST, not as a failure, and onFailure does not restart it.
func TestLostStatusIsItsOwnOutcomeAndNeverRestarts(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("lost", command("sleep", "1"), map[string]any{
		"restart":    map[string]any{"type": "onFailure"},
		"maxRetries": 3,
		"backoff":    map[string]any{"jitter": "none", "firstMs": 10, "maxMs": 10, "factor": 1.0},
	}))
	require.NoError(t, task.Spawn())
	p := runningProc(t, task)
	require.NoError(t, unix.Kill(p.ShimPid, unix.SIGKILL))
	rep, err := task.Wait(10 * time.Second)
	assert.ErrorIs(t, err, proc.ErrStatusLost)
	assert.Equal(t, OutcomeLost, rep.Outcome)
	assert.Contains(t, rep.Reason, "lost")
	// No other attempt follows, even after the backoff had passed.
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, uint32(1), task.Attempts())
	evs := readAll(t, task)
	assert.Len(t, eventsOf(evs, output.KindStarted), 1)
}
