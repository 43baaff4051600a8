/*
 * phases: figure 1 split in two, against posix_spawn in the same rounds.
 * Runs `stamp SLEEP` (a child that prints the monotonic clock first thing
 * in main and again just before it exits) N times through the library
 * (build, spawn, drain, wait, free) and N times with posix_spawn and a pipe,
 * alternately, and reports the medians of:
 *   start: from the run's first call (solti_task_build; posix_spawn) to the
 *          child's first timestamp, so spawning up to the child's main;
 *   end:   from the child's last timestamp to the host's EOF, so the child's
 *          exit, its report and the host's wake-up.
 * The sleep between the two keeps them apart: the library's readers are in
 * place before the child exits, as they are for any child that runs a while.
 *
 *   phases --stamp PATH [--n 500] [--sleep-us 2000] [--config JSON]
 *
 * --config is the runner config (the sandboxed variant).
 * Prints four results: phase_start_lib, phase_start_base, phase_end_lib,
 * phase_end_base (microseconds).
 */
#include "bench.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

/* bench_now in nanoseconds: the child's stamps are CLOCK_MONOTONIC too. */
static long long mono_ns(void) { return (long long)(bench_now() * 1e9); }

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static double median_us(long long *v, long n) {
    qsort(v, (size_t)n, sizeof v[0], cmp_ll);
    return (double)v[n / 2] / 1e3;
}

/* The two timestamps in "T1\nT2\n"; 0 if the text is not that. */
static int parse_stamps(const char *text, long long *first, long long *last) {
    char *end;
    *first = strtoll(text, &end, 10);
    if (end == text || *end != '\n') return 0;
    *last = strtoll(end + 1, &end, 10);
    return *first > 0 && *last >= *first;
}

/* One run through the library; the stamps are read from its LINE events. */
static void run_lib(solti_runner_t runner, const char *spec, long long *start, long long *end) {
    static solti_event_t evs[64];
    static char buf[4096];
    char text[128] = "";
    size_t used = 0;
    long long t0 = mono_ns();
    solti_task_t task;
    CALL(solti_task_build(runner, spec, &task));
    CALL(solti_task_spawn(task));
    uint64_t cursor = 0;
    long long eof;
    for (;;) {
        size_t n = 0;
        int rc = solti_task_poll(task, &cursor, evs, 64, buf, sizeof buf, SOLTI_INFINITE, &n);
        if (rc == SOLTI_EOF) {
            eof = mono_ns();
            break;
        }
        CALL(rc);
        for (size_t i = 0; i < n; i++)
            if (evs[i].kind == SOLTI_EVENT_LINE && used + evs[i].len + 2 < sizeof text) {
                memcpy(text + used, evs[i].data, evs[i].len);
                used += evs[i].len;
                text[used++] = '\n';
                text[used] = '\0';
            }
    }
    solti_exit_t ex;
    CALL(solti_task_wait(task, SOLTI_INFINITE, &ex));
    CALL(solti_task_free(task));
    if (ex.outcome != SOLTI_OUTCOME_SUCCESS) bench_die("stamp: %s", ex.reason);
    long long first, last;
    if (!parse_stamps(text, &first, &last)) bench_die("stamp printed %s", text);
    *start = first - t0;
    *end = eof - last;
}

/* One run with posix_spawn: stdout on a pipe read to EOF, then waitpid. */
static void run_base(const char *const argv[], long long *start, long long *end) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) bench_die("pipe2: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    long long t0 = mono_ns();
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) bench_die("posix_spawn: %s", strerror(rc));
    close(out[1]);
    char text[128];
    size_t used = 0;
    ssize_t got;
    while ((got = read(out[0], text + used, sizeof text - 1 - used)) != 0) {
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) bench_die("read: %s", strerror(errno));
        used += (size_t)got;
    }
    long long eof = mono_ns();
    text[used] = '\0';
    close(out[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) bench_die("waitpid: %s", strerror(errno));
    long long first, last;
    if (!parse_stamps(text, &first, &last)) bench_die("stamp printed %s", text);
    *start = first - t0;
    *end = eof - last;
}

int main(int argc, char **argv) {
    const char *stamp = bench_opt_str(argc, argv, "--stamp", NULL);
    long n = bench_opt(argc, argv, "--n", 500);
    long sleep_us = bench_opt(argc, argv, "--sleep-us", 2000);
    const char *config = bench_opt_str(argc, argv, "--config", "{}");
    if (stamp == NULL) bench_die("--stamp PATH is required");
    if (n < 1) bench_die("--n must be at least 1");
    char sleep_arg[32];
    snprintf(sleep_arg, sizeof sleep_arg, "%ld", sleep_us);
    const char *const child[] = {stamp, sleep_arg, NULL};

    solti_runner_t runner;
    CALL(solti_runner_new("bench", config, &runner));
    const char *spec = bench_spec("phases", child, "");
    long long *v[4];
    for (int k = 0; k < 4; k++)
        if ((v[k] = calloc((size_t)n, sizeof(long long))) == NULL) bench_die("out of memory");
    long long s, e;
    for (int i = 0; i < 20; i++) { /* warm-up */
        run_lib(runner, spec, &s, &e);
        run_base(child, &s, &e);
    }
    for (long i = 0; i < n; i++) {
        run_lib(runner, spec, &v[0][i], &v[1][i]);
        run_base(child, &v[2][i], &v[3][i]);
    }
    CALL(solti_runner_free(runner));
    /* The sleep is part of the child's run, not of either phase. */
    bench_result("phase_start_lib", median_us(v[0], n), "us", ", \"n\": %ld", n);
    bench_result("phase_end_lib", median_us(v[1], n), "us", ", \"n\": %ld", n);
    bench_result("phase_start_base", median_us(v[2], n), "us", ", \"n\": %ld", n);
    bench_result("phase_end_base", median_us(v[3], n), "us", ", \"n\": %ld", n);
    for (int k = 0; k < 4; k++) free(v[k]);
    return 0;
}
