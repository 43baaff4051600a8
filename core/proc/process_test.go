package proc

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
)

func TestExitStatusDecoding(t *testing.T) {
	sp := setup(t)
	tests := []struct {
		name   string
		script string
		want   Status
	}{
		{"zero", "exit 0", Status{Exited: true, ExitCode: 0}},
		{"three", "exit 3", Status{Exited: true, ExitCode: 3}},
		{"255", "exit 255", Status{Exited: true, ExitCode: 255}},
		{"SIGKILL", "kill -KILL $$", Status{ExitCode: -1, Signal: int(unix.SIGKILL)}},
		{"SIGTERM", "kill -TERM $$", Status{ExitCode: -1, Signal: int(unix.SIGTERM)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, sp, sh(tc.script))
			got := r.status
			got.UserUs, got.SystemUs, got.MaxRSSKb = 0, 0, 0
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want.Exited && tc.want.ExitCode == 0, r.status.Success())
		})
	}
}

func TestSignalFromParent(t *testing.T) {
	sp := setup(t)
	for _, sig := range []unix.Signal{unix.SIGKILL, unix.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			pr, err := sp.Start(&Plan{Path: "sleep", Args: []string{"100"}, Env: testEnv})
			require.NoError(t, err)
			defer killAndClose(pr)
			select {
			case <-pr.Exited():
				t.Fatal("exited before the signal")
			default:
			}
			require.NoError(t, pr.Signal(sig))
			st, err := pr.Reap()
			require.NoError(t, err)
			assert.False(t, st.Exited)
			assert.Equal(t, -1, st.ExitCode)
			assert.Equal(t, int(sig), st.Signal)
			assert.False(t, st.CoreDumped)
			assert.Equal(t, "signal "+strconv.Itoa(int(sig))+" ("+sig.String()+")", st.String())
			// After Reap, signalling is a no-op whatever the pid is now.
			assert.NoError(t, pr.Signal(unix.SIGKILL))
			assert.NoError(t, pr.SignalGroup(unix.SIGKILL))
		})
	}
}

func TestCoreDumpedFlag(t *testing.T) {
	sp := setup(t)
	p := sh("kill -SEGV $$")
	p.Dir = t.TempDir()
	p.Rlimits = []Rlimit{{Resource: unix.RLIMIT_CORE, Soft: unix.RLIM_INFINITY, Hard: unix.RLIM_INFINITY}}
	r := run(t, sp, p)
	assert.Equal(t, int(unix.SIGSEGV), r.status.Signal)
	assert.True(t, r.status.CoreDumped, "core_pattern %q", readFile(t, "/proc/sys/kernel/core_pattern"))

	p.Rlimits = []Rlimit{{Resource: unix.RLIMIT_CORE, Soft: 0, Hard: 0}}
	r = run(t, sp, p)
	assert.Equal(t, int(unix.SIGSEGV), r.status.Signal)
	if !strings.HasPrefix(readFile(t, "/proc/sys/kernel/core_pattern"), "|") {
		assert.False(t, r.status.CoreDumped)
	}
}

func TestRusageOfBusyChild(t *testing.T) {
	sp := setup(t)
	r := run(t, sp, sh(`i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done`))
	require.True(t, r.status.Success())
	assert.Greater(t, r.status.UserUs+r.status.SystemUs, int64(10000), "%+v", r.status)
	assert.Greater(t, r.status.MaxRSSKb, int64(100), "%+v", r.status)
}

// The shim reaps the target and reports its status: once Exited is closed
// the target is gone, and Reap gives the same answer every time. A signal
// after the end reaches nobody and is not an error.
func TestExitedReportsReapedTarget(t *testing.T) {
	sp := setup(t)
	pr, err := sp.Start(sh("exit 3"))
	require.NoError(t, err)
	defer pr.Close()
	select {
	case <-pr.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("Exited never closed")
	}
	st1, err1 := pr.Reap()
	st2, err2 := pr.Reap()
	require.NoError(t, err1)
	assert.Equal(t, 3, st1.ExitCode)
	assert.Equal(t, st1, st2)
	assert.Equal(t, err1, err2)
	assert.False(t, pr.TreeLeft())
	assert.Eventually(t, func() bool { return procState(pr.Pid) == "" }, 5*time.Second, time.Millisecond)
	assert.NoError(t, pr.SignalGroup(unix.SIGKILL))
}

func TestSignalGroupKillsBackgroundGrandchild(t *testing.T) {
	sp := setup(t)
	pr, err := sp.Start(sh("sleep 1000 & echo $!; wait"))
	require.NoError(t, err)
	defer killAndClose(pr)
	line, err := bufio.NewReader(pr.Stdout).ReadString('\n')
	require.NoError(t, err)
	grandchild, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)
	// Alive: any state but gone, zombie or dead (a loaded machine may show
	// it in uninterruptible sleep, D, for a moment).
	require.NotContains(t, []string{"", "Z", "X"}, procState(grandchild), "the grandchild is alive")
	require.Equal(t, pr.Pid, procPgrp(grandchild), "the grandchild is in the leader's group")

	require.NoError(t, pr.SignalGroup(unix.SIGKILL))
	st, err := pr.Reap()
	require.NoError(t, err)
	assert.Equal(t, int(unix.SIGKILL), st.Signal)
	// Reparented to init, the grandchild is dead: gone, or a zombie there.
	assert.Eventually(t, func() bool {
		s := procState(grandchild)
		return s == "" || s == "Z"
	}, 5*time.Second, 10*time.Millisecond)
}

// The host steals the shim's status, as waitpid(-1) would: the target's
// status came on the control socket and is not lost.
func TestReapAfterHostReapedShim(t *testing.T) {
	sp := setup(t)
	pr, err := sp.Start(sh("exit 7"))
	require.NoError(t, err)
	defer pr.Close()
	var ws unix.WaitStatus
	_, err = unix.Wait4(pr.ShimPid, &ws, 0, nil)
	require.NoError(t, err)
	st, err := pr.Reap()
	require.NoError(t, err)
	assert.Equal(t, 7, st.ExitCode)
}

// The shim killed from outside before it reported: the status is lost, and
// says so; the tree dies with the shim's socket.
func TestReapStatusLostWhenShimKilled(t *testing.T) {
	sp := setup(t)
	// The target is sleep itself: with no subreaper left, a shell's child
	// would outlive the test.
	pr, err := sp.Start(&Plan{Path: "sleep", Args: []string{"100"}, Env: testEnv})
	require.NoError(t, err)
	defer pr.Close()
	require.NoError(t, unix.Kill(pr.ShimPid, unix.SIGKILL))
	_, err = pr.Reap()
	assert.ErrorIs(t, err, ErrStatusLost)
	unix.Kill(pr.Pid, unix.SIGKILL) // orphaned without its subreaper
}

// childScenarioEnv selects a scenario in a re-executed test binary, for what
// must not touch the main test process (SIGCHLD ignored).
const childScenarioEnv = "SOLTI_PROC_TEST_SCENARIO"

func TestReapExactWhenHostIgnoresSIGCHLD(t *testing.T) {
	if os.Getenv(childScenarioEnv) == "sigchld-ignored" {
		sigchldIgnoredScenario(t)
		return
	}
	setup(t)
	out := runScenario(t, "sigchld-ignored")
	assert.Contains(t, out, "--- PASS: TestReapExactWhenHostIgnoresSIGCHLD")
}

// runScenario re-executes the test binary for the running test only, with
// childScenarioEnv set to scenario, and returns its standard output.
func runScenario(t *testing.T, scenario string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childScenarioEnv+"="+scenario, testutil.ShimEnv+"="+testutil.ShimPath(t))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s\n%s", out, stderr.String())
	return string(out)
}

func sigchldIgnoredScenario(t *testing.T) {
	signal.Ignore(syscall.SIGCHLD)
	sp, err := NewSpawner(testutil.ShimPath(t))
	require.NoError(t, err)

	// A failed spawn must not hang either.
	_, err = sp.Start(&Plan{Path: "nosuch-binary-xyz", Env: testEnv})
	require.EqualError(t, err, `spawn failed: exec "nosuch-binary-xyz": no such file or directory`)

	pr, err := sp.Start(sh("echo hi"))
	require.NoError(t, err)
	defer pr.Close()
	out, _ := drain(pr)
	assert.Equal(t, "hi\n", out)
	select {
	case <-pr.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("Exited never closed")
	}
	st, err := pr.Reap()
	require.NoError(t, err, "the shim reports the status; the host only loses the shim's")
	assert.True(t, st.Success(), st.String())

	pr2, err := sp.Start(sh("kill -TERM $$"))
	require.NoError(t, err)
	defer pr2.Close()
	st, err = pr2.Reap()
	require.NoError(t, err)
	assert.Equal(t, int(unix.SIGTERM), st.Signal)
}

func TestCloseUnblocksReadersAndReapsExited(t *testing.T) {
	sp := setup(t)

	// A running child: Close unblocks a reader; the child is not killed.
	pr, err := sp.Start(&Plan{Path: "sleep", Args: []string{"100"}, Env: testEnv})
	require.NoError(t, err)
	readDone := make(chan error, 1)
	go func() {
		_, err := pr.Stdout.Read(make([]byte, 10))
		readDone <- err
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, pr.Signal(unix.SIGKILL))
	<-pr.Exited()
	pr.Close()
	pr.Close() // idempotent
	select {
	case err := <-readDone:
		assert.Error(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("reader not unblocked by Close")
	}
	// The status was reported before Close, so Reap has it.
	st, err := pr.Reap()
	require.NoError(t, err)
	assert.Equal(t, int(unix.SIGKILL), st.Signal)

	// Closed while running: Reap and the signals say so, and the shim,
	// seeing its socket close, kills the tree.
	pr, err = sp.Start(&Plan{Path: "sleep", Args: []string{"100"}, Env: testEnv})
	require.NoError(t, err)
	pr.Close()
	_, err = pr.Reap()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, pr.Signal(unix.SIGKILL), ErrClosed)
	assert.ErrorIs(t, pr.SignalGroup(unix.SIGKILL), ErrClosed)
	assert.Eventually(t, func() bool { return procState(pr.Pid) == "" }, 5*time.Second, time.Millisecond)
}

func TestStdoutDeadline(t *testing.T) {
	sp := setup(t)
	pr, err := sp.Start(&Plan{Path: "sleep", Args: []string{"100"}, Env: testEnv})
	require.NoError(t, err)
	defer killAndClose(pr)
	require.NoError(t, pr.Stdout.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, err = pr.Stdout.Read(make([]byte, 10))
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.NoError(t, pr.SignalGroup(unix.SIGKILL))
	_, err = pr.Reap()
	require.NoError(t, err)
}

// killAndClose is a deferred clean-up for tests whose child may still run.
func killAndClose(pr *Process) {
	pr.SignalGroup(unix.SIGKILL)
	pr.Reap()
	pr.Close()
}

// procState is the state letter of pid ("R", "S", "Z", ...), or "" if gone.
func procState(pid int) string {
	f := procStat(pid)
	if len(f) < 1 {
		return ""
	}
	return f[0]
}

func procPgrp(pid int) int {
	f := procStat(pid)
	if len(f) < 3 {
		return -1
	}
	n, _ := strconv.Atoi(f[2])
	return n
}

// procStat gives the fields of /proc/PID/stat after the command name.
func procStat(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// The thread that called Start may exit while the child runs (a Python
// worker thread): the child must not get the parent-death signal.
func TestChildSurvivesExitOfStartingThread(t *testing.T) {
	sp := setup(t)
	started := make(chan *Process, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		pr, err := sp.Start(&Plan{Path: "sleep", Args: []string{"100"}, Env: testEnv})
		if err != nil {
			t.Error(err)
		}
		started <- pr
	}()
	pr := <-started
	require.NotNil(t, pr)
	defer killAndClose(pr)
	time.Sleep(200 * time.Millisecond)
	select {
	case <-pr.Exited():
		st, _ := pr.Reap()
		t.Fatalf("child died with its starting thread: %v", st)
	default:
	}
}

// When the host process dies, its children die too (SIGKILL as parent-death
// signal), sandbox steps notwithstanding.
func TestChildDiesWithHost(t *testing.T) {
	if os.Getenv(childScenarioEnv) == "host-dies" {
		sp, err := NewSpawner(testutil.ShimPath(t))
		require.NoError(t, err)
		p := &Plan{Path: "sleep", Args: []string{"100"}, Env: testEnv, NoNewPrivs: true,
			Rlimits: []Rlimit{{Resource: unix.RLIMIT_CORE}}}
		if unix.Geteuid() == 0 {
			p.DropCaps, p.CapsFatal = true, true
		}
		pr, err := sp.Start(p)
		require.NoError(t, err)
		os.Stdout.WriteString("child " + strconv.Itoa(pr.Pid) + "\n")
		os.Exit(0)
	}
	setup(t)
	out := runScenario(t, "host-dies")
	var pid int
	_, err := fmt.Sscanf(out[strings.Index(out, "child "):], "child %d", &pid)
	require.NoError(t, err, "%s", out)
	assert.Eventually(t, func() bool {
		s := procState(pid)
		return s == "" || s == "Z"
	}, 5*time.Second, 10*time.Millisecond, "the host's child outlived it")
}

// A host thread that forks without exec while a spawn is in flight holds a
// copy of the status pipe's write end. Start must not wait for that copy to
// go away once the answer is known: a fatal record is final at once, and a
// child that has exited is final at the next look at its pidfd.
func TestStatusPipeHeldByAnotherProcess(t *testing.T) {
	sp := setup(t)
	var holders []int
	testHooks.Store(&spawnHooks{beforeFork: func(attr *syscall.ProcAttr) {
		// Stands in for the forked host: it inherits the status write end.
		pid, err := syscall.ForkExec("/bin/sleep", []string{"sleep", "1"},
			&syscall.ProcAttr{Files: []uintptr{0, 1, 2, attr.Files[3]}})
		if err == nil {
			holders = append(holders, pid)
		}
	}})
	defer testHooks.Store(nil)
	defer func() {
		for _, pid := range holders {
			unix.Kill(pid, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
		}
	}()

	t0 := time.Now()
	_, err := sp.Start(&Plan{Path: "nosuch-binary-xyz", Env: testEnv})
	assert.EqualError(t, err, `spawn failed: exec "nosuch-binary-xyz": no such file or directory`)
	assert.Less(t, time.Since(t0), 500*time.Millisecond)

	t0 = time.Now()
	r := run(t, sp, &Plan{Path: "echo", Args: []string{"ok"}, Env: testEnv})
	assert.Equal(t, "ok\n", r.stdout)
	assert.Less(t, time.Since(t0), 500*time.Millisecond)
	assert.Len(t, holders, 2)
}

// Out of descriptors: the pipe step says so, and nothing is left open.
func TestSpawnOutOfDescriptors(t *testing.T) {
	if os.Getenv(childScenarioEnv) == "emfile" {
		sp, err := NewSpawner(testutil.ShimPath(t))
		require.NoError(t, err)
		open := map[int]bool{}
		entries, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		for _, e := range entries {
			n, _ := strconv.Atoi(e.Name())
			open[n] = true
		}
		// Room for /dev/null and one descriptor more: the first pipe fails.
		limit, free := 0, 0
		for ; free < 2; limit++ {
			if !open[limit] {
				free++
			}
		}
		var old unix.Rlimit
		require.NoError(t, unix.Getrlimit(unix.RLIMIT_NOFILE, &old))
		lim := unix.Rlimit{Cur: uint64(limit), Max: old.Max}
		before := testutil.TakeSnapshot()
		require.NoError(t, unix.Setrlimit(unix.RLIMIT_NOFILE, &lim))
		_, err = sp.Start(&Plan{Path: "true", Env: testEnv})
		require.NoError(t, unix.Setrlimit(unix.RLIMIT_NOFILE, &old))
		var se *SpawnError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, StepPipe, se.Step)
		assert.EqualError(t, err, "spawn failed: pipe: too many open files")
		testutil.CheckNoLeaks(t, before)
		return
	}
	setup(t)
	out := runScenario(t, "emfile")
	assert.Contains(t, out, "--- PASS: TestSpawnOutOfDescriptors")
}
