package proc

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// The status pipe protocol, mirrored from the comment at the top of
// shim/solti-exec-shim.c. Change both together and bump the version.
const (
	shimProtocol  = "solti-shim/1"
	magicFatal    = 0x534f4c54 // "SOLT": the step failed, the shim exits 127
	magicWarning  = 0x534f4c57 // "SOLW": a non-fatal capability step failed
	recordSize    = 16
	maxRecords    = 16 // more than the shim can ever write (3 warnings + 1 fatal)
	shimFailsWith = 127
)

// shimSteps maps the shim's step numbers to Step names.
var shimSteps = [...]string{
	1: StepPlan, 2: StepCgroup, 3: StepRlimit, 4: StepCaps, 5: StepNNP,
	6: StepSignals, 7: StepFds, 8: StepChdir, 9: StepExec,
}

var capsDetails = [...]string{1: "bounding set", 2: "capset", 3: "ambient set"}

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
	case StepChdir:
		e.Arg = p.Dir
	case StepExec:
		e.Arg = p.Path
	}
	return e
}

// How often readStatus looks at the pidfd while the status pipe stays open.
// The pipe normally reaches EOF within microseconds; it stays open longer only
// when the shim is slow or a host thread forked without exec while the pipe's
// write end was open (that copy then holds it). Once the child has exited the
// answer is final whatever the pipe says.
const statusPollInterval = 50 * time.Millisecond

// readStatus waits for the shim's verdict on the caller's goroutine: EOF after
// zero or more warnings means the target was exec'd; a fatal record means the
// spawn failed at that step. A fatal record is final as soon as it is read.
func readStatus(status *os.File, pidfd int) (fatal *statusRecord, warnings []statusRecord, err error) {
	var buf [recordSize * maxRecords]byte
	n, parsed := 0, 0
	exited := false
	for {
		if n == len(buf) {
			return nil, nil, errors.New("too many status records")
		}
		if !exited {
			if err := status.SetReadDeadline(time.Now().Add(statusPollInterval)); err != nil {
				return nil, nil, err
			}
		}
		m, rerr := status.Read(buf[n:])
		n += m
		for ; parsed+recordSize <= n; parsed += recordSize {
			r := decodeRecord(buf[parsed:])
			switch r.magic {
			case magicFatal:
				return &r, warnings, nil
			case magicWarning:
				warnings = append(warnings, r)
			default:
				return nil, nil, errors.New("bad status record")
			}
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF):
			if n%recordSize != 0 {
				return nil, nil, errors.New("short status record")
			}
			return nil, warnings, nil
		case errors.Is(rerr, os.ErrDeadlineExceeded):
			if exited {
				// Exited and nothing more to read: the child is gone without a
				// fatal record (killed before or after its exec).
				return nil, warnings, nil
			}
			exited = pidfdExited(pidfd)
			if exited {
				// Read once more, without waiting, to collect anything
				// written just before the exit.
				if err := status.SetReadDeadline(time.Now()); err != nil {
					return nil, nil, err
				}
			}
		default:
			return nil, nil, rerr
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
