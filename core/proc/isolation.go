package proc

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Isolation is the part of a Plan that says who the target is and what it
// may touch. The shim applies it in upstream's order: namespaces, the
// capability bounding set, groups, gid, uid, the other capability sets,
// no_new_privs, seccomp, then the umask and the passed descriptors. The zero
// value changes nothing.
type Isolation struct {
	// NewSession makes the target lead a new session (setsid) rather than
	// only a new process group. The group id is the same, so the tree kill
	// is unchanged.
	NewSession bool
	// Unshare is a mask of unix.CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC,
	// CLONE_NEWUTS and CLONE_NEWCGROUP: new namespaces for the target (a new
	// mount namespace is made private recursively). Needs CAP_SYS_ADMIN.
	Unshare uint64
	// Credentials, when set, replace the supplementary groups, gid and uid.
	Credentials *Credentials
	// Seccomp is a classic BPF filter as the shim takes it: 16 hex digits
	// per instruction (its 8 bytes in host order); "" for none. Build it
	// once (core/seccomp) and reuse it.
	Seccomp string
	// Umask is the target's umask when HasUmask.
	Umask    uint32
	HasUmask bool
	// Fds are host descriptors the target gets, each at its Target number,
	// open across exec; every other descriptor above 2 is closed.
	Fds []PassedFd
}

// Credentials are the exact identity of the target: real, effective and
// saved uid and gid, and the supplementary groups (empty clears them).
type Credentials struct {
	UID, GID uint32
	Groups   []uint32
}

// PassedFd is one host descriptor handed to the target.
type PassedFd struct {
	Host   int // the host's descriptor, open at spawn
	Target int // its number in the target, >= 3
}

// The shim's limits (MAX_GROUPS, MAX_FILTER, MAX_PASSED_FDS).
const (
	MaxGroups       = 256
	MaxSeccompInsns = 256
	MaxPassedFds    = 16
	unshareAllowed  = unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP
	noChangeID      = 0xffffffff // "unchanged" to setresuid and setresgid
)

func (iso *Isolation) check() error {
	if iso.Unshare&^uint64(unshareAllowed) != 0 {
		return planError("Unshare", unix.EINVAL)
	}
	if c := iso.Credentials; c != nil {
		if c.UID == noChangeID {
			return planError("Credentials.UID", unix.EINVAL)
		}
		if c.GID == noChangeID {
			return planError("Credentials.GID", unix.EINVAL)
		}
		if len(c.Groups) > MaxGroups {
			return planError("Credentials.Groups", unix.E2BIG)
		}
		for i, g := range c.Groups {
			if g == noChangeID {
				return planError("Credentials.Groups["+strconv.Itoa(i)+"]", unix.EINVAL)
			}
		}
	}
	if n := len(iso.Seccomp); n > 0 {
		if n%16 != 0 || strings.Trim(iso.Seccomp, "0123456789abcdef") != "" {
			return planError("Seccomp", unix.EINVAL)
		}
		if n/16 > MaxSeccompInsns {
			return planError("Seccomp", unix.E2BIG)
		}
	}
	if iso.HasUmask && iso.Umask > 0o777 {
		return planError("Umask", unix.EINVAL)
	}
	if len(iso.Fds) > MaxPassedFds {
		return planError("Fds", unix.E2BIG)
	}
	seen := make(map[int]bool, len(iso.Fds))
	for i, f := range iso.Fds {
		if f.Target < 3 || seen[f.Target] {
			return planError("Fds["+strconv.Itoa(i)+"]", unix.EINVAL)
		}
		seen[f.Target] = true
		if _, err := unix.FcntlInt(uintptr(f.Host), unix.F_GETFD, 0); err != nil || f.Host < 0 {
			return &SpawnError{Step: StepFds, Arg: "fd " + strconv.Itoa(f.Host), Errno: unix.EBADF}
		}
	}
	return nil
}

// shimArgs are the isolation keys of the shim's argv.
func (iso *Isolation) shimArgs(argv []string) []string {
	if iso.NewSession {
		argv = append(argv, "setsid=1")
	}
	if iso.Unshare != 0 {
		argv = append(argv, "unshare="+strconv.FormatUint(iso.Unshare, 16))
	}
	if c := iso.Credentials; c != nil {
		groups := make([]string, len(c.Groups))
		for i, g := range c.Groups {
			groups[i] = strconv.FormatUint(uint64(g), 10)
		}
		argv = append(argv, "groups="+strings.Join(groups, ","),
			"gid="+strconv.FormatUint(uint64(c.GID), 10), "uid="+strconv.FormatUint(uint64(c.UID), 10))
	}
	if iso.Seccomp != "" {
		argv = append(argv, "seccomp="+iso.Seccomp)
	}
	if iso.HasUmask {
		argv = append(argv, "umask="+strconv.FormatUint(uint64(iso.Umask), 8))
	}
	for _, f := range iso.Fds {
		argv = append(argv, "fd="+strconv.Itoa(f.Target))
	}
	return argv
}

// files are the host descriptors the shim gets at 5, 6, ..., one per fd= key.
func (iso *Isolation) files() []uintptr {
	out := make([]uintptr, len(iso.Fds))
	for i, f := range iso.Fds {
		out[i] = uintptr(f.Host)
	}
	return out
}

// privilegeHint says what a step that failed with EPERM needed.
func privilegeHint(step string) string {
	switch step {
	case StepNamespaces:
		return "needs root or CAP_SYS_ADMIN"
	case StepGroups, StepGID:
		return "needs root or CAP_SETGID"
	case StepUID:
		return "needs root or CAP_SETUID"
	case StepSeccomp:
		return "needs no_new_privs or CAP_SYS_ADMIN"
	case StepSession:
		return "the target already leads a process group"
	}
	return ""
}
