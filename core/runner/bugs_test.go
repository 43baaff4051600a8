package runner

import (
	"math"
	"os"
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/output"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// A timeout gives the tree its kill grace, as a cancel does: SIGTERM first,
// SIGKILL only after killGraceMs.
func TestTimeoutHonoursKillGrace(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("grace", bashScript(`trap 'echo got term; exit 3' TERM; echo ready; while :; do sleep 0.05; done`),
		map[string]any{"timeout": 300, "killGraceMs": 2000}))
	rep, evs := runToEnd(t, task)
	assert.Equal(t, OutcomeTimeout, rep.Outcome)
	assert.Contains(t, lines(evs, output.Stdout), "got term", "the child saw SIGTERM before any SIGKILL")
	assert.NotEqual(t, int32(unix.SIGKILL), int32(rep.Signal), "the child ended by itself within the grace")
}

// restart always with maxRetries 2 makes three attempts in all, whether
// they succeed or not ("restarts after the first attempt, at most").
func TestAlwaysStopsAfterMaxRetries(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("always", command("true"), map[string]any{
		"restart":    map[string]any{"type": "always"},
		"maxRetries": 2,
		"backoff":    map[string]any{"jitter": "none", "firstMs": 10, "maxMs": 10, "factor": 1.0},
	}))
	require.NoError(t, task.Spawn())
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err, "the run must end after 3 attempts")
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	assert.Equal(t, uint32(3), task.Attempts())
}

// A capability drop that fails with failOnCapError false is not silent:
// readers get a WARNING event before STARTED.
func TestCapDropFailureIsAWarningEvent(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("as root the bounding set can be emptied, so there is nothing to warn about")
	}
	r := newRunner(t, `{"security": {"dropAllCaps": true, "failOnCapError": false}}`)
	rep, evs := runToEnd(t, build(t, r, spec("capwarn", command("true"), nil)))
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	warns := eventsOf(evs, output.KindWarning)
	require.NotEmpty(t, warns, "a WARNING event says the drop failed")
	assert.Contains(t, string(warns[0].Data), "bounding set")
	for _, e := range evs {
		if e.Kind == output.KindStarted {
			t.Fatal("STARTED came before the warning")
		}
		if e.Kind == output.KindWarning {
			break
		}
	}
}

// Durations saturate: a timeout of 2^64-1 ms means "never", not a wrapped
// 1 ms.
func TestHugeTimeoutSaturates(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, []byte(`{"slot":"huge","timeout":18446744073709551615,`+
		`"kind":{"subprocess":{"mode":{"command":{"command":"sleep","args":["0.3"]}}}}}`))
	rep, _ := runToEnd(t, task)
	assert.Equal(t, OutcomeSuccess, rep.Outcome, "reason: %s", rep.Reason)
}

// A huge interval or backoff waits (saturated), never restarts in a loop.
func TestHugeRestartDelaysSaturate(t *testing.T) {
	for name, c := range map[string]struct {
		cmd   string
		extra map[string]any
	}{
		// The interval follows a success; the backoff a failure.
		"intervalMs": {"true", map[string]any{"restart": map[string]any{"type": "always", "intervalMs": uint64(math.MaxUint64)}}},
		"backoff": {"false", map[string]any{"restart": map[string]any{"type": "onFailure"},
			"backoff": map[string]any{"jitter": "none", "firstMs": 1e13, "maxMs": 1e13, "factor": 2.0}}},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRunner(t, "")
			task := build(t, r, spec("delay", command(c.cmd), c.extra))
			require.NoError(t, task.Spawn())
			time.Sleep(500 * time.Millisecond)
			assert.Equal(t, uint32(1), task.Attempts(), "no restart within the huge delay")
			task.Cancel()
			_, err := task.Wait(5 * time.Second)
			require.NoError(t, err)
		})
	}
}

// A drain grace beyond time.Duration's range saturates, and cancel still
// ends a task whose escaped grandchild holds its pipe during the drain.
func TestHugeDrainGraceSaturatesAndCancelEndsTheDrain(t *testing.T) {
	r := newRunner(t, `{"drainGraceMs": 9223372036855}`)
	task := build(t, r, spec("drain", bashScript(`setsid sleep 30 & echo "grandchild $!"; echo leader done`), nil))
	require.NoError(t, task.Spawn())
	pid := grandchildPID(t, task)
	t.Cleanup(func() { unix.Kill(pid, unix.SIGKILL) })
	_, err := task.Wait(300 * time.Millisecond)
	require.Error(t, err, "the drain waits while the grandchild holds the pipe")
	task.Cancel()
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err, "cancel ends the drain")
	assert.True(t, rep.Outcome == OutcomeCanceled || rep.Outcome == OutcomeSuccess, "outcome %v", rep.Outcome)
}

// In block mode with unread output, a cancel during the drain ends the
// task: the readers drop what nobody read, as on a cancel before the exit.
func TestCancelDuringBlockedDrainEnds(t *testing.T) {
	r := newRunner(t, `{"drainGraceMs": 100}`)
	task := build(t, r, spec("blockdrain", bashScript(`for i in $(seq 1 200); do echo line $i; done`), map[string]any{
		"output": map[string]any{"capacity": 16, "whenFull": "block"},
	}))
	require.NoError(t, task.Spawn())
	_, err := task.Wait(500 * time.Millisecond)
	require.Error(t, err, "nobody reads, so the block-mode attempt waits")
	task.Cancel()
	_, err = task.Wait(5 * time.Second)
	require.NoError(t, err, "cancel ends it")
}
