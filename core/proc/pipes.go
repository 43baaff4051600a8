package proc

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// childPipes are the three pipes of one spawn. Every end is created
// close-on-exec, so a concurrent spawn (or any exec in the host) never
// inherits them; the child gets its write ends through ProcAttr.Files, which
// dup2s them onto 1, 2 and 3. The read ends are made non-blocking for Go's
// poller; the write ends stay blocking, as the child expects.
type childPipes struct {
	outR, outW       int
	errR, errW       int
	statusR, statusW int
	sock, shimSock   int // the control socket: the library's end, the shim's
}

// openPipes opens the status pipe and the control socket, and the stdout and
// stderr pipes the plan needs: none under a pty, stdout alone when stderr
// is merged into it.
func openPipes(stdout, stderr bool) (*childPipes, error) {
	cp := &childPipes{-1, -1, -1, -1, -1, -1, -1, -1}
	all := [][2]*int{{&cp.outR, &cp.outW}, {&cp.errR, &cp.errW}, {&cp.statusR, &cp.statusW}}
	if !stderr {
		all = append(all[:1], all[2])
	}
	if !stdout {
		all = all[1:]
	}
	for _, ends := range all {
		// The status pipe is non-blocking at both ends (a record never
		// fills it); an output pipe only at the library's end, the child
		// writes to a blocking one. A new pipe has no other status flag,
		// so one F_SETFL sets it.
		status := ends[0] == &cp.statusR
		flags := unix.O_CLOEXEC
		if status {
			flags |= unix.O_NONBLOCK
		}
		var fds [2]int
		if err := unix.Pipe2(fds[:], flags); err != nil {
			cp.closeAll()
			return nil, &SpawnError{Step: StepPipe, Errno: toErrno(err)}
		}
		*ends[0], *ends[1] = fds[0], fds[1]
		openFDs.Add(2)
		if status {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(fds[0]), unix.F_SETFL, unix.O_NONBLOCK); err != nil {
			cp.closeAll()
			return nil, &SpawnError{Step: StepPipe, Errno: toErrno(err)}
		}
	}
	// Non-blocking at both ends: the shim polls before it reads, and its
	// one write, an exit record, is far below the socket's buffer.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		cp.closeAll()
		return nil, &SpawnError{Step: StepPipe, Arg: "control socket", Errno: toErrno(err)}
	}
	cp.sock, cp.shimSock = fds[0], fds[1]
	openFDs.Add(2)
	return cp, nil
}

// closeWriteEnds runs right after the fork: from then on only the child holds
// them, so the reads see EOF when the child (and its descendants) close them.
func (cp *childPipes) closeWriteEnds() {
	closeFD(&cp.outW)
	closeFD(&cp.errW)
	closeFD(&cp.statusW)
	closeFD(&cp.shimSock)
}

func (cp *childPipes) closeAll() {
	cp.closeWriteEnds()
	closeFD(&cp.outR)
	closeFD(&cp.errR)
	closeFD(&cp.statusR)
	closeFD(&cp.sock)
}

// file hands a read end over to an *os.File registered with Go's poller, so
// SetReadDeadline and Close unblock a reader.
func (cp *childPipes) file(fd *int, name string) *os.File {
	if *fd < 0 {
		return nil // merged into stdout, or a pty
	}
	f := os.NewFile(uintptr(*fd), name)
	*fd = -1
	return f
}

func closeFD(fd *int) {
	if *fd >= 0 {
		unix.Close(*fd)
		openFDs.Add(-1)
		*fd = -1
	}
}

// openDevNull opens /dev/null (read-only, close-on-exec) for a child whose
// stdin is StdinNull. One per spawn, closed right after the fork: it costs a
// few microseconds and keeps the package free of long-lived descriptors.
func openDevNull() (int, error) {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &SpawnError{Step: StepStdin, Arg: "/dev/null", Errno: toErrno(err)}
	}
	openFDs.Add(1)
	return fd, nil
}

// toErrno gives the errno inside err (system calls return nothing else).
func toErrno(err error) unix.Errno {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return unix.EIO
}
