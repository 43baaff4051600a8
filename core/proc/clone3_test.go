package proc

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// A seccomp filter (Docker's older profiles) or valgrind refuses clone3 with
// ENOSYS on a kernel that has CLONE_INTO_CGROUP. The spawn must not fail for
// it: the shim joins the cgroup before exec instead, as before Linux 5.7, and
// later spawns skip clone3. A directory with a plain cgroup.procs file stands
// in for the cgroup (the shim's write of "0" lands in it).
func TestClone3RefusedFallsBackToTheShimJoin(t *testing.T) {
	sp := setup(t)
	dir := t.TempDir()
	procs := filepath.Join(dir, "cgroup.procs")
	writeFile(t, procs, "", 0o644)
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(dfd)

	var refused atomic.Int32
	forkExec = func(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
		if attr.Sys.UseCgroupFD {
			refused.Add(1)
			return 0, syscall.ENOSYS
		}
		return syscall.ForkExec(path, argv, attr)
	}
	t.Cleanup(func() {
		forkExec = syscall.ForkExec
		noCloneIntoCgroup.Store(false)
	})

	for i := 0; i < 3; i++ {
		r := run(t, sp, &Plan{Path: "echo", Args: []string{"joined"}, Env: testEnv, CgroupFD: dfd, HasCgroupFD: true})
		assert.Equal(t, "joined\n", r.stdout)
		assert.True(t, r.status.Success(), r.status.String())
	}
	assert.Equal(t, int32(1), refused.Load(), "clone3 is tried once, then the shim joins at once")
	got, err := os.ReadFile(procs)
	require.NoError(t, err)
	assert.Equal(t, "0", string(got), "the shim wrote its join")
}

// Any other clone3 failure is still the spawn's error, naming the cgroup.
func TestClone3OtherErrorsAreReported(t *testing.T) {
	sp := setup(t)
	dir := t.TempDir()
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(dfd)
	forkExec = func(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
		if attr.Sys.UseCgroupFD {
			return 0, syscall.EBUSY
		}
		return syscall.ForkExec(path, argv, attr)
	}
	t.Cleanup(func() { forkExec = syscall.ForkExec })
	_, err = sp.Start(&Plan{Path: "echo", Env: testEnv, CgroupFD: dfd, HasCgroupFD: true})
	var se *SpawnError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepCgroup, se.Step)
	assert.Equal(t, unix.EBUSY, se.Errno)
	assert.Equal(t, dir, se.Arg)
	assert.False(t, noCloneIntoCgroup.Load())
}
