package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// The status pipe protocol, mirrored from the comment at the top of
// shim/solti-exec-shim.c. Change both together and bump the version.
const (
	shimProtocol  = "solti-shim/2"
	magicFatal    = 0x534f4c54 // "SOLT": the step failed, the shim exits 127
	magicWarning  = 0x534f4c57 // "SOLW": a non-fatal capability step failed
	magicPid      = 0x534f4c50 // "SOLP": the target's pid, from the shim once the target started
	magicExit     = 0x534f4c58 // "SOLX": the target's status (control socket)
	recordSize    = 16
	exitSize      = 48
	maxRecords    = 16 // more than the shim can ever write (pid + 4 warnings + 1 fatal)
	shimFailsWith = 127
)

// shimSteps maps the shim's step numbers to Step names.
var shimSteps = [...]string{
	1: StepPlan, 2: StepCgroup, 3: StepRlimit, 4: StepCaps, 5: StepNNP,
	6: StepSignals, 7: StepFds, 8: StepChdir, 9: StepExec, 10: StepFork,
	11: StepSubreaper, 12: StepUmask, 13: StepSession, 14: StepNamespaces,
	15: StepGroups, 16: StepGID, 17: StepUID, 18: StepSeccomp,
}

var capsDetails = [...]string{1: "bounding set", 2: "capset", 3: "ambient set", 4: "keepcaps"}

var namespacesDetails = [...]string{1: "unshare", 2: "private mounts"}

// forkDetails name the target's first step that failed (fork record detail).
var forkDetails = [...]string{2: "setsid", 3: "TIOCSCTTY"}

type statusRecord struct {
	magic  uint32
	step   uint32
	errno  int32
	detail uint32
}

func decodeRecord(b []byte) statusRecord {
	return statusRecord{
		magic:  binary.NativeEndian.Uint32(b[0:]),
		step:   binary.NativeEndian.Uint32(b[4:]),
		errno:  int32(binary.NativeEndian.Uint32(b[8:])),
		detail: binary.NativeEndian.Uint32(b[12:]),
	}
}

// toError names the step and what it worked on, taken from the plan (the
// record carries only indexes).
func (r statusRecord) toError(p *Plan, shimArgv []string) *SpawnError {
	e := &SpawnError{Step: StepStatus, Errno: unix.Errno(r.errno)}
	if int(r.step) < len(shimSteps) && shimSteps[r.step] != "" {
		e.Step = shimSteps[r.step]
	}
	d := int(r.detail)
	switch e.Step {
	case StepPlan:
		if d < len(shimArgv) {
			e.Arg = shimArgv[d]
		}
	case StepCgroup:
		if d < len(p.JoinProcs) {
			e.Arg = p.JoinProcs[d]
		}
	case StepRlimit:
		if d < len(p.Rlimits) {
			e.Arg = RlimitName(p.Rlimits[d].Resource)
		}
	case StepCaps:
		if d < len(capsDetails) {
			e.Arg = capsDetails[d]
		}
	case StepSignals:
		if d > 0 {
			e.Arg = unix.SignalName(unix.Signal(d))
		}
	case StepFork:
		if d < len(forkDetails) {
			e.Arg = forkDetails[d]
		}
	case StepChdir:
		e.Arg = p.Dir
	case StepExec:
		e.Arg = p.Path
	case StepNamespaces:
		if d < len(namespacesDetails) {
			e.Arg = namespacesDetails[d]
		}
	case StepFds:
		if d > 0 && d <= len(p.Fds) {
			e.Arg = "fd " + strconv.Itoa(p.Fds[d-1].Target)
		}
	}
	if hint := privilegeHint(e.Step); hint != "" && e.Errno == unix.EPERM {
		e.Err = fmt.Errorf("%s (%s)", e.Errno.Error(), hint)
	}
	return e
}

// readStatus waits for the shim's verdict on the caller's goroutine: EOF
// after zero or more warnings and the target's pid record, in any order,
// means the target was exec'd; a fatal record means the spawn failed at that
// step. A fatal record is final as soon as it is read. targetPid, when not
// nil, gives the pid instead of a record (a launched shim's).
//
// It blocks in poll(2) on the status pipe and the pidfd together, outside Go's
// poller: the wait lasts a few hundred microseconds, and a plain blocking
// system call wakes the caller as soon as the shim execs, where the poller
// would register the pipe, arm a deadline timer and route the wake-up through
// the scheduler. The control socket covers a status pipe that stays open
// after the target is gone (a host thread forked without exec while the
// pipe's write end was open, and that copy holds it): once the shim has said
// something or gone, what the pipe holds is final. statusFd is non-blocking;
// the caller closes it.
func readStatus(statusFd, sockFd int, targetPid func() int) (pid int, fatal *statusRecord, warnings []statusRecord, err error) {
	var buf [recordSize * maxRecords]byte
	n, parsed := 0, 0
	fds := []unix.PollFd{{Fd: int32(statusFd), Events: unix.POLLIN}, {Fd: int32(sockFd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return 0, nil, nil, &os.SyscallError{Syscall: "poll", Err: err}
		}
		exited := fds[1].Revents != 0
		// Read all there is: records, then EOF or EAGAIN.
		for {
			if n == len(buf) {
				return 0, nil, nil, errors.New("too many status records")
			}
			m, rerr := unix.Read(statusFd, buf[n:])
			if rerr == unix.EINTR {
				continue
			}
			if m > 0 {
				n += m
				for ; parsed+recordSize <= n; parsed += recordSize {
					r := decodeRecord(buf[parsed:])
					switch r.magic {
					case magicFatal:
						return pid, &r, warnings, nil
					case magicWarning:
						warnings = append(warnings, r)
					case magicPid:
						pid = int(r.detail)
					default:
						return 0, nil, nil, errors.New("bad status record")
					}
				}
				continue
			}
			if pid <= 0 && targetPid != nil && (m == 0 || exited) {
				pid = targetPid()
			}
			switch {
			case m == 0 && rerr == nil: // EOF: the target was exec'd
				if n%recordSize != 0 {
					return 0, nil, nil, errors.New("short status record")
				}
				if pid <= 0 {
					return 0, nil, nil, errors.New("no pid record")
				}
				return pid, nil, warnings, nil
			case rerr == unix.EAGAIN && exited:
				// The shim reported or went away and nothing more is to be
				// read: the target is gone without a fatal record (killed
				// before or after its exec).
				if pid <= 0 {
					return 0, nil, nil, errors.New("the shim ended without a pid record")
				}
				return pid, nil, warnings, nil
			case rerr == unix.EAGAIN:
			default:
				return 0, nil, nil, &os.SyscallError{Syscall: "read", Err: rerr}
			}
			break
		}
	}
}

// pidfdExited reports whether the process behind pidfd has exited.
func pidfdExited(pidfd int) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue
		}
		return err != nil || n > 0
	}
}
