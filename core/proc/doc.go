// Package proc starts child processes through the exec shim and watches them.
//
// Go cannot run code between fork and exec, so every child is started as the
// shim (shim/solti-exec-shim.c), which applies a Plan to itself (cgroup v1
// joins, rlimits, capability drop, no_new_privs, default signal dispositions
// and an empty mask, only descriptors 0-2, working directory) and then execs
// the target. A failure of any of those steps, including the target's exec,
// comes back over a close-on-exec status pipe and is returned by
// Spawner.Start as a *SpawnError naming the step and errno: a spawn never
// shows up later as a mysterious exit 127.
//
// The package owns the fork itself, the pipes, the pidfd and the wait. Every
// fork runs on one goroutine locked to its OS thread for the life of the
// process, because the parent-death signal belongs to the thread that forked
// and a host thread (a Python worker, say) may exit while its child runs.
// Waiting for the target's exec happens on the caller's goroutine, so
// concurrent spawns pipeline.
//
// A Process keeps its leader as a zombie until Reap: the zombie keeps the pid
// and the process-group id reserved, so Signal (through the pidfd) and
// SignalGroup (kill(-pgid)) can never hit a reused id. Exited is driven by the
// pidfd in Go's poller, so no OS thread blocks per child.
//
// It does not own what the plan refers to: cgroup directories are created,
// limited and removed by the sandbox package, and output framing belongs to
// the output package. Linux 5.4 or later is required (pidfd polling and
// waitid(P_PIDFD)).
package proc
