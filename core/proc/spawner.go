package proc

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Spawner starts processes through one exec shim. It holds no other state and
// is safe for concurrent use; all Spawners share the one spawn thread.
type Spawner struct {
	path string
}

// NewSpawner checks that the shim at shimPath exists and is executable; the
// error is a *SpawnError with Step "shim" naming the path
// (`spawn failed: exec shim "/x/y": not found`). The path is made absolute,
// so a later chdir of the host does not lose it.
func NewSpawner(shimPath string) (*Spawner, error) {
	shimErr := func(path, reason string, errno unix.Errno) error {
		return &SpawnError{Step: StepShim, Arg: path, Errno: errno, Err: errors.New(reason)}
	}
	if shimPath == "" {
		return nil, shimErr("", "not found", unix.ENOENT)
	}
	abs, err := filepath.Abs(shimPath)
	if err != nil {
		return nil, shimErr(shimPath, err.Error(), toErrno(err))
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, shimErr(abs, "not found", unix.ENOENT)
	case err != nil:
		return nil, shimErr(abs, toErrno(err).Error(), toErrno(err))
	case !fi.Mode().IsRegular():
		return nil, shimErr(abs, "not executable", unix.EACCES)
	}
	if err := unix.Access(abs, unix.X_OK); err != nil {
		return nil, shimErr(abs, "not executable", toErrno(err))
	}
	return &Spawner{path: abs}, nil
}

// ShimPath is the absolute path of the shim this Spawner runs.
func (s *Spawner) ShimPath() string { return s.path }

// Start spawns p and returns once the target has been exec'd, or with a
// *SpawnError naming the step that failed. The fork happens on the spawn
// thread; waiting for the target's exec happens on the calling goroutine, so
// concurrent Starts overlap. On success the caller owns the Process and must
// Reap and Close it.
//
// Where clone3 is refused with ENOSYS although the kernel has it (a seccomp
// filter in a container, valgrind), a plan with a CgroupFD is started again
// with the shim joining that cgroup before exec, as on kernels before 5.7;
// later Starts go that way at once.
func (s *Spawner) Start(p *Plan) (*Process, error) {
	if p.HasCgroupFD && noCloneIntoCgroup.Load() {
		if q, ok := p.joinFromShim(); ok {
			p = q
		}
	}
	proc, err := s.start(p)
	var se *SpawnError
	if err != nil && p.HasCgroupFD && errors.As(err, &se) && se.Step == StepCgroup && se.Errno == unix.ENOSYS {
		if q, ok := p.joinFromShim(); ok {
			noCloneIntoCgroup.Store(true)
			return s.start(q)
		}
	}
	return proc, err
}

// noCloneIntoCgroup is set once clone3 has been refused with ENOSYS: the
// process's seccomp filter (or valgrind) will not change its mind.
var noCloneIntoCgroup atomic.Bool

// joinFromShim is p with its CgroupFD turned into a cgroup.procs path the
// shim writes to before anything else.
func (p *Plan) joinFromShim() (*Plan, bool) {
	dir, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(p.CgroupFD))
	if err != nil || !filepath.IsAbs(dir) || len(p.JoinProcs) >= maxJoinProcs {
		return nil, false
	}
	q := *p
	q.HasCgroupFD, q.CgroupFD = false, 0
	q.JoinProcs = append(append([]string(nil), p.JoinProcs...), filepath.Join(dir, "cgroup.procs"))
	return &q, true
}

func (s *Spawner) start(p *Plan) (*Process, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	stdin, devNull := 0, -1
	if p.Stdin == StdinNull {
		fd, err := openDevNull()
		if err != nil {
			return nil, err
		}
		stdin, devNull = fd, fd
	}
	pipes, err := openPipes()
	if err != nil {
		closeFD(&devNull)
		return nil, err
	}
	argv := p.shimArgs(s.path)
	pidfd := -1
	sys := &syscall.SysProcAttr{
		Setpgid:   true, // the child leads its own group: SignalGroup reaches its descendants
		Pdeathsig: syscall.SIGKILL,
		PidFD:     &pidfd,
	}
	if p.HasCgroupFD {
		sys.UseCgroupFD = true
		sys.CgroupFD = p.CgroupFD
	}
	attr := &syscall.ProcAttr{
		Env:   p.Env,
		Files: []uintptr{uintptr(stdin), uintptr(pipes.outW), uintptr(pipes.errW), uintptr(pipes.statusW)},
		Sys:   sys,
	}
	pid, err := forkOnSpawnThread(s.path, argv, attr)
	pipes.closeWriteEnds()
	closeFD(&devNull)
	if err != nil {
		pipes.closeAll()
		return nil, s.forkError(toErrno(err), p)
	}
	if pidfd < 0 {
		// The kernel gave no pidfd (before 5.2): without it nothing here is
		// race-free, so refuse rather than run unsupervised.
		unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, 0, nil)
		pipes.closeAll()
		return nil, &SpawnError{Step: StepFork, Arg: "pidfd", Errno: unix.ENOSYS}
	}
	openFDs.Add(1) // the pidfd

	fatal, warnings, rerr := readStatus(pipes.statusR, pidfd)
	closeFD(&pipes.statusR)
	if fatal != nil || rerr != nil {
		if rerr != nil {
			unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
		}
		reapShim(pidfd)
		unix.Close(pidfd)
		openFDs.Add(-1)
		pipes.closeAll()
		if rerr != nil {
			return nil, &SpawnError{Step: StepStatus, Errno: unix.EPROTO, Err: rerr}
		}
		return nil, fatal.toError(p, argv)
	}

	proc := &Process{
		Pid:    pid,
		Stdout: pipes.file(&pipes.outR, "stdout"),
		Stderr: pipes.file(&pipes.errR, "stderr"),
	}
	for _, w := range warnings {
		proc.Warnings = append(proc.Warnings, w.toError(p, argv))
	}
	proc.watch(pidfd)
	liveProcs.Add(1)
	return proc, nil
}

// reapShim collects a shim that failed (it exits right after its record).
// ECHILD means the host reaped it already, which is fine here.
func reapShim(pidfd int) {
	var info unix.Siginfo
	for unix.Waitid(unix.P_PIDFD, pidfd, &info, unix.WEXITED, nil) == unix.EINTR {
	}
}

// forkError names the step behind a ForkExec error. ForkExec reports the
// fork's own failure and the failure of the shim's exec the same way, so the
// errno and a look at the shim tell them apart.
func (s *Spawner) forkError(errno unix.Errno, p *Plan) *SpawnError {
	switch {
	case errno == unix.EAGAIN || errno == unix.ENOMEM:
		return &SpawnError{Step: StepFork, Errno: errno}
	case errno == unix.EMFILE || errno == unix.ENFILE:
		// ForkExec's own close-on-exec pipe for the shim's exec error.
		return &SpawnError{Step: StepPipe, Errno: errno}
	case unix.Access(s.path, unix.X_OK) != nil:
		return &SpawnError{Step: StepShim, Arg: s.path, Errno: errno}
	case errno == unix.EBADF && p.Stdin == StdinInherit:
		return &SpawnError{Step: StepStdin, Arg: "inherit", Errno: errno}
	case p.HasCgroupFD:
		// clone3(CLONE_INTO_CGROUP) refused the cgroup (EBUSY, EOPNOTSUPP,
		// EACCES, ENODEV...): name the cgroup directory.
		dir, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(p.CgroupFD))
		if err != nil {
			dir = "fd " + strconv.Itoa(p.CgroupFD)
		}
		return &SpawnError{Step: StepCgroup, Arg: dir, Errno: errno}
	}
	return &SpawnError{Step: StepShim, Arg: s.path, Errno: errno}
}
