package proc

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestRlimitsApplied(t *testing.T) {
	sp := setup(t)
	p := sh("cat /proc/self/limits")
	p.Rlimits = []Rlimit{
		{Resource: unix.RLIMIT_NOFILE, Soft: 100, Hard: 200},
		{Resource: unix.RLIMIT_FSIZE, Soft: 1 << 20, Hard: unix.RLIM_INFINITY},
		{Resource: unix.RLIMIT_CORE, Soft: 0, Hard: 0},
	}
	r := run(t, sp, p)
	assert.Regexp(t, `Max open files +100 +200 +files`, r.stdout)
	assert.Regexp(t, `Max file size +1048576 +unlimited +bytes`, r.stdout)
	assert.Regexp(t, `Max core file size +0 +0 +bytes`, r.stdout)
}

// RLIMIT_FSIZE means SIGXFSZ, which hosts like Python ignore: the child gets
// the default action (death by SIGXFSZ), not a silent EFBIG.
func TestFileSizeLimitKillsWithSIGXFSZ(t *testing.T) {
	sp := setup(t)
	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	p := sh("head -c 4096 /dev/zero > big")
	p.Dir = t.TempDir()
	p.Rlimits = []Rlimit{{Resource: unix.RLIMIT_FSIZE, Soft: 1024, Hard: 1024}}
	r := run(t, sp, p)
	fi, err := os.Stat(filepath.Join(p.Dir, "big"))
	require.NoError(t, err)
	assert.Equal(t, int64(1024), fi.Size())
	// sh reports the signalled head as exit 128+25.
	assert.Equal(t, 128+int(unix.SIGXFSZ), r.status.ExitCode, r.status.String())
}

func TestNoNewPrivs(t *testing.T) {
	sp := setup(t)
	for _, nnp := range []bool{false, true} {
		t.Run(fmt.Sprint(nnp), func(t *testing.T) {
			p := sh("cat /proc/self/status")
			p.NoNewPrivs = nnp
			r := run(t, sp, p)
			want := "0"
			if nnp {
				want = "1"
			}
			assert.Equal(t, want, statusField(t, r.stdout, "NoNewPrivs"))
		})
	}
}

func TestDropCapabilities(t *testing.T) {
	sp := setup(t)
	const netBindService = 10
	p := sh("cat /proc/self/status")
	p.DropCaps = true
	p.KeepCaps = 1 << netBindService
	p.CapsFatal = true
	if unix.Geteuid() != 0 {
		// Without CAP_SETPCAP the bounding set cannot shrink: fatal, or a
		// warning when asked.
		_, err := sp.Start(p)
		var se *SpawnError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, StepCaps, se.Step)
		assert.True(t, se.IsSandbox())

		p.CapsFatal = false
		pr, err := sp.Start(p)
		require.NoError(t, err)
		defer pr.Close()
		drain(pr)
		_, err = pr.Reap()
		require.NoError(t, err)
		require.NotEmpty(t, pr.Warnings)
		assert.Equal(t, `spawn failed: caps "bounding set": operation not permitted`, pr.Warnings[0].Error())
		return
	}
	r := run(t, sp, p)
	for _, set := range []string{"CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"} {
		assert.Equal(t, "0000000000000400", statusField(t, r.stdout, set), set)
	}

	p.KeepCaps = 0
	r = run(t, sp, p)
	for _, set := range []string{"CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"} {
		assert.Equal(t, "0000000000000000", statusField(t, r.stdout, set), set)
	}
}

// A cgroup v1 hierarchy joined by the shim through cgroup.procs. Needs root
// and a v1 pids hierarchy; elsewhere it only checks the failure path.
func TestJoinCgroupV1(t *testing.T) {
	sp := setup(t)
	mnt := cgroupMount(t, "cgroup", "pids")
	if mnt == "" || unix.Geteuid() != 0 {
		t.Skip("no cgroup v1 pids hierarchy writable here")
	}
	dir := filepath.Join(mnt, fmt.Sprintf("solti-proc-test-%d", os.Getpid()))
	require.NoError(t, os.Mkdir(dir, 0o755))
	defer os.Remove(dir)
	p := sh("cat /proc/self/cgroup")
	p.JoinProcs = []string{filepath.Join(dir, "cgroup.procs")}
	r := run(t, sp, p)
	assert.Contains(t, r.stdout, fmt.Sprintf(":pids:/solti-proc-test-%d\n", os.Getpid()))
}

// A cgroup v2 directory joined atomically at clone (CLONE_INTO_CGROUP).
func TestCgroupV2IntoCgroupFD(t *testing.T) {
	sp := setup(t)
	mnt := cgroupMount(t, "cgroup2", "")
	if mnt == "" || unix.Geteuid() != 0 {
		t.Skip("no cgroup v2 hierarchy writable here")
	}
	own := ""
	for _, line := range strings.Split(readFile(t, "/proc/self/cgroup"), "\n") {
		if v, ok := strings.CutPrefix(line, "0::"); ok {
			own = v
		}
	}
	name := fmt.Sprintf("solti-proc-test-%d", os.Getpid())
	dir := filepath.Join(mnt, own, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a cgroup v2 child: %v", err)
	}
	defer os.Remove(dir)
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fd)

	p := sh("cat /proc/self/cgroup")
	p.CgroupFD, p.HasCgroupFD = fd, true
	r := run(t, sp, p)
	assert.Contains(t, r.stdout, "0::"+filepath.Join(own, name)+"\n")

	// Not a cgroup: joining it fails, and the error names its cgroup.procs.
	notCgroup := t.TempDir()
	bad, err := unix.Open(notCgroup, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(bad)
	p.CgroupFD = bad
	_, err = sp.Start(p)
	var se *SpawnError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepCgroup, se.Step)
	assert.Equal(t, filepath.Join(notCgroup, "cgroup.procs"), se.Arg)
	assert.True(t, se.IsSandbox())
}

// cgroupMount finds a mount of fstype (with option opt, if given) in
// /proc/self/mountinfo, or "".
func cgroupMount(t *testing.T, fstype, opt string) string {
	f, err := os.Open("/proc/self/mountinfo")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 || qf[0] != fstype {
			continue
		}
		if opt == "" {
			return pf[4]
		}
		for _, o := range strings.Split(qf[2], ",") {
			if o == opt {
				return pf[4]
			}
		}
	}
	return ""
}
