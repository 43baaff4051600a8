package proc

import (
	"sync/atomic"
	"syscall"
)

// The fork runs on whichever thread the caller's goroutine is on: nothing of
// the child's life is tied to the forking thread (no parent-death signal; the
// resident shim watches the control socket instead), so no dedicated spawn
// thread and no hand-off to it.

// spawnHooks let tests act around each fork.
type spawnHooks struct {
	beforeFork func(attr *syscall.ProcAttr)
	afterFork  func()
}

var testHooks atomic.Pointer[spawnHooks]

// forkExec is syscall.ForkExec; tests replace it to play a kernel that
// refuses a system call.
var forkExec = syscall.ForkExec

func forkShim(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
	hooks := testHooks.Load()
	if hooks != nil && hooks.beforeFork != nil {
		hooks.beforeFork(attr)
	}
	pid, err := forkExec(path, argv, attr)
	if hooks != nil && hooks.afterFork != nil {
		hooks.afterFork()
	}
	return pid, err
}
