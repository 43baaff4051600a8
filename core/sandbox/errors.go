package sandbox

import (
	"fmt"
	"strings"
)

// Error is a cgroup that could not be prepared: a controller neither cgroup
// version can provide under the parent, or a step on a directory that failed.
// Its text starts with upstream's "failed to prepare cgroup: ".
type Error struct {
	// Controller is the limit's controller ("cpu", "memory", "pids"), or ""
	// when the failure is not about one controller.
	Controller string
	// Parent is the parent cgroup directory the task cgroup was to go under.
	Parent string
	// V2 and V1 say why each version could not enforce Controller.
	V2, V1 string
	// Op and Path name a failed step ("create", "write memory.max") and the
	// file or directory it worked on, with Err its cause.
	Op   string
	Path string
	Err  error
}

func (e *Error) Error() string { return "failed to prepare cgroup: " + e.detail() }

func (e *Error) detail() string {
	if e.Op != "" {
		s := e.Op + " " + e.Path
		if e.Err != nil {
			s += ": " + e.Err.Error()
		}
		return s
	}
	return fmt.Sprintf("controller %q is not available under %s (v2: %s; v1: %s)", e.Controller, e.Parent, e.V2, e.V1)
}

func (e *Error) Unwrap() error { return e.Err }

// Unapplied is a limit the task runs without because no cgroup version could
// enforce it and failOnError is false.
type Unapplied struct {
	Controller string // "cpu", "memory", "pids"
	Limit      string // what was asked, e.g. "memory.max=67108864"
	Cause      *Error // why it could not be applied
}

// String is the warning given to readers, e.g. `cgroup limit memory.max=67108864
// not applied (failOnError is false): controller "memory" is not available
// under /sys/fs/cgroup/solti-exec (v2: not in cgroup.controllers; v1: not mounted)`.
func (u Unapplied) String() string {
	return "cgroup limit " + u.Limit + " not applied (failOnError is false): " + u.Cause.detail()
}

// reasons collects why a controller is unavailable, in the order tried.
type reasons []string

func (r reasons) String() string {
	if len(r) == 0 {
		return "not tried"
	}
	return strings.Join(r, ", ")
}
