package proc

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Process is a started target and the resident shim that is its parent.
//
// The shim is the target's parent and the child subreaper of its tree, so
// every orphaned descendant (setsid or double-forked ones included) becomes
// its child. It reports the target's exact status and resource usage on the
// control socket, kills the tree on the library's command, and when the
// library's end of the socket closes (the host died, or the Process was
// closed without an end) it kills the tree, removes Plan.RemoveDirs and
// exits. The library never signals a pid: the shim signals its own children,
// whose pids cannot be reused while they are unreaped.
type Process struct {
	Pid     int      // the target's pid (the shim's child)
	ShimPid int      // the resident shim's pid (the host's child)
	Stdout  *os.File // read ends of the pipes, non-blocking in Go's poller:
	Stderr  *os.File // SetReadDeadline and Close unblock a reader; Stderr is nil
	//                  when merged into Stdout, and under a pty (Stdout is its master)

	// Stdin is the library's end of the child's stdin (Plan.Stdin
	// StdinPipe, or the pty's master), nil without one: use Write,
	// CloseStdin and StdinFD (stdio.go), not the file itself.
	Stdin *os.File

	// Warnings are the plan's non-fatal failures (a capability step with
	// Plan.CapsFatal false): the child runs without what they name.
	Warnings []*SpawnError

	pidfd    int           // the shim's
	release  func()        // the launcher's, once the shim has exited (may be nil)
	sock     *os.File      // the control socket, in Go's poller
	exited   chan struct{} // closed when the target's status is known (or lost)
	shimGone chan struct{} // closed when the shim closed its end (it is exiting)

	// Written by the watcher before exited is closed.
	status    Status
	statusErr error
	treeLeft  bool // descendants outlived the target

	stdinFD     int // Stdin's descriptor, or -1
	pty         bool
	writeMu     sync.Mutex // one writer at a time
	stdinClosed atomic.Bool
	released    atomic.Bool // Close was called

	mu       sync.Mutex
	closed   bool
	ended    bool // the end command was sent
	shimDone bool // the shim was reaped
}

// endCommand asks the shim to kill the whole tree and exit; a byte from 1
// to 64 asks it to send that signal to the tree.
const endCommand = 0x80

// watch takes over the shim's pidfd and the control socket and starts the
// goroutine that reads the target's status. The socket sits in Go's poller,
// so waiting costs no OS thread.
func (p *Process) watch(pidfd int, sock *os.File) {
	p.pidfd = pidfd
	p.sock = sock
	p.exited = make(chan struct{})
	p.shimGone = make(chan struct{})
	go p.readReports()
}

func (p *Process) readReports() {
	defer func() {
		if r := recover(); r != nil {
			p.failWatch(errors.New("proc: status reader panicked"))
		}
	}()
	var buf [exitSize]byte
	_, err := io.ReadFull(p.sock, buf[:])
	if err != nil {
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			p.failWatch(ErrClosed)
		} else {
			p.failWatch(ErrStatusLost)
		}
		return
	}
	if binary.NativeEndian.Uint32(buf[0:]) != magicExit {
		p.failWatch(&SpawnError{Step: StepStatus, Errno: unix.EPROTO, Err: errors.New("bad exit record")})
		return
	}
	p.status, p.treeLeft = decodeExit(buf[:])
	close(p.exited)
	// The shim exits once nothing is left of the tree: EOF then.
	var junk [64]byte
	for {
		if _, err := p.sock.Read(junk[:]); err != nil {
			break
		}
	}
	close(p.shimGone)
}

func (p *Process) failWatch(err error) {
	p.statusErr = err
	close(p.exited)
	close(p.shimGone)
}

// Exited is closed when the target has exited and its status is known, or
// when the shim went away without reporting it.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Reap waits for the target's exit (see Exited) and returns its status and
// resource usage. It returns ErrStatusLost if the shim was killed from
// outside before it reported. A host that ignores SIGCHLD or reaps with
// waitpid(-1) loses nothing: it can only take the shim's status.
func (p *Process) Reap() (Status, error) {
	<-p.exited
	return p.status, p.statusErr
}

// TreeGone reports whether the target's status is known and nothing else
// of its tree was alive when the shim reaped it. As the shim's children are
// the target and every orphan of the tree, none can appear later: the tree
// is dead, and the shim exits right after that report.
func (p *Process) TreeGone() bool {
	select {
	case <-p.exited:
		return p.statusErr == nil && !p.treeLeft
	default:
		return false
	}
}

// TreeLeft reports, once Exited is closed, whether descendants of the target
// were still alive when it exited.
func (p *Process) TreeLeft() bool {
	<-p.exited
	return p.treeLeft
}

// Signal has the shim send sig to the target's tree: its process group while
// the target is unreaped, and every child of the shim (the target and each
// orphaned descendant, setsid or not). A setsid descendant whose own parent
// still lives is reached once that parent dies and hands it to the shim,
// which End and Close do round after round with SIGKILL. After Close it
// returns ErrClosed.
func (p *Process) Signal(sig unix.Signal) error {
	if sig < 1 || sig > 64 {
		return unix.EINVAL
	}
	return p.command(byte(sig))
}

// SignalGroup is Signal: the shim reaches the group and beyond.
func (p *Process) SignalGroup(sig unix.Signal) error { return p.Signal(sig) }

func (p *Process) command(b byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	select {
	case <-p.shimGone:
		return nil // nothing left to signal
	default:
	}
	var werr error
	c, err := p.sock.SyscallConn()
	if err != nil {
		return err
	}
	if err := c.Write(func(fd uintptr) bool {
		// MSG_NOSIGNAL: a shim that just exited must not raise SIGPIPE in
		// the host.
		_, werr = unix.SendmsgN(int(fd), []byte{b}, nil, nil, unix.MSG_NOSIGNAL)
		return werr != unix.EAGAIN
	}); err != nil {
		return err
	}
	if werr != nil && werr != unix.EPIPE && werr != unix.ECONNRESET {
		return &os.SyscallError{Syscall: "write", Err: werr}
	}
	return nil
}

// End kills whatever is left of the tree and waits, up to bound, until the
// shim has reaped all of it and exited. It does not wait for an exit before
// it: a running target is killed too.
func (p *Process) End(bound time.Duration) {
	if p.TreeGone() {
		return // nothing left to kill; the shim is exiting by itself
	}
	p.mu.Lock()
	send := !p.ended
	p.ended = true
	p.mu.Unlock()
	if send {
		p.command(endCommand)
	}
	tm := time.NewTimer(bound)
	defer tm.Stop()
	select {
	case <-p.shimGone:
	case <-tm.C:
	}
}

// Close releases the control socket, the pidfd and the pipes still open,
// unblocking their readers. If the tree is still alive the shim sees the
// socket close, kills the tree, removes Plan.RemoveDirs and exits; Close does
// not wait for that. The shim is reaped as soon as it has exited. Close is
// idempotent.
func (p *Process) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	p.sock.Close()
	// The stdin first: a writer blocked on a full pipe returns at once.
	p.released.Store(true)
	if p.Stdin != nil && !p.stdinClosed.Swap(true) {
		p.Stdin.Close()
		openFDs.Add(-1)
	}
	held := int64(1) // the socket
	for _, f := range []*os.File{p.Stdout, p.Stderr} {
		if f != nil {
			f.Close()
			held++
		}
	}
	openFDs.Add(-held)
	liveProcs.Add(-1)
	select {
	case <-p.shimGone:
		// The shim's end of the socket is closed: it has exited, or is in
		// exit_group, so waiting for it is a matter of microseconds.
		p.reapShim()
		return
	default:
	}
	if p.TreeGone() || pidfdExited(p.pidfd) {
		// The shim has exited, or is exiting: it does so right after
		// reporting a tree with nothing left but the target.
		p.reapShim()
		return
	}
	go func() {
		// The attempt is over when this runs, so a panic here has no task
		// to fail; it must still not take the host down.
		defer func() { _ = recover() }()
		// The shim exits within a kill round of its socket closing; wait
		// for it in the poller without holding a thread.
		unix.SetNonblock(p.pidfd, true)
		f := os.NewFile(uintptr(p.pidfd), "pidfd")
		if c, err := f.SyscallConn(); err == nil {
			c.Read(func(fd uintptr) bool { return pidfdExited(int(fd)) })
			c.Control(func(fd uintptr) { reapAndRelease(int(fd), p.release) })
		}
		f.Close()
		openFDs.Add(-1)
	}()
}

func (p *Process) reapShim() {
	endShim(p.pidfd, p.release)
	openFDs.Add(-1)
}
