package runner

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// scriptFile is a script body on disk. It sits alone in a private 0700
// directory with an unpredictable name, is created O_EXCL with mode 0600 (it
// may carry secrets) and fsynced, and lives as long as its task.
type scriptFile struct {
	dir  string
	path string
}

// writeScript puts body in a new private directory under tmp. The path is
// made absolute now: a relative TMPDIR would otherwise be resolved after
// the child's chdir to the spec's cwd.
func writeScript(tmp string, body []byte) (*scriptFile, error) {
	dir, err := os.MkdirTemp(tmp, "solti-exec-")
	if err == nil && !filepath.IsAbs(dir) {
		var abs string
		if abs, err = filepath.Abs(dir); err != nil {
			os.Remove(dir)
		}
		dir = abs
	}
	if err != nil {
		return nil, &BuildError{Step: "script file", Err: err}
	}
	s := &scriptFile{dir: dir, path: filepath.Join(dir, "script")}
	if err := s.write(body); err != nil {
		s.remove()
		return nil, &BuildError{Step: "script file", Err: err}
	}
	return s, nil
}

func (s *scriptFile) write(body []byte) error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *scriptFile) remove() {
	if s != nil {
		os.RemoveAll(s.dir)
	}
}

// tempDir is where script directories go: TMPDIR as the host environment has
// it now, else /tmp. Not os.TempDir: inside a C host, Go's environment is a
// copy taken when the library was loaded, and a host that sets TMPDIR later
// (Python's os.environ does) must be obeyed.
func (r *Runner) tempDir() string {
	for _, kv := range r.opts.Environ() {
		if v, ok := strings.CutPrefix(kv, "TMPDIR="); ok && v != "" {
			return v
		}
	}
	return "/tmp"
}

// scriptMemfd is a script body in a sealed memfd: no file is ever written,
// so nothing is left behind by a host that crashes, and the seals stop
// anyone holding the descriptor from changing the body under the runtime.
// The child gets it at fd target and its runtime opens /proc/self/fd/target.
type scriptMemfd struct {
	fd     int // the library's, close-on-exec
	target int // its number in the child
}

// memfdCreate is unix.MemfdCreate; tests replace it to play a kernel that
// refuses memfds (before 3.17, or a seccomp policy of the host's).
var memfdCreate = unix.MemfdCreate

// The seals that freeze a memfd's contents and size, and the seals
// themselves.
const scriptSeals = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL

// newScriptMemfd puts body in a sealed memfd, to be passed at the lowest
// descriptor number from 3 not taken by passed. The error says why the
// kernel refused; the caller falls back to a file.
func newScriptMemfd(body []byte, passed []int) (*scriptMemfd, error) {
	// MFD_NOEXEC_SEAL (Linux 6.3) keeps the memfd from being exec'd, which
	// a vm.memfd_noexec=2 host requires; older kernels refuse the flag.
	fd, err := memfdCreate("solti-exec-script", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_NOEXEC_SEAL)
	if err == unix.EINVAL {
		fd, err = memfdCreate("solti-exec-script", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, &os.SyscallError{Syscall: "memfd_create", Err: err}
	}
	for rest := body; len(rest) > 0; {
		n, err := unix.Write(fd, rest)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return nil, &os.SyscallError{Syscall: "write", Err: err}
		}
		rest = rest[n:]
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, scriptSeals); err != nil {
		unix.Close(fd)
		return nil, &os.SyscallError{Syscall: "fcntl F_ADD_SEALS", Err: err}
	}
	target := 3
	for slices.Contains(passed, target) {
		target++
	}
	return &scriptMemfd{fd: fd, target: target}, nil
}

// path is what the runtime is given.
func (m *scriptMemfd) path() string { return "/proc/self/fd/" + strconv.Itoa(m.target) }

func (m *scriptMemfd) close() {
	if m != nil {
		unix.Close(m.fd)
	}
}
