// Package proc starts child processes through the exec shim and watches them.
//
// Go cannot run code between fork and exec, so every attempt is started as
// the shim (shim/solti-exec-shim.c), which stays resident as the target's
// parent and child subreaper. The shim forks the target, which applies a
// Plan to itself (cgroup joins, rlimits, capability drop, no_new_privs,
// default signal dispositions and an empty mask, only descriptors 0-2,
// working directory) and then execs. A failure of any of those steps,
// including the target's exec, comes back over a close-on-exec status pipe
// and is returned by Spawner.Start as a *SpawnError naming the step and
// errno: a spawn never shows up later as a mysterious exit 127.
//
// The resident shim reports the target's exit status and rusage on a control
// socket, kills the whole tree (its process group, then every descendant
// handed to it as an orphan, setsid ones included) on the library's command,
// and does the same, removing Plan.RemoveDirs, when the library's end of the
// socket closes because the host died. The library never signals a pid; a
// host that reaps its children (SIGCHLD ignored, waitpid(-1)) only takes the
// shim's status, which carries nothing. The fork runs on the caller's
// goroutine: nothing is tied to the forking thread.
//
// The child's descriptor 0 is /dev/null, the host's 0, or a pipe the library
// writes (Plan.Stdin StdinPipe, Process.Write, stdio.go); stderr may share
// the stdout pipe (Plan.MergeStderr), and Plan.Pty gives the child a new
// pseudo-terminal on 0, 1 and 2 as the controlling terminal of its own
// session (the shim's ctty=1), read and written through its master.
//
// It does not own what the plan refers to: cgroup directories are created,
// limited and removed by the sandbox package, and output framing belongs to
// the output package. Linux 5.4 or later is required (pidfds for the shim,
// /proc/thread-self/children for the tree).
package proc
