package proc

import (
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
)

func TestShimArgs(t *testing.T) {
	tests := []struct {
		name string
		plan Plan
		want []string
	}{
		{"minimal", Plan{Path: "echo", Args: []string{"a", "--", "b"}},
			[]string{"/shim", "solti-shim/2", "--", "echo", "a", "--", "b"}},
		{"everything", Plan{
			Path: "/bin/prog", Argv0: "prog", Dir: "/tmp",
			Rlimits:    []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 10, Hard: unix.RLIM_INFINITY}},
			NoNewPrivs: true, DropCaps: true, KeepCaps: 0x400,
			JoinProcs: []string{"/sys/fs/cgroup/pids/x/cgroup.procs"},
		}, []string{"/shim", "solti-shim/2",
			"cgroup-procs=/sys/fs/cgroup/pids/x/cgroup.procs",
			"rlimit=7:10:18446744073709551615",
			"caps=drop:400", "capsfatal=0", "nnp=1", "cwd=/tmp", "argv0=prog",
			"--", "/bin/prog"}},
		{"caps fatal, keep none", Plan{Path: "x", DropCaps: true, CapsFatal: true},
			[]string{"/shim", "solti-shim/2", "caps=drop:0", "--", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.plan.check())
			assert.Equal(t, tc.want, tc.plan.shimArgs("/shim"))
		})
	}
}

func TestStatusRecordToError(t *testing.T) {
	p := &Plan{
		Path: "prog", Dir: "/work",
		Rlimits:   []Rlimit{{Resource: unix.RLIMIT_CORE}, {Resource: unix.RLIMIT_NOFILE}},
		JoinProcs: []string{"/a/cgroup.procs", "/b/cgroup.procs"},
	}
	argv := p.shimArgs("/shim")
	tests := []struct {
		rec  statusRecord
		want string
	}{
		{statusRecord{magicFatal, 9, int32(unix.ENOENT), 0}, `spawn failed: exec "prog": no such file or directory`},
		{statusRecord{magicFatal, 8, int32(unix.EACCES), 0}, `spawn failed: chdir "/work": permission denied`},
		{statusRecord{magicFatal, 3, int32(unix.EPERM), 1}, `spawn failed: rlimit "RLIMIT_NOFILE": operation not permitted`},
		{statusRecord{magicFatal, 2, int32(unix.EACCES), 1}, `spawn failed: cgroup "/b/cgroup.procs": permission denied`},
		{statusRecord{magicFatal, 4, int32(unix.EPERM), 2}, `spawn failed: caps "capset": operation not permitted`},
		{statusRecord{magicFatal, 5, int32(unix.EINVAL), 0}, `spawn failed: nnp: invalid argument`},
		{statusRecord{magicFatal, 6, int32(unix.EFAULT), 13}, `spawn failed: signals "SIGPIPE": bad address`},
		{statusRecord{magicFatal, 6, int32(unix.EFAULT), 0}, `spawn failed: signals: bad address`},
		{statusRecord{magicFatal, 7, int32(unix.EBADF), 0}, `spawn failed: fds: bad file descriptor`},
		{statusRecord{magicFatal, 1, int32(unix.EINVAL), 1}, `spawn failed: plan "solti-shim/2": invalid argument`},
		{statusRecord{magicFatal, 11, int32(unix.EINVAL), 0}, `spawn failed: subreaper: invalid argument`},
		{statusRecord{magicFatal, 77, int32(unix.EIO), 0}, `spawn failed: status: input/output error`},
	}
	for _, tc := range tests {
		assert.EqualError(t, tc.rec.toError(p, argv), tc.want)
	}
}

// runShim runs the shim by hand with its argv after the program name and
// returns the status records it wrote (without the pid record) and the exit
// code: the target's, from the exit record, or the shim's own when it failed
// before the target was forked.
func runShim(t *testing.T, args ...string) ([]statusRecord, int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	ours, theirs := os.NewFile(uintptr(fds[0]), "control"), os.NewFile(uintptr(fds[1]), "shim control")
	defer ours.Close()
	cmd := exec.Command(testutil.ShimPath(t), args...)
	cmd.ExtraFiles = []*os.File{w, theirs} // fd 3, fd 4
	cmd.Env = testEnv
	out, runErr := cmd.Output()
	w.Close()
	theirs.Close()
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Zero(t, len(data)%recordSize, "record size")
	var recs []statusRecord
	for i := 0; i < len(data); i += recordSize {
		if rec := decodeRecord(data[i:]); rec.magic != magicPid {
			recs = append(recs, rec)
		}
	}
	code := 0
	if ee, ok := runErr.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, runErr)
	}
	exit, err := io.ReadAll(ours)
	require.NoError(t, err)
	if len(exit) == exitSize {
		st, _ := decodeExit(exit)
		code = st.ExitCode
	}
	return recs, code, string(out)
}

// The shim's own checks of its argv, below what Plan can produce.
func TestShimRejectsBadPlans(t *testing.T) {
	setup(t)
	many := []string{"solti-shim/2"}
	for range maxRlimits + 1 {
		many = append(many, "rlimit=7:10:10")
	}
	many = append(many, "--", "true")
	tests := []struct {
		name   string
		args   []string
		errno  unix.Errno
		detail uint32
	}{
		{"no version", []string{}, unix.EINVAL, 1},
		{"wrong version", []string{"solti-shim/1", "--", "true"}, unix.EINVAL, 1},
		{"unknown key", []string{"solti-shim/2", "color=blue", "--", "true"}, unix.EINVAL, 2},
		{"repeated cwd", []string{"solti-shim/2", "cwd=/", "cwd=/tmp", "--", "true"}, unix.EINVAL, 3},
		{"empty cwd", []string{"solti-shim/2", "cwd=", "--", "true"}, unix.EINVAL, 2},
		{"rlimit resource", []string{"solti-shim/2", "rlimit=16:1:1", "--", "true"}, unix.EINVAL, 2},
		{"rlimit number", []string{"solti-shim/2", "rlimit=7:1x:1", "--", "true"}, unix.EINVAL, 2},
		{"rlimit overflow", []string{"solti-shim/2", "rlimit=7:18446744073709551616:1", "--", "true"}, unix.EINVAL, 2},
		{"rlimit fields", []string{"solti-shim/2", "rlimit=7:1", "--", "true"}, unix.EINVAL, 2},
		{"too many rlimits", many, unix.E2BIG, maxRlimits + 2},
		{"caps hex", []string{"solti-shim/2", "caps=drop:xyz", "--", "true"}, unix.EINVAL, 2},
		{"caps too long", []string{"solti-shim/2", "caps=drop:12345678901234567", "--", "true"}, unix.EINVAL, 2},
		{"nnp value", []string{"solti-shim/2", "nnp=yes", "--", "true"}, unix.EINVAL, 2},
		{"capsfatal value", []string{"solti-shim/2", "capsfatal=2", "--", "true"}, unix.EINVAL, 2},
		{"no separator", []string{"solti-shim/2", "cwd=/"}, unix.EINVAL, 3},
		{"no target", []string{"solti-shim/2", "--"}, unix.EINVAL, 2},
		{"empty target", []string{"solti-shim/2", "--", ""}, unix.EINVAL, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, code, _ := runShim(t, tc.args...)
			assert.Equal(t, shimFailsWith, code)
			require.Len(t, recs, 1)
			assert.Equal(t, statusRecord{magicFatal, 1, int32(tc.errno), tc.detail}, recs[0])
		})
	}
}

func TestShimAcceptsLimitForms(t *testing.T) {
	setup(t)
	recs, code, out := runShim(t, "solti-shim/2", "rlimit=1:inf:inf", "rlimit=4:0:"+strconv.FormatUint(^uint64(0), 10),
		"capsfatal=1", "--", "/bin/sh", "-c", "ulimit -f; ulimit -c")
	assert.Empty(t, recs)
	assert.Zero(t, code)
	assert.Equal(t, []string{"unlimited", "0"}, strings.Fields(out))
}
