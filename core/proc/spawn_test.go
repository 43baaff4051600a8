package proc

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
)

func TestEchoArgsReachStdout(t *testing.T) {
	sp := setup(t)
	r := run(t, sp, &Plan{Path: "echo", Args: []string{"hello", "two words", ""}, Env: testEnv})
	assert.Equal(t, "hello two words \n", r.stdout)
	assert.Empty(t, r.stderr)
	assert.True(t, r.status.Success(), r.status.String())
}

func TestStderrIsItsOwnPipe(t *testing.T) {
	sp := setup(t)
	r := run(t, sp, sh("echo out; echo err >&2"))
	assert.Equal(t, "out\n", r.stdout)
	assert.Equal(t, "err\n", r.stderr)
}

func TestChildSeesExactlyPlanEnv(t *testing.T) {
	sp := setup(t)
	t.Setenv("SOLTI_PROC_HOST_ONLY", "leaked")
	env := []string{"FOO=bar", "EMPTY=", "WITH_EQ=a=b", "PATH=/usr/bin:/bin"}
	r := run(t, sp, &Plan{Path: "/usr/bin/env", Env: env})
	got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	sort.Strings(got)
	want := append([]string{}, env...)
	sort.Strings(want)
	assert.Equal(t, want, got)
}

func TestNilEnvIsEmptyAndUsesDefaultPath(t *testing.T) {
	sp := setup(t)
	// No PATH in the target's environment: the shim searches the default.
	r := run(t, sp, &Plan{Path: "env"})
	assert.Empty(t, r.stdout)
	assert.True(t, r.status.Success(), r.status.String())
}

func TestPathSearchUsesPlanEnv(t *testing.T) {
	sp := setup(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "solti-tool"), "#!/bin/sh\necho found \"$0\"\n", 0o755)
	r := run(t, sp, &Plan{Path: "solti-tool", Env: []string{"PATH=/nonexistent:" + dir + ":/usr/bin:/bin"}})
	assert.Equal(t, "found "+filepath.Join(dir, "solti-tool")+"\n", r.stdout)
}

func TestArgv0(t *testing.T) {
	sp := setup(t)
	p := sh("echo $0")
	p.Args = []string{"-c", "echo $0"}
	p.Argv0 = "custom-name"
	r := run(t, sp, p)
	assert.Equal(t, "custom-name\n", r.stdout)
}

func TestCwdHonoured(t *testing.T) {
	sp := setup(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	writeFile(t, filepath.Join(dir, "local-script"), "#!/bin/sh\necho local\n", 0o755)
	p := sh("pwd; ./local-script")
	p.Dir = dir
	r := run(t, sp, p)
	assert.Equal(t, dir+"\nlocal\n", r.stdout)

	// A relative target resolves against Dir, like os/exec.
	r = run(t, sp, &Plan{Path: "./local-script", Dir: dir, Env: testEnv})
	assert.Equal(t, "local\n", r.stdout)
}

func TestSpawnErrors(t *testing.T) {
	sp := setup(t)
	dir := t.TempDir()
	noExec := filepath.Join(dir, "not-executable")
	writeFile(t, noExec, "#!/bin/sh\necho no\n", 0o644)
	garbage := filepath.Join(dir, "garbage")
	writeFile(t, garbage, "\x7fELF but not really", 0o755)
	writeFile(t, filepath.Join(dir, "in-path-noexec"), "#!/bin/sh\n", 0o644)

	tests := []struct {
		name    string
		plan    *Plan
		step    string
		errno   unix.Errno
		message string
	}{
		{"missing binary", &Plan{Path: "nosuch-binary-xyz", Env: testEnv}, StepExec, unix.ENOENT,
			`spawn failed: exec "nosuch-binary-xyz": no such file or directory`},
		{"missing absolute", &Plan{Path: "/nonexistent/prog", Env: testEnv}, StepExec, unix.ENOENT,
			`spawn failed: exec "/nonexistent/prog": no such file or directory`},
		{"bad cwd", &Plan{Path: "true", Dir: "/nonexistent-dir-xyz", Env: testEnv}, StepChdir, unix.ENOENT,
			`spawn failed: chdir "/nonexistent-dir-xyz": no such file or directory`},
		{"cwd is a file", &Plan{Path: "true", Dir: noExec, Env: testEnv}, StepChdir, unix.ENOTDIR,
			fmt.Sprintf(`spawn failed: chdir %q: not a directory`, noExec)},
		{"not executable", &Plan{Path: noExec, Env: testEnv}, StepExec, unix.EACCES,
			fmt.Sprintf(`spawn failed: exec %q: permission denied`, noExec)},
		{"EACCES beats ENOENT in PATH", &Plan{Path: "in-path-noexec", Env: []string{"PATH=/nonexistent:" + dir + ":/usr/bin"}},
			StepExec, unix.EACCES, `spawn failed: exec "in-path-noexec": permission denied`},
		{"exec format error, no shell fallback", &Plan{Path: garbage, Env: testEnv}, StepExec, unix.ENOEXEC,
			fmt.Sprintf(`spawn failed: exec %q: exec format error`, garbage)},
		{"rlimit refused", &Plan{Path: "true", Env: testEnv, Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 200, Hard: 100}}},
			StepRlimit, unix.EINVAL, `spawn failed: rlimit "RLIMIT_NOFILE": invalid argument`},
		{"cgroup v1 join", &Plan{Path: "true", Env: testEnv, JoinProcs: []string{"/nonexistent/cgroup.procs"}},
			StepCgroup, unix.ENOENT, `spawn failed: cgroup "/nonexistent/cgroup.procs": no such file or directory`},
		{"NUL in an argument", &Plan{Path: "echo", Args: []string{"a", "b\x00c"}, Env: testEnv}, StepPlan, unix.EINVAL,
			`spawn failed: plan "Args[1]": invalid argument`},
		{"empty path", &Plan{Path: "", Env: testEnv}, StepPlan, unix.ENOENT,
			`spawn failed: plan "Path": no such file or directory`},
		{"unknown rlimit", &Plan{Path: "true", Rlimits: []Rlimit{{Resource: 99}}}, StepPlan, unix.EINVAL,
			`spawn failed: plan "Rlimits[0]": invalid argument`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pr, err := sp.Start(tc.plan)
			require.Error(t, err)
			require.Nil(t, pr)
			var se *SpawnError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.step, se.Step)
			assert.Equal(t, tc.errno, se.Errno)
			assert.EqualError(t, err, tc.message)
			assert.ErrorIs(t, err, tc.errno)
			assert.Equal(t, tc.step == StepRlimit || tc.step == StepCgroup, se.IsSandbox())
		})
	}
	var se *SpawnError
	_, err := sp.Start(&Plan{Path: "nosuch-binary-xyz", Env: testEnv})
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestShimProblems(t *testing.T) {
	setup(t)
	dir := t.TempDir()

	_, err := NewSpawner(filepath.Join(dir, "missing-shim"))
	assert.EqualError(t, err, fmt.Sprintf(`spawn failed: exec shim %q: not found`, filepath.Join(dir, "missing-shim")))
	assert.ErrorIs(t, err, fs.ErrNotExist)

	noExec := filepath.Join(dir, "noexec-shim")
	writeFile(t, noExec, "", 0o644)
	_, err = NewSpawner(noExec)
	assert.EqualError(t, err, fmt.Sprintf(`spawn failed: exec shim %q: not executable`, noExec))

	_, err = NewSpawner(dir)
	assert.EqualError(t, err, fmt.Sprintf(`spawn failed: exec shim %q: not executable`, dir))

	// The shim disappears after NewSpawner: Start names it.
	shim := filepath.Join(dir, "shim")
	data, err := os.ReadFile(testutil.ShimPath(t))
	require.NoError(t, err)
	writeFile(t, shim, string(data), 0o755)
	sp, err := NewSpawner(shim)
	require.NoError(t, err)
	assert.Equal(t, shim, sp.ShimPath())
	require.NoError(t, os.Remove(shim))
	_, err = sp.Start(&Plan{Path: "true", Env: testEnv})
	var se *SpawnError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepShim, se.Step)
	assert.EqualError(t, err, fmt.Sprintf(`spawn failed: exec shim %q: no such file or directory`, shim))

	// A relative shim path is made absolute.
	t.Chdir(filepath.Dir(testutil.ShimPath(t)))
	sp, err = NewSpawner("./" + filepath.Base(testutil.ShimPath(t)))
	require.NoError(t, err)
	assert.True(t, filepath.IsAbs(sp.ShimPath()))
}

func TestStdinIsDevNullByDefault(t *testing.T) {
	sp := setup(t)
	r := run(t, sp, sh("readlink /proc/self/fd/0; cat; echo end"))
	assert.Equal(t, "/dev/null\nend\n", r.stdout)
}

func TestStdinInherit(t *testing.T) {
	sp := setup(t)
	want, err := os.Readlink("/proc/self/fd/0")
	require.NoError(t, err)
	p := sh("readlink /proc/self/fd/0")
	p.Stdin = StdinInherit
	r := run(t, sp, p)
	assert.Equal(t, want+"\n", r.stdout)
}

// The test process ignores SIGPIPE (as Python does); a child started by plain
// os/exec inherits that, a child started through the shim must not. The
// spawning thread also has signals blocked; the child's mask is empty.
func TestChildGetsDefaultSignalsAndEmptyMask(t *testing.T) {
	sp := setup(t)
	signal.Ignore(syscall.SIGPIPE)
	defer signal.Reset(syscall.SIGPIPE)

	control, err := exec.Command("/bin/sh", "-c", "grep SigIgn /proc/self/status").Output()
	require.NoError(t, err)
	ign, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(string(control), "SigIgn:")), 16, 64)
	require.NoError(t, err)
	require.NotZero(t, ign&(1<<(syscall.SIGPIPE-1)), "control: os/exec child should inherit the ignored SIGPIPE")

	var threadMask string
	hooks := &spawnHooks{
		beforeFork: func(*syscall.ProcAttr) {
			set := unix.Sigset_t{}
			set.Val[0] = 1<<(unix.SIGUSR2-1) | 1<<(unix.SIGTERM-1)
			unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil)
			status, _ := os.ReadFile("/proc/thread-self/status")
			threadMask = statusField(t, string(status), "SigBlk")
		},
		afterFork: func() {
			set := unix.Sigset_t{}
			set.Val[0] = 1<<(unix.SIGUSR2-1) | 1<<(unix.SIGTERM-1)
			unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
		},
	}
	testHooks.Store(hooks)
	defer testHooks.Store(nil)

	r := run(t, sp, sh("cat /proc/self/status; yes | head -1"))
	assert.NotEqual(t, "0000000000000000", threadMask, "control: the spawn thread had signals blocked")
	assert.Equal(t, "0000000000000000", statusField(t, r.stdout, "SigIgn"))
	assert.Equal(t, "0000000000000000", statusField(t, r.stdout, "SigBlk"))
	assert.True(t, strings.HasSuffix(r.stdout, "\ny\n"), r.stdout)
	assert.Empty(t, r.stderr, "yes must die of SIGPIPE quietly, not report a write error")
	assert.True(t, r.status.Success(), r.status.String())
}

// A descriptor the host opened without close-on-exec is not inherited.
func TestOnlyStandardDescriptorsInherited(t *testing.T) {
	sp := setup(t)
	marker := filepath.Join(t.TempDir(), "inherited-marker")
	fd, err := unix.Open(marker, unix.O_CREAT|unix.O_RDWR, 0o600) // no O_CLOEXEC
	require.NoError(t, err)
	defer unix.Close(fd)
	require.NoError(t, unix.Dup2(fd, 100))
	defer unix.Close(100)

	r := run(t, sp, &Plan{Path: "ls", Args: []string{"-l", "/proc/self/fd/"}, Env: testEnv})
	assert.NotContains(t, r.stdout, marker)
	var fds []int
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[len(f)-2] != "->" {
			continue
		}
		if strings.HasSuffix(f[len(f)-1], "/fd") { // ls's own directory
			continue
		}
		n, err := strconv.Atoi(f[len(f)-3])
		require.NoError(t, err)
		fds = append(fds, n)
	}
	assert.Equal(t, []int{0, 1, 2}, fds, r.stdout)
}

func TestChildLeadsItsOwnProcessGroup(t *testing.T) {
	sp := setup(t)
	r := run(t, sp, sh(`read -r pid comm state ppid pgrp rest < /proc/$$/stat; echo $pid $pgrp`))
	assert.Equal(t, fmt.Sprintf("%d %d\n", r.pid, r.pid), r.stdout)
}

func TestManyConcurrentSpawns(t *testing.T) {
	sp := setup(t)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, err := sp.Start(&Plan{Path: "echo", Args: []string{strconv.Itoa(i)}, Env: testEnv})
			if err != nil {
				errs <- err
				return
			}
			defer pr.Close()
			out, _ := drain(pr)
			st, err := pr.Reap()
			switch {
			case err != nil:
				errs <- err
			case !st.Success():
				errs <- errors.New(st.String())
			case out != strconv.Itoa(i)+"\n":
				errs <- fmt.Errorf("spawn %d printed %q", i, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
