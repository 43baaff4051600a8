package sandbox

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/solti-exec/solti-exec/core/model"
	"golang.org/x/sys/unix"
)

// DefaultParentName is the child of the host's own cgroup under which task
// cgroups go when cgroups.parent is not set.
const DefaultParentName = "solti-exec"

// Parent is where one runner's task cgroups are made, in every hierarchy, and
// how each of its limits is enforced. It is safe for concurrent use.
type Parent struct {
	limits      []limit
	failOnError bool
	configured  string // cgroups.parent; "" = DefaultParentName under the host's own cgroup
	src         Sources
	cloneInto   bool // CLONE_INTO_CGROUP works (Linux 5.7): else the shim joins v2 too

	layoutOnce sync.Once
	layout     *Layout

	mu     sync.Mutex
	made   []string     // parent directories this Parent created, to remove at Close
	stale  []*CgroupSet // sets whose removal timed out, retried later
	placed *placement   // the last placement that enforced every limit (see placement)

	fs cgroupFS
}

// NewParent prepares for a runner's cgroup config; nil means no limits and
// no task cgroups. Nothing is read or
// made until the first Prepare.
func NewParent(cfg *model.Cgroups, src Sources) *Parent {
	p := &Parent{src: src, failOnError: true, cloneInto: kernelAtLeast(5, 7), fs: kernelFS{}}
	if cfg != nil {
		p.limits = limitsOf(cfg)
		p.failOnError = cfg.FailOnError
		p.configured = cfg.Parent
	}
	return p
}

// Layout is the host's cgroup hierarchies as discovered at first use. A host
// whose mounts cannot be read has none.
func (p *Parent) Layout() *Layout {
	p.layoutOnce.Do(func() {
		l, err := Discover(p.src)
		if err != nil {
			l = &Layout{}
		}
		p.layout = l
	})
	return p.layout
}

// placement is where a task's cgroups go and which limit is enforced where.
type placement struct {
	v2Parent string  // the v2 parent directory; "" when v2 cannot be used
	v2Limits []limit // limits whose controller is enabled for the parent's children
	v1       []v1Placement
	// unapplied: limits nothing can enforce (failOnError false).
	unapplied []Unapplied
}

type v1Placement struct {
	h      *Hierarchy
	parent string
	limits []limit
}

// place finds, for each limit, a cgroup version that can enforce it under
// the parent, creating the parent directories and enabling v2 controllers
// as it goes. With failOnError, a limit nothing can enforce is an *Error.
func (p *Parent) place(l *Layout) (placement, error) {
	var pl placement
	var v2Why, v2Controllers, v2Shown string
	if l.V2 == nil {
		v2Why = "no cgroup v2 mount"
	} else if dir, why := p.parentDir(l, l.V2); why != "" {
		v2Why = why
	} else {
		v2Shown = dir
		readControllers := func() (err error) {
			v2Controllers, err = readFile(filepath.Join(dir, "cgroup.controllers"))
			return err
		}
		if err := p.makeParent(dir); err != nil {
			v2Why = "cannot create " + dir + ": " + errnoText(err)
		} else if len(p.limits) == 0 {
			pl.v2Parent = dir // tracking only: no controller needed
		} else if err := readControllers(); err != nil {
			if changedUnder(dir, readControllers) {
				return pl, errParentGone(dir)
			}
			v2Why = "cannot read cgroup.controllers: " + errnoText(err)
		} else {
			pl.v2Parent = dir
		}
	}

	for _, lim := range p.limits {
		var r2, r1 string
		switch {
		case pl.v2Parent == "":
			r2 = v2Why
		case !hasWord(v2Controllers, lim.controller):
			r2 = "not in cgroup.controllers"
		default:
			enable := func() error { return enableController(p.fs, pl.v2Parent, lim.controller) }
			if err := enable(); err != nil {
				if changedUnder(pl.v2Parent, enable) {
					return pl, errParentGone(pl.v2Parent)
				}
				r2 = "cannot enable in cgroup.subtree_control: " + errnoText(err)
			} else {
				pl.v2Limits = append(pl.v2Limits, lim)
				continue
			}
		}
		shown := v2Shown
		h := l.V1For(lim.controller)
		if h == nil {
			r1 = "not mounted"
		} else if dir, why := p.parentDir(l, h); why != "" {
			r1 = why
		} else {
			if shown == "" {
				shown = dir
			}
			probe := func() error { return exists(filepath.Join(dir, lim.v1Probe)) }
			if err := p.makeParent(dir); err != nil {
				r1 = "cannot create " + dir + ": " + errnoText(err)
			} else if err := probe(); err != nil {
				if changedUnder(dir, probe) {
					return pl, errParentGone(dir)
				}
				r1 = "no " + lim.v1Probe + " in " + dir
			} else {
				pl.addV1(h, dir, lim)
				continue
			}
		}
		if shown == "" {
			shown = p.shownParent()
		}
		e := &Error{Controller: lim.controller, Parent: shown, V2: r2, V1: r1}
		if p.failOnError {
			return pl, e
		}
		pl.unapplied = append(pl.unapplied, Unapplied{Controller: lim.controller, Limit: lim.desc, Cause: e})
	}
	return pl, nil
}

// vanished reports whether a parent just made is gone again: another
// runner's Close removed it while empty. Prepare then places again.
func vanished(dir string) bool {
	return errors.Is(exists(dir), fs.ErrNotExist)
}

// changedUnder is for a look inside a parent just made that failed: true
// when the parent is gone, or when the same look succeeds now. Another
// runner's Close may have removed the parent and another runner's Prepare
// made it again between the mkdir and the look, or the look may have come
// while another runner's mkdir of it was not yet complete; either way
// Prepare places again rather than take the failure for the host's answer.
func changedUnder(dir string, look func() error) bool {
	return vanished(dir) || look() == nil
}

func errParentGone(dir string) error {
	return &Error{Op: "use", Path: dir, Err: unix.ENOENT}
}

func (pl *placement) addV1(h *Hierarchy, dir string, lim limit) {
	for i := range pl.v1 {
		if pl.v1[i].h == h {
			pl.v1[i].limits = append(pl.v1[i].limits, lim)
			return
		}
	}
	pl.v1 = append(pl.v1, v1Placement{h: h, parent: dir, limits: []limit{lim}})
}

// parentDir is the parent's directory in hierarchy h, or why there is none.
func (p *Parent) parentDir(l *Layout, h *Hierarchy) (dir, why string) {
	hp := ""
	if p.configured == "" {
		if h.Self == "" {
			return "", "own cgroup unknown"
		}
		hp = path.Join(h.Self, DefaultParentName)
	} else {
		hp = configuredPath(l, p.configured)
	}
	dir, ok := h.Dir(hp)
	if !ok {
		return "", hp + " is outside the mounted subtree " + h.Root
	}
	return dir, ""
}

// configuredPath turns cgroups.parent into a hierarchy path: an absolute
// path under a cgroup mount is taken relative to that mount, anything else
// is a path from the hierarchy's root. The same path is then used in every
// hierarchy.
func configuredPath(l *Layout, parent string) string {
	c := path.Clean(parent)
	best := (*Hierarchy)(nil)
	all := l.V1
	if l.V2 != nil {
		all = append([]*Hierarchy{l.V2}, l.V1...)
	}
	for _, h := range all {
		if (c == h.Mount || strings.HasPrefix(c, h.Mount+"/")) && (best == nil || len(h.Mount) > len(best.Mount)) {
			best = h
		}
	}
	if best != nil {
		return path.Join("/", best.Root, strings.TrimPrefix(c, best.Mount))
	}
	return path.Join("/", c)
}

// shownParent names the parent in a message when no directory is known.
func (p *Parent) shownParent() string {
	if p.configured != "" {
		return p.configured
	}
	return "the host's own cgroup"
}

// makeParent creates dir and what is missing above it, remembering what it
// made for Close.
func (p *Parent) makeParent(dir string) error {
	made, err := mkdirParents(p.fs, dir)
	if len(made) > 0 {
		p.mu.Lock()
		for _, d := range made {
			if !slices.Contains(p.made, d) {
				p.made = append(p.made, d)
			}
			defaultsMade.add(d)
		}
		p.mu.Unlock()
	}
	return err
}

// enableController makes controller c available to the children of dir.
func enableController(fsys cgroupFS, dir, c string) error {
	sc := filepath.Join(dir, "cgroup.subtree_control")
	cur, err := readFile(sc)
	if err != nil {
		return err
	}
	if hasWord(cur, c) {
		return nil
	}
	return fsys.WriteFile(sc, "+"+c)
}

// Close removes what the runner's cgroups left: sets whose removal timed out
// (one more bounded try), then the parent directories this Parent made and
// the default parent, if they are empty. A parent another runner still uses
// stays (rmdir refuses a cgroup with children).
func (p *Parent) Close() {
	p.retryStale(removeTimeout)
	p.mu.Lock()
	dirs := p.made
	p.made = nil
	p.placed = nil
	p.mu.Unlock()
	if p.configured == "" && p.layout != nil {
		l := p.layout
		for _, h := range append([]*Hierarchy{l.V2}, l.V1...) {
			if h == nil {
				continue
			}
			// Another runner of this process may have made it: the last
			// to close removes it. One that existed before is not ours.
			if d, why := p.parentDir(l, h); why == "" && defaultsMade.has(d) && !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	// Deepest first, so a parent made with its ancestors goes with them.
	parentsInUse.Lock()
	defer parentsInUse.Unlock()
	for i := len(dirs) - 1; i >= 0; i-- {
		if p.fs.Rmdir(dirs[i]) == nil {
			defaultsMade.remove(dirs[i])
		}
	}
}

// parentsInUse keeps a runner's Close from removing a parent directory
// while another runner of this process is between placing its task's
// cgroups there and making them: Prepare holds it shared, Close's removals
// alone. Another process can still remove a parent at any time; Prepare
// places again then (see changedUnder, and its retries).
var parentsInUse sync.RWMutex

// defaultsMade are the parent directories some Parent of this process
// created: a default parent is shared by the process's runners, and removed
// by whichever closes when it is empty, never when it existed before.
var defaultsMade dirSet

type dirSet struct {
	mu   sync.Mutex
	dirs map[string]bool
}

func (s *dirSet) add(d string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirs == nil {
		s.dirs = map[string]bool{}
	}
	s.dirs[d] = true
}

func (s *dirSet) has(d string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dirs[d]
}

func (s *dirSet) remove(d string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dirs, d)
}

func (p *Parent) addStale(s *CgroupSet) {
	p.mu.Lock()
	p.stale = append(p.stale, s)
	p.mu.Unlock()
}

// retryStale tries once more, for up to wait, to remove sets whose removal
// timed out; each goes back on the list if it fails again.
func (p *Parent) retryStale(wait time.Duration) {
	p.mu.Lock()
	stale := p.stale
	p.stale = nil
	p.mu.Unlock()
	for _, s := range stale {
		s.removeBy(time.Now().Add(wait))
	}
}
