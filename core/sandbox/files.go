package sandbox

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Cgroup interface files are small and read or written in one call each.
// They are opened with plain system calls, not os.File: an os.File of a
// cgroupfs file is registered in Go's poller (the kernel says the file can
// be polled), which costs an fcntl and two epoll_ctl calls a file and wakes
// the poller; os.ReadFile adds an fstat. A sandboxed spawn reads and writes
// eight such files, and those calls were a fifth of its system calls.

// readFile reads the whole of a small file.
func readFile(p string) (string, error) {
	fd, err := openFile(p, unix.O_RDONLY)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	var buf [4096]byte
	var out []byte
	for {
		n, err := unix.Read(fd, buf[:])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return "", &os.PathError{Op: "read", Path: p, Err: err}
		case n == 0:
			return string(out), nil
		}
		out = append(out, buf[:n]...)
	}
}

// openFile opens p close-on-exec, retrying an interrupted open.
func openFile(p string, mode int) (int, error) {
	for {
		fd, err := unix.Open(p, mode|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: p, Err: err}
		}
		return fd, nil
	}
}

// writeFile writes value in one write(2), as cgroupfs wants: the kernel
// takes each write as one command. It never creates the file.
func writeFile(p, value string) error {
	fd, err := openFile(p, unix.O_WRONLY|unix.O_TRUNC)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Write(fd, []byte(value))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return &os.PathError{Op: "write", Path: p, Err: err}
		case n != len(value):
			return &os.PathError{Op: "write", Path: p, Err: unix.EIO}
		}
		return nil
	}
}

// exists reports whether p exists, as os.Stat's error would: nil, an
// ErrNotExist, or another error.
func exists(p string) error {
	var st unix.Stat_t
	for {
		err := unix.Stat(p, &st)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "stat", Path: p, Err: err}
		}
		return nil
	}
}

// readKeyed finds "KEY VALUE" among the lines of a flat-keyed file
// (memory.events, cpu.stat, memory.oom_control).
func readKeyed(p, key string) (int64, bool) {
	s, err := readFile(p)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, " ")
		if ok && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// readInt reads a file holding one integer.
func readInt(p string) (int64, bool) {
	s, err := readFile(p)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}

// hasWord reports whether a space-separated list (cgroup.controllers,
// cgroup.subtree_control) holds w.
func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if f == w {
			return true
		}
	}
	return false
}

// mkdirParents makes dir and the missing directories above it, and returns
// the ones it made, deepest last, so they can be removed again.
func mkdirParents(fsys cgroupFS, dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if err := exists(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if d == "/" || d == "." {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := fsys.Mkdir(missing[i])
		switch {
		case err == nil:
			made = append(made, missing[i])
		case errors.Is(err, fs.ErrExist): // made meanwhile by another runner or process
		default:
			return made, err
		}
	}
	return made, nil
}

// pathCause is the errno inside an *os.PathError, so a message does not
// repeat the path; other errors are returned as they are.
func pathCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// errnoText is an error's errno text ("permission denied") without the path
// an *os.PathError would repeat.
func errnoText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
