package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestArgsAndEnvReachTheChild(t *testing.T) {
	r := newRunner(t, `{"env":[{"key":"B","value":"runner"},{"key":"C","value":"runner"}]}`,
		func(o *Options) {
			o.Environ = func() []string { return []string{"PATH=/usr/bin:/bin", "HOSTONLY=1", "C=host"} }
		})
	sub := bashScript(`echo "args:$1,$2"; echo "A=$A B=$B C=$C HOSTONLY=$HOSTONLY"`, "one", "two words")
	sub["env"] = []map[string]string{{"key": "A", "value": "first"}, {"key": "A", "value": "task"}, {"key": "B", "value": "task"}}
	rep, evs := runToEnd(t, build(t, r, spec("env", sub, nil)))
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	assert.Equal(t, []string{"args:one,two words", "A=task B=runner C=runner HOSTONLY=1"}, lines(evs, output.Stdout))
}

func TestHostEnvironmentIsReadAtSpawn(t *testing.T) {
	host := []string{"PATH=/usr/bin:/bin", "PHASE=build"}
	r := newRunner(t, "", func(o *Options) { o.Environ = func() []string { return host } })
	task := build(t, r, spec("late-env", command("sh", "-c", "echo $PHASE"), nil))
	host = []string{"PATH=/usr/bin:/bin", "PHASE=spawn"}
	_, evs := runToEnd(t, task)
	assert.Equal(t, []string{"spawn"}, lines(evs, output.Stdout))
}

func TestExitEvaluation(t *testing.T) {
	r := newRunner(t, "")
	cases := []struct {
		name    string
		fail    bool
		script  string
		outcome Outcome
		code    int32
		signal  int32
		reason  string
	}{
		{"zero", true, "exit 0", OutcomeSuccess, 0, 0, ""},
		{"non-zero fails", true, "exit 3", OutcomeFailure, 3, 0, "process exited with non-zero code: 3"},
		{"non-zero tolerated", false, "exit 3", OutcomeSuccess, 3, 0, "process exited with non-zero code: 3 (failOnNonZero is off)"},
		{"signal", true, "kill -TERM $$", OutcomeFailure, -1, 15, "process terminated by signal: SIGTERM"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub := bashScript(c.script)
			sub["failOnNonZero"] = c.fail
			rep, _ := runToEnd(t, build(t, r, spec("exit", sub, nil)))
			assert.Equal(t, c.outcome, rep.Outcome)
			assert.Equal(t, c.code, rep.ExitCode)
			assert.Equal(t, c.signal, rep.Signal)
			assert.Equal(t, c.reason, rep.Reason)
			assert.Equal(t, uint32(1), rep.Attempt)
			assert.False(t, rep.Finished.Before(rep.Started))
		})
	}
}

func TestUnsupportedKindNamesRunnerAndKind(t *testing.T) {
	r := newRunner(t, "")
	s, err := model.ParseTaskSpec([]byte(`{"slot":"s","timeoutMs":5000,"kind":"embedded"}`))
	require.NoError(t, err)
	_, err = r.Build(s)
	var uk *UnsupportedKindError
	require.ErrorAs(t, err, &uk)
	assert.Equal(t, "unsupported task kind for runner 'test-runner': embedded", err.Error())
}

func TestScriptFileIsPrivateAndHoldsTheBody(t *testing.T) {
	r := newRunner(t, `{"scriptStorage": "file"}`)
	body := "echo hello\n# a secret: 42\n"
	task := build(t, r, spec("script", bashScript(body, "extra"), nil))
	path := task.ScriptPath()
	require.NotEmpty(t, path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, body, string(got))
	assert.Equal(t, "bash", task.program)
	assert.Equal(t, []string{path, "extra"}, task.args)

	task.Close()
	_, err = os.Stat(filepath.Dir(path))
	assert.True(t, os.IsNotExist(err), "the script directory is removed when the task is freed")
}

func TestCustomRuntimeIgnoresTheFlag(t *testing.T) {
	r := newRunner(t, "")
	sub := map[string]any{"mode": map[string]any{"script": map[string]any{
		"runtime": map[string]any{"custom": map[string]any{"command": "sh", "flag": "-e"}},
		"body":    "ZWNobyBjdXN0b20=", // echo custom
	}}}
	task := build(t, r, spec("custom", sub, nil))
	assert.Equal(t, "sh", task.program)
	assert.Equal(t, []string{task.ScriptPath()}, task.args, "only the script path, no flag")
	_, evs := runToEnd(t, task)
	assert.Equal(t, []string{"custom"}, lines(evs, output.Stdout))
}

func TestInvalidBase64IsRefused(t *testing.T) {
	_, err := model.ParseTaskSpec([]byte(`{"slot":"s","timeoutMs":5000,"kind":{"subprocess":{"mode":{"script":{"runtime":"bash","body":"not-valid!!!"}}}}}`))
	var se *model.SpecError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "invalid base64 body")
}

func TestLargeScriptIsAccepted(t *testing.T) {
	for _, storage := range []string{"memfd", "file"} {
		t.Run(storage, func(t *testing.T) {
			r := newRunner(t, `{"scriptStorage": "`+storage+`"}`)
			body := "# " + strings.Repeat("x", 200*1024) + "\necho big\n"
			task := build(t, r, spec("big", bashScript(body), nil))
			require.Equal(t, model.ScriptStorage(storage), task.ScriptStorage())
			path := task.ScriptPath()
			if task.memfd != nil {
				path = "/proc/self/fd/" + strconv.Itoa(task.memfd.fd) // the host's number
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Len(t, got, len(body))
			_, evs := runToEnd(t, task)
			assert.Equal(t, []string{"big"}, lines(evs, output.Stdout))
		})
	}
}

func TestOutputIsTaggedWithAttemptAndStream(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("streams", bashScript("echo out1; echo err1 >&2; echo out2; printf 'tail'"), nil))
	_, evs := runToEnd(t, task)
	assert.Equal(t, []string{"out1", "out2", "tail"}, lines(evs, output.Stdout))
	assert.Equal(t, []string{"err1"}, lines(evs, output.Stderr))
	seqs := map[output.Stream][]uint64{}
	for _, e := range evs {
		if e.Kind == output.KindLine {
			assert.Equal(t, uint32(1), e.Attempt)
			seqs[e.Stream] = append(seqs[e.Stream], e.Seq)
		}
	}
	assert.Equal(t, []uint64{0, 1, 2}, seqs[output.Stdout])
	assert.Equal(t, []uint64{0}, seqs[output.Stderr])
	require.GreaterOrEqual(t, len(evs), 2)
	assert.Equal(t, output.KindStarted, evs[0].Kind)
	assert.Positive(t, evs[0].Value, "started carries the pid")
	last := evs[len(evs)-1]
	assert.Equal(t, output.KindFinished, last.Kind)
	assert.Equal(t, int64(OutcomeSuccess), last.Value)
	assert.Equal(t, int32(0), last.ExitCode)
}

func TestAttemptNumbersIncreaseOnEachSpawn(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("attempts", command("echo", "x"), nil))
	rep1, _ := runToEnd(t, task)
	rep2, evs := runToEnd(t, task)
	assert.Equal(t, uint32(1), rep1.Attempt)
	assert.Equal(t, uint32(2), rep2.Attempt)
	assert.Equal(t, uint32(2), task.Attempts())
	var attempts []uint32
	for _, e := range evs {
		if e.Kind == output.KindLine {
			attempts = append(attempts, e.Attempt)
		}
	}
	assert.Equal(t, []uint32{1, 2}, attempts)
}

// startMarked runs a script that backgrounds a grandchild and prints its pid.
func grandchildPID(t *testing.T, task *Task) int {
	t.Helper()
	var cursor uint64
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		evs, next, err := task.Poll(cursor, 64, 1<<16, 200*time.Millisecond)
		require.NoError(t, err)
		cursor = next
		for _, l := range lines(evs, output.Stdout) {
			if pid, err := strconv.Atoi(strings.TrimPrefix(l, "grandchild ")); err == nil && strings.HasPrefix(l, "grandchild ") {
				return pid
			}
		}
	}
	t.Fatal("the grandchild never reported its pid")
	return 0
}

func requireGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	unix.Kill(pid, unix.SIGKILL)
	t.Fatalf("pid %d survived", pid)
}

func TestCancelKillsABackgroundedGrandchild(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("cancel", bashScript(`(sleep 60 & echo "grandchild $!"; wait) & wait`), nil))
	require.NoError(t, task.Spawn())
	pid := grandchildPID(t, task)
	require.NoError(t, unix.Kill(pid, 0), "grandchild alive before cancel")

	task.Cancel()
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, OutcomeCanceled, rep.Outcome)
	assert.Equal(t, int32(syscall.SIGKILL), rep.Signal)
	requireGone(t, pid, 2*time.Second)
	task.Cancel() // idempotent
}

func TestTimeoutKillsTheTree(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("timeout", bashScript(`sleep 60 & echo "grandchild $!"; sleep 60`), map[string]any{"timeout": 500}))
	start := time.Now()
	require.NoError(t, task.Spawn())
	pid := grandchildPID(t, task)
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, OutcomeTimeout, rep.Outcome)
	assert.Equal(t, "timed out after 500 ms", rep.Reason)
	assert.Less(t, time.Since(start), time.Second, "a 500 ms timeout ends the attempt within 1 s")
	requireGone(t, pid, 2*time.Second)
}

func TestLeaderExitWithGrandchildHoldingStdoutEndsWithinDrainGrace(t *testing.T) {
	r := newRunner(t, `{"drainGraceMs": 300}`)
	task := build(t, r, spec("drain", bashScript(`sleep 60 & echo "grandchild $!"; echo leader done`), nil))
	start := time.Now()
	require.NoError(t, task.Spawn())
	pid := grandchildPID(t, task)
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err)
	elapsed := time.Since(start)
	assert.Equal(t, OutcomeSuccess, rep.Outcome, "the leader exited 0")
	assert.Less(t, elapsed, 1500*time.Millisecond, "ended %v after start", elapsed)
	requireGone(t, pid, 2*time.Second)
}

func TestChildGetsDefaultSIGPIPEWhenHostIgnoresIt(t *testing.T) {
	old, err := ignoreSignal(unix.SIGPIPE)
	require.NoError(t, err)
	defer restoreSignal(unix.SIGPIPE, old)

	r := newRunner(t, "")
	rep, evs := runToEnd(t, build(t, r, spec("sigpipe", command("sh", "-c", "yes | head -n 1; grep -E '^Sig(Ign|Blk)' /proc/self/status"), nil)))
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	out := lines(evs, output.Stdout)
	require.Len(t, out, 3)
	assert.Equal(t, "y", out[0])
	assert.Regexp(t, `^SigBlk:\s+0+$`, out[1])
	assert.Regexp(t, `^SigIgn:\s+0+$`, out[2])
	assert.Empty(t, lines(evs, output.Stderr))
}

func TestHostDescriptorWithoutCloexecIsNotInherited(t *testing.T) {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0) // no O_CLOEXEC on purpose
	require.NoError(t, err)
	defer unix.Close(fd)
	r := newRunner(t, "")
	_, evs := runToEnd(t, build(t, r, spec("fds", command("sh", "-c", "cd /proc/self/fd && echo *"), nil)))
	// The shell's own directory handle for the glob may show as a fourth fd.
	out := lines(evs, output.Stdout)
	require.Len(t, out, 1)
	fds := strings.Fields(out[0])
	assert.NotContains(t, fds, strconv.Itoa(fd))
	assert.Subset(t, fds, []string{"0", "1", "2"})
	assert.LessOrEqual(t, len(fds), 4, "fds: %v", fds)
}

func TestStdinIsDevNullByDefault(t *testing.T) {
	r := newRunner(t, "")
	_, evs := runToEnd(t, build(t, r, spec("stdin", command("readlink", "/proc/self/fd/0"), nil)))
	assert.Equal(t, []string{"/dev/null"}, lines(evs, output.Stdout))
}

func TestCwd(t *testing.T) {
	dir := t.TempDir()
	r := newRunner(t, "")
	sub := command("pwd")
	sub["cwd"] = dir
	_, evs := runToEnd(t, build(t, r, spec("cwd", sub, nil)))
	assert.Equal(t, []string{dir}, lines(evs, output.Stdout))
}

func TestSpawnFailuresComeFromSpawn(t *testing.T) {
	r := newRunner(t, "")
	cases := []struct {
		name string
		sub  map[string]any
		msg  string
	}{
		{"missing binary", command("nosuch-binary-xyz"), `spawn failed: exec "nosuch-binary-xyz": no such file or directory`},
		{"bad cwd", func() map[string]any { s := command("true"); s["cwd"] = "/nonexistent-dir-xyz"; return s }(),
			`spawn failed: chdir "/nonexistent-dir-xyz": no such file or directory`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			task := build(t, r, spec("fail", c.sub, nil))
			err := task.Spawn()
			var se *proc.SpawnError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, c.msg, err.Error())
			rep, werr := task.Wait(time.Second)
			require.NoError(t, werr)
			assert.Equal(t, OutcomeFatal, rep.Outcome)
			assert.Equal(t, uint32(0), task.Attempts(), "a failed spawn is not an attempt")
		})
	}
	snap := r.Metrics().Snapshot()
	assert.Equal(t, uint64(2), snap.Errors["spawn_failed"])
	assert.Equal(t, uint64(2), snap.Completed["fatal"])
}

func TestRunIDsAndCgroupNames(t *testing.T) {
	r := newRunner(t, "")
	a := build(t, r, spec("same", command("true"), nil))
	b := build(t, r, spec("same", command("true"), nil))
	assert.NotEqual(t, a.ID(), b.ID())
	assert.Regexp(t, `^test-runner-same-[0-9]+$`, a.ID())
	seq, err := strconv.ParseUint(strings.TrimPrefix(a.ID(), "test-runner-same-"), 10, 64)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("test-runner-same-%x-", seq), a.CgroupName()[:len(fmt.Sprintf("test-runner-same-%x-", seq))])
}

func TestDropIfRunningRefusesASecondSpawn(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("admission", command("sleep", "5"), nil))
	require.NoError(t, task.Spawn())
	var se *StateError
	assert.ErrorAs(t, task.Spawn(), &se)
	task.Cancel()
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, OutcomeCanceled, rep.Outcome)
}

func TestWaitBeforeSpawnIsAStateError(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("idle", command("true"), nil))
	_, err := task.Wait(0)
	var se *StateError
	assert.ErrorAs(t, err, &se)
}

func TestMetricsCountEveryAttempt(t *testing.T) {
	r := newRunner(t, "")
	runToEnd(t, build(t, r, spec("m1", command("true"), nil)))
	runToEnd(t, build(t, r, spec("m2", command("false"), nil)))
	snap := r.Metrics().Snapshot()
	assert.Equal(t, uint64(2), snap.Started)
	assert.Equal(t, uint64(1), snap.Completed["success"])
	assert.Equal(t, uint64(1), snap.Completed["failure"])
	assert.Contains(t, string(snap.Prometheus()), `solti_runner_tasks_started_total{runner="test-runner"} 2`)
}
