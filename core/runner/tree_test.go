package runner

import (
	"strconv"
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// treeHost is one way a task's tree is held: by the resident shim alone (no
// cgroup: the default config, and all an unprivileged user gets), or by the
// shim and a task cgroup with a limit (root with the pids controller).
type treeHost struct {
	name   string
	config string
	layout *sandbox.Layout // nil without a cgroup
}

// treeHosts lists the ways this host can run; the cgroup one is left out
// with a log line where it cannot.
func treeHosts(t *testing.T) []treeHost {
	hosts := []treeHost{{name: "no cgroup", config: ""}}
	ok := t.Run("cgroup available", func(t *testing.T) { needCgroups(t, "pids") })
	if ok {
		l, err := sandbox.Discover(sandbox.Sources{})
		require.NoError(t, err)
		hosts = append(hosts, treeHost{name: "pids cgroup", config: `{"cgroups":{"pids":200}}`, layout: l})
	} else {
		t.Log("the cgroup leg did not run: see the skipped subtest for why")
	}
	return hosts
}

func (h treeHost) noCgroupLeft(t *testing.T, task *Task) {
	if h.layout != nil {
		assertNoCgroupLeft(t, h.layout, task)
	}
}

// A grandchild that double-forked and called setsid has left the process
// group; the resident shim, its subreaper, still holds it, and cancel and
// timeout kill it, with or without a cgroup.
func TestTreeKillReachesSetsidDescendant(t *testing.T) {
	for _, h := range treeHosts(t) {
		r := newRunner(t, h.config)
		for _, how := range []string{"cancel", "timeout"} {
			t.Run(h.name+"/"+how, func(t *testing.T) {
				extra := map[string]any{}
				if how == "timeout" {
					extra["timeout"] = 700
				}
				task := build(t, r, spec("escape", command("sh", "-c", "(setsid sleep 60 & echo $!); exec sleep 60"), extra))
				require.NoError(t, task.Spawn())
				pid, err := strconv.Atoi(firstLine(t, task))
				require.NoError(t, err)
				require.False(t, pidGone(pid))
				if how == "cancel" {
					task.Cancel()
				}
				rep, err := task.Wait(10 * time.Second)
				require.NoError(t, err)
				want := map[string]Outcome{"cancel": OutcomeCanceled, "timeout": OutcomeTimeout}[how]
				assert.Equal(t, want, rep.Outcome)
				assert.True(t, pidGone(pid), "setsid grandchild %d survived the %s", pid, how)
				if h.layout != nil {
					assert.GreaterOrEqual(t, rep.CPUUsageUs, int64(0), "CPU usage from the cgroup")
				}
				h.noCgroupLeft(t, task)
			})
		}
	}
}

// A graceful cancel (killGraceMs) sends SIGTERM to the whole tree, so a
// descendant that left the group gets the chance to clean up.
func TestTreeGracefulCancelReachesSetsidDescendant(t *testing.T) {
	for _, h := range treeHosts(t) {
		t.Run(h.name, func(t *testing.T) {
			r := newRunner(t, h.config)
			// The escaped shell is orphaned at once (its parent subshell
			// exits), so it is the shim's child when the SIGTERM goes.
			script := `(setsid sh -c 'trap "echo term; exit 0" TERM; while :; do sleep 0.05; done' &)
trap 'sleep 0.5; exit 0' TERM
echo ready
while :; do sleep 0.05; done`
			task := build(t, r, spec("graceful", command("sh", "-c", script), map[string]any{"killGraceMs": 3000}))
			require.NoError(t, task.Spawn())
			require.Equal(t, "ready", firstLine(t, task))
			time.Sleep(100 * time.Millisecond) // the trap of the escaped shell is set
			task.Cancel()
			evs := readAll(t, task)
			rep, err := task.Wait(10 * time.Second)
			require.NoError(t, err)
			assert.Equal(t, OutcomeCanceled, rep.Outcome)
			assert.Contains(t, lines(evs, output.Stdout), "term", "the setsid descendant got no SIGTERM")
			h.noCgroupLeft(t, task)
		})
	}
}

// A daemon that closed its pipes does not outlive its attempt either.
func TestTreeEndOfAttemptKillsLeftovers(t *testing.T) {
	for _, h := range treeHosts(t) {
		t.Run(h.name, func(t *testing.T) {
			r := newRunner(t, h.config)
			task := build(t, r, spec("daemon", command("sh", "-c",
				"(setsid sleep 60 >/dev/null 2>&1 </dev/null & echo $!); (setsid sh -c 'sleep 61 & sleep 62' >/dev/null 2>&1 </dev/null &)"), nil))
			rep, evs := runToEnd(t, task)
			assert.Equal(t, OutcomeSuccess, rep.Outcome)
			pid, err := strconv.Atoi(lines(evs, output.Stdout)[0])
			require.NoError(t, err)
			assert.True(t, pidGone(pid), "daemon %d outlived the attempt", pid)
			h.noCgroupLeft(t, task)
		})
	}
}

// An error after the child started (here a ring that panics on the STARTED
// event) never leaves the child unsupervised: Spawn returns, the task is
// done, Wait does not hang, and the child is gone.
func TestErrorAfterStartLeavesNothingRunning(t *testing.T) {
	r := newRunner(t, "")
	task := build(t, r, spec("after-start", command("sh", "-c", "echo $$; exec sleep 60"),
		map[string]any{"output": map[string]any{"whenFull": "block"}}))
	hook := func(ev output.Event) {
		if ev.Kind == output.KindStarted {
			panic("ring refused the event")
		}
	}
	testHookAppendControl.Store(&hook)
	defer testHookAppendControl.Store(nil)
	err := task.Spawn()
	rep, werr := task.Wait(5 * time.Second)
	require.NotErrorIs(t, werr, ErrTimeout, "the task must be done (spawn: %v)", err)
	require.Error(t, err, "spawn must report the failed STARTED event")
	var ie *InternalError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, OutcomeFatal, rep.Outcome)
	assert.Contains(t, rep.Reason, "internal error")
	done := make(chan struct{})
	go func() { task.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
}
