package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// fakeHost is a fixture host on plain directories: the cgroup mounts of a
// mountinfo fixture moved under a temporary directory, each with a root
// cgroup and this process's own cgroup in it, and a fakeFS that behaves
// like cgroupfs there.
type fakeHost struct {
	root   string // stands for "/"
	src    Sources
	layout *Layout
}

// hostOptions shape a fake host.
type hostOptions struct {
	v2Controllers string // the v2 root's cgroup.controllers
	// delegated: every cgroup from the v2 root down to our own has all of
	// them in subtree_control, so a child of our own cgroup gets them.
	delegated bool
}

func newFakeHost(t *testing.T, fixture string, o hostOptions) *fakeHost {
	t.Helper()
	h := &fakeHost{root: t.TempDir()}
	mi, err := os.ReadFile(filepath.Join("testdata", fixture+".mountinfo"))
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(mi)), "\n") {
		f := strings.Split(line, " ")
		if f[4] != "/" {
			f[4] = h.root + f[4]
		}
		out = append(out, strings.Join(f, " "))
	}
	h.src = Sources{MountInfo: filepath.Join(h.root, "mountinfo"), Cgroup: filepath.Join("testdata", fixture+".cgroup")}
	require.NoError(t, os.WriteFile(h.src.MountInfo, []byte(strings.Join(out, "\n")+"\n"), 0o644))
	h.layout, err = Discover(h.src)
	require.NoError(t, err)

	fsys := fakeFS{h}
	for _, hi := range h.all() {
		require.NoError(t, os.MkdirAll(hi.Mount, 0o755))
		h.populate(hi, hi.Mount, o.v2Controllers)
		if hi.Self == "" {
			continue
		}
		self, ok := hi.Dir(hi.Self)
		require.True(t, ok)
		// Our own cgroup and the ones above it, made the way the kernel would.
		rel, _ := filepath.Rel(hi.Mount, self)
		dir := hi.Mount
		for _, part := range strings.Split(rel, "/") {
			if part == "." {
				break
			}
			if hi.V2 && o.delegated {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(o.v2Controllers), 0o644))
			}
			dir = filepath.Join(dir, part)
			require.NoError(t, fsys.Mkdir(dir))
		}
		if hi.V2 && o.delegated {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(o.v2Controllers), 0o644))
		}
	}
	return h
}

func (h *fakeHost) all() []*Hierarchy {
	if h.layout.V2 == nil {
		return h.layout.V1
	}
	return append([]*Hierarchy{h.layout.V2}, h.layout.V1...)
}

// at maps a path of the fixture host ("/sys/fs/cgroup/...") into the fake.
func (h *fakeHost) at(p string) string { return h.root + p }

func (h *fakeHost) parent(cfgJSON string) *Parent {
	p := NewParent(cgroupsConfig(cfgJSON), h.src)
	p.fs = fakeFS{h}
	return p
}

// hierarchyOf finds the hierarchy a directory is in.
func (h *fakeHost) hierarchyOf(dir string) *Hierarchy {
	var best *Hierarchy
	for _, hi := range h.all() {
		if (dir == hi.Mount || strings.HasPrefix(dir, hi.Mount+"/")) && (best == nil || len(hi.Mount) > len(best.Mount)) {
			best = hi
		}
	}
	return best
}

// populate writes what the kernel shows in a new cgroup directory.
func (h *fakeHost) populate(hi *Hierarchy, dir, controllers string) {
	files := map[string]string{"cgroup.procs": ""}
	if hi.V2 {
		files["cgroup.controllers"] = controllers
		files["cgroup.subtree_control"] = ""
		files["cgroup.events"] = "populated 0\nfrozen 0\n"
		files["cgroup.kill"] = ""
		files["cgroup.freeze"] = "0"
		files["cgroup.max.depth"] = "max"
		files["cpu.stat"] = "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n"
		for _, c := range strings.Fields(controllers) {
			switch c {
			case "cpu":
				files["cpu.max"] = "max 100000"
			case "memory":
				files["memory.max"] = "max"
				files["memory.swap.max"] = "max"
				files["memory.peak"] = "4096"
				files["memory.events"] = "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"
			case "pids":
				files["pids.max"] = "max"
			}
		}
	} else {
		for _, c := range hi.Controllers {
			switch c {
			case "cpu":
				files["cpu.cfs_period_us"] = "100000"
				files["cpu.cfs_quota_us"] = "-1"
			case "cpuacct":
				files["cpuacct.usage"] = "5000000"
			case "memory":
				files["memory.limit_in_bytes"] = "9223372036854771712"
				files["memory.swappiness"] = "60"
				files["memory.max_usage_in_bytes"] = "8192"
				files["memory.oom_control"] = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"
			case "pids":
				files["pids.max"] = "max"
			}
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			panic(err)
		}
	}
}

// fakeFS gives the fake host's directories cgroupfs behaviour.
type fakeFS struct{ h *fakeHost }

func (f fakeFS) Mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if hi := f.h.hierarchyOf(dir); hi != nil {
		ctrls, _ := os.ReadFile(filepath.Join(filepath.Dir(dir), "cgroup.subtree_control"))
		f.h.populate(hi, dir, string(ctrls))
	}
	return nil
}

func (f fakeFS) Rmdir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			return unix.EBUSY
		}
	}
	if procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs")); len(strings.TrimSpace(string(procs))) > 0 {
		return unix.EBUSY
	}
	return os.RemoveAll(dir)
}

func (f fakeFS) WriteFile(path, value string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	if filepath.Base(path) != "cgroup.subtree_control" {
		return os.WriteFile(path, []byte(value), 0o644)
	}
	avail, _ := os.ReadFile(filepath.Join(filepath.Dir(path), "cgroup.controllers"))
	cur, _ := os.ReadFile(path)
	on := strings.Fields(string(cur))
	for _, tok := range strings.Fields(value) {
		c := tok[1:]
		switch {
		case !hasWord(string(avail), c):
			return &os.PathError{Op: "write", Path: path, Err: unix.ENOENT}
		case tok[0] == '+' && !slices.Contains(on, c):
			on = append(on, c)
		case tok[0] == '-':
			on = slices.DeleteFunc(on, func(s string) bool { return s == c })
		}
	}
	return os.WriteFile(path, []byte(strings.Join(on, " ")), 0o644)
}
