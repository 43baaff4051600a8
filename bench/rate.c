/*
 * rate: figure 6. The highest output rate a reader that polls every 10 ms
 * keeps without loss. A pacer task prints RATE lines a second for a second
 * into a ring with the default bounds (1024 events, 4 MiB, dropOldest);
 * the reader sleeps 10 ms, then drains what is there (timeout 0), and
 * counts lines and lagged events. The rate is searched between 10^4 and
 * 10^6 lines/s by bisection; a rate passes when every line arrived.
 *
 *   rate --pacer PATH [--interval-ms 10] [--steps 7] [--name rate_lib]
 */
#include "bench.h"

#include <math.h>

static solti_runner_t runner;
static const char *pacer;
static int interval_ms;

/* Runs the pacer at rate lines/s for 1 s; returns the lines lost. */
static long trial(long rate) {
    char r[32];
    snprintf(r, sizeof r, "%ld", rate);
    const char *const argv_pacer[] = {pacer, r, "1", NULL};
    solti_task_t task = 0;
    CALL(solti_task_build(runner, bench_spec("pacer", argv_pacer, ""), &task));
    static solti_event_t evs[1024];
    static char buf[1 << 20];
    uint64_t cursor = 0;
    long lines = 0, lagged = 0;
    CALL(solti_task_spawn(task));
    for (int done = 0; !done;) {
        bench_sleep_ms(interval_ms);
        for (;;) {
            size_t n = 0;
            int rc = solti_task_poll(task, &cursor, evs, 1024, buf, sizeof buf, 0, &n);
            if (rc == SOLTI_EOF) {
                done = 1;
                break;
            }
            CALL(rc);
            if (n == 0) break;
            for (size_t i = 0; i < n; i++) {
                if (evs[i].kind == SOLTI_EVENT_LINE) lines++;
                if (evs[i].kind == SOLTI_EVENT_LAGGED) lagged += evs[i].value;
            }
        }
    }
    solti_exit_t ex;
    CALL(solti_task_wait(task, SOLTI_INFINITE, &ex));
    if (ex.outcome != SOLTI_OUTCOME_SUCCESS) bench_die("pacer: %s", ex.reason);
    CALL(solti_task_free(task));
    return rate - lines > lagged ? rate - lines : lagged;
}

int main(int argc, char **argv) {
    pacer = bench_opt_str(argc, argv, "--pacer", NULL);
    interval_ms = (int)bench_opt(argc, argv, "--interval-ms", 10);
    long steps = bench_opt(argc, argv, "--steps", 7);
    const char *name = bench_opt_str(argc, argv, "--name", "rate_lib");
    if (pacer == NULL) bench_die("--pacer PATH is required");
    CALL(solti_runner_new("bench", "{}", &runner));

    /* Bisection on a log scale: lo always passed (or is the floor), hi
       failed (or is the ceiling). */
    double lo = 1e4, hi = 1e6;
    long lost_lo = trial((long)lo);
    if (lost_lo > 0) {
        bench_result(name, 0, "lines/s", ", \"note\": \"lost %ld lines at %.0f/s\"", lost_lo, lo);
        return 0;
    }
    for (long s = 0; s < steps; s++) {
        double mid = sqrt(lo * hi);
        if (trial((long)mid) == 0) lo = mid;
        else hi = mid;
    }
    CALL(solti_runner_free(runner));
    /* The ring's bound: capacity events per interval. */
    double bound = 1024.0 / (interval_ms / 1000.0);
    bench_result(name, lo, "lines/s", ", \"failed_at\": %.0f, \"ring_bound\": %.0f, \"interval_ms\": %d",
                 hi, bound, interval_ms);
    return 0;
}
