package sandbox

import (
	"errors"
	"io/fs"
	"time"

	"golang.org/x/sys/unix"
)

// removeTimeout bounds how long Remove waits for the cgroups to empty: a
// killed process still exiting (freeing a large address space, or stuck in
// uninterruptible sleep) keeps its cgroup busy.
const removeTimeout = 2 * time.Second

// Remove kills what is left, waits for the cgroups to empty and deletes
// them. If one stays busy past a bound, the error names it and the Parent
// tries again at the next Prepare and at Close. Idempotent.
func (s *CgroupSet) Remove() error {
	return s.removeBy(time.Now().Add(removeTimeout))
}

// removeBy is Remove with a deadline; one already passed makes one try.
func (s *CgroupSet) removeBy(deadline time.Time) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if s.removed {
		s.mu.Unlock()
		return nil
	}
	if s.v2fd >= 0 {
		unix.Close(s.v2fd)
		s.v2fd = -1
	}
	s.mu.Unlock()

	dirs := s.Dirs()
	for delay := 200 * time.Microsecond; ; delay = min(2*delay, 50*time.Millisecond) {
		var left []string
		var lastErr error
		for _, d := range dirs {
			if err := s.parent.fs.Rmdir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
				left, lastErr = append(left, d), err
			}
		}
		if len(left) == 0 {
			s.mu.Lock()
			s.removed = true
			s.mu.Unlock()
			return nil
		}
		if time.Now().After(deadline) {
			s.parent.addStale(s)
			return &Error{Op: "remove", Path: left[0], Err: lastErr}
		}
		dirs = left
		if anyPopulated(left) {
			s.Kill()
		}
		time.Sleep(delay)
	}
}

func anyPopulated(dirs []string) bool {
	for _, d := range dirs {
		if populated(d) {
			return true
		}
	}
	return false
}
