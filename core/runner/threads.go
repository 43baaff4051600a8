package runner

import (
	"runtime"
	"sync"
)

// spareThreads is how many OS threads beyond GOMAXPROCS the runtime is
// given before any task runs: one for the goroutine blocked in the poller
// without a P, one for a short blocking system call (the wait for the
// target's exec status, a cgroupfs write, a reap).
const spareThreads = 2

// reserveThreads makes sure the Go runtime has at least n OS threads of its
// own to run goroutines on, so that it never has to create one later.
//
// Why: a task without cgroups.pids may fork until the host's pids cgroup
// is full, and then the runtime aborts the whole host ("pthread_create
// failed") the first time it wants a thread it does not have, for
// instance when a GC wakes a P while another thread sits in the poller.
// The runtime never ends an idle thread, so threads made now, while pids
// are free, are there when they are not. A C host's threads that call in
// are not among them: each brings its own thread, and one blocked in
// solti_task_wait holds only that.
//
// How: n goroutines each lock a thread and park at once, which makes the
// runtime find n distinct threads (taking idle ones first, creating only
// the shortfall); then they unlock and end, and the threads go idle. When
// the runtime has them already this costs n goroutine switches.
func reserveThreads(n int) {
	var locked, unlocked sync.WaitGroup
	release := make(chan struct{})
	locked.Add(n)
	unlocked.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			runtime.LockOSThread()
			locked.Done()
			<-release
			// Unlocked before it ends, so the thread goes back to the
			// runtime instead of exiting with its goroutine.
			runtime.UnlockOSThread()
			unlocked.Done()
		}()
	}
	locked.Wait()
	close(release)
	// Until they have unlocked, their threads are still theirs: a spawn
	// or a second reserve right away would make more.
	unlocked.Wait()
}

// threadsWanted is the reserve for the current GOMAXPROCS, which the
// runtime may change when the host's CPU limit does.
func threadsWanted() int { return runtime.GOMAXPROCS(0) + spareThreads }
