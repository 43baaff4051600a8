package output

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// openFDs counts the readiness eventfds of all rings, for leak checks
// (DebugStats in the C ABI).
var openFDs atomic.Int64

// OpenFDs is how many readiness eventfds exist: one per ring whose ReadyFD
// was asked for and that is not yet released.
func OpenFDs() int { return int(openFDs.Load()) }

// readiness is the ring's level-triggered "there may be something for you"
// flag, mirrored into an eventfd once a host asks for one (solti_task_fd).
//
// The flag is set by every append and by Close, and cleared by a Poll that
// returns caught up with the head of an open ring. Both happen under the
// ring's mutex, so a reader cannot clear a signal for an event it has not
// seen: either the append happened first and the Poll returns it, or it
// happens after and sets the flag again. The eventfd is written only when
// the flag goes from clear to set, so a stream of a million lines costs one
// write per reader catch-up rather than a syscall per line, and it is drained
// only when the flag goes from set to clear.
//
// The fields are guarded by Ring.mu.
type readiness struct {
	ready bool // an event or the close since the last caught-up Poll
	efd   int  // -1 until ReadyFD, and again after Release
}

func (s *readiness) init() { s.efd = -1 }

// signal sets the flag; on the clear-to-set edge it makes the fd readable.
func (s *readiness) signal() {
	if s.ready {
		return
	}
	s.ready = true
	if s.efd >= 0 {
		s.write()
	}
}

// clear resets the flag; on the set-to-clear edge it drains the fd.
func (s *readiness) clear() {
	if !s.ready {
		return
	}
	s.ready = false
	if s.efd >= 0 {
		var buf [8]byte
		for {
			// EAGAIN only means a racing drain already happened; nothing to do.
			if _, err := unix.Read(s.efd, buf[:]); err != unix.EINTR {
				return
			}
		}
	}
}

func (s *readiness) write() {
	var buf [8]byte
	binary.NativeEndian.PutUint64(buf[:], 1)
	for {
		// The counter holds at most 1 (writes happen on edges only), so the
		// write cannot hit EAGAIN; retry only interrupted calls.
		if _, err := unix.Write(s.efd, buf[:]); err != unix.EINTR {
			return
		}
	}
}

func (s *readiness) release() {
	if s.efd >= 0 {
		unix.Close(s.efd)
		openFDs.Add(-1)
		s.efd = -1
	}
}

// ReadyFD returns the ring's readiness eventfd, creating it on first use
// (EFD_CLOEXEC|EFD_NONBLOCK). It polls readable when an event was appended or
// the ring closed since the last Poll that caught up with the head; while the
// ring is closed it stays readable. The ring owns the fd: callers poll it but
// never read, write or close it. After Release it returns ErrReleased.
func (r *Ring) ReadyFD() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.released {
		return -1, ErrReleased
	}
	if r.readiness.efd >= 0 {
		return r.readiness.efd, nil
	}
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return -1, fmt.Errorf("output: creating the readiness eventfd: %w", err)
	}
	r.readiness.efd = fd
	openFDs.Add(1)
	if r.readiness.ready {
		r.readiness.write()
	}
	return fd, nil
}
