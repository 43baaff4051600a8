package proc

import (
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
)

// testEnv is the whole environment of most test children.
var testEnv = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}

// TestMain checks the whole suite from a cold start: the spawn thread and the
// poller appear during it and must be the only things left.
func TestMain(m *testing.M) {
	os.Exit(testutil.RunChecked(m))
}

// setup gives a Spawner on the test shim and checks, when the test ends, that
// it left no descriptors, goroutines or children behind.
func setup(t *testing.T) *Spawner {
	t.Helper()
	sp, err := NewSpawner(testutil.ShimPath(t))
	require.NoError(t, err)
	before := testutil.TakeSnapshot()
	t.Cleanup(func() { testutil.CheckNoLeaks(t, before) })
	return sp
}

type result struct {
	stdout, stderr string
	status         Status
	pid            int
}

// run starts p, reads both pipes to EOF, and reaps.
func run(t testing.TB, sp *Spawner, p *Plan) result {
	t.Helper()
	pr, err := sp.Start(p)
	require.NoError(t, err)
	defer pr.Close()
	stdout, stderr := drain(pr)
	st, err := pr.Reap()
	require.NoError(t, err)
	return result{stdout: stdout, stderr: stderr, status: st, pid: pr.Pid}
}

func drain(pr *Process) (stdout, stderr string) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b, _ := io.ReadAll(pr.Stderr)
		stderr = string(b)
	}()
	b, _ := io.ReadAll(pr.Stdout)
	wg.Wait()
	return string(b), stderr
}

// sh is a plan running script with /bin/sh; $0 is "sh", args follow.
func sh(script string, args ...string) *Plan {
	return &Plan{Path: "/bin/sh", Args: append([]string{"-c", script, "sh"}, args...), Env: testEnv}
}

// statusField reads "Name:\tvalue" from a /proc/PID/status text.
func statusField(t testing.TB, status, name string) string {
	t.Helper()
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in:\n%s", name, status)
	return ""
}

// writeFile creates path with the given content and mode.
func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), mode))
	require.NoError(t, os.Chmod(path, mode))
}
