package sandbox

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cgroupsConfig parses the "cgroups" part of a runner config; "" is none.
func cgroupsConfig(cgroupsJSON string) *model.Cgroups {
	if cgroupsJSON == "" {
		return nil
	}
	cfg, err := model.ParseRunnerConfig([]byte(`{"cgroups":` + cgroupsJSON + `}`))
	if err != nil {
		panic(err)
	}
	return cfg.Cgroups
}

const allLimits = `{"cpu":{"quota":50000,"period":100000},"memory":67108864,"pids":20`

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func assertGone(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		_, err := os.Stat(p)
		assert.ErrorIs(t, err, os.ErrNotExist, "%s is still there", p)
	}
}

// On a hybrid host (the v2 hierarchy has none of the controllers), every
// limit goes to its v1 hierarchy and the v2 cgroup is there for tracking.
func TestPrepareHybridFallsBackToV1(t *testing.T) {
	h := newFakeHost(t, "hybrid", hostOptions{v2Controllers: "hugetlb"})
	p := h.parent(allLimits + `}`)
	s, err := p.Prepare("r-slot-1-65")
	require.NoError(t, err)
	require.NotNil(t, s)
	assert.Empty(t, s.Unapplied)

	v2 := h.at("/sys/fs/cgroup/unified/solti-exec/r-slot-1-65")
	cpu := h.at("/sys/fs/cgroup/cpu/solti-exec/r-slot-1-65")
	mem := h.at("/sys/fs/cgroup/memory/process_api/5693b6b7/solti-exec/r-slot-1-65")
	pids := h.at("/sys/fs/cgroup/pids/solti-exec/r-slot-1-65")
	assert.Equal(t, []string{v2, cpu, mem, pids}, s.Dirs())
	assert.Equal(t, []string{cpu + "/cgroup.procs", mem + "/cgroup.procs", pids + "/cgroup.procs"}, s.JoinProcs())
	fd, ok := s.CgroupFD()
	assert.True(t, ok)
	assert.GreaterOrEqual(t, fd, 0)

	assert.Equal(t, "100000", read(t, cpu+"/cpu.cfs_period_us"))
	assert.Equal(t, "50000", read(t, cpu+"/cpu.cfs_quota_us"))
	assert.Equal(t, "67108864", read(t, mem+"/memory.limit_in_bytes"))
	assert.Equal(t, "0", read(t, mem+"/memory.swappiness"))
	assert.Equal(t, "20", read(t, pids+"/pids.max"))
	assert.Equal(t, "", read(t, h.at("/sys/fs/cgroup/unified/solti-exec/cgroup.subtree_control")))

	s.Kill()
	assert.Equal(t, "1", read(t, v2+"/cgroup.kill"))
	// Memory from v1 (no memory in v2), CPU usage from v2's cpu.stat.
	assert.Equal(t, Stats{MemoryPeakBytes: 8192, OOMKills: 2, CPUUsageUs: 1234}, s.Stats())

	require.NoError(t, s.Remove())
	assertGone(t, s.Dirs()...)
	s.Kill() // after Remove: nothing, and no panic
	assert.Equal(t, Stats{-1, -1, -1}, s.Stats())

	p.Close()
	assertGone(t, h.at("/sys/fs/cgroup/unified/solti-exec"), h.at("/sys/fs/cgroup/cpu/solti-exec"),
		h.at("/sys/fs/cgroup/memory/process_api/5693b6b7/solti-exec"), h.at("/sys/fs/cgroup/pids/solti-exec"))
	assert.DirExists(t, h.at("/sys/fs/cgroup/memory/process_api/5693b6b7"), "the host's own cgroup stays")
}

// On a pure v2 host with the controllers delegated down to our cgroup, the
// limits are v2 files and the controllers are enabled in the parent.
func TestPrepareV2Delegated(t *testing.T) {
	h := newFakeHost(t, "purev2", hostOptions{v2Controllers: "cpuset cpu io memory pids", delegated: true})
	p := h.parent(`{"cpu":{"period":100000},"memory":67108864,"pids":20}`)
	s, err := p.Prepare("r-s-2-1")
	require.NoError(t, err)
	parent := h.at("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/app-solti.scope/solti-exec")
	dir := parent + "/r-s-2-1"
	assert.Equal(t, []string{dir}, s.Dirs())
	assert.Empty(t, s.JoinProcs())
	assert.Equal(t, "cpu memory pids", read(t, parent+"/cgroup.subtree_control"))
	assert.Equal(t, "max 100000", read(t, dir+"/cpu.max"))
	assert.Equal(t, "67108864", read(t, dir+"/memory.max"))
	assert.Equal(t, "0", read(t, dir+"/memory.swap.max"))
	assert.Equal(t, "20", read(t, dir+"/pids.max"))
	assert.Equal(t, "0", read(t, dir+"/cgroup.max.depth"), "no sub-cgroups below a task's")
	assert.Equal(t, Stats{MemoryPeakBytes: 4096, OOMKills: 1, CPUUsageUs: 1234}, s.Stats())
	require.NoError(t, s.Remove())
	p.Close()
	assertGone(t, parent)
}

// v2 with the controllers not enabled for our cgroup's children, and no v1:
// failOnError names the controller, the parent and why; without it, the task
// runs in a tracking cgroup and the limit is reported as not applied.
func TestPrepareControllerUnavailable(t *testing.T) {
	h := newFakeHost(t, "purev2", hostOptions{v2Controllers: "cpu memory pids"})
	parent := h.at("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/app-solti.scope/solti-exec")

	p := h.parent(`{"memory":67108864,"failOnError":true}`)
	s, err := p.Prepare("r-s-3-1")
	assert.Nil(t, s)
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "memory", se.Controller)
	assert.Equal(t, `failed to prepare cgroup: controller "memory" is not available under `+parent+
		` (v2: not in cgroup.controllers; v1: not mounted)`, err.Error())
	assertGone(t, parent+"/r-s-3-1")
	p.Close()
	assertGone(t, parent)

	p = h.parent(`{"memory":67108864,"pids":5,"failOnError":false}`)
	s, err = p.Prepare("r-s-3-2")
	require.NoError(t, err)
	require.NotNil(t, s)
	assert.Equal(t, []string{parent + "/r-s-3-2"}, s.Dirs(), "a tracking cgroup all the same")
	require.Len(t, s.Unapplied, 2)
	assert.Equal(t, "memory", s.Unapplied[0].Controller)
	assert.Equal(t, "pids", s.Unapplied[1].Controller)
	assert.Equal(t, `cgroup limit memory.max=67108864 not applied (failOnError is false): controller "memory" is not available under `+
		parent+` (v2: not in cgroup.controllers; v1: not mounted)`, s.Unapplied[0].String())
	assert.NoFileExists(t, parent+"/r-s-3-2/memory.max")
	assert.Equal(t, int64(-1), s.Stats().OOMKills, "no memory accounting")
	require.NoError(t, s.Remove())
	p.Close()
	assertGone(t, parent)
}

// A v1-only host inside a container: the hierarchies are mounted from the
// container's subtree, cpu and cpuacct share one, and there is no v2 for
// tracking, so without limits there is no cgroup at all.
func TestPrepareV1Only(t *testing.T) {
	h := newFakeHost(t, "v1only", hostOptions{})
	p := h.parent(allLimits + `}`)
	s, err := p.Prepare("r-s-4-1")
	require.NoError(t, err)
	cpu := h.at("/sys/fs/cgroup/cpu,cpuacct/solti-exec/r-s-4-1")
	mem := h.at("/sys/fs/cgroup/memory/solti-exec/r-s-4-1")
	pids := h.at("/sys/fs/cgroup/pids/solti-exec/r-s-4-1")
	assert.Equal(t, []string{cpu, mem, pids}, s.Dirs())
	_, ok := s.CgroupFD()
	assert.False(t, ok)
	assert.Equal(t, "50000", read(t, cpu+"/cpu.cfs_quota_us"))
	assert.Equal(t, Stats{MemoryPeakBytes: 8192, OOMKills: 2, CPUUsageUs: 5000}, s.Stats())
	s.Kill() // v1: no processes listed, returns at once
	require.NoError(t, s.Remove())
	p.Close()

	p = h.parent("")
	s, err = p.Prepare("r-s-4-2")
	assert.NoError(t, err)
	assert.Nil(t, s, "no v2, no limits: nothing to make")
	p.Close()
}

// cgroups.parent as an absolute path under a mount or as a hierarchy path:
// the same place in every hierarchy; directories made for it go at Close,
// a parent that existed before stays.
func TestPrepareConfiguredParent(t *testing.T) {
	h := newFakeHost(t, "hybrid", hostOptions{v2Controllers: "hugetlb"})
	for _, parent := range []string{h.at("/sys/fs/cgroup/unified/deleg/x"), "deleg/x", "/deleg/x/"} {
		t.Run(parent, func(t *testing.T) {
			p := h.parent(`{"pids":7,"parent":"` + parent + `"}`)
			s, err := p.Prepare("n")
			require.NoError(t, err)
			assert.Equal(t, []string{h.at("/sys/fs/cgroup/unified/deleg/x/n"), h.at("/sys/fs/cgroup/pids/deleg/x/n")}, s.Dirs())
			require.NoError(t, s.Remove())
			p.Close()
			assertGone(t, h.at("/sys/fs/cgroup/unified/deleg"), h.at("/sys/fs/cgroup/pids/deleg"))
		})
	}
	require.NoError(t, fakeFS{h}.Mkdir(h.at("/sys/fs/cgroup/unified/given")))
	p := h.parent(`{"parent":"given"}`)
	s, err := p.Prepare("n")
	require.NoError(t, err)
	require.NoError(t, s.Remove())
	p.Close()
	assert.DirExists(t, h.at("/sys/fs/cgroup/unified/given"))
}

// Where the host does not let us make a cgroup: no limits → silently no
// cgroup; a limit → its v1 fallback, or the reason in the error.
func TestPrepareParentNotCreatable(t *testing.T) {
	h := newFakeHost(t, "hybrid", hostOptions{v2Controllers: "hugetlb"})
	require.NoError(t, os.WriteFile(h.at("/sys/fs/cgroup/unified/blocker"), nil, 0o644))

	p := h.parent(`{"parent":"blocker/x"}`)
	s, err := p.Prepare("n")
	assert.NoError(t, err)
	assert.Nil(t, s)

	p = h.parent(`{"parent":"blocker/x","pids":3}`)
	s, err = p.Prepare("n")
	require.NoError(t, err)
	assert.Equal(t, []string{h.at("/sys/fs/cgroup/pids/blocker/x/n")}, s.Dirs())
	require.NoError(t, s.Remove())
	p.Close()

	require.NoError(t, os.WriteFile(h.at("/sys/fs/cgroup/pids/blocker"), nil, 0o644))
	p = h.parent(`{"parent":"blocker/x","pids":3}`)
	_, err = p.Prepare("n")
	assert.EqualError(t, err, `failed to prepare cgroup: controller "pids" is not available under `+
		h.at("/sys/fs/cgroup/unified/blocker/x")+` (v2: cannot create `+h.at("/sys/fs/cgroup/unified/blocker/x")+
		`: not a directory; v1: cannot create `+h.at("/sys/fs/cgroup/pids/blocker/x")+`: not a directory)`)
}

// A task cgroup of the same name made by another process is left alone: the
// set takes the name with our pid appended.
func TestPrepareNameTaken(t *testing.T) {
	h := newFakeHost(t, "hybrid", hostOptions{v2Controllers: "hugetlb"})
	p := h.parent(`{"pids":3}`)
	require.NoError(t, fakeFS{h}.Mkdir(h.at("/sys/fs/cgroup/unified/solti-exec")))
	require.NoError(t, fakeFS{h}.Mkdir(h.at("/sys/fs/cgroup/unified/solti-exec/n")))
	s, err := p.Prepare("n")
	require.NoError(t, err)
	assert.Equal(t, "n-p"+strconv.FormatInt(int64(os.Getpid()), 16), s.Name)
	assert.DirExists(t, h.at("/sys/fs/cgroup/unified/solti-exec/n"))
	require.NoError(t, s.Remove())
	p.Close()
	assert.DirExists(t, h.at("/sys/fs/cgroup/unified/solti-exec/n"), "not ours")
}

// A cgroup that stays busy is not forgotten: Remove reports it, and the next
// Prepare removes it once it has emptied.
func TestRemoveRetriesABusyCgroup(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the removal bound")
	}
	h := newFakeHost(t, "hybrid", hostOptions{v2Controllers: "hugetlb"})
	p := h.parent(`{"pids":3}`)
	s, err := p.Prepare("busy")
	require.NoError(t, err)
	dir := s.Dirs()[0]
	// A pid above any pid_max: listed, never signalled.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte("2147483000\n"), 0o644))
	err = s.Remove()
	assert.ErrorContains(t, err, "failed to prepare cgroup: remove "+dir+": device or resource busy")
	assert.DirExists(t, dir)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.procs"), nil, 0o644))
	s2, err := p.Prepare("other")
	require.NoError(t, err)
	assertGone(t, dir)
	require.NoError(t, s2.Remove())
	p.Close()
}

func TestLimitsOf(t *testing.T) {
	ls := limitsOf(cgroupsConfig(allLimits + `}`))
	var got []string
	for _, l := range ls {
		var files []string
		for _, fv := range l.v1 {
			files = append(files, fv.file+"="+fv.value)
		}
		got = append(got, l.desc+" | "+strings.Join(files, ","))
	}
	assert.Equal(t, []string{
		"cpu.max=50000 100000 | cpu.cfs_period_us=100000,cpu.cfs_quota_us=50000",
		"memory.max=67108864 | memory.limit_in_bytes=67108864",
		"pids.max=20 | pids.max=20",
	}, got)
	assert.Empty(t, limitsOf(nil))
	assert.Equal(t, "cpu.max=max 100000", limitsOf(cgroupsConfig(`{"cpu":{}}`))[0].desc)
}

// A default parent that existed before the runner (prepared by an admin,
// with its own settings) is left alone by Close, in every hierarchy; the
// ones the runner made itself go.
func TestCloseLeavesAParentThatExistedBefore(t *testing.T) {
	h := newFakeHost(t, "hybrid", hostOptions{v2Controllers: "hugetlb"})
	p := h.parent(`{"pids":3}`)
	v2 := h.at("/sys/fs/cgroup/unified/solti-exec")
	require.NoError(t, fakeFS{h}.Mkdir(v2))
	require.NoError(t, os.WriteFile(filepath.Join(v2, "cgroup.max.descendants"), []byte("77\n"), 0o644))
	s, err := p.Prepare("n")
	require.NoError(t, err)
	require.NoError(t, s.Remove())
	p.Close()
	assert.DirExists(t, v2, "existed before the runner")
	assertGone(t, h.at("/sys/fs/cgroup/pids/solti-exec"))
}

// A placement is kept between spawns; when the hierarchy changes under it
// (the parent removed by another runner's Close, a controller disabled in
// the parent's subtree_control), the next Prepare places afresh.
func TestPrepareKeptPlacementFollowsChanges(t *testing.T) {
	h := newFakeHost(t, "purev2", hostOptions{v2Controllers: "cpuset cpu io memory pids", delegated: true})
	p := h.parent(`{"memory":67108864,"pids":20}`)
	parent := h.at("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/app-solti.scope/solti-exec")

	s, err := p.Prepare("r-s-1-1")
	require.NoError(t, err)
	require.NoError(t, s.Remove())
	require.NotNil(t, p.placed, "a placement that enforced every limit is kept")

	// Another runner's Close removed the parent.
	require.NoError(t, os.RemoveAll(parent))
	s, err = p.Prepare("r-s-2-1")
	require.NoError(t, err)
	assert.Equal(t, "67108864", read(t, parent+"/r-s-2-1/memory.max"))
	assert.Equal(t, "memory pids", read(t, parent+"/cgroup.subtree_control"))
	require.NoError(t, s.Remove())

	// Someone disabled memory for the parent's children: its files are
	// gone from new cgroups, and placing again enables it again.
	require.NoError(t, os.WriteFile(parent+"/cgroup.subtree_control", []byte("pids"), 0o644))
	s, err = p.Prepare("r-s-3-1")
	require.NoError(t, err)
	assert.Equal(t, "67108864", read(t, parent+"/r-s-3-1/memory.max"))
	assert.True(t, hasWord(read(t, parent+"/cgroup.subtree_control"), "memory"))
	require.NoError(t, s.Remove())
	p.Close()
	assertGone(t, parent)
}

// A failed look inside a parent sends Prepare to place again when the
// parent went meanwhile, or came back (another runner's Close and Prepare)
// so that the look now succeeds; only a look that still fails in a parent
// that is there is the host's answer.
func TestChangedUnderTellsARaceFromTheHostsAnswer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "parent")
	probe := filepath.Join(dir, "pids.max")
	look := func() error { return exists(probe) }

	assert.True(t, changedUnder(dir, look), "the parent is gone")

	require.NoError(t, os.Mkdir(dir, 0o755))
	assert.False(t, changedUnder(dir, look), "the parent is there without the file: the host's answer")

	require.NoError(t, os.WriteFile(probe, []byte("max\n"), 0o644))
	assert.True(t, changedUnder(dir, look), "the parent came back whole: place again")
}
