package runner

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const pidsScenarioEnv = "SOLTI_RUNNER_TEST_PIDS_CGROUP"

// pidsHierarchy is the mount point of a cgroup v1 pids hierarchy, or "".
func pidsHierarchy() string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(fields) || fields[sep+1] != "cgroup" {
			continue
		}
		for _, o := range strings.Split(fields[sep+3], ",") {
			if o == "pids" {
				return fields[4]
			}
		}
	}
	return ""
}

// A task without cgroups.pids that takes every pid the host's pids cgroup
// allows must not abort the host (the Go runtime dies when it cannot start
// a thread it needs): the host survives, and cancel ends the task cleanly.
// The host is a re-executed test binary in a pids cgroup of its own.
func TestHostSurvivesPidExhaustionByItsTask(t *testing.T) {
	if dir := os.Getenv(pidsScenarioEnv); dir != "" {
		pidsExhaustionScenario(t, dir)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a pids cgroup for the host")
	}
	root := pidsHierarchy()
	if root == "" {
		t.Skip("needs a cgroup v1 pids hierarchy (none mounted)")
	}
	dir := filepath.Join(root, fmt.Sprintf("solti-test-pids-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a pids cgroup: %v", err)
	}
	defer func() {
		// Whatever the scenario left (nothing, if the shim did its job)
		// goes before the cgroup.
		for i := 0; i < 100; i++ {
			if os.Remove(dir) == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("pids cgroup %s not empty after the scenario", dir)
	}()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), pidsScenarioEnv+"="+dir, testutil.ShimEnv+"="+testutil.ShimPath(t))
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err, "the host died:\n%s", out)
	assert.Contains(t, string(out), "--- PASS: "+t.Name())
	assert.NotContains(t, string(out), "pthread_create failed")
}

func threadsOfSelf(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no Threads in /proc/self/status")
	return 0
}

func pidsExhaustionScenario(t *testing.T, dir string) {
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644))
	// Host threads blocked in the library, as C threads in a wait or a
	// poll are: each holds its OS thread, so the library's own goroutines
	// must run on the threads that are left.
	host := newRunner(t, "")
	idle := build(t, host, spec("idle", command("sleep", "30"), nil))
	require.NoError(t, idle.Spawn())
	var blocked sync.WaitGroup
	for i := 0; i < 8; i++ {
		blocked.Add(1)
		go func() {
			defer blocked.Done()
			runtime.LockOSThread()
			idle.Wait(-1)
		}()
	}
	time.Sleep(200 * time.Millisecond) // they are all parked in Wait
	// A C thread brings its own thread into the library; a locked
	// goroutine here takes one of the runtime's, which would leave the
	// reserve New made short. So the runner that starts the bomb is made
	// now, with its reserve whole, as a C host's would be.
	r := newRunner(t, "")
	// A bounded fork bomb: sleeping children until fork fails, then the
	// target waits (a shell would give up at the first failed fork).
	task := build(t, r, spec("pids", command("/usr/bin/python3", "-c", `
import os, time
n = 0
for n in range(400):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
print("forked", n, flush=True)
time.sleep(30)
`), nil))
	// Room for what the host has now (its threads, the idle task), the
	// bomb's shim and target, and a few of its children: it takes the rest.
	b, err := os.ReadFile(filepath.Join(dir, "pids.current"))
	require.NoError(t, err)
	current, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	limit := current + 6
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pids.max"), []byte(strconv.Itoa(limit)), 0o644))
	t.Logf("host threads %d, pids in the cgroup %d", threadsOfSelf(t), current)
	require.NoError(t, task.Spawn())
	// The pid budget is spent while the host carries on: poll, timers, GC.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(dir, "pids.events"))
		if !strings.Contains(string(b), "max 0") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 20; i++ {
		go func() { time.Sleep(time.Millisecond) }()
		_, _ = os.ReadFile(filepath.Join(dir, "pids.current"))
	}
	time.Sleep(300 * time.Millisecond)
	// More of the host's work while the pids are gone: a spawn fails
	// cleanly, and the GC runs.
	other := build(t, r, spec("other", command("true"), nil))
	if err := other.Spawn(); err != nil {
		t.Logf("spawn while exhausted: %v", err)
	} else if _, err := other.Wait(10 * time.Second); err != nil {
		t.Logf("wait while exhausted: %v", err)
	}
	runtime.GC()
	task.Cancel()
	idle.Cancel()
	blocked.Wait()
	rep, err := task.Wait(10 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, OutcomeCanceled, rep.Outcome)
	b, _ = os.ReadFile(filepath.Join(dir, "pids.events"))
	t.Logf("pids.max %d, %s", limit, strings.TrimSpace(string(b)))
	assert.NotContains(t, string(b), "max 0", "the task never reached the limit")
}
