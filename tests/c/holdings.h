/*
 * holdings.h: what this process holds, for the leak checks of the stress,
 * concurrency and hostile-host tests: open descriptors, threads, children
 * (zombies included), the library's script directories (solti-exec-* under
 * TMPDIR), cgroup directories named after a runner in every mounted
 * hierarchy, and the library's own counts (solti_debug_stats).
 *
 * Include after test.h.
 */
#ifndef SOLTI_TEST_HOLDINGS_H
#define SOLTI_TEST_HOLDINGS_H

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

/* Open descriptors of this process (the directory's own one not counted). */
static inline int hold_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) FAIL("opendir /proc/self/fd: %s", strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;
}

/* Prints every open descriptor and what it points at, to explain a leak. */
static inline void hold_dump_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[300], target[PATH_MAX];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        fprintf(stderr, "  fd %s -> %s\n", e->d_name, target);
    }
    closedir(d);
}

/* A "Name:" field of /proc/self/status as a number, or -1. */
static inline long hold_status_field(const char *name) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    char line[256];
    size_t len = strlen(name);
    long v = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, name, len) == 0 && line[len] == ':') {
            v = strtol(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static inline int hold_threads(void) { return (int)hold_status_field("Threads"); }

/* Children of this process; *zombies (if not NULL) gets how many are zombies. */
static inline int hold_children(int *zombies) {
    DIR *d = opendir("/proc");
    if (d == NULL) FAIL("opendir /proc: %s", strerror(errno));
    pid_t self = getpid();
    int n = 0, z = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = '\0';
        const char *paren = strrchr(buf, ')');
        char state;
        int ppid;
        if (paren == NULL || sscanf(paren + 1, " %c %d", &state, &ppid) != 2) continue;
        if (ppid != self) continue;
        n++;
        if (state == 'Z') z++;
    }
    closedir(d);
    if (zombies != NULL) *zombies = z;
    return n;
}

/* The directory the library puts script files under: TMPDIR, else /tmp. */
static inline const char *hold_tmpdir(void) {
    const char *t = getenv("TMPDIR");
    return t != NULL && *t != '\0' ? t : "/tmp";
}

/* solti-exec-* entries under the library's temporary directory. */
static inline int hold_script_dirs(void) {
    DIR *d = opendir(hold_tmpdir());
    if (d == NULL) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "solti-exec-", 11) == 0) n++;
    closedir(d);
    return n;
}

/*
 * Points TMPDIR at a new private directory (the library reads TMPDIR from the
 * host environment when it writes a script file), so that script directories
 * of tests running beside this one do not count.  dir must hold 64 bytes.
 */
static inline void hold_private_tmpdir(char *dir, const char *name) {
    snprintf(dir, 64, "/tmp/solti-%s-XXXXXX", name);
    if (mkdtemp(dir) == NULL) FAIL("mkdtemp %s: %s", dir, strerror(errno));
    if (setenv("TMPDIR", dir, 1) != 0) FAIL("setenv TMPDIR: %s", strerror(errno));
}

/* Removes the private TMPDIR, which must be empty by now. */
static inline void hold_private_tmpdir_done(const char *dir) {
    if (rmdir(dir) != 0) FAIL("rmdir %s: %s (a script directory was left)", dir, strerror(errno));
}

/* Counts directories whose name starts with prefix under dir, depth-first,
   at most depth levels down. */
static inline int hold_walk_cgroups(const char *dir, const char *prefix, int depth) {
    if (depth < 0) return 0;
    DIR *d = opendir(dir);
    if (d == NULL) return 0;
    int n = 0;
    size_t plen = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
        if (strncmp(e->d_name, prefix, plen) == 0) n++;
        char sub[PATH_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= sizeof sub) continue;
        n += hold_walk_cgroups(sub, prefix, depth - 1);
    }
    closedir(d);
    return n;
}

/*
 * Cgroup directories named "<runner>-..." (the library names a task's cgroup
 * "{runner}-{slot}-{seq:x}-{secs:x}") in every cgroup v1 or v2 hierarchy
 * mounted, found from /proc/self/mountinfo like the library does.
 */
static inline int hold_cgroup_dirs(const char *runner) {
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (f == NULL) return 0;
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s-", runner);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        /* id parent major:minor root mountpoint options... - fstype source superopts */
        char mnt[PATH_MAX];
        const char *sep = strstr(line, " - ");
        if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1) continue;
        if (strncmp(sep + 3, "cgroup2 ", 8) != 0 && strncmp(sep + 3, "cgroup ", 7) != 0) continue;
        n += hold_walk_cgroups(mnt, prefix, 8);
    }
    fclose(f);
    return n;
}

/* Everything at once. */
typedef struct holdings {
    int fds, threads, children, zombies, script_dirs, cgroup_dirs;
    solti_debug_stats_t lib;
} holdings_t;

static inline holdings_t hold_take(const char *runner) {
    holdings_t h;
    memset(&h, 0, sizeof h);
    h.fds = hold_fds();
    h.threads = hold_threads();
    h.children = hold_children(&h.zombies);
    h.script_dirs = hold_script_dirs();
    h.cgroup_dirs = runner != NULL ? hold_cgroup_dirs(runner) : 0;
    CHECK_OK(solti_debug_stats(&h.lib));
    return h;
}

static inline void hold_print(const char *what, const holdings_t *h) {
    printf("%s: fds %d, threads %d, children %d (zombies %d), script dirs %d, cgroup dirs %d; "
           "library: goroutines %lld, runners %lld, tasks %lld, processes %lld, fds %lld\n",
           what, h->fds, h->threads, h->children, h->zombies, h->script_dirs, h->cgroup_dirs,
           (long long)h->lib.goroutines, (long long)h->lib.runners, (long long)h->lib.tasks,
           (long long)h->lib.processes, (long long)h->lib.fds);
    fflush(stdout);
}

/* Empty if now is back to base (threads at most max_threads), else what differs. */
static inline void hold_diff(const holdings_t *base, const holdings_t *now, int max_threads,
                             char *out, size_t len) {
    out[0] = '\0';
    size_t k = 0;
#define HOLD_DIFF_(cond, ...)                                                            \
    if ((cond) && k < len) k += (size_t)snprintf(out + k, len - k, __VA_ARGS__)
    HOLD_DIFF_(now->fds != base->fds, "fds %d (was %d); ", now->fds, base->fds);
    HOLD_DIFF_(now->threads > max_threads, "threads %d (bound %d); ", now->threads, max_threads);
    HOLD_DIFF_(now->children != 0, "children %d, zombies %d; ", now->children, now->zombies);
    HOLD_DIFF_(now->script_dirs != base->script_dirs, "script dirs %d (was %d) in %s; ",
               now->script_dirs, base->script_dirs, hold_tmpdir());
    HOLD_DIFF_(now->cgroup_dirs != base->cgroup_dirs, "cgroup dirs %d (was %d); ",
               now->cgroup_dirs, base->cgroup_dirs);
    HOLD_DIFF_(now->lib.goroutines > base->lib.goroutines, "goroutines %lld (was %lld); ",
               (long long)now->lib.goroutines, (long long)base->lib.goroutines);
    HOLD_DIFF_(now->lib.runners != base->lib.runners, "runners %lld (was %lld); ",
               (long long)now->lib.runners, (long long)base->lib.runners);
    HOLD_DIFF_(now->lib.tasks != base->lib.tasks, "tasks %lld (was %lld); ",
               (long long)now->lib.tasks, (long long)base->lib.tasks);
    HOLD_DIFF_(now->lib.processes != 0, "processes %lld; ", (long long)now->lib.processes);
    HOLD_DIFF_(now->lib.fds != base->lib.fds, "library fds %lld (was %lld); ",
               (long long)now->lib.fds, (long long)base->lib.fds);
#undef HOLD_DIFF_
}

/*
 * Checks that the process is back to base: the same descriptors, at most
 * max_threads threads, no child, no new script or cgroup directory, and the
 * library's counts (goroutines at most base's).  What ends asynchronously
 * (a watcher goroutine, a reaped zombie) gets settle_ms to do so.
 */
static inline holdings_t hold_check_back(const char *what, const char *runner,
                                         const holdings_t *base, int max_threads,
                                         int settle_ms) {
    int64_t deadline = test_now_ms() + settle_ms;
    char diff[1024];
    for (;;) {
        holdings_t now = hold_take(runner);
        hold_diff(base, &now, max_threads, diff, sizeof diff);
        if (diff[0] == '\0') {
            hold_print(what, &now);
            return now;
        }
        if (test_now_ms() > deadline) {
            hold_print(what, &now);
            hold_dump_fds();
            FAIL("%s: not back to the baseline: %s", what, diff);
        }
        test_sleep_ms(20);
    }
}

#endif /* SOLTI_TEST_HOLDINGS_H */
