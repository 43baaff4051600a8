package proc

import (
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Process is a started child: the leader of its own process group, held
// through a pidfd. Its leader stays a zombie until Reap, which keeps its pid
// and its process-group id from being reused while this handle can signal
// them.
type Process struct {
	Pid    int
	Stdout *os.File // read ends of the pipes, non-blocking in Go's poller:
	Stderr *os.File // SetReadDeadline and Close unblock a reader

	// Warnings are the plan's non-fatal failures (a capability step with
	// Plan.CapsFatal false): the child runs without what they name.
	Warnings []*SpawnError

	pidfd     *os.File
	conn      syscall.RawConn // pidfd's; holds a reference while in use
	exited    chan struct{}   // closed when the leader has exited
	watchDone chan struct{}   // closed when the watcher gave up (exit or Close)

	mu      sync.Mutex
	closed  bool
	reaped  bool
	status  Status
	reapErr error
}

// watch takes over pidfd and starts the goroutine that closes Exited. The
// pidfd sits in Go's poller, so waiting costs no OS thread.
func (p *Process) watch(pidfd int) {
	p.exited = make(chan struct{})
	p.watchDone = make(chan struct{})
	// Non-blocking, os.NewFile registers it with the poller.
	unix.SetNonblock(pidfd, true)
	p.pidfd = os.NewFile(uintptr(pidfd), "pidfd")
	conn, err := p.pidfd.SyscallConn()
	if err != nil { // cannot happen for a fresh *os.File
		panic("proc: pidfd: " + err.Error())
	}
	p.conn = conn
	go func() {
		defer close(p.watchDone)
		err := conn.Read(func(fd uintptr) bool {
			// Readable means exited; the check costs a zero-timeout poll.
			return pidfdExited(int(fd))
		})
		if err == nil {
			close(p.exited)
		}
	}()
}

// Exited is closed when the leader has exited. It does not reap: the zombie
// keeps the pid and the group id reserved until Reap.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Reap waits for the leader to exit (see Exited), collects its status and
// resource usage, and releases its pid. It returns ErrStatusLost if the host
// reaped it first (it ignores SIGCHLD or reaps with waitpid(-1)), and
// ErrClosed if the handle was closed before the exit. Later calls return the
// same result.
//
// The wait is waitid(P_PIDFD), not wait4(pid): it names exactly this child, so
// even when the host reaped it and the pid was reused it cannot collect
// somebody else's.
func (p *Process) Reap() (Status, error) {
	<-p.watchDone
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.reaped {
		select {
		case <-p.exited:
			p.reapLocked()
		default:
			return Status{}, ErrClosed
		}
	}
	return p.status, p.reapErr
}

// reapLocked collects the exited leader; p.mu is held and the pidfd is open.
func (p *Process) reapLocked() {
	var info unix.Siginfo
	var ru unix.Rusage
	var werr error
	err := p.conn.Control(func(fd uintptr) {
		for {
			werr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED, &ru)
			if werr != unix.EINTR {
				return
			}
		}
	})
	if err == nil {
		err = werr
	}
	p.reaped = true
	switch {
	case err == nil:
		p.status = decodeStatus(&info, &ru)
	case err == unix.ECHILD:
		p.reapErr = ErrStatusLost
	default:
		p.reapErr = &os.SyscallError{Syscall: "waitid", Err: err}
	}
}

// Signal sends sig to the leader through its pidfd, so it can never reach a
// process that reused the pid. It does nothing once the leader is reaped or
// gone; after Close it returns ErrClosed.
func (p *Process) Signal(sig unix.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return nil
	}
	if p.closed {
		return ErrClosed
	}
	var serr error
	if err := p.conn.Control(func(fd uintptr) {
		serr = unix.PidfdSendSignal(int(fd), sig, nil, 0)
	}); err != nil {
		return err
	}
	if serr != nil && serr != unix.ESRCH {
		return &os.SyscallError{Syscall: "pidfd_send_signal", Err: serr}
	}
	return nil
}

// SignalGroup sends sig to the leader's whole process group (kill(-pgid)),
// reaching descendants that stayed in it. It acts only while the leader is
// alive or an unreaped zombie of ours, because only then is the group id
// certain not to have been reused; it does nothing after Reap. If the host
// reaped the leader (SIGCHLD ignored, waitpid(-1)) it sends nothing and
// returns ErrStatusLost. A group with nobody left in it is not an error.
func (p *Process) SignalGroup(sig unix.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return nil
	}
	if p.closed {
		return ErrClosed
	}
	var info unix.Siginfo
	var werr error
	if err := p.conn.Control(func(fd uintptr) {
		for {
			werr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
			if werr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if werr == unix.ECHILD {
		return ErrStatusLost
	}
	if err := unix.Kill(-p.Pid, sig); err != nil && err != unix.ESRCH {
		return &os.SyscallError{Syscall: "kill", Err: err}
	}
	return nil
}

// Close releases the pidfd and the pipes still open, unblocking their
// readers. If the leader has exited it is reaped first, so no zombie is left;
// a leader still running is not killed (kill and Reap before Close). Close is
// idempotent.
func (p *Process) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	if !p.reaped && p.leaderExitedLocked() {
		p.reapLocked()
	}
	p.pidfd.Close()
	p.Stdout.Close()
	p.Stderr.Close()
	openFDs.Add(-3)
	liveProcs.Add(-1)
}

// leaderExitedLocked asks the pidfd directly, not only Exited: the watcher may
// not have run yet.
func (p *Process) leaderExitedLocked() bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	exited := false
	p.conn.Control(func(fd uintptr) { exited = pidfdExited(int(fd)) })
	return exited
}
