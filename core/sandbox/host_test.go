package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realParent is a Parent on this host's cgroups under a parent of its own,
// or a skip saying why there is none.
func realParent(t *testing.T, limits string) *Parent {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	l, err := Discover(Sources{})
	require.NoError(t, err)
	if l.V2 == nil {
		t.Skip("needs a cgroup v2 mount")
	}
	parent := fmt.Sprintf("solti-sandbox-test-%d", os.Getpid())
	p := NewParent(cgroupsConfig(`{"parent":"`+parent+`"`+limits+`}`), Sources{})
	t.Cleanup(func() {
		p.Close()
		for _, h := range append([]*Hierarchy{l.V2}, l.V1...) {
			assert.NoDirExists(t, h.Mount+"/"+parent)
		}
	})
	return p
}

// On the real kernel: limits land in the files, a child started into the v2
// cgroup at clone is found there, Kill takes a descendant that called setsid
// with it, and Remove leaves nothing.
func TestRealCgroupLifecycle(t *testing.T) {
	p := realParent(t, `,"pids":20,"memory":67108864`)
	s, err := p.Prepare("lifecycle")
	require.NoError(t, err)
	require.NotNil(t, s)
	require.Empty(t, s.Unapplied)
	found := map[string]string{}
	for _, d := range s.Dirs() {
		for _, f := range []string{"pids.max", "memory.max", "memory.limit_in_bytes"} {
			if b, err := os.ReadFile(d + "/" + f); err == nil {
				found[strings.Split(f, ".")[0]] = strings.TrimSpace(string(b))
			}
		}
	}
	assert.Equal(t, map[string]string{"pids": "20", "memory": "67108864"}, found)
	fd, ok := s.CgroupFD()
	require.True(t, ok, "CLONE_INTO_CGROUP needs Linux 5.7")

	cmd := exec.Command("sh", "-c", "setsid sleep 60 & echo $!; exec sleep 60")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd, Setpgid: true}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	escaped, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	require.NoError(t, err)
	assert.Contains(t, readPids(s.Dirs()[0]), escaped)
	assert.Contains(t, readPids(s.Dirs()[0]), cmd.Process.Pid)

	s.Kill()
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for populated(s.Dirs()[0]) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	assert.False(t, populated(s.Dirs()[0]), "the setsid descendant survived Kill")
	st := s.Stats()
	assert.GreaterOrEqual(t, st.CPUUsageUs, int64(0))
	require.NoError(t, s.Remove())
	assertGone(t, s.Dirs()...)
}

// Runners come and go while others make task cgroups under the same parent:
// a Close that removes the parent while it is momentarily empty must not
// make another runner's Prepare fail.
func TestRealRunnersShareAParent(t *testing.T) {
	p0 := realParent(t, `,"pids":100`)
	parent := p0.configured
	done := make(chan error)
	for g := 0; g < 6; g++ {
		go func(g int) {
			var err error
			for i := 0; i < 40 && err == nil; i++ {
				p := NewParent(cgroupsConfig(`{"parent":"`+parent+`","pids":100}`), Sources{})
				var s *CgroupSet
				if s, err = p.Prepare(fmt.Sprintf("share-%d-%d", g, i)); err == nil {
					err = s.Remove()
				}
				p.Close()
			}
			done <- err
		}(g)
	}
	for g := 0; g < 6; g++ {
		assert.NoError(t, <-done)
	}
	// Who made the parent last may have closed while another used it; the
	// test's own Parent removes what is left.
	p0.made = append(p0.made, p0.Layout().V2.Mount+"/"+parent)
	if h := p0.Layout().V1For("pids"); h != nil {
		p0.made = append(p0.made, h.Mount+"/"+parent)
	}
}
