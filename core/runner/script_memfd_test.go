package runner

import (
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
)

// By default a script body is in a sealed memfd that the child reads as
// /proc/self/fd/3: nothing is written under TMPDIR, before, during or
// after the run, and nobody can change the body once it is built.
func TestScriptBodyIsASealedMemfd(t *testing.T) {
	tmp := t.TempDir()
	r := newRunner(t, "", withEnviron("PATH=/usr/bin:/bin", "TMPDIR="+tmp))
	task := build(t, r, spec("memfd", bashScript(`echo "path: $0 args: $*"; ls /proc/self/fd/3`, "a", "b"), nil))
	require.Equal(t, model.ScriptMemfd, task.ScriptStorage())
	assert.Equal(t, "/proc/self/fd/3", task.ScriptPath())
	assert.Equal(t, []string{"/proc/self/fd/3", "a", "b"}, task.args)

	seals, err := unix.FcntlInt(uintptr(task.memfd.fd), unix.F_GET_SEALS, 0)
	require.NoError(t, err)
	assert.Equal(t, scriptSeals, seals&scriptSeals, "shrink, grow, write and seal are sealed")
	_, err = unix.Pwrite(task.memfd.fd, []byte("rm -rf ~"), 0)
	assert.ErrorIs(t, err, unix.EPERM, "the body cannot be rewritten")

	assertEmpty := func(when string) {
		entries, err := os.ReadDir(tmp)
		require.NoError(t, err)
		assert.Empty(t, entries, "TMPDIR %s", when)
	}
	assertEmpty("after build")
	rep, evs := runToEnd(t, task)
	assert.Equal(t, OutcomeSuccess, rep.Outcome, rep.Reason)
	assert.Equal(t, []string{"path: /proc/self/fd/3 args: a b", "/proc/self/fd/3"}, lines(evs, output.Stdout))
	assertEmpty("after the run")
	for _, e := range evs {
		assert.NotEqual(t, output.KindWarning, e.Kind, "no fallback warning: %s", e.Data)
	}

	fd := task.memfd.fd
	task.Close()
	_, err = unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	assert.ErrorIs(t, err, unix.EBADF, "the memfd is closed with the task")
}

// Passed descriptors keep their numbers: the memfd takes the lowest free
// one from 3.
func TestScriptMemfdAvoidsPassedFds(t *testing.T) {
	for _, tc := range []struct {
		passed []int
		want   int
	}{{nil, 3}, {[]int{4}, 3}, {[]int{3}, 4}, {[]int{3, 4, 6}, 5}} {
		m, err := newScriptMemfd([]byte("echo hi\n"), tc.passed)
		require.NoError(t, err)
		assert.Equal(t, tc.want, m.target, "passed %v", tc.passed)
		m.close()
	}

	// And end to end: the host's /dev/null passed at its own number.
	f, err := os.Open("/dev/null")
	require.NoError(t, err)
	defer f.Close()
	n := int(f.Fd())
	sub := bashScript(`echo "$0"; read -r x <&` + strconv.Itoa(n) + `; echo "read $?"`)
	sub["passFds"] = []int{n}
	task := build(t, newRunner(t, ""), spec("memfd-fds", sub, nil))
	rep, evs := runToEnd(t, task)
	assert.Equal(t, OutcomeSuccess, rep.Outcome, rep.Reason)
	assert.Equal(t, []string{task.ScriptPath(), "read 1"}, lines(evs, output.Stdout), "EOF from /dev/null")
}

// Where the kernel refuses a memfd the body goes to a file, and the task's
// first event says so.
func TestScriptFallsBackToAFileWhenMemfdIsRefused(t *testing.T) {
	memfdCreate = func(string, int) (int, error) { return -1, unix.ENOSYS }
	t.Cleanup(func() { memfdCreate = unix.MemfdCreate })
	tmp := t.TempDir()
	r := newRunner(t, "", withEnviron("PATH=/usr/bin:/bin", "TMPDIR="+tmp))
	task := build(t, r, spec("fallback", bashScript(`echo "$0"`), nil))
	require.Equal(t, model.ScriptFile, task.ScriptStorage())
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the script's private directory")
	rep, evs := runToEnd(t, task)
	assert.Equal(t, OutcomeSuccess, rep.Outcome, rep.Reason)
	assert.Equal(t, []string{task.ScriptPath()}, lines(evs, output.Stdout))
	require.NotEmpty(t, evs)
	assert.Equal(t, output.KindWarning, evs[0].Kind)
	assert.Equal(t, "script body in the file "+task.ScriptPath()+": memfd_create: function not implemented", string(evs[0].Data))
}
