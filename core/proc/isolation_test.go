package proc

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestIsolationShimArgs(t *testing.T) {
	p := Plan{Path: "x", Isolation: Isolation{
		NewSession:  true,
		Unshare:     unix.CLONE_NEWNS | unix.CLONE_NEWNET,
		Credentials: &Credentials{UID: 65534, GID: 65533, Groups: []uint32{100, 7}},
		Seccomp:     "0600000000007fff",
		Umask:       0o027, HasUmask: true,
		Fds: []PassedFd{{Host: 0, Target: 9}, {Host: 1, Target: 3}},
	}}
	require.NoError(t, p.check())
	assert.Equal(t, []string{"/shim", "solti-shim/2", "setsid=1", "unshare=40020000",
		"groups=100,7", "gid=65533", "uid=65534", "seccomp=0600000000007fff", "umask=27",
		"fd=9", "fd=3", "--", "x"}, p.shimArgs("/shim"))
	assert.Equal(t, []uintptr{0, 1}, p.Isolation.files())

	empty := Plan{Path: "x", Isolation: Isolation{Credentials: &Credentials{UID: 1, GID: 2}}}
	assert.Equal(t, []string{"/shim", "solti-shim/2", "groups=", "gid=2", "uid=1", "--", "x"}, empty.shimArgs("/shim"))
}

func TestIsolationPlanChecks(t *testing.T) {
	closed := 1 << 20 // far above anything open
	tests := []struct {
		name string
		iso  Isolation
		want string
	}{
		{"unshare pid", Isolation{Unshare: unix.CLONE_NEWPID}, `plan "Unshare": invalid argument`},
		{"uid -1", Isolation{Credentials: &Credentials{UID: noChangeID}}, `plan "Credentials.UID"`},
		{"group -1", Isolation{Credentials: &Credentials{Groups: []uint32{1, noChangeID}}}, `plan "Credentials.Groups[1]"`},
		{"too many groups", Isolation{Credentials: &Credentials{Groups: make([]uint32, MaxGroups+1)}}, `argument list too long`},
		{"seccomp not hex", Isolation{Seccomp: "zz00000000000000"}, `plan "Seccomp"`},
		{"seccomp short", Isolation{Seccomp: "0600"}, `plan "Seccomp"`},
		{"umask", Isolation{Umask: 0o1000, HasUmask: true}, `plan "Umask"`},
		{"fd 2", Isolation{Fds: []PassedFd{{Host: 0, Target: 2}}}, `plan "Fds[0]"`},
		{"fd twice", Isolation{Fds: []PassedFd{{Host: 0, Target: 5}, {Host: 1, Target: 5}}}, `plan "Fds[1]"`},
		{"fd closed", Isolation{Fds: []PassedFd{{Host: closed, Target: 5}}}, `fds "fd 1048576": bad file descriptor`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Plan{Path: "x", Isolation: tc.iso}
			assert.ErrorContains(t, p.check(), tc.want)
		})
	}
}

func TestIsolationStatusErrors(t *testing.T) {
	p := &Plan{Path: "prog", Isolation: Isolation{Fds: []PassedFd{{Host: 7, Target: 40}}}}
	argv := p.shimArgs("/shim")
	tests := []struct {
		rec  statusRecord
		want string
	}{
		{statusRecord{magicFatal, 14, int32(unix.EPERM), 1}, `spawn failed: namespaces "unshare": operation not permitted (needs root or CAP_SYS_ADMIN)`},
		{statusRecord{magicFatal, 14, int32(unix.EINVAL), 2}, `spawn failed: namespaces "private mounts": invalid argument`},
		{statusRecord{magicFatal, 15, int32(unix.EPERM), 0}, `spawn failed: groups: operation not permitted (needs root or CAP_SETGID)`},
		{statusRecord{magicFatal, 16, int32(unix.EPERM), 0}, `spawn failed: gid: operation not permitted (needs root or CAP_SETGID)`},
		{statusRecord{magicFatal, 17, int32(unix.EPERM), 0}, `spawn failed: uid: operation not permitted (needs root or CAP_SETUID)`},
		{statusRecord{magicFatal, 17, int32(unix.EAGAIN), 0}, `spawn failed: uid: resource temporarily unavailable`},
		{statusRecord{magicFatal, 18, int32(unix.EACCES), 0}, `spawn failed: seccomp: permission denied`},
		{statusRecord{magicFatal, 13, int32(unix.EPERM), 0}, `spawn failed: session: operation not permitted (the target already leads a process group)`},
		{statusRecord{magicFatal, 7, int32(unix.EBADF), 1}, `spawn failed: fds "fd 40": bad file descriptor`},
		{statusRecord{magicWarning, 4, int32(unix.EPERM), 4}, `spawn failed: caps "keepcaps": operation not permitted`},
	}
	for _, tc := range tests {
		err := tc.rec.toError(p, argv)
		assert.EqualError(t, err, tc.want)
		assert.ErrorIs(t, err, unix.Errno(tc.rec.errno))
		assert.Equal(t, tc.rec.step != 7, err.IsSandbox(), "step %d", tc.rec.step)
	}
}

// The shim's own checks of the isolation keys.
func TestShimRejectsBadIsolationKeys(t *testing.T) {
	setup(t)
	tests := []struct {
		name  string
		arg   string
		errno unix.Errno
	}{
		{"umask 8", "umask=8", unix.EINVAL},
		{"umask big", "umask=1000", unix.EINVAL},
		{"setsid value", "setsid=0", unix.EINVAL},
		{"unshare pid", "unshare=20000000", unix.EINVAL},
		{"unshare zero", "unshare=0", unix.EINVAL},
		{"gid -1", "gid=4294967295", unix.EINVAL},
		{"uid text", "uid=root", unix.EINVAL},
		{"groups comma", "groups=1,,2", unix.EINVAL},
		{"groups too many", "groups=" + strings.Repeat("1,", MaxGroups) + "1", unix.E2BIG},
		{"seccomp odd", "seccomp=0600", unix.EINVAL},
		{"seccomp upper", "seccomp=06000000000000FF", unix.EINVAL},
		{"seccomp too long", "seccomp=" + strings.Repeat("0600000000000000", MaxSeccompInsns+1), unix.E2BIG},
		{"fd 2", "fd=2", unix.EINVAL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, code, _ := runShim(t, "solti-shim/2", tc.arg, "--", "true")
			assert.Equal(t, shimFailsWith, code)
			require.Len(t, recs, 1)
			assert.Equal(t, statusRecord{magicFatal, 1, int32(tc.errno), 2}, recs[0])
		})
	}
	recs, code, _ := runShim(t, "solti-shim/2", "fd=5", "fd=5", "--", "true")
	assert.Equal(t, shimFailsWith, code)
	assert.Equal(t, []statusRecord{{magicFatal, 1, int32(unix.EINVAL), 3}}, recs)
}

// Through the Spawner: the target's umask, session and passed descriptors.
func TestIsolationApplied(t *testing.T) {
	sp := setup(t)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	_, err = w.WriteString("passed\n")
	require.NoError(t, err)
	w.Close()
	p := sh(`umask; set -- $(cat /proc/$$/stat); echo "$6 $1"; read -r line <&3 && echo "$line"; ls /proc/self/fd`)
	p.Isolation = Isolation{NewSession: true, Umask: 0o077, HasUmask: true, Fds: []PassedFd{{Host: int(r.Fd()), Target: 3}}}
	out := run(t, sp, p).stdout
	f := strings.Fields(out)
	require.GreaterOrEqual(t, len(f), 5, out)
	assert.Equal(t, "0077", f[0])
	assert.Equal(t, f[1], f[2], "the target leads its session")
	assert.Equal(t, "passed", f[3])
	assert.Contains(t, f[4:], "3")
}
