/*
 * base_cgroups: the floor under figure 1's sandboxed row. Runs /bin/true N
 * times as base_spawn does (stdin /dev/null, stdout and stderr on pipes
 * drained to EOF, its own process group, waitpid), each run in cgroups of
 * its own, made, limited, joined, read and removed the way the library does
 * for an attempt, with plain system calls and no library:
 *   - before the spawn, a directory under each PARENT, and its files written;
 *   - the child writes "0" to each directory's cgroup.procs before its exec
 *     (vfork: posix_spawn has no step that writes a file);
 *   - after the wait, the named stat files read, then the directories removed.
 *
 *   base_cgroups --cgroup 'PARENT|FILE=VALUE,...|STAT,...' [--cgroup ...]
 *                [--ahead] [--no-join]
 *                [--n 2000] [--chunk 100] [--name spawn_cgroups_base]
 *
 * --ahead measures the design that makes cgroups ahead and removes them off
 * the spawn path: a thread keeps AHEAD_SETS runs' directories made and
 * limited before they are needed, the run takes one, and another thread
 * removes it after the run has read it. --no-join leaves the child in the
 * host's cgroups (the directories are still made, limited, read and
 * removed), which isolates the cost of running a child in a fresh cgroup.
 *
 * A FILE written as ?FILE is best effort (the library writes swap limits so),
 * and as ^FILE it is the parent's, written once at the start (v2's
 * cgroup.subtree_control, which a parent made here starts without).
 *
 * bench/run.py passes the parents the library itself used (read from
 * /proc/self/cgroup of a task it ran) and the files the library writes and
 * reads there. A parent that does not exist is made and removed at the end.
 * Prints microseconds per run: the median chunk, and the best.
 */
#define BENCH_NO_LIBRARY
#include "bench.h"

#include <sys/stat.h>
#include <pthread.h>

#define MAX_CGROUPS 8
#define MAX_FILES 8

struct cgroup_spec {
    char parent[512];
    int made_parent; /* we made the parent: remove it at the end */
    int n_writes, n_stats;
    char write_file[MAX_FILES][64], write_value[MAX_FILES][64];
    char stat_file[MAX_FILES][64];
};

static struct cgroup_spec cgs[MAX_CGROUPS];
static int n_cgs;

/* One run's directories, one under each parent ("" where none is made). */
struct run_set {
    char dir[MAX_CGROUPS][640];
};

/* Splits s at sep into at most max fields of up to 63 bytes. */
static int split(char *s, const char *sep, char out[][64], int max, const char *arg) {
    int n = 0;
    char *save = NULL;
    for (char *f = strtok_r(s, sep, &save); f; f = strtok_r(NULL, sep, &save)) {
        if (n == max || strlen(f) >= 64) bench_die("--cgroup %s: too many or too long fields", arg);
        strcpy(out[n++], f);
    }
    return n;
}

/* PARENT|FILE=VALUE,...|STAT,... (either list may be empty). */
static void parse_cgroup(const char *arg) {
    if (n_cgs == MAX_CGROUPS) bench_die("at most %d --cgroup", MAX_CGROUPS);
    struct cgroup_spec *c = &cgs[n_cgs++];
    char copy[1024];
    if (strlen(arg) >= sizeof copy) bench_die("--cgroup %s: too long", arg);
    strcpy(copy, arg);
    char *writes = strchr(copy, '|'), *stats = NULL;
    if (writes) {
        *writes++ = '\0';
        if ((stats = strchr(writes, '|'))) *stats++ = '\0';
    }
    if (copy[0] != '/' || strlen(copy) >= sizeof c->parent)
        bench_die("--cgroup %s: the parent must be an absolute path", arg);
    strcpy(c->parent, copy);
    char pairs[MAX_FILES][64];
    int n = writes ? split(writes, ",", pairs, MAX_FILES, arg) : 0;
    for (int k = 0; k < n; k++) {
        char *eq = strchr(pairs[k], '=');
        if (!eq) bench_die("--cgroup %s: FILE=VALUE expected, not %s", arg, pairs[k]);
        *eq = '\0';
        strcpy(c->write_file[k], pairs[k]);
        strcpy(c->write_value[k], eq + 1);
    }
    c->n_writes = n;
    c->n_stats = stats ? split(stats, ",", c->stat_file, MAX_FILES, arg) : 0;
}

/* Writes value to path; best_effort skips a file that does not exist.
   Returns the error in err, or NULL: --ahead's thread must not die. */
static const char *write_file(const char *path, const char *value, int best_effort, char *err, size_t len) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && best_effort) return NULL;
    if (fd < 0 || write(fd, value, strlen(value)) < 0) {
        snprintf(err, len, "write %s to %s: %s", value, path, strerror(errno));
        if (fd >= 0) close(fd);
        return err;
    }
    close(fd);
    return NULL;
}

/* Makes a run's directories and writes their files; the error, or NULL.
   Safe on any thread: it reports instead of dying, and set records each
   directory as soon as it exists, for remove_set. */
static const char *make_set(struct run_set *set, long seq, char *err, size_t len) {
    char path[800];
    for (int i = 0; i < n_cgs; i++) set->dir[i][0] = '\0';
    for (int i = 0; i < n_cgs; i++) {
        struct cgroup_spec *c = &cgs[i];
        snprintf(set->dir[i], sizeof set->dir[i], "%s/floor-%ld-%ld", c->parent, (long)getpid(), seq);
        if (mkdir(set->dir[i], 0755) != 0) {
            snprintf(err, len, "mkdir %s: %s", set->dir[i], strerror(errno));
            set->dir[i][0] = '\0';
            return err;
        }
        for (int k = 0; k < c->n_writes; k++) {
            const char *f = c->write_file[k];
            if (f[0] == '^') continue;
            int best_effort = f[0] == '?';
            snprintf(path, sizeof path, "%s/%s", set->dir[i], f + best_effort);
            if (write_file(path, c->write_value[k], best_effort, err, len)) return err;
        }
    }
    return NULL;
}

/* Removes what make_set made of a run's directories; the error, or NULL. */
static const char *remove_set(struct run_set *set, char *err, size_t len) {
    const char *failed = NULL;
    for (int i = 0; i < n_cgs; i++) {
        if (!set->dir[i][0]) continue;
        if (rmdir(set->dir[i]) != 0 && !failed) {
            snprintf(err, len, "rmdir %s: %s", set->dir[i], strerror(errno));
            failed = err;
        }
        set->dir[i][0] = '\0';
    }
    return failed;
}

/* --ahead: sets made ahead by one thread, and sets used, removed behind by
   another. Both queues are rings of AHEAD_SETS under mu. */
#define AHEAD_SETS 4
static struct {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    pthread_t maker, remover;
    int on, stopping, running;
    struct run_set ready[AHEAD_SETS], used[AHEAD_SETS];
    long n_ready, first_ready, n_used, first_used;
    long made;         /* sets made so far: their sequence numbers */
    char error[1024];  /* a thread's failure, for the main thread to die of */
} ahead = {.mu = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static void *make_ahead(void *arg) {
    (void)arg;
    char err[1024];
    pthread_mutex_lock(&ahead.mu);
    while (!ahead.stopping) {
        if (ahead.n_ready == AHEAD_SETS) {
            pthread_cond_wait(&ahead.changed, &ahead.mu);
            continue;
        }
        struct run_set set;
        long seq = ++ahead.made;
        pthread_mutex_unlock(&ahead.mu);
        const char *failed = make_set(&set, seq, err, sizeof err);
        pthread_mutex_lock(&ahead.mu);
        if (failed) {
            char ignored[1024];
            remove_set(&set, ignored, sizeof ignored);
            snprintf(ahead.error, sizeof ahead.error, "%s", failed);
            pthread_cond_broadcast(&ahead.changed);
            break;
        }
        ahead.ready[(ahead.first_ready + ahead.n_ready++) % AHEAD_SETS] = set;
        pthread_cond_broadcast(&ahead.changed);
    }
    pthread_mutex_unlock(&ahead.mu);
    return NULL;
}

static void *remove_behind(void *arg) {
    (void)arg;
    char err[1024];
    pthread_mutex_lock(&ahead.mu);
    for (;;) {
        if (ahead.n_used == 0) {
            if (ahead.stopping) break;
            pthread_cond_wait(&ahead.changed, &ahead.mu);
            continue;
        }
        struct run_set set = ahead.used[ahead.first_used];
        pthread_mutex_unlock(&ahead.mu);
        const char *failed = remove_set(&set, err, sizeof err);
        pthread_mutex_lock(&ahead.mu);
        ahead.first_used = (ahead.first_used + 1) % AHEAD_SETS;
        ahead.n_used--;
        if (failed && !ahead.error[0]) snprintf(ahead.error, sizeof ahead.error, "%s", failed);
        pthread_cond_broadcast(&ahead.changed);
    }
    pthread_mutex_unlock(&ahead.mu);
    return NULL;
}

static void take_ahead(struct run_set *set) {
    pthread_mutex_lock(&ahead.mu);
    while (ahead.n_ready == 0 && !ahead.error[0]) pthread_cond_wait(&ahead.changed, &ahead.mu);
    if (ahead.error[0]) {
        pthread_mutex_unlock(&ahead.mu);
        bench_die("--ahead: %s", ahead.error);
    }
    *set = ahead.ready[ahead.first_ready];
    ahead.first_ready = (ahead.first_ready + 1) % AHEAD_SETS;
    ahead.n_ready--;
    pthread_cond_broadcast(&ahead.changed);
    pthread_mutex_unlock(&ahead.mu);
}

static void give_behind(struct run_set *set) {
    pthread_mutex_lock(&ahead.mu);
    while (ahead.n_used == AHEAD_SETS && !ahead.error[0]) pthread_cond_wait(&ahead.changed, &ahead.mu);
    if (ahead.error[0]) {
        pthread_mutex_unlock(&ahead.mu);
        bench_die("--ahead: %s", ahead.error);
    }
    ahead.used[(ahead.first_used + ahead.n_used++) % AHEAD_SETS] = *set;
    memset(set, 0, sizeof *set); /* the remover's now */
    pthread_cond_broadcast(&ahead.changed);
    pthread_mutex_unlock(&ahead.mu);
}

static long seq;
static int join = 1;
static struct run_set current; /* the run's directories while it runs */

/* At exit, bench_die's included: --ahead's threads stopped (the remover
   after its queue), the sets made and not removed, then the parents made
   here. Only the main thread dies, so the threads can be joined. */
static void remove_cgroups(void) {
    char err[1024];
    if (ahead.running) {
        pthread_mutex_lock(&ahead.mu);
        ahead.stopping = 1;
        pthread_cond_broadcast(&ahead.changed);
        pthread_mutex_unlock(&ahead.mu);
        pthread_join(ahead.maker, NULL);
        pthread_join(ahead.remover, NULL);
        ahead.running = 0;
        for (; ahead.n_ready > 0; ahead.n_ready--, ahead.first_ready = (ahead.first_ready + 1) % AHEAD_SETS)
            remove_set(&ahead.ready[ahead.first_ready], err, sizeof err);
    }
    remove_set(&current, err, sizeof err);
    for (int i = 0; i < n_cgs; i++)
        if (cgs[i].made_parent) rmdir(cgs[i].parent);
}

static void run_true(void) {
    char path[800], failure[1024];
    char procs[MAX_CGROUPS][704];
    seq++;
    if (ahead.on) {
        take_ahead(&current);
    } else if (make_set(&current, seq, failure, sizeof failure)) {
        bench_die("%s", failure);
    }
    for (int i = 0; i < n_cgs; i++) snprintf(procs[i], sizeof procs[i], "%s/cgroup.procs", current.dir[i]);
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        bench_die("pipe2: %s", strerror(errno));
    pid_t pid = vfork();
    if (pid < 0) bench_die("vfork: %s", strerror(errno));
    if (pid == 0) { /* system calls only: this runs on the parent's memory */
        for (int i = 0; i < n_cgs && join; i++) {
            int fd = open(procs[i], O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write(fd, "0", 1) != 1) _exit(126);
            close(fd);
        }
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0 || setpgid(0, 0) < 0)
            _exit(126);
        char *const args[] = {"/bin/true", NULL};
        execve(args[0], args, environ);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    int status = bench_drain_and_wait(out[0], err[0], pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_die("/bin/true failed (status %#x: 126 is a cgroup join or stdio step)", status);
    char buf[4096];
    for (int i = 0; i < n_cgs; i++) {
        struct cgroup_spec *c = &cgs[i];
        for (int k = 0; k < c->n_stats; k++) {
            snprintf(path, sizeof path, "%s/%s", current.dir[i], c->stat_file[k]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) bench_die("open %s: %s", path, strerror(errno));
            if (read(fd, buf, sizeof buf) < 0) bench_die("read %s: %s", path, strerror(errno));
            close(fd);
        }
    }
    if (ahead.on) {
        give_behind(&current);
    } else if (remove_set(&current, failure, sizeof failure)) {
        bench_die("%s", failure);
    }
}

static double run_batch(long k) { return bench_time_ops(run_true, k); }

int main(int argc, char **argv) {
    long n = bench_opt(argc, argv, "--n", 2000);
    long chunk = bench_opt(argc, argv, "--chunk", 100);
    const char *name = bench_opt_str(argc, argv, "--name", "spawn_cgroups_base");
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--cgroup") == 0) parse_cgroup(argv[++i]);
    if (n_cgs == 0) bench_die("at least one --cgroup is required");
    ahead.on = bench_flag(argc, argv, "--ahead");
    join = !bench_flag(argc, argv, "--no-join");
    atexit(remove_cgroups);
    for (int i = 0; i < n_cgs; i++) {
        if (mkdir(cgs[i].parent, 0755) == 0)
            cgs[i].made_parent = 1;
        else if (errno != EEXIST)
            bench_die("mkdir %s: %s", cgs[i].parent, strerror(errno));
        for (int k = 0; k < cgs[i].n_writes; k++) {
            if (cgs[i].write_file[k][0] != '^') continue;
            char path[600];
            snprintf(path, sizeof path, "%.511s/%.63s", cgs[i].parent, cgs[i].write_file[k] + 1);
            char err[1024];
            if (write_file(path, cgs[i].write_value[k], 0, err, sizeof err)) bench_die("%s", err);
        }
    }

    if (ahead.on) {
        if (pthread_create(&ahead.maker, NULL, make_ahead, NULL) != 0 ||
            pthread_create(&ahead.remover, NULL, remove_behind, NULL) != 0)
            bench_die("pthread_create");
        ahead.running = 1;
    }
    for (int i = 0; i < 20; i++) run_true(); /* warm-up */
    bench_chunks_t chunks = {0};
    double cpu0 = bench_cpu();
    bench_time_chunks(&chunks, n, chunk, run_batch);
    double cpu_us = (bench_cpu() - cpu0) / (double)n * 1e6;
    double median = bench_median(&chunks); /* sorts the chunks: the best is then first */
    bench_result(name, median * 1e6, "us/run",
                 ", \"best\": %.6g, \"cpu_us\": %.6g, \"n\": %ld, \"cgroups\": %d, \"ahead\": %d, \"join\": %d",
                 chunks.per_op[0] * 1e6, cpu_us, n, n_cgs, ahead.on, join);
    return 0;
}
