/*
 * cancel: figure 4. Spawns `tree 100` (a leader with 100 sleeping children in
 * its process group) through the library, waits until all are up, cancels
 * the task and times how long until the last of the 101 processes is gone
 * (each watched through a pidfd), and until solti_task_wait returns. Runs 20
 * times; prints the median in milliseconds.
 *
 *   cancel --tree PATH [--runs 20] [--procs 100] [--name cancel_lib]
 */
#include "bench.h"
#include "bench_tree.h"

int main(int argc, char **argv) {
    const char *tree = bench_opt_str(argc, argv, "--tree", NULL);
    long runs = bench_opt(argc, argv, "--runs", 20);
    long procs = bench_opt(argc, argv, "--procs", 100);
    const char *name = bench_opt_str(argc, argv, "--name", "cancel_lib");
    if (tree == NULL) bench_die("--tree PATH is required");

    solti_runner_t runner = 0;
    CALL(solti_runner_new("bench", "{}", &runner));
    char count[32];
    snprintf(count, sizeof count, "%ld", procs);
    const char *const argv_tree[] = {tree, count, NULL};
    const char *spec = bench_spec("tree", argv_tree, "");

    double *gone = calloc((size_t)runs, sizeof *gone), *waited = calloc((size_t)runs, sizeof *waited);
    for (long r = 0; r < runs; r++) {
        solti_task_t task = 0;
        CALL(solti_task_build(runner, spec, &task));
        CALL(solti_task_spawn(task));
        /* The leader's pid (STARTED) and its children's (one per line). */
        bench_tree_t t = {0};
        uint64_t cursor = 0;
        solti_event_t evs[128];
        static char buf[1 << 16];
        while (!t.ready) {
            size_t n = 0;
            CALL(solti_task_poll(task, &cursor, evs, 128, buf, sizeof buf, 10000, &n));
            if (n == 0) bench_die("tree did not get ready within 10 s");
            for (size_t i = 0; i < n; i++) {
                if (evs[i].kind == SOLTI_EVENT_STARTED) bench_tree_add(&t, (pid_t)evs[i].value);
                if (evs[i].kind == SOLTI_EVENT_LINE) bench_tree_line(&t, evs[i].data, evs[i].len);
            }
        }
        if (t.n != procs + 1) bench_die("tree reported %d processes, want %ld", t.n, procs + 1);

        double t0 = bench_now();
        CALL(solti_task_cancel(task));
        bench_tree_wait_gone(&t);
        gone[r] = bench_now() - t0;
        solti_exit_t ex;
        CALL(solti_task_wait(task, SOLTI_INFINITE, &ex));
        waited[r] = bench_now() - t0;
        if (ex.outcome != SOLTI_OUTCOME_CANCELED) bench_die("outcome %d, want canceled", ex.outcome);
        bench_tree_close(&t);
        CALL(solti_task_free(task));
    }
    CALL(solti_runner_free(runner));
    bench_chunks_t g = {gone, (size_t)runs, (size_t)runs}, w = {waited, (size_t)runs, (size_t)runs};
    double g50 = bench_median(&g), w50 = bench_median(&w);
    bench_result(name, g50 * 1e3, "ms", ", \"best\": %.6g, \"worst\": %.6g, \"wait_p50_ms\": %.6g, \"runs\": %ld",
                 g.per_op[0] * 1e3, g.per_op[g.n - 1] * 1e3, w50 * 1e3, runs);
    return 0;
}
