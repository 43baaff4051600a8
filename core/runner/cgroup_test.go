package runner

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/metrics"
	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// needCgroups skips a test on a host where the library cannot make the
// cgroups it needs: root and a cgroup v2 mount for the tracking cgroup, and
// the named controllers in v2 or v1.
func needCgroups(t *testing.T, controllers ...string) *sandbox.Layout {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	l, err := sandbox.Discover(sandbox.Sources{})
	require.NoError(t, err)
	if l.V2 == nil {
		t.Skip("needs a cgroup v2 mount for the task's tracking cgroup")
	}
	for _, c := range controllers {
		v2, _ := os.ReadFile(filepath.Join(l.V2.Mount, "cgroup.controllers"))
		if !strings.Contains(" "+strings.TrimSpace(string(v2))+" ", " "+c+" ") && l.V1For(c) == nil {
			t.Skipf("needs the %s controller in cgroup v2 or v1", c)
		}
	}
	return l
}

// assertNoCgroupLeft checks every hierarchy for a cgroup of the task.
func assertNoCgroupLeft(t *testing.T, l *sandbox.Layout, task *Task) {
	t.Helper()
	hs := append([]*sandbox.Hierarchy{l.V2}, l.V1...)
	for _, h := range hs {
		filepath.WalkDir(h.Mount, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), task.CgroupName()) {
				t.Errorf("cgroup %s of task %s is still there", p, task.ID())
			}
			return nil
		})
	}
}

// pidGone reports whether pid has exited (a zombie left to an init that does
// not reap counts as gone).
func pidGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// firstLine waits for the task's first stdout line.
func firstLine(t *testing.T, task *Task) string {
	t.Helper()
	var cursor uint64
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		evs, next, err := task.Poll(cursor, 16, 1<<16, 200*time.Millisecond)
		require.NoError(t, err)
		cursor = next
		for _, e := range evs {
			if e.Kind == output.KindLine && e.Stream == output.Stdout {
				return string(e.Data)
			}
		}
	}
	t.Fatal("no output line")
	return ""
}

// pids 5: a shell forking 10 sleeps gets a fork failure.
func TestCgroupPidsLimit(t *testing.T) {
	l := needCgroups(t, "pids")
	r := newRunner(t, `{"cgroups":{"pids":5}}`)
	task := build(t, r, spec("pids", command("sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & done; wait"), nil))
	rep, evs := runToEnd(t, task)
	assert.Contains(t, strings.Join(lines(evs, output.Stderr), "\n"), "fork", "10 forks under pids.max 5 all worked")
	assert.Empty(t, rep.Unapplied)
	assertNoCgroupLeft(t, l, task)
}

// memory 32 MiB: a 256 MiB buffer is OOM-killed, and the report says so.
func TestCgroupMemoryLimitOOM(t *testing.T) {
	l := needCgroups(t, "memory")
	r := newRunner(t, `{"cgroups":{"memory":33554432}}`)
	task := build(t, r, spec("oom", command("dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"), nil))
	rep, _ := runToEnd(t, task)
	assert.Equal(t, OutcomeFailure, rep.Outcome)
	assert.Equal(t, int32(9), rep.Signal)
	assert.GreaterOrEqual(t, rep.OOMKills, int64(1))
	assert.Greater(t, rep.MemoryPeakBytes, int64(1<<20))
	assert.LessOrEqual(t, rep.MemoryPeakBytes, int64(33554432))
	assertNoCgroupLeft(t, l, task)

	ok := build(t, r, spec("fits", command("dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=1"), nil))
	rep, _ = runToEnd(t, ok)
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	assert.Equal(t, int64(0), rep.OOMKills)
}

// noCgroupHost is a mountinfo with every cgroup mount taken out: a host
// without cgroups, as far as the runner can tell.
func noCgroupHost(t *testing.T) sandbox.Sources {
	b, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	var keep []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.Contains(line, " - cgroup ") && !strings.Contains(line, " - cgroup2 ") {
			keep = append(keep, line)
		}
	}
	mi := filepath.Join(t.TempDir(), "mountinfo")
	require.NoError(t, os.WriteFile(mi, []byte(strings.Join(keep, "\n")+"\n"), 0o644))
	return sandbox.Sources{MountInfo: mi}
}

// A limit nothing can enforce: with failOnError the spawn fails naming the
// controller (metric cgroup_prepare_failed); without it the task runs, a
// WARNING before STARTED says what was not applied, and so does the report.
func TestCgroupControllerUnavailable(t *testing.T) {
	src := noCgroupHost(t)
	const want = `failed to prepare cgroup: controller "memory" is not available under the host's own cgroup (v2: no cgroup v2 mount; v1: not mounted)`

	r := newRunner(t, `{"cgroups":{"memory":67108864,"failOnError":true}}`, func(o *Options) { o.CgroupSources = src })
	task := build(t, r, spec("must", command("true"), nil))
	err := task.Spawn()
	var se *sandbox.Error
	require.True(t, errors.As(err, &se), "got %v", err)
	assert.Equal(t, "memory", se.Controller)
	assert.EqualError(t, err, want)
	rep, err := task.Wait(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, OutcomeFatal, rep.Outcome)
	assert.Equal(t, want, rep.Reason)
	assert.Equal(t, uint32(0), rep.Attempt)
	assert.Contains(t, string(r.Metrics().Snapshot().JSON()), metrics.ErrCgroupPrepareFailed)

	r = newRunner(t, `{"cgroups":{"memory":67108864,"failOnError":false}}`, func(o *Options) { o.CgroupSources = src })
	task = build(t, r, spec("may", command("echo", "ran"), nil))
	rep, evs := runToEnd(t, task)
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	assert.Equal(t, []string{"ran"}, lines(evs, output.Stdout))
	assert.Equal(t, []string{"memory.max=67108864"}, rep.Unapplied)
	assert.Equal(t, int64(-1), rep.OOMKills)
	require.GreaterOrEqual(t, len(evs), 2)
	assert.Equal(t, output.KindWarning, evs[0].Kind)
	assert.Equal(t, `cgroup limit memory.max=67108864 not applied (failOnError is false): controller "memory" is not available under the host's own cgroup (v2: no cgroup v2 mount; v1: not mounted)`, string(evs[0].Data))
	assert.Equal(t, output.KindStarted, evs[1].Kind)
}

// Without cgroups and without limits, nothing changes: no warning, stats
// unknown.
func TestNoCgroupHostRunsPlainly(t *testing.T) {
	r := newRunner(t, "", func(o *Options) { o.CgroupSources = noCgroupHost(t) })
	rep, evs := runToEnd(t, build(t, r, spec("plain", command("true"), nil)))
	assert.Equal(t, OutcomeSuccess, rep.Outcome)
	assert.Equal(t, output.KindStarted, evs[0].Kind)
	assert.Equal(t, ExitReport{}.Unapplied, rep.Unapplied)
	assert.Equal(t, int64(-1), rep.CPUUsageUs)
	assert.Equal(t, int64(-1), rep.MemoryPeakBytes)
}

// A cgroup is gone after a spawn that failed, and after a task freed while
// it ran.
func TestCgroupRemovedAfterFailedSpawnAndClose(t *testing.T) {
	l := needCgroups(t, "pids")
	r := newRunner(t, `{"cgroups":{"pids":50}}`)
	task := build(t, r, spec("nosuch", command("solti-no-such-program"), nil))
	require.Error(t, task.Spawn())
	assertNoCgroupLeft(t, l, task)

	task = build(t, r, spec("running", command("sh", "-c", "(setsid sleep 60 & echo $!); exec sleep 60"), nil))
	require.NoError(t, task.Spawn())
	pid, err := strconv.Atoi(firstLine(t, task))
	require.NoError(t, err)
	task.Close()
	assert.True(t, pidGone(pid), "setsid grandchild %d survived Close", pid)
	assertNoCgroupLeft(t, l, task)
}
