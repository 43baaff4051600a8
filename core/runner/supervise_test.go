package runner

import (
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/output"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func eventsOf(evs []output.Event, kind output.Kind) []output.Event {
	var out []output.Event
	for _, e := range evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func TestOnFailureRetriesWithBackoffDelays(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("retry", command("sh", "-c", "exit 1"), map[string]any{
		"restart":    map[string]any{"type": "onFailure"},
		"maxRetries": 2,
		"backoff":    map[string]any{"jitter": "none", "firstMs": 100, "maxMs": 1000, "factor": 2.0},
	}))
	rep, evs := runToEnd(t, task)
	assert.Equal(t, OutcomeFailure, rep.Outcome)
	assert.Equal(t, uint32(3), rep.Attempt)
	assert.Equal(t, uint32(3), task.Attempts())

	started, finished := eventsOf(evs, output.KindStarted), eventsOf(evs, output.KindFinished)
	require.Len(t, started, 3)
	require.Len(t, finished, 3)
	for i, want := range []int64{100, 200} { // first*factor^n, no jitter
		gap := started[i+1].TsMs - finished[i].TsMs
		assert.GreaterOrEqual(t, gap, want-1, "delay before attempt %d", i+2)
		assert.Less(t, gap, want+400, "delay before attempt %d", i+2)
	}
	for i, f := range finished {
		assert.Equal(t, uint32(i+1), f.Attempt)
		assert.Equal(t, int64(OutcomeFailure), f.Value)
	}
}

func TestJitterIsInjectable(t *testing.T) {
	r := newRunner(t, "", func(o *Options) { o.Rand = func() float64 { return 0 } })
	task := build(t, r, spec("jitter", command("false"), map[string]any{
		"restart":    map[string]any{"type": "onFailure"},
		"maxRetries": 3,
		"backoff":    map[string]any{"jitter": "full", "firstMs": 5000, "maxMs": 5000, "factor": 1.0},
	}))
	start := time.Now()
	rep, _ := runToEnd(t, task)
	assert.Equal(t, uint32(4), rep.Attempt)
	assert.Less(t, time.Since(start), 3*time.Second, "full jitter with rand 0 waits nothing, not 5 s each")
}

func TestAlwaysRestartsAfterSuccessUntilCanceled(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("always", command("true"), map[string]any{
		"restart": map[string]any{"type": "always", "intervalMs": 100},
	}))
	require.NoError(t, task.Spawn())
	deadline := time.Now().Add(5 * time.Second)
	for task.Attempts() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.GreaterOrEqual(t, task.Attempts(), uint32(3))
	_, err := task.Wait(0)
	assert.ErrorIs(t, err, ErrTimeout, "still scheduled")
	task.Cancel()
	_, err = task.Wait(2 * time.Second)
	require.NoError(t, err)
	n := task.Attempts()
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, n, task.Attempts(), "no attempt after cancel")
}

func TestCancelDuringBackoffSleepReturnsAtOnce(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("sleepy", command("false"), map[string]any{
		"restart": map[string]any{"type": "onFailure"},
		"backoff": map[string]any{"jitter": "none", "firstMs": 60000, "maxMs": 60000, "factor": 1.0},
	}))
	require.NoError(t, task.Spawn())
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if evs, _, _ := task.Poll(0, 16, 1<<16, 0); len(eventsOf(evs, output.KindFinished)) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	task.Cancel()
	rep, err := task.Wait(2 * time.Second)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 500*time.Millisecond)
	assert.Equal(t, OutcomeFailure, rep.Outcome, "the last attempt is the one that failed")
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, uint32(1), task.Attempts())
}

func TestReplaceCancelsTheRunningAttempt(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("replace", command("sleep", "30"), map[string]any{"admission": "replace"}))
	require.NoError(t, task.Spawn())
	require.NoError(t, task.Spawn())
	task.Cancel()
	rep, evs := func() (ExitReport, []output.Event) {
		evs := readAll(t, task)
		rep, err := task.Wait(5 * time.Second)
		require.NoError(t, err)
		return rep, evs
	}()
	assert.Equal(t, uint32(2), rep.Attempt)
	finished := eventsOf(evs, output.KindFinished)
	require.Len(t, finished, 2)
	assert.Equal(t, int64(OutcomeCanceled), finished[0].Value)
	assert.Equal(t, uint32(1), finished[0].Attempt)
}

func TestQueueRunsAfterTheActiveOne(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("queue", command("sh", "-c", "sleep 0.3; echo done"), map[string]any{"admission": "queue"}))
	require.NoError(t, task.Spawn())
	require.NoError(t, task.Spawn())
	evs := readAll(t, task)
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, uint32(2), rep.Attempt)
	kinds := []output.Kind{}
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []output.Kind{
		output.KindStarted, output.KindLine, output.KindFinished,
		output.KindStarted, output.KindLine, output.KindFinished,
	}, kinds)
}

func TestGracefulStop(t *testing.T) {
	r := newRunner(t, "")
	t.Run("child that traps SIGTERM exits cleanly", func(t *testing.T) {
		task := build(t, r, spec("trap", bashScript(`trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.05; done`),
			map[string]any{"killGraceMs": 1000}))
		require.NoError(t, task.Spawn())
		waitForLine(t, task, "ready")
		start := time.Now()
		task.Cancel()
		rep, err := task.Wait(5 * time.Second)
		require.NoError(t, err)
		assert.Equal(t, OutcomeCanceled, rep.Outcome)
		assert.Equal(t, int32(0), rep.ExitCode)
		assert.Equal(t, "canceled", rep.Reason)
		assert.Less(t, time.Since(start), 900*time.Millisecond)
	})
	t.Run("child that ignores SIGTERM is killed after the grace", func(t *testing.T) {
		task := build(t, r, spec("ignore", bashScript(`trap '' TERM; echo ready; while :; do sleep 0.05; done`),
			map[string]any{"killGraceMs": 1000}))
		require.NoError(t, task.Spawn())
		waitForLine(t, task, "ready")
		start := time.Now()
		task.Cancel()
		rep, err := task.Wait(5 * time.Second)
		require.NoError(t, err)
		took := time.Since(start)
		assert.Equal(t, OutcomeCanceled, rep.Outcome)
		assert.Equal(t, int32(9), rep.Signal)
		assert.GreaterOrEqual(t, took, 950*time.Millisecond)
		assert.Less(t, took, 2*time.Second)
	})
}

func waitForLine(t *testing.T, task *Task, want string) {
	t.Helper()
	var cursor uint64
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		evs, next, err := task.Poll(cursor, 64, 1<<16, 100*time.Millisecond)
		require.NoError(t, err)
		cursor = next
		for _, l := range lines(evs, output.Stdout) {
			if l == want {
				return
			}
		}
	}
	t.Fatalf("line %q never came", want)
}
