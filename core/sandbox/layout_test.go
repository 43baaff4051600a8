package sandbox

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMountInfo(t *testing.T) {
	f, err := os.Open("testdata/tricky.mountinfo")
	require.NoError(t, err)
	defer f.Close()
	ms, err := parseMountInfo(f)
	require.NoError(t, err)
	var points []string
	for _, m := range ms {
		points = append(points, m.point)
	}
	// The escaped space is undone; /srv/pids is hidden under a tmpfs
	// mounted on top of it.
	assert.Equal(t, []string{"/mnt/cg v2", "/opt/mem", "/var/mem"}, points)
	assert.True(t, ms[0].v2)
	assert.Equal(t, "/sub", ms[1].root)
	assert.Equal(t, []string{"memory"}, ms[1].controllers)

	_, err = parseMountInfo(strings.NewReader("1 2 0:3 / /x rw\n"))
	assert.ErrorContains(t, err, `mountinfo line 1: no " - " separator`)
}

func TestParseSelfCgroup(t *testing.T) {
	s, err := parseSelfCgroup(strings.NewReader("4:cpu,cpuacct:/a\n1:name=systemd:/s\n0::/x:y\n"))
	require.NoError(t, err)
	assert.True(t, s.hasV2)
	assert.Equal(t, "/x:y", s.v2)
	assert.Equal(t, map[string]string{"cpu": "/a", "cpuacct": "/a", "name=systemd": "/s"}, s.v1)

	_, err = parseSelfCgroup(strings.NewReader("garbage\n"))
	assert.ErrorContains(t, err, "cgroup line 1")
}

func TestDiscover(t *testing.T) {
	cases := []struct {
		fixture string
		check   func(t *testing.T, l *Layout)
	}{
		{"hybrid", func(t *testing.T, l *Layout) {
			require.NotNil(t, l.V2)
			assert.Equal(t, Hierarchy{Mount: "/sys/fs/cgroup/unified", Root: "/", V2: true, Self: "/"}, *l.V2)
			mem := l.V1For("memory")
			require.NotNil(t, mem)
			assert.Equal(t, "/sys/fs/cgroup/memory", mem.Mount)
			assert.Equal(t, "/process_api/5693b6b7", mem.Self)
			assert.Equal(t, "/sys/fs/cgroup/pids", l.V1For("pids").Mount)
			assert.Equal(t, "/sys/fs/cgroup/cpu", l.V1For("cpu").Mount)
			assert.Equal(t, "/sys/fs/cgroup/cpuacct", l.V1For("cpuacct").Mount)
			assert.Equal(t, []string{"name=systemd"}, l.V1For("name=systemd").Controllers)
			assert.Len(t, l.V1, 9)
		}},
		{"purev2", func(t *testing.T, l *Layout) {
			require.NotNil(t, l.V2)
			assert.Equal(t, "/sys/fs/cgroup", l.V2.Mount)
			assert.Equal(t, "/user.slice/user-1000.slice/user@1000.service/app.slice/app-solti.scope", l.V2.Self)
			assert.Empty(t, l.V1)
		}},
		{"v1only", func(t *testing.T, l *Layout) {
			assert.Nil(t, l.V2)
			cpu := l.V1For("cpuacct")
			require.NotNil(t, cpu)
			assert.Same(t, cpu, l.V1For("cpu"))
			assert.Equal(t, "/docker/abc", cpu.Root)
			assert.Equal(t, "/docker/abc", cpu.Self)
			dir, ok := cpu.Dir("/docker/abc/solti-exec")
			assert.True(t, ok)
			assert.Equal(t, "/sys/fs/cgroup/cpu,cpuacct/solti-exec", dir)
			_, ok = cpu.Dir("/elsewhere")
			assert.False(t, ok)
		}},
		{"tricky", func(t *testing.T, l *Layout) {
			require.NotNil(t, l.V2)
			assert.Equal(t, "/mnt/cg v2", l.V2.Mount)
			assert.Equal(t, "/a:b", l.V2.Self)
			// Two mounts of the memory hierarchy: the one our own cgroup is
			// reachable through wins over the subtree mount.
			assert.Equal(t, "/var/mem", l.V1For("memory").Mount)
			assert.Equal(t, "/other", l.V1For("memory").Self)
			assert.Nil(t, l.V1For("pids"), "hidden by a mount on top")
		}},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			l, err := Discover(Sources{MountInfo: "testdata/" + c.fixture + ".mountinfo", Cgroup: "testdata/" + c.fixture + ".cgroup"})
			require.NoError(t, err)
			c.check(t, l)
		})
	}

	_, err := Discover(Sources{MountInfo: "testdata/none", Cgroup: "testdata/hybrid.cgroup"})
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestReleaseAtLeast(t *testing.T) {
	for _, c := range []struct {
		release string
		want    bool
	}{
		{"6.18.44-fc-v782", true}, {"5.7.0", true}, {"5.6.19-arch1", false},
		{"5.10", true}, {"4.19.0-25-amd64", false}, {"5.14rc1", true}, {"junk", false},
	} {
		assert.Equal(t, c.want, releaseAtLeast(c.release, 5, 7), c.release)
	}
}
