package proc

import (
	"errors"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Steps of a spawn, as reported in SpawnError.Step. The first four happen in
// the library before or during the fork; the rest are the shim's steps, in the
// order the shim takes them.
const (
	StepPlan    = "plan"    // the plan is invalid (or the shim rejected it)
	StepPipe    = "pipe"    // creating the stdout, stderr or status pipe
	StepStdin   = "stdin"   // opening /dev/null or the stdin pipe for the child
	StepPty     = "pty"     // opening the child's pseudo-terminal (Plan.Pty)
	StepFork    = "fork"    // the fork itself (EAGAIN: process limit, ENOMEM)
	StepShim    = "shim"    // exec of the shim (missing, not executable, ...)
	StepStatus  = "status"  // the shim's status pipe said something unexpected
	StepCgroup  = "cgroup"  // joining the cgroup (v2 at clone, v1 in the shim)
	StepRlimit  = "rlimit"  // setting a resource limit
	StepCaps    = "caps"    // dropping capabilities
	StepNNP     = "nnp"     // setting no_new_privs
	StepSignals = "signals" // resetting signal dispositions and mask
	StepFds     = "fds"     // closing inherited descriptors
	StepChdir   = "chdir"   // changing to Plan.Dir
	StepExec    = "exec"    // exec of the target
	// StepSubreaper: the shim could not become the child subreaper of the
	// target's tree (Linux 3.4).
	StepSubreaper = "subreaper"

	// Isolation steps, in the order the shim takes them (StepFds also
	// covers placing passed descriptors).
	StepSession    = "session"    // setsid
	StepNamespaces = "namespaces" // unshare, and making mounts private
	StepGroups     = "groups"     // setgroups
	StepGID        = "gid"        // setresgid
	StepUID        = "uid"        // setresuid
	StepSeccomp    = "seccomp"    // loading the seccomp filter
	StepUmask      = "umask"      // umask (cannot fail; numbered for the protocol)
)

// SpawnError is a failed spawn: which step failed, on what, and why.
type SpawnError struct {
	Step  string     // one of the Step constants
	Arg   string     // what the step worked on (program, directory, path, limit), or ""
	Errno unix.Errno // the failing call's errno, or 0
	Err   error      // a cause that an errno does not say (shown instead of Errno), or nil
}

// Error gives the upstream form, e.g.
// `spawn failed: exec "nosuch": no such file or directory`.
func (e *SpawnError) Error() string {
	var b strings.Builder
	b.WriteString("spawn failed: ")
	if e.Step == StepShim {
		b.WriteString("exec shim")
	} else {
		b.WriteString(e.Step)
	}
	if e.Arg != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(e.Arg))
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(e.Errno.Error())
	}
	return b.String()
}

// Unwrap gives the cause and the errno, so errors.Is(err, unix.ENOENT) and
// errors.Is(err, fs.ErrNotExist) work.
func (e *SpawnError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Errno != 0 {
		errs = append(errs, e.Errno)
	}
	return errs
}

// IsSandbox reports whether the failure is one of the sandbox steps (cgroup,
// rlimit, capabilities, no_new_privs, and the isolation steps) rather than
// the program or the host.
func (e *SpawnError) IsSandbox() bool {
	switch e.Step {
	case StepCgroup, StepRlimit, StepCaps, StepNNP:
		return true
	case StepSession, StepNamespaces, StepGroups, StepGID, StepUID, StepSeccomp:
		return true
	}
	return false
}

// ErrStatusLost is returned by Reap when the resident shim ended without
// reporting the target's status: something outside the library killed the
// shim (a SIGKILL sent to its pid, the OOM killer). A host that ignores
// SIGCHLD or reaps with waitpid(-1) only takes the shim's own status, which
// carries nothing.
var ErrStatusLost = errors.New("exit status lost: the resident shim was killed before it reported the target's status")

// ErrClosed is returned when a Process was closed before its leader exited,
// so it can no longer be waited for or signalled.
var ErrClosed = errors.New("process handle closed before the process exited")
