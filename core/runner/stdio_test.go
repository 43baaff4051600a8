package runner

import (
	"encoding/base64"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/solti-exec/solti-exec/core/output"
)

func withFields(sub map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		sub[kv[i].(string)] = kv[i+1]
	}
	return sub
}

func TestTaskWriteAndCloseStdin(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("cat", withFields(command("cat"), "stdin", "pipe"), nil))
	_, err := task.Write([]byte("x"), 0)
	var se *StateError
	require.ErrorAs(t, err, &se, "before the spawn")
	require.NoError(t, task.Spawn())
	n, err := task.Write([]byte("one\ntwo\n"), time.Second)
	require.NoError(t, err)
	assert.Equal(t, 8, n)
	fd, err := task.StdinFD()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, fd, 3)
	require.NoError(t, task.CloseStdin())
	require.NoError(t, task.CloseStdin(), "idempotent")
	_, err = task.Write([]byte("x"), 0)
	require.ErrorAs(t, err, &se, "after close_stdin")
	evs := readAll(t, task)
	assert.Equal(t, []string{"one", "two"}, lines(evs, output.Stdout))
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	_, err = task.Write([]byte("late"), time.Second)
	assert.ErrorIs(t, err, ErrBrokenPipe, "the attempt is over")
}

func TestTaskWriteNotAPipe(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("null", command("true"), nil))
	require.NoError(t, task.Spawn())
	_, err := task.Write([]byte("x"), 0)
	var se *StateError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, `stdin is not a pipe (kind.subprocess.stdin is "null")`)
	task.Wait(5 * time.Second)
}

func TestTaskInputEachAttempt(t *testing.T) {
	r := newRunner(t, "")
	in := base64.StdEncoding.EncodeToString([]byte("b\na\nc\n"))
	task := build(t, r, spec("sort", withFields(command("sort"), "input", in), map[string]any{
		"restart": map[string]any{"type": "always"}, "maxRetries": 1,
		"backoff": map[string]any{"jitter": "none", "firstMs": 1, "maxMs": 1, "factor": 1.0},
	}))
	_, err := task.Write([]byte("x"), 0)
	var se *StateError
	require.ErrorAs(t, err, &se, "the spec's input owns stdin")
	rep, evs := runToEnd(t, task)
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	assert.Equal(t, uint32(2), rep.Attempt)
	assert.Equal(t, []string{"a", "b", "c", "a", "b", "c"}, lines(evs, output.Stdout))
}

func TestTaskMergedStderr(t *testing.T) {
	r := newRunner(t, `{"output": {"capacity": 4096}}`)
	task := build(t, r, spec("merge", withFields(command("sh", "-c",
		`i=0; while [ $i -lt 1000 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done`), "stderr", "stdout"), nil))
	_, evs := runToEnd(t, task)
	got := lines(evs, output.Stdout)
	require.Equal(t, 2000, len(got), "every line kept")
	for i := 0; i < 1000; i++ {
		require.Equal(t, "o"+itoa(i), got[2*i])
		require.Equal(t, "e"+itoa(i), got[2*i+1])
	}
	assert.Empty(t, lines(evs, output.Stderr))
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestTaskPtyResizeAndSignal(t *testing.T) {
	r := newRunner(t, "")
	script := `trap 'stty size' WINCH; trap 'echo usr1; exit 0' USR1; test -t 0 -a -t 1 && echo tty; stty size; echo ready; while :; do sleep 0.02; done`
	task := build(t, r, spec("pty", withFields(command("sh", "-c", script), "pty", map[string]any{"rows": 30, "cols": 90}), nil))
	require.NoError(t, task.Spawn())
	var cursor uint64
	var got []string
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			evs, next, err := task.Poll(cursor, 64, 1<<16, 200*time.Millisecond)
			cursor = next
			got = append(got, lines(evs, output.Stdout)...)
			for _, l := range got {
				if l == want {
					return
				}
			}
			if errors.Is(err, output.ErrEOF) {
				break
			}
		}
		t.Fatalf("no %q in %q", want, got)
	}
	waitFor("ready")
	assert.Equal(t, []string{"tty", "30 90", "ready"}, got)
	require.NoError(t, task.Resize(45, 130))
	waitFor("45 130")
	require.NoError(t, task.Signal(unix.SIGUSR1, false))
	waitFor("usr1")
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	var se *StateError
	assert.ErrorAs(t, task.Signal(unix.SIGUSR1, false), &se, "not running")
}

func TestTaskSignalLeaderOnly(t *testing.T) {
	r := newRunner(t, "")
	script := `sleep 5 & g=$!; trap 'kill -0 $g && echo alive; kill $g; exit 3' TERM; echo ready; while :; do sleep 0.02; done`
	task := build(t, r, spec("leader", command("sh", "-c", script), map[string]any{
		"kind": map[string]any{"subprocess": withFields(command("sh", "-c", script), "failOnNonZero", false)}}))
	require.NoError(t, task.Spawn())
	var cursor uint64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		evs, next, _ := task.Poll(cursor, 64, 1<<16, 200*time.Millisecond)
		cursor = next
		if len(lines(evs, output.Stdout)) > 0 {
			break
		}
	}
	require.NoError(t, task.Signal(unix.SIGTERM, true))
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, int32(3), rep.ExitCode)
	evs := readAll(t, task)
	assert.Equal(t, []string{"ready", "alive"}, lines(evs, output.Stdout), "the group's other member lived")
}
