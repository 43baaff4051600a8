package proc

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// StdinMode says what the child's standard input is.
type StdinMode int

const (
	StdinNull    StdinMode = iota // /dev/null (the default)
	StdinInherit                  // the host's descriptor 0
	StdinPipe                     // a pipe the library writes to (Process.Write)
)

// Rlimit is one resource limit applied in the child before exec.
type Rlimit struct {
	Resource int    // unix.RLIMIT_*
	Soft     uint64 // unix.RLIM_INFINITY for no limit
	Hard     uint64
}

// Plan is everything the child needs before its first instruction. It is
// turned into the shim's argv (see shimArgs); the Spawner does not keep it.
type Plan struct {
	Path  string   // program as given ("echo" or "/bin/echo"); the shim searches PATH from Env
	Args  []string // argv[1:]
	Argv0 string   // argv[0] for the target; "" means Path
	Env   []string // "K=V", the complete environment of the target (nil: empty)
	Dir   string   // working directory; "" inherits the host's
	Stdin StdinMode

	// MergeStderr gives the child one pipe for both stdout and stderr
	// (descriptor 2 is a copy of 1), so what it writes keeps its own order;
	// Process.Stderr is nil then.
	MergeStderr bool
	// Pty, when set, gives the child the slave of a new pseudo-terminal of
	// that size on 0, 1 and 2, as the controlling terminal of a session it
	// leads. Output is one stream (Process.Stdout is the master), input
	// goes through Process.Write. Stdin must be StdinNull and MergeStderr
	// false with it.
	Pty *Winsize

	Rlimits    []Rlimit
	NoNewPrivs bool

	// DropCaps clears every capability except KeepCaps (a mask of bit
	// 1<<CAP_*) from all sets, and raises the kept ones as ambient. With
	// CapsFatal false a failure is reported in Process.Warnings instead of
	// failing the spawn.
	DropCaps  bool
	KeepCaps  uint64
	CapsFatal bool

	// CgroupFD, when HasCgroupFD, is an open cgroup v2 directory the child
	// joins atomically at clone (CLONE_INTO_CGROUP). The caller keeps
	// ownership of the descriptor.
	CgroupFD    int
	HasCgroupFD bool

	// JoinProcs are cgroup.procs files the shim writes "0" into, in order,
	// before anything else: cgroup v1 hierarchies, and the v2 cgroup on
	// kernels without CLONE_INTO_CGROUP (before 5.7).
	JoinProcs []string

	// RemoveDirs are cgroup directories the resident shim removes if the
	// library's end of its control socket closes before the end of the
	// attempt (the host died): once the tree is dead they are empty.
	RemoveDirs []string

	// Isolation: session, namespaces, credentials, seccomp, umask and
	// passed descriptors (isolation.go).
	Isolation
}

// The shim's limits on repeated keys (MAX_RLIMITS, MAX_CGROUPS).
const (
	maxRlimits   = 16
	maxJoinProcs = 16
	numRlimits   = 16 // RLIM_NLIMITS
)

var rlimitNames = [numRlimits]string{
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
	"RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
	"RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
	"RLIMIT_RTPRIO", "RLIMIT_RTTIME",
}

// RlimitName gives the kernel name of a resource ("RLIMIT_NOFILE").
func RlimitName(resource int) string {
	if resource >= 0 && resource < numRlimits {
		return rlimitNames[resource]
	}
	return "RLIMIT_" + strconv.Itoa(resource)
}

func planError(field string, errno unix.Errno) *SpawnError {
	return &SpawnError{Step: StepPlan, Arg: field, Errno: errno}
}

// check rejects what exec would otherwise truncate or the shim would refuse,
// naming the field.
func (p *Plan) check() error {
	if p.Path == "" {
		return planError("Path", unix.ENOENT)
	}
	if strings.IndexByte(p.Path, 0) >= 0 {
		return planError("Path", unix.EINVAL)
	}
	if strings.IndexByte(p.Argv0, 0) >= 0 {
		return planError("Argv0", unix.EINVAL)
	}
	if strings.IndexByte(p.Dir, 0) >= 0 {
		return planError("Dir", unix.EINVAL)
	}
	for i, a := range p.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return planError("Args["+strconv.Itoa(i)+"]", unix.EINVAL)
		}
	}
	for i, e := range p.Env {
		if strings.IndexByte(e, 0) >= 0 {
			return planError("Env["+strconv.Itoa(i)+"]", unix.EINVAL)
		}
	}
	if p.Stdin != StdinNull && p.Stdin != StdinInherit && p.Stdin != StdinPipe {
		return planError("Stdin", unix.EINVAL)
	}
	if p.Pty != nil && (p.Stdin != StdinNull || p.MergeStderr) {
		return planError("Pty", unix.EINVAL)
	}
	if p.Pty != nil && (p.Pty.Rows == 0 || p.Pty.Cols == 0) {
		return planError("Pty", unix.EINVAL)
	}
	if len(p.Rlimits) > maxRlimits {
		return planError("Rlimits", unix.E2BIG)
	}
	for i, r := range p.Rlimits {
		if r.Resource < 0 || r.Resource >= numRlimits {
			return planError("Rlimits["+strconv.Itoa(i)+"]", unix.EINVAL)
		}
	}
	if len(p.JoinProcs) > maxJoinProcs {
		return planError("JoinProcs", unix.E2BIG)
	}
	for i, j := range p.JoinProcs {
		if j == "" || strings.IndexByte(j, 0) >= 0 {
			return planError("JoinProcs["+strconv.Itoa(i)+"]", unix.EINVAL)
		}
	}
	if len(p.RemoveDirs) > maxJoinProcs {
		return planError("RemoveDirs", unix.E2BIG)
	}
	for i, d := range p.RemoveDirs {
		if !strings.HasPrefix(d, "/") || strings.IndexByte(d, 0) >= 0 {
			return planError("RemoveDirs["+strconv.Itoa(i)+"]", unix.EINVAL)
		}
	}
	if p.HasCgroupFD && p.CgroupFD < 0 {
		return planError("CgroupFD", unix.EBADF)
	}
	return p.Isolation.check()
}

// shimArgs is the shim's argv for this plan (protocol "solti-shim/1"; the
// shim's file comment is the reference):
//
//	shim solti-shim/1 KEY=VALUE... -- Path Args...
func (p *Plan) shimArgs(shimPath string) []string {
	argv := make([]string, 0, 4+len(p.JoinProcs)+len(p.Rlimits)+4+len(p.Args))
	argv = append(argv, shimPath, shimProtocol)
	for _, j := range p.JoinProcs {
		argv = append(argv, "cgroup-procs="+j)
	}
	for _, d := range p.RemoveDirs {
		argv = append(argv, "rmdir="+d)
	}
	for _, r := range p.Rlimits {
		argv = append(argv, "rlimit="+strconv.Itoa(r.Resource)+":"+
			strconv.FormatUint(r.Soft, 10)+":"+strconv.FormatUint(r.Hard, 10))
	}
	if p.DropCaps {
		argv = append(argv, "caps=drop:"+strconv.FormatUint(p.KeepCaps, 16))
		if !p.CapsFatal {
			argv = append(argv, "capsfatal=0")
		}
	}
	if p.NoNewPrivs {
		argv = append(argv, "nnp=1")
	}
	if p.Dir != "" {
		argv = append(argv, "cwd="+p.Dir)
	}
	if p.Argv0 != "" {
		argv = append(argv, "argv0="+p.Argv0)
	}
	if p.Pty != nil {
		argv = append(argv, "ctty=1")
	}
	argv = p.Isolation.shimArgs(argv)
	argv = append(argv, "--", p.Path)
	return append(argv, p.Args...)
}
