package sandbox

import (
	"os"
	"path"
	"slices"
	"strings"
)

// Sources are the files discovery reads. The zero value reads this
// process's own; tests point them at fixtures.
type Sources struct {
	MountInfo string // default /proc/self/mountinfo
	Cgroup    string // default /proc/self/cgroup
}

func (s Sources) withDefaults() Sources {
	if s.MountInfo == "" {
		s.MountInfo = "/proc/self/mountinfo"
	}
	if s.Cgroup == "" {
		s.Cgroup = "/proc/self/cgroup"
	}
	return s
}

// Hierarchy is one mounted cgroup hierarchy as this process sees it.
type Hierarchy struct {
	Mount       string   // where it is mounted
	Root        string   // the hierarchy path mounted there ("/" unless a subtree is)
	V2          bool     // the unified hierarchy
	Controllers []string // v1: the controllers bound to it
	// Self is this process's cgroup, a hierarchy path; "" when unknown or
	// not under Root (then there is no default parent here).
	Self string
}

// Dir is the directory of the hierarchy path p ("/a/b"), or false when p is
// outside the mounted subtree.
func (h *Hierarchy) Dir(p string) (string, bool) {
	p = path.Clean("/" + p)
	root := path.Clean("/" + h.Root)
	if root != "/" {
		if p != root && !strings.HasPrefix(p, root+"/") {
			return "", false
		}
		p = strings.TrimPrefix(p, root)
	}
	return path.Join(h.Mount, p), true
}

// has reports whether a v1 hierarchy carries controller c.
func (h *Hierarchy) has(c string) bool { return slices.Contains(h.Controllers, c) }

// Layout is the host's cgroup hierarchies.
type Layout struct {
	V2 *Hierarchy   // nil: no cgroup v2 mount
	V1 []*Hierarchy // one per v1 hierarchy, in mountinfo order
}

// V1For is the v1 hierarchy carrying controller c, or nil.
func (l *Layout) V1For(c string) *Hierarchy {
	for _, h := range l.V1 {
		if h.has(c) {
			return h
		}
	}
	return nil
}

// Discover reads the mounts and this process's cgroups. Several mounts of one
// hierarchy (bind mounts) give one Hierarchy: the mount through which this
// process's own cgroup is reachable, else the one with the shortest root.
func Discover(src Sources) (*Layout, error) {
	src = src.withDefaults()
	mf, err := os.Open(src.MountInfo)
	if err != nil {
		return nil, err
	}
	mounts, err := parseMountInfo(mf)
	mf.Close()
	if err != nil {
		return nil, err
	}
	cf, err := os.Open(src.Cgroup)
	if err != nil {
		return nil, err
	}
	self, err := parseSelfCgroup(cf)
	cf.Close()
	if err != nil {
		return nil, err
	}

	l := &Layout{}
	for _, m := range mounts {
		h := &Hierarchy{Mount: m.point, Root: m.root, V2: m.v2, Controllers: m.controllers}
		switch {
		case m.v2:
			if self.hasV2 {
				h.Self = self.v2
			}
		case len(m.controllers) > 0:
			h.Self = self.v1[m.controllers[0]]
		default:
			continue // a v1 mount without controllers: nothing to use
		}
		if h.Self != "" {
			if _, ok := h.Dir(h.Self); !ok {
				h.Self = ""
			}
		}
		if h.V2 {
			l.V2 = better(l.V2, h)
			continue
		}
		i := slices.IndexFunc(l.V1, func(o *Hierarchy) bool { return slices.Equal(o.Controllers, h.Controllers) })
		if i < 0 {
			l.V1 = append(l.V1, h)
		} else {
			l.V1[i] = better(l.V1[i], h)
		}
	}
	return l, nil
}

// better picks between two mounts of one hierarchy.
func better(cur, h *Hierarchy) *Hierarchy {
	switch {
	case cur == nil:
		return h
	case (cur.Self != "") != (h.Self != ""):
		if h.Self != "" {
			return h
		}
		return cur
	case len(h.Root) < len(cur.Root):
		return h
	}
	return cur
}
