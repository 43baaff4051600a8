package sandbox

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// How long Kill keeps at a v1 cgroup (or a v2 one without cgroup.kill)
// while new processes still show up in it, and how long a freeze may take.
const (
	killRounds    = time.Second
	freezeTimeout = time.Second
)

// Kill sends SIGKILL to every process in the set's cgroups, descendants that
// left the process group (setsid) included, and returns without waiting for
// them to exit (Remove does). v2: cgroup.kill (Linux 5.14), else freeze,
// kill each pid, thaw. v1 only: kill each pid, again until none is left.
func (s *CgroupSet) Kill() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.removed {
		return
	}
	if s.v2 != "" {
		if s.parent.fs.WriteFile(s.v2+"/cgroup.kill", "1") == nil {
			return
		}
		if freezeAndKill(s.parent.fs, s.v2) {
			return
		}
		killUntilEmpty(s.v2)
		return
	}
	for _, dir := range s.v1 {
		killUntilEmpty(dir)
	}
}

// Signal sends sig to every process in the set's cgroups once (a graceful
// stop's SIGTERM; descendants that left the process group get it too).
func (s *CgroupSet) Signal(sig unix.Signal) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.removed {
		return
	}
	if s.v2 != "" {
		signalAll(s.v2, sig)
		return
	}
	for _, dir := range s.v1 {
		signalAll(dir, sig)
	}
}

// freezeAndKill: without cgroup.kill, freezing first stops a fork loop from
// outrunning the kills. SIGKILL reaches frozen tasks. False when the kernel
// has no cgroup.freeze (before 5.2).
func freezeAndKill(fsys cgroupFS, dir string) bool {
	if fsys.WriteFile(dir+"/cgroup.freeze", "1") != nil {
		return false
	}
	deadline := time.Now().Add(freezeTimeout)
	for time.Now().Before(deadline) {
		if n, ok := readKeyed(dir+"/cgroup.events", "frozen"); ok && n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	signalAll(dir, unix.SIGKILL)
	fsys.WriteFile(dir+"/cgroup.freeze", "0")
	return true
}

// killUntilEmpty kills every process in dir, round after round, until none
// is left or killRounds passes (a process that takes long to exit stays
// listed; Remove waits for it).
func killUntilEmpty(dir string) {
	deadline := time.Now().Add(killRounds)
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 20*time.Millisecond) {
		if signalAll(dir, unix.SIGKILL) == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(delay)
	}
}

// signalAll sends sig to each process listed in dir/cgroup.procs and returns
// how many it signalled. A pid is signalled through a pidfd opened before
// the list is read a second time, and only if still listed then: a pid that
// exited and was reused outside the cgroup in between is left alone.
func signalAll(dir string, sig unix.Signal) int {
	pids := readPids(dir)
	if len(pids) == 0 {
		return 0
	}
	fds := make(map[int]int, len(pids))
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		switch {
		case err == nil:
			fds[pid] = fd
		case err == unix.ENOSYS:
			fds[pid] = -1 // before Linux 5.3: plain kill below
		}
	}
	n := 0
	for _, pid := range readPids(dir) {
		fd, ok := fds[pid]
		if !ok {
			continue
		}
		if fd >= 0 {
			unix.PidfdSendSignal(fd, sig, nil, 0)
		} else {
			unix.Kill(pid, sig)
		}
		n++
	}
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	return n
}

// readPids lists dir/cgroup.procs.
func readPids(dir string) []int {
	s, err := readFile(dir + "/cgroup.procs")
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(s) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// populated reports whether any process is still in dir (v2: cgroup.events,
// v1: cgroup.procs).
func populated(dir string) bool {
	if n, ok := readKeyed(dir+"/cgroup.events", "populated"); ok {
		return n != 0
	}
	return len(readPids(dir)) > 0
}
