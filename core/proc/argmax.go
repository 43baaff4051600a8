package proc

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The kernel refuses an exec whose argument or environment strings are too
// big with E2BIG; that would only show after the fork, as a failure of
// whichever exec came first. Spawner.Start says it before anything starts.

// maxArgStrlen is MAX_ARG_STRLEN: 32 pages, the bound on one string.
const maxArgStrlen = 32 * 4096

// ExecSizeError is a plan too big to exec: one string, or all together.
type ExecSizeError struct {
	What  string // "Args[3]", "Env \"NAME\"", or "arguments and environment"
	Size  int
	Limit int
}

func (e *ExecSizeError) Error() string {
	return e.What + " is " + strconv.Itoa(e.Size) + " bytes, above the " + strconv.Itoa(e.Limit) +
		" bytes the kernel takes for exec"
}

// argMax is the bound on all strings and their pointers together, as the
// kernel computes it: a quarter of the stack limit, at most 6 MiB (three
// quarters of the 8 MiB _STK_LIM), at least 32 pages.
func argMax() int {
	limit := 6 << 20
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_STACK, &rl) == nil && rl.Cur != unix.RLIM_INFINITY && int(rl.Cur/4) < limit {
		limit = int(rl.Cur / 4)
	}
	return max(limit, maxArgStrlen)
}

// checkExecSize reports a plan whose strings the kernel would refuse to
// exec, naming the string or saying it is the total. argv is the shim's argv
// for the plan: it carries the plan too.
func (p *Plan) checkExecSize(argv []string) error {
	check := func(what, s string) error {
		if len(s)+1 > maxArgStrlen {
			return &ExecSizeError{What: what, Size: len(s) + 1, Limit: maxArgStrlen}
		}
		return nil
	}
	if err := check("Path", p.Path); err != nil {
		return err
	}
	for i, a := range p.Args {
		if err := check("Args["+strconv.Itoa(i)+"]", a); err != nil {
			return err
		}
	}
	total := 0
	for _, e := range p.Env {
		if len(e)+1 > maxArgStrlen {
			name := e
			if i := strings.IndexByte(e, '='); i >= 0 {
				name = e[:i]
			}
			if len(name) > 64 {
				name = name[:64] + "..."
			}
			return &ExecSizeError{What: "Env " + strconv.Quote(name), Size: len(e) + 1, Limit: maxArgStrlen}
		}
		total += len(e) + 1 + 8
	}
	for _, s := range argv {
		total += len(s) + 1 + 8
	}
	// argMax is never below maxArgStrlen: most plans need no getrlimit.
	if total <= maxArgStrlen {
		return nil
	}
	if limit := argMax(); total > limit {
		return &ExecSizeError{What: "arguments and environment", Size: total, Limit: limit}
	}
	return nil
}
