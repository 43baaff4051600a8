/*
 * solti-exec-shim: the shim of solti-exec.
 *
 * Go cannot run code between fork and exec, so the library starts every
 * attempt through this small program. The shim starts the target, which
 * applies the spawn plan to itself and then execs, so the plan is in force
 * before the target's first instruction; the shim stays resident as the
 * target's parent and child subreaper for the whole attempt. It does not use
 * the C library: it is freestanding, with its own _start and raw system calls
 * (x86-64 and aarch64), because a libc start-up costs several hundred
 * microseconds per spawn. Everything here is async-signal-safe: no malloc,
 * no stdio, and no mutable global.
 *
 * The same source builds two ways: as the static executable below, which the
 * library execs (fork, exec, then the protocol), and, with
 * SOLTI_SHIM_IN_LIBRARY, into the library itself, which starts the shim
 * without an exec (the section "in the library" at the end). Both speak the
 * protocol below.
 *
 * Protocol "solti-shim/2"
 * -----------------------
 * argv:  shim "solti-shim/2" KEY=VALUE... "--" TARGET [TARGET-ARG...]
 * envp:  exactly the target's environment (PATH for the search comes from it).
 * fd 0, 1, 2: the target's stdin, stdout, stderr.
 * fd 3:  the write end of the status pipe (the library keeps the read end).
 * fd 4:  the shim's end of the control socket (a socketpair with the library).
 * fd 5, 6, ...: one per fd= key, in their order: descriptors passed to the
 *        target (the resident closes its copies).
 *
 * Keys, in any order (each at most once unless marked repeatable):
 *   cwd=DIR                  chdir before exec (relative TARGET resolves there)
 *   argv0=NAME               the target's argv[0] (default: TARGET as given)
 *   rlimit=RES:SOFT:HARD     repeatable; RES is the RLIMIT_* number, SOFT and
 *                            HARD decimal or "inf"; prlimit64; failure fatal
 *   nnp=1                    prctl(PR_SET_NO_NEW_PRIVS); failure fatal
 *   caps=drop:KEEPHEX        drop every capability not in the hex mask KEEPHEX
 *                            from the bounding, permitted, effective and
 *                            inheritable sets and clear the ambient set, then
 *                            raise the kept ones as ambient
 *   capsfatal=0|1            whether a failed capability step is fatal
 *                            (default 1); when 0 it is reported as a warning
 *   cgroup-procs=PATH        repeatable; write "0" to this cgroup.procs file
 *                            to join it (v1 hierarchies, and the v2 cgroup);
 *                            failure fatal
 *   rmdir=DIR                repeatable; an absolute cgroup directory removed
 *                            once the tree is dead if the library's end of
 *                            the control socket closed (the host died)
 *   ctty=1                   fd 0 is a terminal (a pty's slave) that becomes
 *                            the target's controlling terminal: the target
 *                            calls setsid instead of setpgid (it then leads a
 *                            session and a process group of its own) and
 *                            TIOCSCTTY on fd 0; failure fatal (step fork,
 *                            detail 2 setsid, 3 TIOCSCTTY)
 * Isolation keys (applied in the target in the order below):
 *   setsid=1                 the target leads a new session (setsid) instead
 *                            of only a new process group; failure fatal
 *   unshare=HEX              CLONE_NEW* mask of new namespaces: mount (made
 *                            private recursively), net, ipc, uts, cgroup
 *   groups=G,G,...           the exact supplementary groups ("" clears them)
 *   gid=N, uid=N             real, effective and saved gid and uid
 *   seccomp=HEX              a classic BPF filter, 16 hex digits (8 bytes in
 *                            host order) per instruction, at most 256
 *   umask=OCT                the target's umask (at most 0777)
 *   fd=N                     repeatable (at most 16, each N >= 3 once): the
 *                            next of fd 5, 6, ... becomes the target's fd N,
 *                            open across exec
 * Each failure is fatal with its step.
 * An unknown key, a repeated key, a bad value or a missing "--"/TARGET fails
 * with step "plan" (EINVAL); more than 16 rlimit=, cgroup-procs= or rmdir=
 * entries fail with E2BIG.
 *
 * Order: parse plan, reset every signal disposition to SIG_DFL and clear the
 * signal mask, close every descriptor above the passed ones (>= 5 without
 * any), become the child subreaper, start the target: sharing the shim's
 * memory until its exec, running beside the shim (not vfork-style), or with
 * a fork when the plan sets groups, gid or uid. The shim then writes the
 * target's pid record (built into the library, it leaves the pid where the
 * library reads it instead, see struct target_watch) and stays as the
 * resident (below). The target: lead a new process group (or session; with ctty=1 a session whose terminal is fd 0), close
 * fd 4, join cgroups, rlimits, namespaces, the capability
 * bounding set (and PR_SET_KEEPCAPS when kept capabilities must survive a
 * uid change), supplementary groups, gid, uid, the other capability sets,
 * no_new_privs, seccomp, umask, move the passed descriptors to their
 * numbers, mark the status pipe close-on-exec, close every other descriptor
 * >= 4, chdir, exec. A TARGET without a '/' is searched in PATH
 * like execvpe (default "/usr/local/bin:/usr/bin:/bin"; EACCES is preferred
 * over ENOENT; ENOEXEC is reported, there is no shell fallback). Descriptors
 * are closed with close_range (Linux 5.9), else by listing /proc/self/fd.
 *
 * Status records: 16 bytes in host byte order, written to fd 3 in one write:
 *   uint32 magic   0x534f4c54 "SOLT": fatal; the writer then exits with 127
 *                  0x534f4c57 "SOLW": warning (a non-fatal capability step);
 *                  the target carries on
 *                  0x534f4c50 "SOLP": the target's pid in detail, from
 *                  an exec'd shim once the target started (before, among
 *                  or after the target's own records)
 *   uint32 step    1 plan, 2 cgroup, 3 rlimit, 4 caps, 5 nnp, 6 signals,
 *                  7 fds, 8 chdir, 9 exec, 10 fork, 11 subreaper, 12 umask,
 *                  13 session, 14 namespaces, 15 groups, 16 gid, 17 uid,
 *                  18 seccomp
 *   int32  errno   the failing call's errno
 *   uint32 detail  plan: index in the shim's argv of the bad entry;
 *                  cgroup, rlimit: index of the entry among its repeated keys;
 *                  caps: 1 bounding set, 2 capset, 3 ambient set,
 *                  4 keepcaps; namespaces: 1 unshare, 2 private mounts;
 *                  fds: 1 + the index of the failing fd= entry (0: the
 *                  closing);
 *                  signals: the signal that could not be reset (0: the mask);
 *                  fork: 0 the fork, 1 setpgid, 2 setsid, 3 TIOCSCTTY;
 *                  pid record: the pid; else 0
 * On success fd 3 is closed by the exec (close-on-exec; the resident closed
 * its copy) and the library reads EOF after zero or more warnings and, from
 * an exec'd shim, the pid record. A record is fewer than PIPE_BUF bytes, so it is written
 * atomically.
 *
 * The resident, on the control socket:
 *   library -> shim: one byte per command: 1..64 send that signal to the
 *     target's process group (while the target is unreaped) and to every
 *     child of the shim outside that group (each process gets it once);
 *     0x81..0xC0 send (byte - 0x80) to the target alone,
 *     while it is unreaped (the shim is its parent, so the pid cannot have
 *     been reused), nothing once it is; 0x80 end: SIGKILL the tree, round after round as
 *     orphans come, until no child is left, then exit 0. EOF (the host died,
 *     or dropped the task): the same, then remove every rmdir= directory.
 *   shim -> library: one 48-byte exit record once the target is reaped:
 *     uint32 magic 0x534f4c58 "SOLX", uint32 code (1 exited, 2 killed,
 *     3 killed with a core dump), int32 status (exit code or signal), uint32
 *     flags (1: no other descendant was left), int64 user and system CPU
 *     (microseconds) and peak RSS (KiB) from wait4, int64 reserved. The shim
 *     exits after it when no descendant is left, else at the end command or
 *     EOF; the library sees EOF on the socket when it has exited.
 *
 * Build (as the Makefile does):
 *   gcc -Os -static -nostdlib -nostartfiles -ffreestanding -fno-builtin
 *       -fno-stack-protector -fno-asynchronous-unwind-tables -no-pie
 *       -Wall -Wextra -Werror -o build/solti-exec-shim shim/solti-exec-shim.c
 */

#include <stddef.h>
#include <stdint.h>

#ifdef SOLTI_SHIM_IN_LIBRARY
/* In the library the shim runs in a process that shares the host's memory
 * but not its threads: the thread pointer it inherits is a host thread's. No
 * stack protector (it reads its canary through the thread pointer), and no
 * loops turned into calls to the C library. */
#pragma GCC optimize("no-stack-protector", "no-tree-loop-distribute-patterns")
#endif

/* ---- system interface: numbers and constants ---------------------------- */

#if defined(__x86_64__)
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_lseek 8
#define NR_rt_sigaction 13
#define NR_rt_sigprocmask 14
#define NR_execve 59
#define NR_fcntl 72
#define NR_chdir 80
#define NR_capget 125
#define NR_capset 126
#define NR_prctl 157
#define NR_getdents64 217
#define NR_exit_group 231
#define NR_openat 257
#define NR_prlimit64 302
#define NR_close_range 436
#define NR_clone 56
#define NR_wait4 61
#define NR_kill 62
#define NR_getpid 39
#define NR_setpgid 109
#define NR_getpgid 121
#define NR_ppoll 271
#define NR_signalfd4 289
#define NR_unlinkat 263
#define NR_ioctl 16
#define NR_umask 95
#define NR_setsid 112
#define NR_setgroups 116
#define NR_setresuid 117
#define NR_setresgid 119
#define NR_mount 165
#define NR_unshare 272
#define NR_dup3 292
#define NR_mmap 9
#define NR_mprotect 10
#define NR_munmap 11
#elif defined(__aarch64__)
#define NR_fcntl 25
#define NR_chdir 49
#define NR_openat 56
#define NR_close 57
#define NR_getdents64 61
#define NR_lseek 62
#define NR_read 63
#define NR_write 64
#define NR_capget 90
#define NR_capset 91
#define NR_exit_group 94
#define NR_rt_sigaction 134
#define NR_rt_sigprocmask 135
#define NR_prctl 167
#define NR_execve 221
#define NR_prlimit64 261
#define NR_close_range 436
#define NR_clone 220
#define NR_wait4 260
#define NR_kill 129
#define NR_getpid 172
#define NR_setpgid 154
#define NR_getpgid 155
#define NR_ppoll 73
#define NR_signalfd4 74
#define NR_unlinkat 35
#define NR_ioctl 29
#define NR_umask 166
#define NR_setsid 157
#define NR_setgroups 159
#define NR_setresuid 147
#define NR_setresgid 149
#define NR_mount 40
#define NR_unshare 97
#define NR_dup3 24
#define NR_mmap 222
#define NR_mprotect 226
#define NR_munmap 215
#else
#error "solti-exec-shim supports x86-64 and aarch64 only"
#endif

#define E_PERM 1
#define E_NOENT 2
#define E_2BIG 7
#define E_NOEXEC 8
#define E_INTR 4
#define E_ACCES 13
#define E_NODEV 19
#define E_NOTDIR 20
#define E_INVAL 22
#define E_NAMETOOLONG 36
#define E_NOSYS 38
#define E_TIMEDOUT 110
#define E_STALE 116

#define AT_FDCWD_ (-100)
#define O_RDONLY_ 0
#define O_WRONLY_ 1
#define O_CLOEXEC_ 02000000
#define F_SETFD_ 2
#define FD_CLOEXEC_ 1
#define SEEK_SET_ 0
#define SIG_SETMASK_ 2
#define SIGKILL_ 9
#define SIGSTOP_ 19
#define NSIG_ 64

#define PR_CAPBSET_READ_ 23
#define PR_CAPBSET_DROP_ 24
#define PR_SET_NO_NEW_PRIVS_ 38
#define PR_CAP_AMBIENT_ 47
#define PR_CAP_AMBIENT_RAISE_ 2
#define PR_CAP_AMBIENT_CLEAR_ALL_ 4
#define CAP_VERSION_3 0x20080522

#define STATUS_FD 3
#define CONTROL_FD 4
#define FIRST_CLOSED_FD 4
#define FIRST_RESIDENT_CLOSED_FD 5
#define EXIT_SHIM_FAILED 127

#define PROTOCOL "solti-shim/2"
#define MAGIC_FATAL 0x534f4c54u
#define MAGIC_WARNING 0x534f4c57u
#define MAGIC_PID 0x534f4c50u
#define MAGIC_EXIT 0x534f4c58u
#define CMD_END 0x80
#define CMD_LEADER 0x80 /* 0x81..0xC0: CMD_LEADER + signal, to the target alone */
#define TIOCSCTTY_ 0x540E

#define SIGPIPE_ 13
#define SIGCHLD_ 17
#define CLONE_VM_ 0x00000100
#define CLONE_PIDFD_ 0x00001000
#define CLONE_PARENT_SETTID_ 0x00100000
#define CLONE_CHILD_CLEARTID_ 0x00200000
#define PR_SET_NAME_ 15
#define F_DUPFD_ 0
#define SIG_BLOCK_ 0
#define SIG_IGN_ 1
#define WNOHANG_ 1
#define WALL_ 0x40000000
#define POLLIN_ 1
#define O_NONBLOCK_ 04000
#define E_AGAIN 11
#define E_CHILD 10
#define AT_REMOVEDIR_ 0x200
#define PR_SET_CHILD_SUBREAPER_ 36

/* Isolation steps. */
#define PR_SET_KEEPCAPS_ 8
#define PR_SET_SECCOMP_ 22
#define SECCOMP_MODE_FILTER_ 2
#define F_DUPFD_CLOEXEC_ 1030
#define MS_REC_ 0x4000
#define MS_PRIVATE_ 0x40000
#define CLONE_NEWNS_ 0x00020000
#define CLONE_NEWCGROUP_ 0x02000000
#define CLONE_NEWUTS_ 0x04000000
#define CLONE_NEWIPC_ 0x08000000
#define CLONE_NEWNET_ 0x40000000
#define UNSHARE_ALLOWED \
	(CLONE_NEWNS_ | CLONE_NEWCGROUP_ | CLONE_NEWUTS_ | CLONE_NEWIPC_ | CLONE_NEWNET_)
#define FIRST_PASSED_FD 5
#define MAX_PASSED_FDS 16
#define MAX_GROUPS 256
#define MAX_FILTER 256

enum step {
	STEP_PLAN = 1,
	STEP_CGROUP,
	STEP_RLIMIT,
	STEP_CAPS,
	STEP_NNP,
	STEP_SIGNALS,
	STEP_FDS,
	STEP_CHDIR,
	STEP_EXEC,
	STEP_FORK,
	STEP_SUBREAPER,
	STEP_UMASK,
	STEP_SESSION,
	STEP_NAMESPACES,
	STEP_GROUPS,
	STEP_GID,
	STEP_UID,
	STEP_SECCOMP,
};

enum caps_detail { CAPS_BOUNDING = 1, CAPS_CAPSET, CAPS_AMBIENT, CAPS_KEEPCAPS };
enum namespaces_detail { NS_UNSHARE = 1, NS_MOUNT_PRIVATE };

#define MAX_RLIMITS 16
#define MAX_CGROUPS 16
#define MAX_RMDIRS 16
#define RLIM_NLIMITS_ 16
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define NAME_MAX_ 255
#define PATH_MAX_ 4096

/* ---- raw system calls ---------------------------------------------------- */

#if defined(__x86_64__)
#ifndef SOLTI_SHIM_IN_LIBRARY
__asm__(".text\n"
	".global _start\n"
	".type _start,@function\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call shim_main\n"
	"	hlt\n");
#endif

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
#ifndef SOLTI_SHIM_IN_LIBRARY
__asm__(".text\n"
	".global _start\n"
	".type _start,%function\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	mov x30, #0\n"
	"	mov x0, sp\n"
	"	and sp, x0, #-16\n"
	"	bl shim_main\n"
	"	brk #0\n");
#endif

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory", "cc");
	return x0;
}
#endif

#define sys0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) \
	sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* The compiler may emit calls to these for struct copies and zeroing. The empty
 * asm keeps it from turning the loops back into calls to themselves. In the
 * library they are local: nothing else there must call them. They are marked
 * used, since a local function the code never names is not emitted, and a
 * call the compiler adds itself (aarch64 does for the plan's assignment)
 * would then stay undefined. */
#ifdef SOLTI_SHIM_IN_LIBRARY
#define SHIM_LOCAL static __attribute__((used))
#else
#define SHIM_LOCAL
#endif
SHIM_LOCAL void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	for (size_t i = 0; i < n; i++) {
		d[i] = (unsigned char)c;
		__asm__ volatile("" ::: "memory");
	}
	return dst;
}

SHIM_LOCAL void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	for (size_t i = 0; i < n; i++) {
		d[i] = s[i];
		__asm__ volatile("" ::: "memory");
	}
	return dst;
}

static __attribute__((noreturn)) void exit_group(int code)
{
	for (;;)
		sys1(NR_exit_group, code);
}

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* Returns the rest of s after prefix, or NULL if s does not start with it. */
static const char *after_prefix(const char *s, const char *prefix)
{
	while (*prefix) {
		if (*s != *prefix)
			return NULL;
		s++;
		prefix++;
	}
	return s;
}

static int has_slash(const char *s)
{
	for (; *s; s++)
		if (*s == '/')
			return 1;
	return 0;
}

/* ---- the plan ------------------------------------------------------------ */

struct rlimit_entry {
	uint32_t resource;
	uint64_t soft, hard;
};

struct plan {
	const char *cwd;
	const char *argv0;
	struct rlimit_entry rlimits[MAX_RLIMITS];
	int n_rlimits;
	const char *cgroups[MAX_CGROUPS];
	int n_cgroups;
	const char *rmdirs[MAX_RMDIRS];
	int n_rmdirs;
	int nnp;
	int drop_caps;
	uint64_t keep_caps;
	int caps_fatal; /* -1 until given */
	int ctty; /* fd 0 becomes the controlling terminal of a new session */
	char **target; /* TARGET, TARGET-ARG..., NULL */

	/* Isolation (see "Order:" at the top). */
	int has_umask;
	uint32_t umask;
	int setsid;
	uint64_t unshare;
	int has_groups, n_groups;
	uint32_t groups[MAX_GROUPS];
	int has_gid, has_uid;
	uint32_t gid, uid;
	const char *seccomp; /* hex of the filter's instructions */
	int passed[MAX_PASSED_FDS]; /* target numbers of fds 5, 6, ... */
	int n_passed;

	/* Where status records go: fd 3, unless a passed descriptor takes 3 in
	 * the target, which then moves the status pipe above every number in
	 * play. Per plan, not global: in the library's address space several
	 * residents and targets run at once. */
	int status_fd;
};

/* ---- status records ------------------------------------------------------ */

struct status_record {
	uint32_t magic;
	uint32_t step;
	int32_t err;
	uint32_t detail;
};

static void report(const struct plan *p, uint32_t magic, enum step step, int err, uint32_t detail)
{
	struct status_record r;
	r.magic = magic;
	r.step = (uint32_t)step;
	r.err = err;
	r.detail = detail;
	while (sys3(NR_write, p->status_fd, &r, sizeof r) == -E_INTR)
		;
}

static __attribute__((noreturn)) void fail(const struct plan *p, enum step step, int err, uint32_t detail)
{
	report(p, MAGIC_FATAL, step, err, detail);
	exit_group(EXIT_SHIM_FAILED);
}

/* ---- step 1: parse the plan ---------------------------------------------- */

/* Parses a decimal uint64 ending at stop (or NUL); returns 0 on success. */
static int parse_dec(const char **sp, char stop, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*s != stop)
		return -1;
	*sp = s;
	*out = v;
	return 0;
}

static int parse_limit(const char **sp, char stop, uint64_t *out)
{
	const char *rest = after_prefix(*sp, "inf");
	if (rest && *rest == stop) {
		*out = UINT64_MAX;
		*sp = rest;
		return 0;
	}
	return parse_dec(sp, stop, out);
}

static int parse_rlimit(const char *s, struct rlimit_entry *e)
{
	uint64_t res;
	if (parse_dec(&s, ':', &res) || res >= RLIM_NLIMITS_)
		return -1;
	s++;
	if (parse_limit(&s, ':', &e->soft))
		return -1;
	s++;
	if (parse_limit(&s, '\0', &e->hard))
		return -1;
	e->resource = (uint32_t)res;
	return 0;
}

static int parse_hex(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;
	for (; *s; s++, n++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (n == 16)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	if (n == 0)
		return -1;
	*out = v;
	return 0;
}

/* Parses a uid or gid; (uint32)-1 means "unchanged" to the kernel, so it is
 * refused. */
static int parse_id(const char **sp, char stop, uint32_t *out)
{
	uint64_t v;
	if (parse_dec(sp, stop, &v) || v >= 0xffffffffu)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_umask(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int n = 0;
	for (; *s; s++, n++) {
		if (*s < '0' || *s > '7' || n == 4)
			return -1;
		v = v << 3 | (uint32_t)(*s - '0');
	}
	if (n == 0 || v > 0777)
		return -1;
	*out = v;
	return 0;
}

/* "G,G,..." or "" (no supplementary groups). */
static int parse_groups(const char *s, struct plan *p)
{
	p->n_groups = 0;
	if (!*s)
		return 0;
	for (;;) {
		const char *e = s;
		while (*e && *e != ',')
			e++;
		if (p->n_groups == MAX_GROUPS)
			return E_2BIG;
		if (parse_id(&s, *e, &p->groups[p->n_groups]))
			return E_INVAL;
		p->n_groups++;
		if (!*s)
			return 0;
		s++;
	}
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The filter is 8 bytes (16 hex digits) per instruction, at most MAX_FILTER. */
static int check_filter_hex(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (hex_digit(s[n]) < 0)
			return E_INVAL;
	if (n == 0 || n % 16)
		return E_INVAL;
	return n / 16 > MAX_FILTER ? E_2BIG : 0;
}

static int parse_passed_fd(const char *s, struct plan *p)
{
	uint64_t dst;
	if (p->n_passed == MAX_PASSED_FDS)
		return E_2BIG;
	if (parse_dec(&s, '\0', &dst) || dst < 3 || dst > 0x7fffffff)
		return E_INVAL;
	for (int i = 0; i < p->n_passed; i++)
		if (p->passed[i] == (int)dst)
			return E_INVAL;
	p->passed[p->n_passed++] = (int)dst;
	return 0;
}

/* Applies one isolation entry; returns an errno, or -1 if arg is not one. */
static int parse_isolation_entry(const char *arg, struct plan *p)
{
	const char *v;
	if ((v = after_prefix(arg, "umask="))) {
		if (p->has_umask || parse_umask(v, &p->umask))
			return E_INVAL;
		p->has_umask = 1;
	} else if ((v = after_prefix(arg, "setsid="))) {
		if (p->setsid || !str_eq(v, "1"))
			return E_INVAL;
		p->setsid = 1;
	} else if ((v = after_prefix(arg, "unshare="))) {
		if (p->unshare || parse_hex(v, &p->unshare) || !p->unshare ||
		    (p->unshare & ~(uint64_t)UNSHARE_ALLOWED))
			return E_INVAL;
	} else if ((v = after_prefix(arg, "groups="))) {
		if (p->has_groups)
			return E_INVAL;
		p->has_groups = 1;
		return parse_groups(v, p);
	} else if ((v = after_prefix(arg, "gid="))) {
		if (p->has_gid || parse_id(&v, '\0', &p->gid))
			return E_INVAL;
		p->has_gid = 1;
	} else if ((v = after_prefix(arg, "uid="))) {
		if (p->has_uid || parse_id(&v, '\0', &p->uid))
			return E_INVAL;
		p->has_uid = 1;
	} else if ((v = after_prefix(arg, "seccomp="))) {
		int err;
		if (p->seccomp)
			return E_INVAL;
		if ((err = check_filter_hex(v)))
			return err;
		p->seccomp = v;
	} else if ((v = after_prefix(arg, "fd="))) {
		return parse_passed_fd(v, p);
	} else {
		return -1;
	}
	return 0;
}

/* Applies one KEY=VALUE entry to the plan; returns an errno. */
static int parse_entry(const char *arg, struct plan *p)
{
	const char *v;
	if ((v = after_prefix(arg, "cwd="))) {
		if (p->cwd || !*v)
			return E_INVAL;
		p->cwd = v;
	} else if ((v = after_prefix(arg, "argv0="))) {
		if (p->argv0)
			return E_INVAL;
		p->argv0 = v;
	} else if ((v = after_prefix(arg, "rlimit="))) {
		if (p->n_rlimits == MAX_RLIMITS)
			return E_2BIG;
		if (parse_rlimit(v, &p->rlimits[p->n_rlimits]))
			return E_INVAL;
		p->n_rlimits++;
	} else if ((v = after_prefix(arg, "nnp="))) {
		if (p->nnp || !str_eq(v, "1"))
			return E_INVAL;
		p->nnp = 1;
	} else if ((v = after_prefix(arg, "caps=drop:"))) {
		if (p->drop_caps || parse_hex(v, &p->keep_caps))
			return E_INVAL;
		p->drop_caps = 1;
	} else if ((v = after_prefix(arg, "capsfatal="))) {
		if (p->caps_fatal != -1 || (!str_eq(v, "0") && !str_eq(v, "1")))
			return E_INVAL;
		p->caps_fatal = *v == '1';
	} else if ((v = after_prefix(arg, "cgroup-procs="))) {
		if (p->n_cgroups == MAX_CGROUPS)
			return E_2BIG;
		if (!*v)
			return E_INVAL;
		p->cgroups[p->n_cgroups++] = v;
	} else if ((v = after_prefix(arg, "ctty="))) {
		if (p->ctty || !str_eq(v, "1"))
			return E_INVAL;
		p->ctty = 1;
	} else if ((v = after_prefix(arg, "rmdir="))) {
		if (p->n_rmdirs == MAX_RMDIRS)
			return E_2BIG;
		if (*v != '/')
			return E_INVAL;
		p->rmdirs[p->n_rmdirs++] = v;
	} else {
		int err = parse_isolation_entry(arg, p);
		return err < 0 ? E_INVAL : err;
	}
	return 0;
}

static void parse_plan(int argc, char **argv, struct plan *p)
{
	int i;
	p->cwd = NULL;
	p->argv0 = NULL;
	p->n_rlimits = 0;
	p->n_cgroups = 0;
	p->n_rmdirs = 0;
	p->nnp = 0;
	p->drop_caps = 0;
	p->keep_caps = 0;
	p->caps_fatal = -1;
	p->ctty = 0;
	p->target = NULL;
	p->has_umask = p->setsid = p->has_groups = p->n_groups = 0;
	p->has_gid = p->has_uid = p->n_passed = 0;
	p->unshare = 0;
	p->seccomp = NULL;
	p->status_fd = STATUS_FD;

	if (argc < 2 || !str_eq(argv[1], PROTOCOL))
		fail(p, STEP_PLAN, E_INVAL, 1);
	for (i = 2; i < argc; i++) {
		int err;
		if (str_eq(argv[i], "--"))
			break;
		err = parse_entry(argv[i], p);
		if (err)
			fail(p, STEP_PLAN, err, (uint32_t)i);
	}
	if (i + 1 >= argc || !argv[i + 1][0])
		fail(p, STEP_PLAN, E_INVAL, (uint32_t)i);
	if (p->caps_fatal == -1)
		p->caps_fatal = 1;
	p->target = &argv[i + 1];
}

/* ---- step 2: join cgroup v1 hierarchies ---------------------------------- */

static int join_cgroup(const char *procs)
{
	long fd, n;
	fd = sys4(NR_openat, AT_FDCWD_, procs, O_WRONLY_ | O_CLOEXEC_, 0);
	if (fd < 0)
		return (int)-fd;
	while ((n = sys3(NR_write, fd, "0", 1)) == -E_INTR)
		;
	sys1(NR_close, fd);
	return n < 0 ? (int)-n : 0;
}

static void join_cgroups(const struct plan *p)
{
	for (int i = 0; i < p->n_cgroups; i++) {
		int err = join_cgroup(p->cgroups[i]);
		if (err)
			fail(p, STEP_CGROUP, err, (uint32_t)i);
	}
}

/* ---- step 3: resource limits ----------------------------------------------- */

static void apply_rlimits(const struct plan *p)
{
	for (int i = 0; i < p->n_rlimits; i++) {
		uint64_t lim[2] = {p->rlimits[i].soft, p->rlimits[i].hard};
		long r = sys4(NR_prlimit64, 0, p->rlimits[i].resource, lim, 0);
		if (r < 0)
			fail(p, STEP_RLIMIT, (int)-r, (uint32_t)i);
	}
}

/* ---- step 4: capabilities -------------------------------------------------- */

struct cap_header {
	uint32_t version;
	int32_t pid;
};

struct cap_data {
	uint32_t effective;
	uint32_t permitted;
	uint32_t inheritable;
};

/* The highest capability the kernel knows, or -1 if it cannot be read (then
 * the caller probes up to 63 until EINVAL). */
static int last_cap(void)
{
	char buf[16];
	long fd, n;
	int v = 0;
	fd = sys4(NR_openat, AT_FDCWD_, "/proc/sys/kernel/cap_last_cap", O_RDONLY_ | O_CLOEXEC_, 0);
	if (fd < 0)
		return -1;
	n = sys3(NR_read, fd, buf, sizeof buf);
	sys1(NR_close, fd);
	if (n <= 0)
		return -1;
	if (buf[0] < '0' || buf[0] > '9')
		return -1;
	for (long i = 0; i < n && i < 3 && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (buf[i] - '0');
	return v > 63 ? 63 : v;
}

/* Drops every capability not kept from the bounding set. This needs
 * CAP_SETPCAP, so it runs before capset takes it away. */
static int drop_bounding(uint64_t keep, int last)
{
	int limit = last < 0 ? 63 : last;
	for (int c = 0; c <= limit; c++) {
		long r;
		if (keep >> c & 1)
			continue;
		r = sys2(NR_prctl, PR_CAPBSET_DROP_, c);
		if (r == -E_INVAL && last < 0)
			break; /* beyond the kernel's last capability */
		if (r == -E_PERM && sys2(NR_prctl, PR_CAPBSET_READ_, c) == 0)
			continue; /* already gone */
		if (r < 0)
			return (int)-r;
	}
	return 0;
}

/* Keeps only the kept capabilities in the permitted, effective and inheritable
 * sets; returns the kept capabilities actually held. */
static int set_caps(uint64_t keep, uint64_t *held)
{
	struct cap_header h = {CAP_VERSION_3, 0};
	struct cap_data d[2];
	long r = sys2(NR_capget, &h, d);
	if (r < 0)
		return (int)-r;
	for (int i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));
		d[i].permitted &= k;
		d[i].effective = d[i].permitted;
		d[i].inheritable = d[i].permitted;
	}
	*held = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	h.version = CAP_VERSION_3;
	h.pid = 0;
	r = sys2(NR_capset, &h, d);
	return r < 0 ? (int)-r : 0;
}

/* Clears the ambient set, then raises the kept capabilities so that a
 * non-root target keeps them across exec. */
static int set_ambient(uint64_t held)
{
	long r = sys5(NR_prctl, PR_CAP_AMBIENT_, PR_CAP_AMBIENT_CLEAR_ALL_, 0, 0, 0);
	if (r == -E_INVAL && held == 0)
		return 0; /* no ambient set in this kernel, and nothing to raise */
	if (r < 0)
		return (int)-r;
	for (int c = 0; c < 64; c++) {
		if (!(held >> c & 1))
			continue;
		r = sys5(NR_prctl, PR_CAP_AMBIENT_, PR_CAP_AMBIENT_RAISE_, c, 0, 0);
		if (r < 0)
			return (int)-r;
	}
	return 0;
}

static void caps_failed(const struct plan *p, int err, enum caps_detail what)
{
	if (p->caps_fatal)
		fail(p, STEP_CAPS, err, what);
	report(p, MAGIC_WARNING, STEP_CAPS, err, what);
}

/* The bounding set goes first, while CAP_SETPCAP is still held; the other
 * sets after the uid change (drop_caps_sets). A kept capability survives a
 * change to a non-zero uid only with PR_SET_KEEPCAPS. */
static void drop_caps_bounding(const struct plan *p)
{
	int err;
	if (!p->drop_caps)
		return;
	err = drop_bounding(p->keep_caps, last_cap());
	if (err)
		caps_failed(p, err, CAPS_BOUNDING);
	if (p->has_uid && p->keep_caps) {
		long r = sys5(NR_prctl, PR_SET_KEEPCAPS_, 1, 0, 0, 0);
		if (r < 0)
			caps_failed(p, (int)-r, CAPS_KEEPCAPS);
	}
}

static void drop_caps_sets(const struct plan *p)
{
	uint64_t held = 0;
	int err;
	if (!p->drop_caps)
		return;
	err = set_caps(p->keep_caps, &held);
	if (err)
		caps_failed(p, err, CAPS_CAPSET);
	err = set_ambient(held);
	if (err)
		caps_failed(p, err, CAPS_AMBIENT);
}

/* ---- isolation: namespaces, groups, gid, uid (around the capability steps) - */

/* New mount, network, IPC, UTS and cgroup namespaces (CAP_SYS_ADMIN). The new
 * mount namespace is made private recursively, so the target's mounts never
 * propagate back to the host's. */
static void unshare_namespaces(const struct plan *p)
{
	long r;
	if (!p->unshare)
		return;
	r = sys1(NR_unshare, p->unshare);
	if (r < 0)
		fail(p, STEP_NAMESPACES, (int)-r, NS_UNSHARE);
	if (p->unshare & CLONE_NEWNS_) {
		r = sys5(NR_mount, 0, "/", 0, MS_REC_ | MS_PRIVATE_, 0);
		if (r < 0)
			fail(p, STEP_NAMESPACES, (int)-r, NS_MOUNT_PRIVATE);
	}
}

/* The exact supplementary groups, then real, effective and saved gid, then
 * uid (CAP_SETGID, CAP_SETUID): the uid goes last, as it takes them away. */
static void set_credentials(const struct plan *p)
{
	long r;
	if (p->has_groups) {
		r = sys2(NR_setgroups, p->n_groups, p->groups);
		if (r < 0)
			fail(p, STEP_GROUPS, (int)-r, 0);
	}
	if (p->has_gid) {
		r = sys3(NR_setresgid, p->gid, p->gid, p->gid);
		if (r < 0)
			fail(p, STEP_GID, (int)-r, 0);
	}
	if (p->has_uid) {
		r = sys3(NR_setresuid, p->uid, p->uid, p->uid);
		if (r < 0)
			fail(p, STEP_UID, (int)-r, 0);
	}
}

/* ---- step 5: no_new_privs -------------------------------------------------- */

static void set_no_new_privs(const struct plan *p)
{
	long r;
	if (!p->nnp)
		return;
	r = sys5(NR_prctl, PR_SET_NO_NEW_PRIVS_, 1, 0, 0, 0);
	if (r < 0)
		fail(p, STEP_NNP, (int)-r, 0);
}

/* ---- isolation: seccomp, umask ------------------------------------------------ */

struct sock_filter_ {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

struct sock_fprog_ {
	unsigned short len;
	struct sock_filter_ *filter;
};

/* Loads the library's filter, already checked by the plan parser: 16 hex
 * digits per instruction, its bytes in host order. It needs no_new_privs
 * (which the library sets with it) or CAP_SYS_ADMIN. */
static void load_seccomp(const struct plan *p)
{
	struct sock_filter_ prog[MAX_FILTER];
	struct sock_fprog_ fprog;
	unsigned char *b = (unsigned char *)prog;
	size_t n = 0;
	long r;
	if (!p->seccomp)
		return;
	for (const char *h = p->seccomp; h[0] && h[1]; h += 2)
		b[n++] = (unsigned char)(hex_digit(h[0]) << 4 | hex_digit(h[1]));
	fprog.len = (unsigned short)(n / sizeof prog[0]);
	fprog.filter = prog;
	r = sys5(NR_prctl, PR_SET_SECCOMP_, SECCOMP_MODE_FILTER_, &fprog, 0, 0);
	if (r < 0)
		fail(p, STEP_SECCOMP, (int)-r, 0);
}

static void set_umask(const struct plan *p)
{
	if (p->has_umask)
		sys1(NR_umask, p->umask); /* cannot fail */
}

/* ---- step 6: signals --------------------------------------------------------- */

/* Hosts such as Python ignore SIGPIPE and SIGXFSZ, and ignored dispositions
 * survive exec; the target must start with every disposition at SIG_DFL and
 * nothing blocked. The kernel's struct sigaction is all zero for SIG_DFL with
 * no flags on both architectures, whatever its exact layout. */
static void reset_signals(const struct plan *p)
{
	unsigned long act[4] = {0, 0, 0, 0};
	uint64_t empty = 0;
	long r;
	for (int sig = 1; sig <= NSIG_; sig++) {
		if (sig == SIGKILL_ || sig == SIGSTOP_)
			continue;
		r = sys4(NR_rt_sigaction, sig, act, 0, sizeof(uint64_t));
		if (r < 0 && r != -E_INVAL)
			fail(p, STEP_SIGNALS, (int)-r, (uint32_t)sig);
	}
	r = sys4(NR_rt_sigprocmask, SIG_SETMASK_, &empty, 0, sizeof empty);
	if (r < 0)
		fail(p, STEP_SIGNALS, (int)-r, 0);
}

/* ---- step 7: descriptors ----------------------------------------------------- */

struct dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int kept(long fd, const int *keep, int n_keep)
{
	for (int i = 0; i < n_keep; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

/* Fallback for kernels without close_range (before 5.9): close what
 * /proc/self/fd lists, but the n_keep in keep, rescanning until a pass
 * closes nothing. */
static int close_from_proc_above(long first, const int *keep, int n_keep)
{
	uint64_t buf[512];
	long dfd = sys4(NR_openat, AT_FDCWD_, "/proc/self/fd", O_RDONLY_ | O_CLOEXEC_, 0);
	if (dfd < 0) {
		/* No /proc either: close up to the descriptor limit. */
		uint64_t lim[2];
		if (sys4(NR_prlimit64, 0, 7 /* RLIMIT_NOFILE */, 0, lim) < 0)
			return E_NOSYS;
		if (lim[1] > (1u << 20))
			lim[1] = 1u << 20;
		for (uint64_t fd = (uint64_t)first; fd < lim[1]; fd++)
			if (!kept((long)fd, keep, n_keep))
				sys1(NR_close, fd);
		return 0;
	}
	for (;;) {
		int closed = 0;
		long n;
		while ((n = sys3(NR_getdents64, dfd, buf, sizeof buf)) > 0) {
			for (long off = 0; off < n;) {
				struct dirent64 *d = (struct dirent64 *)((char *)buf + off);
				long fd = 0;
				const char *s = d->name;
				off += d->reclen;
				if (*s < '0' || *s > '9')
					continue;
				for (; *s >= '0' && *s <= '9'; s++)
					fd = fd * 10 + (*s - '0');
				if (fd >= first && fd != dfd && !kept(fd, keep, n_keep)) {
					sys1(NR_close, fd);
					closed = 1;
				}
			}
		}
		if (n < 0) {
			sys1(NR_close, dfd);
			return (int)-n;
		}
		if (!closed)
			break;
		sys3(NR_lseek, dfd, 0, SEEK_SET_);
	}
	sys1(NR_close, dfd);
	return 0;
}

/* Passed descriptor i arrives as fd FIRST_PASSED_FD + i and goes to its
 * target number. Every source (and the status pipe, when a target number is
 * 3) first moves above every number in play, so no dup3 overwrites a source
 * not yet placed. Failures report detail i + 1. */
static void place_passed(struct plan *p)
{
	int tmp[MAX_PASSED_FDS];
	long high = FIRST_PASSED_FD + p->n_passed, r;
	for (int i = 0; i < p->n_passed; i++)
		if (p->passed[i] >= high)
			high = p->passed[i] + 1;
	for (int i = 0; i < p->n_passed; i++) {
		if (p->passed[i] == STATUS_FD) {
			r = sys3(NR_fcntl, STATUS_FD, F_DUPFD_CLOEXEC_, high);
			if (r < 0)
				fail(p, STEP_FDS, (int)-r, (uint32_t)i + 1);
			p->status_fd = (int)r;
		}
		r = sys3(NR_fcntl, FIRST_PASSED_FD + i, F_DUPFD_CLOEXEC_, high);
		if (r < 0)
			fail(p, STEP_FDS, (int)-r, (uint32_t)i + 1);
		tmp[i] = (int)r;
	}
	for (int i = 0; i < p->n_passed; i++) {
		r = sys3(NR_dup3, tmp[i], p->passed[i], 0);
		if (r < 0)
			fail(p, STEP_FDS, (int)-r, (uint32_t)i + 1);
	}
}

/* The target must inherit only 0, 1, 2 and the passed descriptors; the
 * status pipe closes at exec so the parent reads EOF exactly when the exec
 * succeeded. */
static void close_descriptors(struct plan *p)
{
	int keep[MAX_PASSED_FDS + 1], n_keep = 0;
	long r, lo = FIRST_CLOSED_FD;
	place_passed(p);
	r = sys3(NR_fcntl, p->status_fd, F_SETFD_, FD_CLOEXEC_);
	if (r < 0)
		fail(p, STEP_FDS, (int)-r, 0);
	/* What stays, in increasing order; the ranges between are closed. */
	for (int i = 0; i <= p->n_passed; i++) {
		int fd = i < p->n_passed ? p->passed[i] : p->status_fd, j = n_keep++;
		for (; j > 0 && keep[j - 1] > fd; j--)
			keep[j] = keep[j - 1];
		keep[j] = fd;
	}
	for (int i = 0; i <= n_keep; i++) {
		long hi = i < n_keep ? keep[i] - 1 : (long)~0u;
		if (hi >= lo) {
			r = sys3(NR_close_range, lo, hi, 0);
			if (r == -E_NOSYS) {
				r = -close_from_proc_above(FIRST_CLOSED_FD, keep, n_keep);
				break;
			}
			if (r < 0)
				break;
		}
		if (i < n_keep && keep[i] >= lo)
			lo = keep[i] + 1;
	}
	if (r < 0)
		fail(p, STEP_FDS, (int)-r, 0);
}

/* ---- step 8: working directory ---------------------------------------------- */

static void change_dir(const struct plan *p)
{
	long r;
	if (!p->cwd)
		return;
	r = sys1(NR_chdir, p->cwd);
	if (r < 0)
		fail(p, STEP_CHDIR, (int)-r, 0);
}

/* ---- step 9: exec --------------------------------------------------------------- */

static const char *env_lookup(char **envp, const char *name)
{
	for (; *envp; envp++) {
		const char *v = after_prefix(*envp, name);
		if (v && *v == '=')
			return v + 1;
	}
	return NULL;
}

/* Searches PATH like execvpe; returns the errno to report. */
static int exec_search(const char *file, char **argv, char **envp)
{
	char buf[PATH_MAX_];
	const char *path = env_lookup(envp, "PATH");
	size_t flen = str_len(file);
	int saw_eacces = 0;

	if (!path)
		path = DEFAULT_PATH;
	if (flen > NAME_MAX_)
		return E_NAMETOOLONG;
	for (const char *p = path;;) {
		const char *end = p;
		size_t dlen, i = 0;
		long r;
		while (*end && *end != ':')
			end++;
		dlen = (size_t)(end - p);
		if (dlen + 1 + flen + 1 <= sizeof buf) {
			/* An empty element means the current directory. */
			for (; i < dlen; i++)
				buf[i] = p[i];
			if (dlen)
				buf[i++] = '/';
			for (size_t j = 0; j <= flen; j++)
				buf[i + j] = file[j];
			r = sys3(NR_execve, buf, argv, envp);
			switch ((int)-r) {
			case E_ACCES:
				saw_eacces = 1;
				break;
			case E_NOENT:
			case E_NOTDIR:
			case E_STALE:
			case E_NODEV:
			case E_TIMEDOUT:
			case E_NAMETOOLONG:
				break;
			default:
				return (int)-r; /* found but not runnable: say why */
			}
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return saw_eacces ? E_ACCES : E_NOENT;
}

static __attribute__((noreturn)) void exec_target(const struct plan *p, char **envp)
{
	char **argv = p->target;
	const char *file = argv[0];
	int err;
	if (p->argv0)
		argv[0] = (char *)p->argv0;
	if (has_slash(file))
		err = (int)-sys3(NR_execve, file, argv, envp);
	else
		err = exec_search(file, argv, envp);
	fail(p, STEP_EXEC, err, 0);
}

/* ---- the resident: subreaper of the target's tree ------------------------- */

/* The shim stays the target's parent for the whole attempt. As a child
 * subreaper it also becomes the parent of every orphaned descendant, setsid
 * or double-forked ones included, so it can reap them, report the target's
 * exact status, and kill the whole tree: on the library's command, and when
 * the library's end of the control socket closes because the host died. */

struct exit_record {
	uint32_t magic;
	uint32_t code; /* 1 exited, 2 killed, 3 killed and dumped core */
	int32_t status; /* exit code or signal */
	uint32_t flags; /* 1: no other descendant was left */
	int64_t user_us, system_us, maxrss_kb, reserved;
};

struct kernel_rusage {
	long utime_sec, utime_usec, stime_sec, stime_usec, maxrss;
	long rest[13];
};

struct pollfd_ {
	int fd;
	short events, revents;
};

struct timespec_ {
	long sec, nsec;
};

/* What the resident knows of its target. On its own stack, not global: in
 * the library's address space several residents run at once. */
struct tree {
	int target_pid;
	int target_reaped;
};

/* Sends sig to every direct child but those in process group skip (0: none),
 * which were signalled through the group already: a second signal while
 * the first one's handler runs would interrupt the target's next system
 * call (a write to a terminal then fails with EINTR). A pid listed here is
 * a child not yet reaped, so it cannot have been reused. Killing them hands
 * their own children to us, and the next round reaches those. */
static void signal_children(int sig, int skip)
{
	char buf[512];
	long fd = sys4(NR_openat, AT_FDCWD_, "/proc/thread-self/children", O_RDONLY_ | O_CLOEXEC_, 0);
	long v = 0, n;
	int in = 0;
	if (fd < 0)
		return;
	while ((n = sys3(NR_read, fd, buf, sizeof buf)) > 0 || n == -E_INTR) {
		for (long i = 0; i < n; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				v = v * 10 + (buf[i] - '0');
				in = 1;
			} else if (in) {
				if (skip == 0 || sys1(NR_getpgid, v) != skip)
					sys2(NR_kill, v, sig);
				v = 0;
				in = 0;
			}
		}
	}
	if (in && (skip == 0 || sys1(NR_getpgid, v) != skip))
		sys2(NR_kill, v, sig);
	sys1(NR_close, fd);
}

static void signal_tree(const struct tree *t, int sig)
{
	/* The target leads its group; while it is unreaped the group id is ours. */
	if (!t->target_reaped) {
		sys2(NR_kill, -t->target_pid, sig);
		signal_children(sig, t->target_pid);
		return;
	}
	signal_children(sig, 0);
}

/* Reaps every child that has exited; returns 1 when none is left. */
static int reap_all(struct tree *t, struct exit_record *rec)
{
	for (;;) {
		int st = 0;
		struct kernel_rusage ru;
		long r = sys4(NR_wait4, -1, &st, WNOHANG_ | WALL_, &ru);
		if (r == -E_INTR)
			continue;
		if (r == -E_CHILD)
			return 1;
		if (r <= 0)
			return 0;
		if (r != t->target_pid)
			continue;
		t->target_reaped = 1;
		rec->magic = MAGIC_EXIT;
		if ((st & 0x7f) == 0) {
			rec->code = 1;
			rec->status = (st >> 8) & 0xff;
		} else {
			rec->code = (st & 0x80) ? 3 : 2;
			rec->status = st & 0x7f;
		}
		rec->user_us = (int64_t)ru.utime_sec * 1000000 + ru.utime_usec;
		rec->system_us = (int64_t)ru.stime_sec * 1000000 + ru.stime_usec;
		rec->maxrss_kb = ru.maxrss;
	}
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *b = buf;
	while (len > 0) {
		long n = sys3(NR_write, fd, b, len);
		if (n == -E_INTR)
			continue;
		if (n <= 0)
			return; /* the library is gone: nobody to tell */
		b += n;
		len -= (size_t)n;
	}
}

static __attribute__((noreturn)) void resident(const struct plan *p, int target_pid)
{
	struct tree t = {target_pid, 0};
	struct exit_record rec;
	unsigned long ign[4] = {SIG_IGN_, 0, 0, 0};
	uint64_t chld = 1ull << (SIGCHLD_ - 1);
	struct timespec_ tick = {0, 10 * 1000 * 1000};
	int reported = 0, ending = 0, host_gone = 0;
	long sfd;

	memset(&rec, 0, sizeof rec);
	/* The target's descriptors are the target's: its pipes must reach EOF
	 * when its tree closes them, not when the shim exits. */
	for (int fd = 0; fd <= STATUS_FD; fd++)
		sys1(NR_close, fd);
	for (int i = 0; i < p->n_passed; i++)
		sys1(NR_close, FIRST_PASSED_FD + i);
	/* A write to a library that died must not kill us before the tree. */
	sys4(NR_rt_sigaction, SIGPIPE_, ign, 0, sizeof(uint64_t));
	sys4(NR_rt_sigprocmask, SIG_BLOCK_, &chld, 0, sizeof chld);
	sfd = sys4(NR_signalfd4, -1, &chld, sizeof chld, O_CLOEXEC_ | O_NONBLOCK_);

	for (;;) {
		struct pollfd_ fds[2];
		int nfds = 0, empty = reap_all(&t, &rec);
		if (t.target_reaped && !reported) {
			rec.flags = (uint32_t)empty;
			write_all(CONTROL_FD, &rec, sizeof rec);
			reported = 1;
		}
		if (empty && (ending || reported)) {
			if (host_gone)
				for (int i = 0; i < p->n_rmdirs; i++)
					sys3(NR_unlinkat, AT_FDCWD_, p->rmdirs[i], AT_REMOVEDIR_);
			exit_group(0);
		}
		if (ending)
			signal_tree(&t, SIGKILL_);
		else
			fds[nfds++] = (struct pollfd_){CONTROL_FD, POLLIN_, 0};
		if (sfd >= 0)
			fds[nfds++] = (struct pollfd_){(int)sfd, POLLIN_, 0};
		/* Without a signalfd, or while killing (orphans may be handed to
		 * us between rounds), look again every 10 ms. */
		sys5(NR_ppoll, fds, nfds, (ending || sfd < 0) ? &tick : NULL, 0, 0);
		if (sfd >= 0) {
			uint64_t junk[16];
			while (sys3(NR_read, sfd, junk, sizeof junk) > 0)
				;
		}
		if (!ending && fds[0].revents) {
			unsigned char cmd[16];
			long n = sys3(NR_read, CONTROL_FD, cmd, sizeof cmd);
			if (n == 0 || (n < 0 && n != -E_INTR && n != -E_AGAIN)) {
				ending = host_gone = 1; /* the host died or dropped the task */
				continue;
			}
			for (long i = 0; i < n; i++) {
				if (cmd[i] == CMD_END)
					ending = 1;
				else if (cmd[i] >= 1 && cmd[i] <= NSIG_)
					signal_tree(&t, cmd[i]);
				else if (cmd[i] > CMD_LEADER && cmd[i] <= CMD_LEADER + NSIG_ && !t.target_reaped)
					sys2(NR_kill, t.target_pid, cmd[i] - CMD_LEADER);
			}
		}
	}
}

/* ---- the target's terminal (ctty=1) ------------------------------------- */

/* A pty's slave on fd 0 becomes the controlling terminal of a new session the
 * target leads (its process group too, as without a terminal), so the
 * terminal's signals (SIGWINCH on a resize, ^C) reach the target's group. */
static void take_terminal(const struct plan *p)
{
	long r = sys0(NR_setsid);
	if (r < 0)
		fail(p, STEP_FORK, (int)-r, 2);
	r = sys3(NR_ioctl, 0, TIOCSCTTY_, 0);
	if (r < 0)
		fail(p, STEP_FORK, (int)-r, 3);
}

/* ---- the target: apply the plan, exec ------------------------------------ */

struct target_args {
	struct plan *plan;
	char **envp;
};

/* The target leads its own process group (and with setsid=1 its own
 * session, whose group has the same id), then applies the plan and execs. */
static __attribute__((noreturn)) void target_main(void *arg)
{
	struct target_args *a = arg;
	struct plan *p = a->plan;

	if (p->ctty) {
		take_terminal(p);
	} else if (p->setsid) {
		long r = sys0(NR_setsid);
		if (r < 0)
			fail(p, STEP_SESSION, (int)-r, 0);
	} else if (sys2(NR_setpgid, 0, 0) < 0) {
		fail(p, STEP_FORK, E_PERM, 1);
	}
	sys1(NR_close, CONTROL_FD);
	join_cgroups(p);
	apply_rlimits(p);
	unshare_namespaces(p);
	drop_caps_bounding(p);
	set_credentials(p);
	drop_caps_sets(p);
	set_no_new_privs(p);
	load_seccomp(p);
	set_umask(p);
	close_descriptors(p);
	change_dir(p);
	exec_target(p, a->envp);
}

/* start_child clones with flags (ptid: clone's parent_tid, where
 * CLONE_PIDFD puts the pidfd; ctid: its child_tid, which
 * CLONE_CHILD_CLEARTID has the kernel zero when the child execs or exits);
 * the child runs fn(arg) on stack_top and never returns. It returns the
 * child's pid, or -errno, in the parent. */
__attribute__((visibility("hidden"))) long start_child(unsigned long flags, void *stack_top,
							void (*fn)(void *), void *arg, int *ptid,
							volatile int *ctid);
#if defined(__x86_64__)
__asm__(".text\n"
	".globl start_child\n"
	".hidden start_child\n"
	".type start_child,@function\n"
	"start_child:\n" /* rdi flags, rsi stack_top, rdx fn, rcx arg, r8 ptid, r9 ctid */
	"	and $-16, %rsi\n"
	"	sub $16, %rsi\n"
	"	mov %rdx, 8(%rsi)\n"
	"	mov %rcx, (%rsi)\n"
	"	mov $56, %eax\n" /* clone(flags, newsp, ptid, ctid, 0) */
	"	mov %r8, %rdx\n"
	"	mov %r9, %r10\n"
	"	xor %r8d, %r8d\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	xor %ebp, %ebp\n" /* the child, on the new stack */
	"	pop %rdi\n"
	"	pop %rax\n"
	"	call *%rax\n"
	"	hlt\n"
	"1:	ret\n"
	".size start_child, .-start_child\n");
#elif defined(__aarch64__)
__asm__(".text\n"
	".globl start_child\n"
	".hidden start_child\n"
	".type start_child,%function\n"
	"start_child:\n" /* x0 flags, x1 stack_top, x2 fn, x3 arg, x4 ptid, x5 ctid */
	"	and x1, x1, #-16\n"
	"	stp x2, x3, [x1, #-16]!\n"
	"	mov x2, x4\n" /* clone(flags, newsp, ptid, tls 0, ctid) */
	"	mov x3, #0\n"
	"	mov x4, x5\n"
	"	mov x8, #220\n"
	"	svc 0\n"
	"	cbnz x0, 1f\n"
	"	ldp x9, x0, [sp], #16\n" /* the child, on the new stack */
	"	mov x29, #0\n"
	"	mov x30, #0\n"
	"	blr x9\n"
	"	brk #0\n"
	"1:	ret\n"
	".size start_child, .-start_child\n");
#endif

/* The target's stack until its exec: part of run_shim's frame, which stays
 * live while the resident runs in the frames under it (resident() never
 * returns). */
#define TARGET_STACK_SIZE (64 * 1024)

/* ---- entry ------------------------------------------------------------------------- */

/* What the kernel itself writes, in the launcher's memory, of a target
 * started in the library (no exec of the shim, so that memory is the
 * host's):
 * - stage: whether the target may still run on the stack in the resident's
 *   frame, for a library that must not reuse the memory of a resident killed
 *   before its target exec'd. The resident sets TARGET_ON_STACK before the
 *   clone; the kernel writes TARGET_OFF_STACK (0) there when the target
 *   execs or exits (CLONE_CHILD_CLEARTID), whatever happened to the
 *   resident meanwhile.
 * - pid: the target's pid, stored by the clone before the target runs
 *   (CLONE_PARENT_SETTID). The library reads it once the status pipe is at
 *   EOF, and the resident writes no pid record: that write would wake the
 *   library once more, while the target is still on its way to its exec. */
enum { TARGET_OFF_STACK = 0, TARGET_ON_STACK = 1 };

struct target_watch {
	volatile int stage;
	volatile int pid;
};

/* run_shim runs the shim from its initial stack layout: argc, argv...,
 * NULL, envp..., NULL, with fds 0 to 4 and the passed ones in place. w is
 * NULL in an exec'd shim, which reports the target's pid on the status pipe
 * instead. */
static __attribute__((noreturn)) void run_shim(long *sp, struct target_watch *w)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	struct plan plan, target_plan;
	struct target_args ta = {&target_plan, envp};
	char target_stack[TARGET_STACK_SIZE] __attribute__((aligned(16)));
	unsigned long flags = CLONE_VM_ | SIGCHLD_;
	long pid;

	parse_plan(argc, argv, &plan);
	/* Both the resident and the target start with default dispositions (an
	 * ignored SIGCHLD would lose the target's status) and an empty mask. */
	reset_signals(&plan);
	if (sys3(NR_close_range, FIRST_RESIDENT_CLOSED_FD + plan.n_passed, ~0u, 0) == -E_NOSYS)
		close_from_proc_above(FIRST_RESIDENT_CLOSED_FD + plan.n_passed, NULL, 0);
	if (sys5(NR_prctl, PR_SET_CHILD_SUBREAPER_, 1, 0, 0, 0) < 0)
		fail(&plan, STEP_SUBREAPER, E_INVAL, 0);
	/* The target shares the resident's memory until its exec, so starting
	 * it copies no page tables, however big the memory is: the library's
	 * own, when the resident runs in the host's address space. It runs
	 * beside the resident rather than vfork-style, with the resident
	 * stopped until its exec: a resident woken by the exec waits on the
	 * same CPU behind the target the scheduler just moved there, often
	 * until the target has exited, and the library waited with it. The
	 * target works on a copy of the plan (it moves its status descriptor);
	 * the resident writes only its own frames, below this one. A target
	 * that changes its credentials gets a private copy of the memory
	 * instead: the kernel marks the memory of a process whose uid or gid
	 * changes undumpable, and that must not be the host's. */
	target_plan = plan;
	if (plan.has_uid || plan.has_gid || plan.has_groups)
		flags = SIGCHLD_;
	if (w) {
		flags |= CLONE_PARENT_SETTID_;
		if (flags & CLONE_VM_)
			flags |= CLONE_CHILD_CLEARTID_;
		w->pid = 0;
		w->stage = TARGET_ON_STACK;
	}
	pid = start_child(flags, target_stack + sizeof target_stack, target_main, &ta,
			  w ? (int *)&w->pid : 0, (flags & CLONE_CHILD_CLEARTID_) ? &w->stage : 0);
	if (w && (pid < 0 || !(flags & CLONE_VM_)))
		w->stage = TARGET_OFF_STACK; /* no target, or one on its own copy */
	if (pid < 0)
		fail(&plan, STEP_FORK, (int)-pid, 0);
	/* An exec'd shim's pid record, at once: the target's own records
	 * (warnings, or the step that failed) come before or after it. The
	 * status pipe reaches EOF once both the resident (below) and the
	 * target's exec have closed it. */
	if (!w)
		report(&plan, MAGIC_PID, 0, 0, (uint32_t)pid);
	resident(&plan, (int)pid);
}

#ifndef SOLTI_SHIM_IN_LIBRARY
__attribute__((used, noreturn)) void shim_main(long *sp)
{
	run_shim(sp, 0);
}
#else

/* ---- in the library: the shim started without an exec -------------------- */

/*
 * Built into libsolti_exec.so (with SOLTI_SHIM_IN_LIBRARY), the shim is not
 * exec'd: solti_shim_start clones the host's calling thread with CLONE_VM,
 * and the new process runs run_shim on a stack of its own. That saves the
 * exec of the shim and its page faults on every spawn; the target shares
 * the memory until its exec, so nothing is copied for it either.
 *
 * What the resident may touch of the host's address space: only its region
 * (its stack, the launch record, the plan's strings), which the library
 * reuses or unmaps only once the resident has exited, and the library's
 * read-only code and data. It uses no C library (no errno, no
 * thread pointer) and has no mutable globals. It starts with every signal
 * blocked, so no handler of the host can run in it, and run_shim resets
 * every disposition before unblocking. Its descriptor table is a copy of the
 * host's: it moves the ones it was given to 0, 1, 2, ... and closes the
 * rest before anything else.
 */

#define LAUNCH_MAX_FDS (FIRST_PASSED_FD + MAX_PASSED_FDS)
#define RESIDENT_STACK_SIZE (256 * 1024)
#define PAGE_ 4096ul
#define PROT_NONE_ 0
#define PROT_RW_ 3
#define MAP_PRIVATE_ANONYMOUS_ 0x22

struct launch {
	int n_fds;
	int fds[LAUNCH_MAX_FDS]; /* the host's descriptors that become 0, 1, 2, ... */
	long *sp; /* argc, argv..., NULL, envp..., NULL */
	struct target_watch target; /* written by the resident and the kernel */
};

static __attribute__((noreturn)) void resident_entry(void *arg)
{
	struct launch *l = arg;
	struct plan early; /* only for reporting, before the plan is parsed */
	int n = l->n_fds;
	long r;

	early.status_fd = l->fds[STATUS_FD];
	sys5(NR_prctl, PR_SET_NAME_, "solti-exec-shim", 0, 0, 0);
	/* Its own process group, away from the host's terminal signals, as an
	 * exec'd shim gets from the library's fork. */
	if (sys2(NR_setpgid, 0, 0) < 0)
		fail(&early, STEP_FORK, E_PERM, 1);
	/* Move every given descriptor that sits below n out of the way, then
	 * each onto its number (dup3 clears close-on-exec). */
	for (int i = 0; i < n; i++) {
		if (l->fds[i] >= n)
			continue;
		r = sys3(NR_fcntl, l->fds[i], F_DUPFD_, n);
		if (r < 0)
			fail(&early, STEP_FDS, (int)-r, 0);
		l->fds[i] = (int)r;
	}
	early.status_fd = l->fds[STATUS_FD];
	for (int i = 0; i < n; i++) {
		r = sys3(NR_dup3, l->fds[i], i, 0);
		if (r < 0)
			fail(&early, STEP_FDS, (int)-r, 0);
	}
	run_shim(l->sp, &l->target); /* closes everything above the given descriptors */
}

static char *copy_string(char *dst, const char *src)
{
	while ((*dst++ = *src++))
		;
	return dst;
}

/*
 * A resident's region is [data][guard page][stack]: the launch record, the
 * argv and envp layout and their strings, then its stack. The library keeps
 * regions of the usual data size for reuse, so most spawns map nothing and
 * touch no fresh page.
 */

/* solti_shim_data_size is the data part a region needs for argc arguments
 * and envc environment strings of string_bytes bytes in all, NULs counted. */
__attribute__((visibility("hidden"))) unsigned long solti_shim_data_size(long argc, long envc,
									 unsigned long string_bytes)
{
	size_t data = sizeof(struct launch) + (size_t)(argc + envc + 3) * sizeof(long) + string_bytes;
	return (data + PAGE_ - 1) & ~(PAGE_ - 1);
}

/* solti_shim_map maps a region with data bytes of data (a multiple of the
 * page size) and sets *size to its whole size; NULL if it cannot. */
__attribute__((visibility("hidden"))) void *solti_shim_map(unsigned long data, unsigned long *size)
{
	unsigned long total = data + PAGE_ + RESIDENT_STACK_SIZE;
	long mem = sys6(NR_mmap, 0, (long)total, PROT_RW_, MAP_PRIVATE_ANONYMOUS_, -1, 0);
	if ((unsigned long)mem > -4096ul)
		return NULL;
	if (sys3(NR_mprotect, mem + (long)data, PAGE_, PROT_NONE_) < 0) {
		sys2(NR_munmap, mem, total);
		return NULL;
	}
	*size = total;
	return (void *)mem;
}

/* solti_shim_reusable says whether the region of a resident that has
 * exited may be reused or unmapped: not if it was killed while its target,
 * started on a stack in the region, had not exec'd or exited yet (the
 * target may still be running there; the region is then left as it is). */
__attribute__((visibility("hidden"))) int solti_shim_reusable(void *region)
{
	return ((struct launch *)region)->target.stage == TARGET_OFF_STACK;
}

/* solti_shim_target_pid is the pid of the target the resident in region
 * started, 0 before its clone. The clone stores it before the target runs,
 * so it is there once the status pipe has reached EOF. */
__attribute__((visibility("hidden"))) int solti_shim_target_pid(void *region)
{
	return ((struct launch *)region)->target.pid;
}

/* solti_shim_release unmaps a region no resident uses any more. */
__attribute__((visibility("hidden"))) void solti_shim_release(void *region, unsigned long size)
{
	sys2(NR_munmap, region, size);
}

/*
 * solti_shim_start starts the shim as a child of the calling thread that
 * shares the host's memory, with argv and envp as an exec'd shim would get
 * them (argc and envc strings) and fds[i] as its descriptor i (n_fds of
 * them: 5 and the passed ones). region is one from solti_shim_map, of size
 * bytes, whose data part holds solti_shim_data_size's bytes for them. It returns the shim's pid,
 * with its pidfd in *pidfd, or -errno. The shim owns the region until it has
 * exited (its pidfd polls readable), and the caller must not reuse or unmap
 * it before. Every signal is blocked in the calling thread for the length of
 * the clone.
 */
__attribute__((visibility("hidden"))) long solti_shim_start(char *const *argv, long argc, char *const *envp,
							     long envc, const int *fds, int n_fds, int *pidfd,
							     void *region, unsigned long size)
{
	long r;
	struct launch *l = region;
	long *sp = (long *)(l + 1);
	char *str;
	uint64_t all = ~0ull, old = 0;

	if (n_fds < FIRST_PASSED_FD || n_fds > LAUNCH_MAX_FDS)
		return -E_INVAL;
	l->n_fds = n_fds;
	l->target.stage = TARGET_OFF_STACK;
	l->target.pid = 0;
	for (int i = 0; i < n_fds; i++)
		l->fds[i] = fds[i];
	str = (char *)(sp + argc + envc + 3);
	l->sp = sp;
	*sp++ = argc;
	for (long i = 0; i < argc; i++) {
		*sp++ = (long)str;
		str = copy_string(str, argv[i]);
	}
	*sp++ = 0;
	for (long i = 0; i < envc; i++) {
		*sp++ = (long)str;
		str = copy_string(str, envp[i]);
	}
	*sp = 0;

	*pidfd = -1;
	sys4(NR_rt_sigprocmask, SIG_SETMASK_, &all, &old, sizeof all);
	r = start_child(CLONE_VM_ | CLONE_PIDFD_ | SIGCHLD_, (char *)region + size, resident_entry, l, pidfd, 0);
	sys4(NR_rt_sigprocmask, SIG_SETMASK_, &old, 0, sizeof old);
	return r;
}
#endif
