package proc

import "golang.org/x/sys/unix"

// A Launcher starts the shim as a new child of the calling thread: a process
// that runs the shim's protocol with argv and env, with files[i] as its
// descriptor i, in a process group of its own. It returns the shim's pid and
// a pidfd for it. release, when not nil, is called once the shim has exited
// (its pidfd polled readable): whatever the shim used until then is the
// launcher's to free.
//
// The library's launcher (capi) starts the shim built into it with
// clone(CLONE_VM): no exec. A Spawner made by NewSpawner execs the shim at
// its path instead, with Go's ForkExec.
type Launcher func(argv, env []string, files []int) (pid, pidfd int, release func(), err error)

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
