package proc

import "golang.org/x/sys/unix"

// A Launcher starts the shim as a new child of the calling thread: a process
// that runs the shim's protocol with argv and env, with files[i] as its
// descriptor i, in a process group of its own.
//
// The library's launcher (capi) starts the shim built into it with
// clone(CLONE_VM): no exec. A Spawner made by NewSpawner execs the shim at
// its path instead, with Go's ForkExec.
type Launcher func(argv, env []string, files []int) (Launched, error)

// Launched is the shim a Launcher started.
type Launched struct {
	Pid   int // the shim's pid
	PidFD int // and a pidfd for it

	// TargetPid, when not nil, reads the target's pid where the shim's
	// clone stored it, in the launcher's memory; such a shim writes no pid
	// record. It is read once the status pipe is at EOF or the shim has
	// said something on its control socket.
	TargetPid func() int

	// Release, when not nil, is called once the shim has exited (its pidfd
	// polled readable): whatever the shim used until then is the
	// launcher's to free.
	Release func()
}

// NewLaunchingSpawner is a Spawner that starts every shim through launch.
// name stands for the shim in its argv[0] and in errors.
func NewLaunchingSpawner(name string, launch Launcher) *Spawner {
	return &Spawner{path: name, launch: launch}
}

// launchError names the step behind a Launcher's error.
func launchError(err error) *SpawnError {
	if se, ok := err.(*SpawnError); ok {
		return se
	}
	errno := toErrno(err)
	if errno == unix.EMFILE || errno == unix.ENFILE {
		return &SpawnError{Step: StepPipe, Errno: errno}
	}
	return &SpawnError{Step: StepFork, Errno: errno}
}
