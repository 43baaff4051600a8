// Package seccomp assembles the classic BPF filters the exec shim loads
// before the target's exec. It owns the syscall lists and the encoding the
// shim takes (16 hex digits per instruction, its bytes in host order); it
// does not load anything itself: the library never filters its own host.
//
// DenyHostControl is upstream's policy of that name: a denylist, not a
// sandbox. Syscalls that act on the host as a whole or on other processes
// (ptrace and its relatives, mounts, modules, kexec, BPF, perf, swap,
// reboot, clocks, host names, keyrings, namespaces joined with setns) fail
// with EPERM; everything else is allowed. A syscall made under a foreign
// architecture (a 32-bit or x32 entry on x86-64) kills the process, so the
// list cannot be bypassed through another syscall table.
package seccomp
