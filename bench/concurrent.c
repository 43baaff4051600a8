/*
 * concurrent: figure 2. Runs N tasks of /bin/true through the library from T
 * threads at once (each thread: build, spawn, drain, wait, free, next), in
 * chunks of C tasks; prints tasks per second, median and best chunk.
 *
 *   concurrent [--n 2000] [--chunk 500] [--threads 32] [--name concurrent_lib]
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>

static solti_runner_t runner;
static const char *spec;
static atomic_long remaining;
static long threads;

static void *worker(void *arg) {
    (void)arg;
    solti_exit_t ex;
    while (atomic_fetch_sub(&remaining, 1) > 0) {
        bench_run_task(runner, spec, &ex);
        if (ex.outcome != SOLTI_OUTCOME_SUCCESS) bench_die("/bin/true: %s", ex.reason);
    }
    return NULL;
}

static double run_batch(long k) {
    atomic_store(&remaining, k);
    double t0 = bench_now();
    bench_run_threads(threads, worker);
    return bench_now() - t0;
}

int main(int argc, char **argv) {
    long n = bench_opt(argc, argv, "--n", 2000);
    long chunk = bench_opt(argc, argv, "--chunk", 500);
    threads = bench_opt(argc, argv, "--threads", 32);
    const char *name = bench_opt_str(argc, argv, "--name", "concurrent_lib");
    if (threads < 1 || threads > 256) bench_die("--threads must be 1..256");

    CALL(solti_runner_new("bench", "{}", &runner));
    const char *const argv_true[] = {"/bin/true", NULL};
    spec = bench_spec("true", argv_true, "");

    run_batch(64); /* warm-up */
    bench_chunks_t chunks = {0};
    double cpu0 = bench_cpu();
    bench_time_chunks(&chunks, n, chunk, run_batch);
    double cpu_us = (bench_cpu() - cpu0) / (double)n * 1e6;
    CALL(solti_runner_free(runner));
    double median = bench_median(&chunks);
    bench_result(name, 1 / median, "tasks/s",
                 ", \"best\": %.6g, \"cpu_us\": %.6g, \"n\": %ld, \"threads\": %ld",
                 1 / chunks.per_op[0], cpu_us, n, threads);
    return 0;
}
