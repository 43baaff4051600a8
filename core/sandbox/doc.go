// Package sandbox owns the cgroups of tasks: where the hierarchies are, where
// a runner's task cgroups go, how each limit is enforced, and the life of one
// task's cgroups from creation to removal (SPEC sections 6 and 8).
//
// Discovery reads /proc/self/mountinfo and /proc/self/cgroup (never assuming
// /sys/fs/cgroup): the cgroup v2 mount, if any, and the v1 hierarchies with
// their controllers, each with this process's own cgroup in it. A runner's
// Parent is the configured cgroups.parent or a "solti-exec" child of the
// host's own cgroup. For each limit asked for (cpu, memory, pids), v2 is used
// when its controller is available in the parent (enabled in the parent's
// subtree_control as needed); otherwise the v1 hierarchy of that controller
// (hybrid hosts); otherwise the limit cannot be enforced, and failOnError
// decides between an *Error and running without it (Unapplied).
//
// Per attempt, Parent.Prepare makes a CgroupSet: the task's v2 cgroup (made
// for tracking even without limits, wherever the host lets the library create
// one) and the v1 cgroups of the limits placed there, with every limit written
// before the spawn. The child joins the v2 cgroup at clone (CLONE_INTO_CGROUP,
// through the descriptor CgroupFD) and the v1 ones in the exec shim (the
// cgroup.procs files of JoinProcs). After the attempt, Kill ends whatever is
// left (cgroup.kill, or freeze, kill each pid, thaw; v1: kill each pid until
// none is left), Stats reads memory peak, OOM kills and CPU usage, and Remove
// deletes the directories once they are empty.
//
// It does not own the spawn (core/proc) or the attempt (core/runner), and it
// does not apply rlimits, capabilities or no_new_privs: the shim does.
package sandbox
