package proc

import (
	"encoding/binary"
	"strconv"

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

// decodeExit reads the shim's exit record: magic, code (1 exited, 2 killed,
// 3 dumped core), status, flags (1: no descendant was left), then user and
// system time in microseconds and the peak RSS in KiB.
func decodeExit(b []byte) (Status, bool) {
	code := binary.NativeEndian.Uint32(b[4:])
	status := int(int32(binary.NativeEndian.Uint32(b[8:])))
	flags := binary.NativeEndian.Uint32(b[12:])
	s := Status{
		UserUs:   int64(binary.NativeEndian.Uint64(b[16:])),
		SystemUs: int64(binary.NativeEndian.Uint64(b[24:])),
		MaxRSSKb: int64(binary.NativeEndian.Uint64(b[32:])),
	}
	if code == 1 {
		s.Exited, s.ExitCode = true, status
	} else {
		s.ExitCode, s.Signal, s.CoreDumped = -1, status, code == 3
	}
	return s, flags&1 == 0
}
