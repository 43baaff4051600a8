package proc

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Spawner starts processes through one shim: the executable at its path,
// or the one its Launcher starts. It holds no other state and is safe for
// concurrent use.
type Spawner struct {
	path   string
	launch Launcher // nil: fork and exec the shim at path
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

// ShimPath is the absolute path of the shim this Spawner runs (a launching
// Spawner's name for it).
func (s *Spawner) ShimPath() string { return s.path }

// Start spawns p and returns once the target has been exec'd, or with a
// *SpawnError naming the step that failed (an *ExecSizeError, before
// anything starts, for strings the kernel would not exec). The fork and the wait for the
// target's exec happen on the calling goroutine, so concurrent Starts
// overlap. On success the caller owns the Process and must Close it.
//
// The shim stays resident as the target's parent and child subreaper (see
// Process). It lives outside the attempt's cgroups, so that it can remove
// them when the host dies: a plan's CgroupFD is joined by the target, from
// the shim, through that cgroup's cgroup.procs.
func (s *Spawner) Start(p *Plan) (*Process, error) {
	if p.HasCgroupFD {
		q, ok := p.joinFromShim()
		if !ok {
			return nil, &SpawnError{Step: StepCgroup, Arg: "fd " + strconv.Itoa(p.CgroupFD), Errno: unix.EBADF}
		}
		p = q
	}
	return s.start(p)
}

// joinFromShim is p with its CgroupFD turned into a cgroup.procs path the
// target writes to before anything else.
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
	argv := p.shimArgs(s.path)
	if err := p.checkExecSize(argv); err != nil {
		return nil, err
	}
	cio, err := openChildIO(p)
	if err != nil {
		return nil, err
	}
	pipes, err := openPipes(p.Pty == nil, p.Pty == nil && !p.MergeStderr)
	if err != nil {
		cio.closeAll()
		return nil, err
	}
	out, errOut := pipes.outW, pipes.errW
	switch {
	case p.Pty != nil:
		out, errOut = cio.stdin, cio.stdin
	case p.MergeStderr:
		errOut = out
	}
	pidfd := -1
	sys := &syscall.SysProcAttr{
		// The shim leads its own group, away from the host's terminal
		// signals; the target leads another one of its own.
		Setpgid: true,
		PidFD:   &pidfd,
	}
	attr := &syscall.ProcAttr{
		Env: p.Env,
		Files: append([]uintptr{uintptr(cio.stdin), uintptr(out), uintptr(errOut), uintptr(pipes.statusW), uintptr(pipes.shimSock)},
			p.Isolation.files()...),
		Sys: sys,
	}
	var shimPid int
	var release func()
	var targetPid func() int
	if s.launch != nil {
		files := make([]int, len(attr.Files))
		for i, fd := range attr.Files {
			files[i] = int(fd)
		}
		var l Launched
		l, err = s.launch(argv, p.Env, files)
		shimPid, pidfd, release, targetPid = l.Pid, l.PidFD, l.Release, l.TargetPid
	} else {
		shimPid, err = forkShim(s.path, argv, attr)
	}
	pipes.closeWriteEnds()
	cio.closeChildSide()
	if err != nil {
		pipes.closeAll()
		cio.closeAll()
		if s.launch != nil {
			return nil, launchError(err)
		}
		return nil, s.forkError(toErrno(err), p)
	}
	if pidfd < 0 {
		// The kernel gave no pidfd (before 5.2): refuse rather than keep a
		// child whose pid could be reused under us. Closing the control
		// socket makes the shim kill the target and exit.
		pipes.closeAll()
		cio.closeAll()
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(shimPid, &ws, 0, nil); err != unix.EINTR {
				break
			}
		}
		if release != nil {
			release() // the shim was reaped, or the host reaped it: it exited
		}
		return nil, &SpawnError{Step: StepFork, Arg: "pidfd", Errno: unix.ENOSYS}
	}
	openFDs.Add(1) // the pidfd

	pid, fatal, warnings, rerr := readStatus(pipes.statusR, pipes.sock, targetPid)
	closeFD(&pipes.statusR)
	if fatal != nil || rerr != nil {
		// Closing the control socket ends the shim and whatever it started.
		pipes.closeAll()
		cio.closeAll()
		if rerr != nil {
			unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
		}
		endShim(pidfd, release)
		openFDs.Add(-1)
		if rerr != nil {
			return nil, &SpawnError{Step: StepStatus, Errno: unix.EPROTO, Err: rerr}
		}
		return nil, fatal.toError(p, argv)
	}

	proc := &Process{
		Pid:     pid,
		ShimPid: shimPid,
		Stdout:  pipes.file(&pipes.outR, "stdout"),
		Stderr:  pipes.file(&pipes.errR, "stderr"),
		stdinFD: -1,
		release: release,
	}
	if err := cio.files(proc); err != nil {
		// Only a dup can fail here; the shim ends the tree when its
		// socket closes.
		cio.closeAll()
		pipes.closeAll()
		endShim(pidfd, release)
		openFDs.Add(-1)
		return nil, err
	}
	for _, w := range warnings {
		proc.Warnings = append(proc.Warnings, w.toError(p, argv))
	}
	proc.watch(pidfd, pipes.file(&pipes.sock, "solti-shim"))
	liveProcs.Add(1)
	return proc, nil
}

// hostStdinInheritable reports whether the host's descriptor 0 is open and
// meant for children: a standard input is never close-on-exec, while every
// file the Go runtime or the library opens is.
func hostStdinInheritable() bool {
	flags, err := unix.FcntlInt(0, unix.F_GETFD, 0)
	return err == nil && flags&unix.FD_CLOEXEC == 0
}

// reapShim collects a shim that ended. ECHILD means the host reaped it
// already (SIGCHLD ignored, waitpid(-1)): the shim's own status carries
// nothing, so that is fine.
func reapShim(pidfd int) {
	var info unix.Siginfo
	for unix.Waitid(unix.P_PIDFD, pidfd, &info, unix.WEXITED, nil) == unix.EINTR {
	}
}

// endShim reaps a shim that is ending, frees what its launcher gave it once
// it has surely exited, and closes its pidfd. A shim whose exit cannot be
// seen keeps its memory: a leak, not a crash.
func endShim(pidfd int, release func()) {
	reapAndRelease(pidfd, release)
	unix.Close(pidfd)
}

// reapAndRelease reaps the shim behind pidfd and, once its exit is certain,
// gives its launcher's resources back.
func reapAndRelease(pidfd int, release func()) {
	reapShim(pidfd)
	if release != nil && pidfdExited(pidfd) {
		release()
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
	case errno == unix.E2BIG:
		return &SpawnError{Step: StepPlan, Arg: "argument list and environment", Errno: errno}
	}
	return &SpawnError{Step: StepShim, Arg: s.path, Errno: errno}
}
