/*
 * spawn: figure 1. Runs /bin/true N times in sequence through the library:
 * spawn, drain the events to the end, wait. By default each run is a whole
 * task's life (build, spawn, drain, wait, free); with --respawn one task is
 * built once and spawned again for each run.
 *
 *   spawn [--n 2000] [--chunk 100] [--heap-mib 0] [--config JSON]
 *         [--respawn] [--name spawn_lib]
 *   spawn --show-cgroups [--config JSON]
 *
 * --heap-mib touches that much heap first (the big-host variant); --config
 * is the runner config (the sandboxed variant). Prints microseconds per run:
 * the median chunk, and the best. --show-cgroups runs one task under the
 * config that prints its /proc/self/cgroup, and prints each of its lines as
 * "CGROUP line" (bench/run.py places base_cgroups' cgroups beside those).
 */
#include "bench.h"

static solti_runner_t runner;
static const char *spec;
static solti_task_t task; /* --respawn: the one task */
static uint64_t cursor;

static void run_once(void) {
    solti_exit_t ex;
    if (task != 0) {
        CALL(solti_task_spawn(task));
        bench_drain(task, &cursor);
        CALL(solti_task_wait(task, SOLTI_INFINITE, &ex));
    } else {
        bench_run_task(runner, spec, &ex);
    }
    if (ex.outcome != SOLTI_OUTCOME_SUCCESS) bench_die("/bin/true: %s", ex.reason);
}

static double run_batch(long k) { return bench_time_ops(run_once, k); }

static void print_cgroup_line(const solti_event_t *ev) {
    if (ev->stream == SOLTI_STDOUT) printf("CGROUP %.*s\n", (int)ev->len, (const char *)ev->data);
}

/* One task that prints its /proc/self/cgroup; its lines go to stdout. */
static void show_cgroups(solti_runner_t r) {
    const char *const argv_cat[] = {"/bin/cat", "/proc/self/cgroup", NULL};
    solti_task_t t;
    CALL(solti_task_build(r, bench_spec("cgroups", argv_cat, ""), &t));
    CALL(solti_task_spawn(t));
    uint64_t cur = 0;
    bench_drain_lines(t, &cur, print_cgroup_line);
    solti_exit_t ex;
    CALL(solti_task_wait(t, SOLTI_INFINITE, &ex));
    CALL(solti_task_free(t));
    if (ex.outcome != SOLTI_OUTCOME_SUCCESS) bench_die("cat /proc/self/cgroup: %s", ex.reason);
}

int main(int argc, char **argv) {
    long n = bench_opt(argc, argv, "--n", 2000);
    long chunk = bench_opt(argc, argv, "--chunk", 100);
    long heap = bench_opt(argc, argv, "--heap-mib", 0);
    const char *config = bench_opt_str(argc, argv, "--config", "{}");
    const char *name = bench_opt_str(argc, argv, "--name", "spawn_lib");
    bench_touch_heap(heap);

    CALL(solti_runner_new("bench", config, &runner));
    if (bench_flag(argc, argv, "--show-cgroups")) {
        show_cgroups(runner);
        CALL(solti_runner_free(runner));
        return 0;
    }
    const char *const argv_true[] = {"/bin/true", NULL};
    spec = bench_spec("true", argv_true, "");
    if (bench_flag(argc, argv, "--respawn")) CALL(solti_task_build(runner, spec, &task));

    for (int i = 0; i < 20; i++) run_once(); /* warm-up */
    bench_chunks_t chunks = {0};
    double cpu0 = bench_cpu();
    bench_time_chunks(&chunks, n, chunk, run_batch);
    double cpu = bench_cpu() - cpu0;
    if (task != 0) CALL(solti_task_free(task));
    CALL(solti_runner_free(runner));
    double median = bench_median(&chunks);
    bench_result(name, median * 1e6, "us/run",
                 ", \"best\": %.6g, \"cpu_us\": %.6g, \"n\": %ld, \"heap_mib\": %ld, \"rss_kib\": %ld",
                 chunks.per_op[0] * 1e6, cpu / (double)n * 1e6, n, heap, bench_rss_kib());
    return 0;
}
