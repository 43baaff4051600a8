package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestRepoRoot(t *testing.T) {
	_, err := os.Stat(filepath.Join(RepoRoot(), "go.mod"))
	assert.NoError(t, err)
}

func TestBuildShim(t *testing.T) {
	path, err := buildShim(filepath.Join(RepoRoot(), "shim", "solti-exec-shim.c"))
	require.NoError(t, err)
	again, err := buildShim(filepath.Join(RepoRoot(), "shim", "solti-exec-shim.c"))
	require.NoError(t, err)
	assert.Equal(t, path, again, "the build is reused")

	// Run by hand with a status pipe and a control socket, the shim runs
	// its target.
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	ctl, shimEnd, err := os.Pipe() // a pipe stands in for the socket: the shim only reads it
	require.NoError(t, err)
	defer shimEnd.Close()
	cmd := exec.Command(path, "solti-shim/2", "--", "echo", "shim works")
	cmd.ExtraFiles = []*os.File{w, ctl}
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	w.Close()
	ctl.Close()
	require.NoError(t, err)
	assert.Equal(t, "shim works\n", string(out))
}

func TestShimPathPrefersEnv(t *testing.T) {
	t.Setenv(ShimEnv, "/custom/shim")
	assert.Equal(t, "/custom/shim", ShimPath(t))
}

func TestShimPathIsExecutable(t *testing.T) {
	t.Setenv(ShimEnv, "")
	path := ShimPath(t)
	require.NoError(t, unix.Access(path, unix.X_OK), path)
}

func TestLeaksAreReported(t *testing.T) {
	before := TakeSnapshot()
	assert.Empty(t, leaks(before))

	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	cmd := exec.Command("sleep", "10")
	require.NoError(t, cmd.Start())
	stop := make(chan struct{})
	for range 5 {
		go func() { <-stop }()
	}

	problems := strings.Join(leaks(before), "\n")
	assert.Contains(t, problems, "/dev/null")
	assert.Contains(t, problems, "sleep")
	assert.Contains(t, problems, "goroutines")

	unix.Close(fd)
	cmd.Process.Kill()
	cmd.Wait()
	close(stop)
	CheckNoLeaks(t, before)
	assert.NoError(t, LeakReport(before))
}
