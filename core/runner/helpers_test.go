package runner

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
	"github.com/stretchr/testify/require"
)

// TestMain runs the whole suite, then checks that the process tests left no
// child, descriptor or goroutine behind.
func TestMain(m *testing.M) {
	os.Exit(testutil.RunChecked(m))
}

func newRunner(t *testing.T, cfgJSON string, opts ...func(*Options)) *Runner {
	t.Helper()
	var cfg *model.RunnerConfig
	if cfgJSON != "" {
		c, err := model.ParseRunnerConfig([]byte(cfgJSON))
		require.NoError(t, err)
		cfg = c
	}
	o := Options{ShimPath: testutil.ShimPath(t)}
	for _, f := range opts {
		f(&o)
	}
	r, err := New("test-runner", cfg, o)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

// spec builds a task spec JSON around a subprocess body.
func spec(slot string, sub map[string]any, extra map[string]any) []byte {
	m := map[string]any{
		"slot":    slot,
		"timeout": 10000,
		"kind":    map[string]any{"subprocess": sub},
	}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func command(cmd string, args ...string) map[string]any {
	return map[string]any{"mode": map[string]any{"command": map[string]any{"command": cmd, "args": args}}}
}

func bashScript(body string, args ...string) map[string]any {
	return map[string]any{"mode": map[string]any{"script": map[string]any{
		"runtime": "bash", "body": base64.StdEncoding.EncodeToString([]byte(body)), "args": args,
	}}}
}

func build(t *testing.T, r *Runner, specJSON []byte) *Task {
	t.Helper()
	s, err := model.ParseTaskSpec(specJSON)
	require.NoError(t, err)
	task, err := r.Build(s)
	require.NoError(t, err)
	t.Cleanup(task.Close)
	return task
}

// readAll polls the task until EOF (bounded) and returns every event.
func readAll(t *testing.T, task *Task) []output.Event {
	t.Helper()
	var all []output.Event
	var cursor uint64
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		evs, next, err := task.Poll(cursor, 256, 1<<20, 500*time.Millisecond)
		all = append(all, evs...)
		cursor = next
		if errors.Is(err, output.ErrEOF) {
			return all
		}
		require.NoError(t, err)
	}
	t.Fatalf("task %s did not reach EOF in time", task.ID())
	return nil
}

// lines returns the text of the line events of one stream.
func lines(evs []output.Event, stream output.Stream) []string {
	var out []string
	for _, e := range evs {
		if e.Kind == output.KindLine && e.Stream == stream {
			out = append(out, string(e.Data))
		}
	}
	return out
}

func runToEnd(t *testing.T, task *Task) (ExitReport, []output.Event) {
	t.Helper()
	require.NoError(t, task.Spawn())
	evs := readAll(t, task)
	rep, err := task.Wait(10 * time.Second)
	require.NoError(t, err)
	return rep, evs
}
