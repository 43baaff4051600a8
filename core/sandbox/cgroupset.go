package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// CgroupSet is one attempt's cgroups: a v2 cgroup (limits and tracking) and
// the v1 cgroups of limits placed on v1 hierarchies. Kill and Signal may be
// called from any goroutine; after Remove they do nothing, so a late kill
// can never reach the next attempt's processes in a cgroup of the same name.
type CgroupSet struct {
	// Name is the directory name in every hierarchy: the task's cgroup
	// name, with "-p<pid>" appended if another process's task held it.
	Name string
	// Unapplied are the limits the task runs without (failOnError false).
	Unapplied []Unapplied

	parent    *Parent
	v2        string // the v2 directory, "" without one
	v2fd      int    // open on v2 for CLONE_INTO_CGROUP; -1 when not used
	v1        []string
	join      []string // cgroup.procs files the shim writes "0" into
	memV2     bool     // memory.max was applied in v2: memory stats there
	memV1     string   // the v1 memory directory, "" without one
	cpuacctV1 string   // a v1 directory with cpuacct, for CPU usage without v2

	mu      sync.Mutex
	removed bool
}

// errNameTaken: a task cgroup of this name exists, not one of ours.
var errNameTaken = errors.New("cgroup name taken")

// Prepare makes the cgroups for one attempt of the task whose cgroup name is
// name, with every limit written, before the spawn. It returns nil and no
// error when no cgroup is wanted: without limits and without a configured
// parent there is none, since the resident shim tracks and kills the tree on
// its own (a tracking cgroup cost about 0.25 ms a spawn). A configured parent
// asks for the placement (accounting there), so it gets a cgroup. With
// failOnError, a limit that cannot be enforced is an *Error and nothing is
// left behind.
func (p *Parent) Prepare(name string) (*CgroupSet, error) {
	if len(p.limits) == 0 && p.configured == "" {
		return nil, nil
	}
	p.retryStale(0)
	parentsInUse.RLock()
	defer parentsInUse.RUnlock()
	l := p.Layout()
	alt := name + "-p" + strconv.FormatInt(int64(os.Getpid()), 16)
	for try := 0; ; try++ {
		s, err := p.prepare(l, name)
		switch {
		case errors.Is(err, errNameTaken) && name != alt:
			// Another process's task has the same runner, slot, sequence
			// number and second.
			name = alt
			continue
		case errors.Is(err, errNameTaken):
			return nil, &Error{Op: "create", Path: name, Err: unix.EEXIST}
		case errors.Is(err, os.ErrNotExist) && try < 3:
			// A parent directory was removed by another runner's Close
			// between our mkdirs: place again.
			continue
		}
		return s, err
	}
}

func (p *Parent) prepare(l *Layout, name string) (*CgroupSet, error) {
	pl, cached, err := p.placement(l)
	if err != nil {
		return nil, err
	}
	s := &CgroupSet{Name: name, Unapplied: slices.Clone(pl.unapplied), parent: p, v2fd: -1}
	if err := s.create(pl); err != nil {
		s.Remove()
		if cached && !errors.Is(err, errNameTaken) {
			// The hierarchy changed since it was placed (a parent removed
			// by another runner, a controller disabled): place afresh.
			p.forgetPlacement()
			return p.prepare(l, name)
		}
		return nil, err
	}
	if s.v2 == "" && len(s.v1) == 0 && len(s.Unapplied) == 0 {
		return nil, nil
	}
	return s, nil
}

// placement is where the runner's task cgroups go. Placing checks the
// parent directories, reads cgroup.controllers and subtree_control and
// looks for each v1 controller's files, about eight system calls before
// every spawn that needed none of them after the first. So the last
// placement that enforced every limit is kept; a task cgroup that cannot be
// made or written where it says drops it, and Prepare places again. One
// with unapplied limits is never kept, so a controller made available later
// is used from the next spawn on, as before.
func (p *Parent) placement(l *Layout) (pl placement, cached bool, err error) {
	p.mu.Lock()
	kept := p.placed
	p.mu.Unlock()
	if kept != nil {
		return *kept, true, nil
	}
	pl, err = p.place(l)
	if err == nil && len(pl.unapplied) == 0 {
		p.mu.Lock()
		p.placed = &pl
		p.mu.Unlock()
	}
	return pl, false, err
}

func (p *Parent) forgetPlacement() {
	p.mu.Lock()
	p.placed = nil
	p.mu.Unlock()
}

// create makes the directories, writes the limits and opens the v2 one.
func (s *CgroupSet) create(pl placement) error {
	p := s.parent
	if pl.v2Parent != "" {
		dir := filepath.Join(pl.v2Parent, s.Name)
		err := p.mkdirCgroup(dir)
		switch {
		case err == nil:
			s.v2 = dir
			if err := s.forbidSubgroups(); err != nil {
				return err
			}
		case errors.Is(err, os.ErrExist):
			return errNameTaken
		case len(pl.v2Limits) > 0 || errors.Is(err, os.ErrNotExist):
			return &Error{Op: "create", Path: dir, Err: pathCause(err)}
		default:
			// Tracking only, and the host does not let us: no cgroup.
		}
	}
	for _, vp := range pl.v1 {
		dir := filepath.Join(vp.parent, s.Name)
		if err := p.mkdirCgroup(dir); err != nil {
			if errors.Is(err, os.ErrExist) {
				return errNameTaken
			}
			if errors.Is(err, os.ErrNotExist) { // the parent went: place again
				return &Error{Op: "create", Path: dir, Err: pathCause(err)}
			}
			if err := s.notApplied(vp.limits, &Error{Op: "create", Path: dir, Err: pathCause(err)}); err != nil {
				return err
			}
			continue
		}
		s.v1 = append(s.v1, dir)
		if vp.h.has("cpuacct") {
			s.cpuacctV1 = dir
		}
		for _, lim := range vp.limits {
			if err := s.write(dir, lim, lim.v1, lim.v1Extra); err != nil {
				return err
			}
			if lim.controller == "memory" {
				s.memV1 = dir
			}
		}
	}
	for _, lim := range pl.v2Limits {
		if err := s.write(s.v2, lim, lim.v2, lim.v2Extra); err != nil {
			return err
		}
		if lim.controller == "memory" {
			s.memV2 = true
		}
	}
	if s.v2 != "" {
		if p.cloneInto {
			fd, err := unix.Open(s.v2, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return &Error{Op: "open", Path: s.v2, Err: err}
			}
			s.v2fd = fd
		} else {
			s.join = append(s.join, filepath.Join(s.v2, "cgroup.procs"))
		}
	}
	for _, dir := range s.v1 {
		s.join = append(s.join, filepath.Join(dir, "cgroup.procs"))
	}
	return nil
}

// write applies one limit's files in dir; extras are best effort. A failure
// is an error with failOnError, else the limit is recorded as not applied.
func (s *CgroupSet) write(dir string, lim limit, files, extra []fileValue) error {
	for _, fv := range files {
		f := filepath.Join(dir, fv.file)
		if err := s.parent.fs.WriteFile(f, fv.value); err != nil {
			return s.notApplied([]limit{lim}, &Error{Controller: lim.controller, Op: "write " + fv.value + " to", Path: f, Err: pathCause(err)})
		}
	}
	for _, fv := range extra {
		s.parent.fs.WriteFile(filepath.Join(dir, fv.file), fv.value)
	}
	return nil
}

// notApplied is cause with failOnError; otherwise it records the limits as
// unapplied and lets the attempt go on.
func (s *CgroupSet) notApplied(ls []limit, cause *Error) error {
	if s.parent.failOnError {
		return cause
	}
	for _, lim := range ls {
		s.Unapplied = append(s.Unapplied, Unapplied{Controller: lim.controller, Limit: lim.desc, Cause: cause})
	}
	return nil
}

// forbidSubgroups sets the v2 cgroup's cgroup.max.depth to 0, as upstream
// does: a task that may write its own cgroup cannot make sub-cgroups and
// move part of its tree there, out of reach of the limits written here.
// Kernels before 4.14 have no such file; there it is left out.
func (s *CgroupSet) forbidSubgroups() error {
	path := filepath.Join(s.v2, "cgroup.max.depth")
	err := s.parent.fs.WriteFile(path, "0")
	if err == nil || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return &Error{Op: "write", Path: path, Err: pathCause(err)}
}

// mkdirCgroup makes one task cgroup directory.
func (p *Parent) mkdirCgroup(dir string) error {
	return p.fs.Mkdir(dir)
}

// CgroupFD is the v2 directory the child joins at clone (CLONE_INTO_CGROUP),
// if any. The set owns it until Remove.
func (s *CgroupSet) CgroupFD() (int, bool) {
	if s == nil || s.v2fd < 0 {
		return -1, false
	}
	return s.v2fd, true
}

// JoinProcs are the cgroup.procs files the exec shim writes "0" into: the v1
// cgroups, and the v2 one on kernels before 5.7.
func (s *CgroupSet) JoinProcs() []string {
	if s == nil {
		return nil
	}
	return s.join
}

// Dirs are the set's directories, v2 first.
func (s *CgroupSet) Dirs() []string {
	if s == nil {
		return nil
	}
	var d []string
	if s.v2 != "" {
		d = append(d, s.v2)
	}
	return append(d, s.v1...)
}
