package proc

import (
	"encoding/binary"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Status is how the leader ended, with its resource usage (its own and that of
// the descendants it waited for).
type Status struct {
	Exited     bool  // it called exit
	ExitCode   int   // the exit code; -1 if signalled
	Signal     int   // the terminating signal; 0 if exited
	CoreDumped bool  // the signal dumped core
	UserUs     int64 // user CPU time, microseconds
	SystemUs   int64 // system CPU time, microseconds
	MaxRSSKb   int64 // peak resident set size, KiB
}

// Success reports an exit with code 0.
func (s Status) Success() bool { return s.Exited && s.ExitCode == 0 }

// String is for logs and test failures: "exit status 3", "signal 9 (killed)".
func (s Status) String() string {
	if s.Exited {
		return "exit status " + strconv.Itoa(s.ExitCode)
	}
	str := "signal " + strconv.Itoa(s.Signal) + " (" + unix.Signal(s.Signal).String() + ")"
	if s.CoreDumped {
		str += " (core dumped)"
	}
	return str
}

// si_code values for SIGCHLD (linux/signal.h).
const (
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
)

// The SIGCHLD fields of siginfo_t (si_pid, si_uid, si_status) start after
// three ints, aligned for the union's pointers and longs.
const siginfoUnionOffset = 3*4 + (unsafe.Sizeof(uintptr(0))-4)%8

func decodeStatus(info *unix.Siginfo, ru *unix.Rusage) Status {
	raw := (*[unsafe.Sizeof(unix.Siginfo{})]byte)(unsafe.Pointer(info))
	siStatus := int(int32(binary.NativeEndian.Uint32(raw[siginfoUnionOffset+8:])))
	s := Status{
		UserUs:   int64(ru.Utime.Sec)*1e6 + int64(ru.Utime.Usec),
		SystemUs: int64(ru.Stime.Sec)*1e6 + int64(ru.Stime.Usec),
		MaxRSSKb: int64(ru.Maxrss),
	}
	switch info.Code {
	case cldExited:
		s.Exited = true
		s.ExitCode = siStatus
	default: // cldKilled, cldDumped
		s.ExitCode = -1
		s.Signal = siStatus
		s.CoreDumped = info.Code == cldDumped
	}
	return s
}
