package proc

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
)

// forkLauncher is a Launcher that forks and execs the test shim, as the
// library's launcher starts its built-in one, and records when release runs
// and whether the shim had exited by then.
type forkLauncher struct {
	shim            string
	released        atomic.Int32
	releasedRunning atomic.Int32
}

func (l *forkLauncher) launch(argv, env []string, files []int) (Launched, error) {
	pidfd := -1
	attr := &syscall.ProcAttr{Env: env, Sys: &syscall.SysProcAttr{Setpgid: true, PidFD: &pidfd}}
	for _, fd := range files {
		attr.Files = append(attr.Files, uintptr(fd))
	}
	pid, err := syscall.ForkExec(l.shim, argv, attr)
	if err != nil {
		return Launched{PidFD: -1}, err
	}
	release := func() {
		if !pidfdExited(pidfd) {
			l.releasedRunning.Add(1)
		}
		l.released.Add(1)
	}
	return Launched{Pid: pid, PidFD: pidfd, Release: release}, nil
}

func TestLaunchedShimRunsThePlanAndIsReleasedOnceAfterItsExit(t *testing.T) {
	setup(t)
	l := &forkLauncher{shim: testutil.ShimPath(t)}
	sp := NewLaunchingSpawner("solti-exec-shim", l.launch)
	r := run(t, sp, sh("echo out; echo err >&2; exit 3"))
	assert.Equal(t, "out\n", r.stdout)
	assert.Equal(t, "err\n", r.stderr)
	assert.Equal(t, 3, r.status.ExitCode)
	require.Eventually(t, func() bool { return l.released.Load() > 0 }, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // a second release would come now
	assert.EqualValues(t, 1, l.released.Load())
	assert.Zero(t, l.releasedRunning.Load(), "release ran while the shim was alive")
}

func TestLaunchedShimFailureIsReleased(t *testing.T) {
	setup(t)
	l := &forkLauncher{shim: testutil.ShimPath(t)}
	sp := NewLaunchingSpawner("solti-exec-shim", l.launch)
	_, err := sp.Start(&Plan{Path: "/nonexistent/program", Env: testEnv})
	var se *SpawnError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepExec, se.Step)
	assert.EqualValues(t, 1, l.released.Load())
	assert.Zero(t, l.releasedRunning.Load())
}

func TestLauncherErrorNamesTheStep(t *testing.T) {
	setup(t)
	for _, c := range []struct {
		errno unix.Errno
		step  string
	}{{unix.EAGAIN, StepFork}, {unix.ENOMEM, StepFork}, {unix.EMFILE, StepPipe}} {
		sp := NewLaunchingSpawner("solti-exec-shim", func([]string, []string, []int) (Launched, error) {
			return Launched{PidFD: -1}, c.errno
		})
		_, err := sp.Start(&Plan{Path: "true", Env: testEnv})
		var se *SpawnError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, c.step, se.Step, c.errno.Error())
		assert.Equal(t, c.errno, se.Errno)
	}
}
