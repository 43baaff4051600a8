/*
 * bench.h: what the benchmark programs share: a monotonic clock, exiting on
 * failure with the library's message, the host's RSS, touching a big heap,
 * and the one result line each program prints for the driver (bench/run.py):
 *
 *     RESULT {"name": "spawn_lib", "value": 812.4, "unit": "us/spawn", ...}
 *
 * Define BENCH_NO_LIBRARY in the baseline programs, which do not link
 * libsolti_exec (the Go runtime's threads must not be in their process).
 */
#ifndef SOLTI_BENCH_H
#define SOLTI_BENCH_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_NO_LIBRARY
#include "solti_exec.h"
#endif

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void bench_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline void bench_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* Runs worker on `threads` threads (1..256) at once and joins them all. */
static inline void bench_run_threads(long threads, void *(*worker)(void *)) {
    pthread_t tids[256];
    if (threads < 1 || threads > 256) bench_die("--threads must be 1..256");
    for (long i = 0; i < threads; i++)
        if (pthread_create(&tids[i], NULL, worker, NULL) != 0) bench_die("pthread_create");
    for (long i = 0; i < threads; i++) pthread_join(tids[i], NULL);
}

#ifdef BENCH_NO_LIBRARY
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

/* Starts args (args[0] looked up in PATH) with posix_spawn, its stdout on a
   pipe; sets *pid and returns the pipe's read end. The baselines' way of
   starting a producer, the plain POSIX one the library is measured against. */
static inline int bench_spawn_stdout(char *const args[], pid_t *pid) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) bench_die("pipe2: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    int rc = posix_spawnp(pid, args[0], &fa, NULL, args, environ);
    if (rc != 0) bench_die("posix_spawnp %s: %s", args[0], strerror(rc));
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    return out[0];
}

/* Reads the read ends out and err to EOF, closes them, then waits for pid;
   returns its wait status. */
static inline int bench_drain_and_wait(int out, int err, pid_t pid) {
    struct pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            bench_die("poll: %s", strerror(errno));
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            if (read(fds[i].fd, buf, sizeof buf) <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) bench_die("waitpid: %s", strerror(errno));
    return status;
}
#endif

/* CPU time (user + system) of this process and its reaped children, in
   seconds: what a run costs the machine, less sensitive than wall time to
   what else runs on it. */
static inline double bench_cpu(void) {
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
                    kids.ru_stime.tv_sec) +
           (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
                    kids.ru_stime.tv_usec) /
               1e6;
}

/* Resident set size of this process, in KiB (VmRSS). */
static inline long bench_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) bench_die("open /proc/self/status: %s", strerror(errno));
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

/* Allocates and touches mib MiB, so the host's page tables are that big
   when it spawns. The memory is kept for the life of the process. */
static inline void bench_touch_heap(long mib) {
    if (mib <= 0) return;
    size_t n = (size_t)mib << 20;
    char *p = malloc(n);
    if (p == NULL) bench_die("malloc %ld MiB failed", mib);
    for (size_t i = 0; i < n; i += 4096) p[i] = (char)i;
    /* Keep the compiler from dropping the writes. */
    __asm__ volatile("" : : "r"(p) : "memory");
}

/*
 * Chunked timing. These machines are shared and noisy, so a run of N
 * operations is timed in chunks (100 operations by default) and a figure is
 * given as the median chunk and the best chunk: the best one is the cost with
 * the least interference from other processes, the median the typical one.
 */
typedef struct bench_chunks {
    double *per_op; /* seconds per operation, one per chunk */
    size_t n, cap;
} bench_chunks_t;

static inline void bench_chunk_add(bench_chunks_t *c, double secs, long ops) {
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->per_op = realloc(c->per_op, c->cap * sizeof *c->per_op);
        if (c->per_op == NULL) bench_die("out of memory");
    }
    c->per_op[c->n++] = secs / (double)ops;
}

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Times n operations in chunks of at most chunk: batch(k) runs k of them and
   returns the seconds they took. */
static inline void bench_time_chunks(bench_chunks_t *c, long n, long chunk, double (*batch)(long k)) {
    for (long done = 0; done < n;) {
        long k = n - done < chunk ? n - done : chunk;
        bench_chunk_add(c, batch(k), k);
        done += k;
    }
}

/* Runs op k times in sequence; returns the seconds: a batch for
   bench_time_chunks. */
static inline double bench_time_ops(void (*op)(void), long k) {
    double t0 = bench_now();
    for (long j = 0; j < k; j++) op();
    return bench_now() - t0;
}

/* Sorts the chunks; then per_op[0] is the best, bench_median the median. */
static inline double bench_median(bench_chunks_t *c) {
    if (c->n == 0) return 0;
    qsort(c->per_op, c->n, sizeof *c->per_op, bench_cmp_double);
    return c->n % 2 ? c->per_op[c->n / 2] : (c->per_op[c->n / 2 - 1] + c->per_op[c->n / 2]) / 2;
}

/* Prints the driver's result line; extra is "" or more JSON members
   (", \"k\": v"). */
static inline void bench_result(const char *name, double value, const char *unit,
                                const char *extra_fmt, ...) {
    char extra[1024] = "";
    if (extra_fmt != NULL) {
        va_list ap;
        va_start(ap, extra_fmt);
        vsnprintf(extra, sizeof extra, extra_fmt, ap);
        va_end(ap);
    }
    printf("RESULT {\"name\": \"%s\", \"value\": %.6g, \"unit\": \"%s\"%s}\n", name, value, unit,
           extra);
    fflush(stdout);
}

/* A long option's value: "--n 2000" gives atol("2000") for "--n". */
static inline long bench_opt(int argc, char **argv, const char *name, long def) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return atol(argv[i + 1]);
    return def;
}

static inline const char *bench_opt_str(int argc, char **argv, const char *name,
                                        const char *def) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return def;
}

static inline int bench_flag(int argc, char **argv, const char *name) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}

/* A command task spec for argv[0] with args argv[1..] (NULL-terminated; no
   quoting is done, so no '"' or '\\' in them); top_extra is "" or more
   top-level members. Returns a per-thread static buffer. */
static inline const char *bench_spec(const char *slot, const char *const argv[],
                                     const char *top_extra) {
    static _Thread_local char spec[4096];
    int n = snprintf(spec, sizeof spec,
                     "{\"slot\": \"%s\", \"timeout\": 600000, \"kind\": {\"subprocess\": "
                     "{\"mode\": {\"command\": {\"command\": \"%s\", \"args\": [",
                     slot, argv[0]);
    for (int i = 1; argv[i] != NULL; i++)
        n += snprintf(spec + n, sizeof spec - (size_t)n, "%s\"%s\"", i > 1 ? ", " : "", argv[i]);
    n += snprintf(spec + n, sizeof spec - (size_t)n, "]}}}}%s%s}", *top_extra ? ", " : "",
                  top_extra);
    if ((size_t)n >= sizeof spec) bench_die("spec too long");
    return spec;
}

#ifndef BENCH_NO_LIBRARY

/* CALL(expr): a library call that must succeed; evaluates to its result. */
static inline int bench_check(int rc, const char *call, int line) {
    if (rc < 0) {
        char msg[1024];
        msg[0] = '\0';
        solti_last_error(msg, sizeof msg);
        bench_die("line %d: %s = %d (%s): %s", line, call, rc, solti_strerror(rc), msg);
    }
    return rc;
}
#define CALL(expr) bench_check((expr), #expr, __LINE__)

/* Reads the events of task from *cursor until SOLTI_EOF; returns the LINE
   events seen, each also given to line when it is not NULL. */
static inline uint64_t bench_drain_lines(solti_task_t task, uint64_t *cursor, void (*line)(const solti_event_t *)) {
    static _Thread_local solti_event_t evs[256];
    static _Thread_local char buf[1 << 16];
    uint64_t lines = 0;
    for (;;) {
        size_t n = 0;
        int rc = solti_task_poll(task, cursor, evs, 256, buf, sizeof buf, SOLTI_INFINITE, &n);
        if (rc == SOLTI_EOF) return lines;
        CALL(rc);
        for (size_t i = 0; i < n; i++) {
            if (evs[i].kind != SOLTI_EVENT_LINE) continue;
            lines++;
            if (line) line(&evs[i]);
        }
    }
}

static inline uint64_t bench_drain(solti_task_t task, uint64_t *cursor) {
    return bench_drain_lines(task, cursor, NULL);
}

/* Build, spawn, drain, wait, free: one whole run of a command; the exit
   report goes to ex. */
static inline void bench_run_task(solti_runner_t runner, const char *spec, solti_exit_t *ex) {
    solti_task_t task = 0;
    CALL(solti_task_build(runner, spec, &task));
    CALL(solti_task_spawn(task));
    uint64_t cursor = 0;
    bench_drain(task, &cursor);
    CALL(solti_task_wait(task, SOLTI_INFINITE, ex));
    CALL(solti_task_free(task));
}

#endif /* BENCH_NO_LIBRARY */

#endif /* SOLTI_BENCH_H */
