package proc

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// The spawn thread. PR_SET_PDEATHSIG fires when the thread that forked the
// child exits, not the process: a child forked on a host's worker thread (or
// on whichever thread the Go scheduler happened to use) would be killed when
// that thread goes away. So every fork runs on one goroutine locked to its OS
// thread for the life of the process, started on first use and shared by all
// Spawners. Only the fork and the shim's exec run there; everything else
// (pipes, waiting for the target's exec) runs on the caller's goroutine.

type forkRequest struct {
	path string
	argv []string
	attr *syscall.ProcAttr
	done chan forkResult
}

type forkResult struct {
	pid int
	err error
}

var spawnThread struct {
	once     sync.Once
	requests chan *forkRequest
}

// spawnHooks let tests act on the spawn thread around each fork.
type spawnHooks struct {
	beforeFork func(attr *syscall.ProcAttr)
	afterFork  func(tid int)
}

var testHooks atomic.Pointer[spawnHooks]

// forkExec is syscall.ForkExec; tests replace it to play a kernel that
// refuses a system call.
var forkExec = syscall.ForkExec

// forkOnSpawnThread runs syscall.ForkExec on the spawn thread and waits for it.
func forkOnSpawnThread(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
	spawnThread.once.Do(func() {
		spawnThread.requests = make(chan *forkRequest)
		go runSpawnThread(spawnThread.requests)
	})
	req := &forkRequest{path: path, argv: argv, attr: attr, done: make(chan forkResult, 1)}
	spawnThread.requests <- req
	r := <-req.done
	return r.pid, r.err
}

func runSpawnThread(requests <-chan *forkRequest) {
	// Never unlocked, and the goroutine never returns, so the thread lives as
	// long as the process and so does every child's parent-death signal.
	runtime.LockOSThread()
	for req := range requests {
		hooks := testHooks.Load()
		if hooks != nil && hooks.beforeFork != nil {
			hooks.beforeFork(req.attr)
		}
		pid, err := forkExec(req.path, req.argv, req.attr)
		if hooks != nil && hooks.afterFork != nil {
			hooks.afterFork(unix.Gettid())
		}
		req.done <- forkResult{pid: pid, err: err}
	}
}
