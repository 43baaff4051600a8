package proc

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// What the child's descriptor 0 is, and for a pty 1 and 2 too, besides the
// stdout and stderr pipes of pipes.go: /dev/null, the host's 0, a pipe the
// library writes to (StdinPipe), or the slave of a pseudo-terminal whose
// master the library reads and writes (Plan.Pty).

// Winsize is a terminal's size in character cells.
type Winsize struct {
	Rows, Cols uint16
}

// ErrNoStdin is returned by Write, CloseStdin and Resize when the process has
// no stdin pipe or pty (Plan.Stdin was StdinNull or StdinInherit).
var ErrNoStdin = errors.New("the process has no stdin pipe")

// ErrStdinClosed is returned by Write after CloseStdin or Close: the
// library's end of the child's stdin is gone.
var ErrStdinClosed = errors.New("the child's stdin was closed")

// ErrNotTerminal is returned by Resize when the process has no pty.
var ErrNotTerminal = errors.New("the process has no terminal")

// childIO is the child's side of descriptor 0 (and of 1 and 2 under a pty)
// and the library's side of it.
type childIO struct {
	stdin int // what the child gets as fd 0
	own   int // a descriptor of the child's side to close after the fork, or -1
	write int // the library's end: the stdin pipe's write end, or the pty's master; -1 if none
	pty   bool
}

func openChildIO(p *Plan) (*childIO, error) {
	c := &childIO{stdin: 0, own: -1, write: -1}
	switch {
	case p.Pty != nil:
		m, s, err := openPty(*p.Pty)
		if err != nil {
			return nil, err
		}
		c.stdin, c.own, c.write, c.pty = s, s, m, true
	case p.Stdin == StdinPipe:
		var fds [2]int
		if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
			return nil, &SpawnError{Step: StepStdin, Arg: "pipe", Errno: toErrno(err)}
		}
		openFDs.Add(2)
		c.stdin, c.own, c.write = fds[0], fds[0], fds[1]
		if err := c.prepareWriteEnd(); err != nil {
			c.closeAll()
			return nil, err
		}
	case p.Stdin == StdinNull || !hostStdinInheritable():
		// A host that closed its descriptor 0 may have it reused by
		// whatever opened a file next (the Go runtime's cgroup CPU file at
		// load): "inherit" gives the child /dev/null rather than that.
		fd, err := openDevNull()
		if err != nil {
			return nil, err
		}
		c.stdin, c.own = fd, fd
	}
	return c, nil
}

// prepareWriteEnd makes the stdin pipe's write end non-blocking, for Go's
// poller, and moves it above 2: Go's os package turns EPIPE on a descriptor
// 1 or 2 into a SIGPIPE of the host, and a host that closed its stdout could
// have the pipe land there.
func (c *childIO) prepareWriteEnd() error {
	if c.write <= 2 {
		fd, err := unix.FcntlInt(uintptr(c.write), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return &SpawnError{Step: StepStdin, Arg: "pipe", Errno: toErrno(err)}
		}
		unix.Close(c.write)
		c.write = fd
	}
	if err := unix.SetNonblock(c.write, true); err != nil {
		return &SpawnError{Step: StepStdin, Arg: "pipe", Errno: toErrno(err)}
	}
	return nil
}

// closeChildSide runs right after the fork: from then on only the child
// holds its side.
func (c *childIO) closeChildSide() { closeFD(&c.own) }

func (c *childIO) closeAll() {
	c.closeChildSide()
	closeFD(&c.write)
}

// openPty opens a pseudo-terminal of size ws: the master (non-blocking,
// close-on-exec) for the library and the slave for the child, opened without
// making it the host's controlling terminal. The line discipline is the
// kernel's default: canonical mode, echo, ONLCR (a "\n" written by the child
// is read as "\r\n").
func openPty(ws Winsize) (master, slave int, err error) {
	ptyErr := func(what string, err error) error {
		return &SpawnError{Step: StepPty, Arg: what, Errno: toErrno(err)}
	}
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, -1, ptyErr("/dev/ptmx", err)
	}
	openFDs.Add(1)
	fail := func(what string, err error) (int, int, error) {
		closeFD(&m)
		return -1, -1, ptyErr(what, err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		return fail("unlock", err)
	}
	if err := unix.IoctlSetWinsize(m, unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Rows, Col: ws.Cols}); err != nil {
		return fail("TIOCSWINSZ", err)
	}
	// TIOCGPTPEER (Linux 4.13) opens the slave through the master, with no
	// path lookup in /dev/pts; before it, the slave is opened by name.
	s, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
		if err != nil {
			return fail("TIOCGPTN", err)
		}
		name := "/dev/pts/" + strconv.Itoa(n)
		fd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail(name, err)
		}
		s = uintptr(fd)
	}
	openFDs.Add(1)
	return m, int(s), nil
}

// files gives the library's descriptors to the Process: under a pty the
// master is read as its one output stream (Stdout) and a duplicate of it is
// the input; with a stdin pipe, its write end is the input.
func (c *childIO) files(proc *Process) error {
	if c.write < 0 {
		return nil
	}
	if c.pty {
		dup, err := unix.FcntlInt(uintptr(c.write), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return &SpawnError{Step: StepPty, Arg: "dup", Errno: toErrno(err)}
		}
		openFDs.Add(1)
		proc.Stdout = os.NewFile(uintptr(c.write), "pty")
		proc.Stdin = os.NewFile(uintptr(dup), "pty input")
		proc.stdinFD = dup
		proc.pty = true
	} else {
		proc.Stdin = os.NewFile(uintptr(c.write), "stdin")
		proc.stdinFD = c.write
	}
	c.write = -1
	return nil
}

// Write writes b to the child's stdin (the pipe, or the pty's master) until
// all of it is written or deadline passes (a zero deadline: only what fits
// now, without waiting). It returns how much was written, with
// os.ErrDeadlineExceeded when the deadline cut it short, unix.EPIPE when the
// child (and every process sharing its stdin) closed its end or the Process
// was closed, ErrStdinClosed after CloseStdin, and ErrNoStdin without a pipe. Writers are
// serialized, so two concurrent writes never interleave. The write never
// raises SIGPIPE in the host, whatever handler the host set: see
// blockSIGPIPE.
func (p *Process) Write(b []byte, deadline time.Time) (int, error) {
	if p.Stdin == nil {
		return 0, ErrNoStdin
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer blockSIGPIPE()()
	if p.stdinClosed.Load() {
		return 0, p.closedError()
	}
	c, err := p.Stdin.SyscallConn()
	if err != nil {
		return 0, ErrStdinClosed
	}
	done := 0
	var werr error
	write := func(fd uintptr) bool {
		for done < len(b) {
			n, err := unix.Write(int(fd), b[done:])
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return false
			case err != nil:
				werr = err
				return true
			}
			done += n
		}
		return true
	}
	// A first try outside the poller: a deadline that already passed must
	// still write what fits now.
	if err := c.Control(func(fd uintptr) { write(fd) }); err != nil {
		return done, p.writeError(err)
	}
	if werr != nil || done == len(b) {
		return done, p.writeError(werr)
	}
	if deadline.IsZero() || !time.Now().Before(deadline) {
		return done, os.ErrDeadlineExceeded
	}
	p.Stdin.SetWriteDeadline(deadline)
	err = c.Write(write)
	p.Stdin.SetWriteDeadline(time.Time{})
	if err != nil {
		return done, p.writeError(err)
	}
	return done, p.writeError(werr)
}

func (p *Process) writeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrClosed):
		return p.closedError()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return os.ErrDeadlineExceeded
	case errors.Is(err, unix.EPIPE):
		return unix.EPIPE
	case p.pty && errors.Is(err, unix.EIO):
		return unix.EPIPE // the terminal hung up: every slave is closed
	}
	return &os.SyscallError{Syscall: "write", Err: err}
}

// blockSIGPIPE blocks SIGPIPE on the calling thread (locked to its
// goroutine) and returns the function that takes back a SIGPIPE the write
// raised while it was blocked, then restores the mask. A write to a pipe
// whose readers are gone raises SIGPIPE on the writing thread: the Go
// runtime's handler would ignore it, but a host may have replaced that
// handler since the library loaded (SIG_DFL kills the process), so the
// signal must never be delivered. A SIGPIPE already blocked on the thread
// before is left alone: it is not ours to take.
func blockSIGPIPE() func() {
	var set, old unix.Sigset_t
	set.Val[0] = 1 << (uint(unix.SIGPIPE) - 1)
	if unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old) != nil {
		return func() {}
	}
	if old.Val[0]&set.Val[0] != 0 {
		return func() {} // it was blocked already
	}
	return func() {
		var zero unix.Timespec
		for {
			// rt_sigtimedwait with a zero timeout takes a pending SIGPIPE,
			// or fails with EAGAIN when none is.
			_, _, errno := unix.Syscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(&set)), 0,
				uintptr(unsafe.Pointer(&zero)), 8, 0, 0)
			if errno != unix.EINTR {
				break
			}
		}
		unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	}
}

// closedError is the error of a write to a closed stdin: unix.EPIPE once the
// Process was closed (its attempt is over), ErrStdinClosed after CloseStdin.
func (p *Process) closedError() error {
	if p.released.Load() {
		return unix.EPIPE
	}
	return ErrStdinClosed
}

// StdinFD is the library's descriptor of the child's stdin, for a poll for
// writability (POLLOUT: the pipe has room; POLLERR: the child closed its
// end). It stays valid until CloseStdin or Close; -1 without one.
func (p *Process) StdinFD() int {
	if p.Stdin == nil || p.stdinClosed.Load() {
		return -1
	}
	// Not Stdin.Fd(): that would put the descriptor (and a pty master it
	// shares flags with) back in blocking mode.
	return p.stdinFD
}

// CloseStdin closes the library's end of the child's stdin, so the child
// reads EOF once it has read what was written (a pipe). Under a pty the
// terminal stays open (closing the master would hang it up): CloseStdin
// writes the terminal's end-of-file character instead (VEOF, ^D by
// default), which a reader in canonical mode sees as the end of its input
// at the start of a line, and Write fails afterwards. A write blocked in
// another goroutine returns ErrStdinClosed. Idempotent.
func (p *Process) CloseStdin() error {
	if p.Stdin == nil {
		return ErrNoStdin
	}
	// Not under writeMu: closing the file is what unblocks a writer
	// waiting for room, which then returns ErrStdinClosed.
	if p.stdinClosed.Swap(true) {
		return nil
	}
	if p.pty {
		if c, err := p.Stdin.SyscallConn(); err == nil {
			c.Control(func(fd uintptr) {
				eof := byte(4)
				if t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS); err == nil && t.Cc[unix.VEOF] != 0 {
					eof = t.Cc[unix.VEOF]
				}
				unix.Write(int(fd), []byte{eof})
			})
		}
	}
	p.Stdin.Close()
	openFDs.Add(-1)
	return nil
}

// Resize sets the pty's size; the kernel sends SIGWINCH to the terminal's
// foreground process group (the target's, unless it made another one).
func (p *Process) Resize(ws Winsize) error {
	if !p.pty {
		return ErrNotTerminal
	}
	c, err := p.Stdout.SyscallConn()
	if err != nil {
		return ErrStdinClosed
	}
	var ierr error
	if err := c.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Rows, Col: ws.Cols})
	}); err != nil {
		return ErrStdinClosed
	}
	return ierr
}

// SignalLeader has the shim send sig to the target alone, not its group.
// It is race-free: the shim is the target's parent, so the pid cannot be
// reused before the shim reaps it, and the shim sends nothing once it has.
func (p *Process) SignalLeader(sig unix.Signal) error {
	if sig < 1 || sig > 64 {
		return unix.EINVAL
	}
	return p.command(leaderCommand + byte(sig))
}

// leaderCommand + sig asks the shim to signal the target alone.
const leaderCommand = 0x80
