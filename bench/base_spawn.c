/*
 * base_spawn: the baseline of figures 1 and 2. Runs /bin/true N times with
 * posix_spawn, stdout and stderr on pipes, drains both to EOF and waitpid()s,
 * from one thread or from T threads at once.
 *
 *   base_spawn [--n 2000] [--threads 1] [--heap-mib 0] [--name spawn_base]
 *
 * Prints microseconds per run (one thread) or runs per second (T threads).
 */
#define BENCH_NO_LIBRARY
#include "bench.h"

#include <stdatomic.h>

static void run_true(void) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        bench_die("pipe2: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_t sa;
    posix_spawnattr_init(&sa);
    posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&sa, 0);
    char *const args[] = {"/bin/true", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/true", &fa, &sa, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&sa);
    if (rc != 0) bench_die("posix_spawn: %s", strerror(rc));
    close(out[1]);
    close(err[1]);
    int status = bench_drain_and_wait(out[0], err[0], pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) bench_die("/bin/true failed");
}

static atomic_long remaining;
static long threads = 1;

static void *worker(void *arg) {
    (void)arg;
    while (atomic_fetch_sub(&remaining, 1) > 0) run_true();
    return NULL;
}

/* Runs k /bin/true from `threads` threads at once; returns the seconds. */
static double run_batch(long k) {
    atomic_store(&remaining, k);
    double t0 = bench_now();
    if (threads <= 1)
        worker(NULL);
    else
        bench_run_threads(threads, worker);
    return bench_now() - t0;
}

int main(int argc, char **argv) {
    long n = bench_opt(argc, argv, "--n", 2000);
    long chunk = bench_opt(argc, argv, "--chunk", 100);
    threads = bench_opt(argc, argv, "--threads", 1);
    long heap = bench_opt(argc, argv, "--heap-mib", 0);
    const char *name = bench_opt_str(argc, argv, "--name", "spawn_base");
    bench_touch_heap(heap);

    run_batch(threads > 1 ? 64 : 20); /* warm-up */
    bench_chunks_t chunks = {0};
    double cpu0 = bench_cpu();
    bench_time_chunks(&chunks, n, chunk, run_batch);
    double cpu_us = (bench_cpu() - cpu0) / (double)n * 1e6;
    double median = bench_median(&chunks);
    if (threads <= 1)
        bench_result(name, median * 1e6, "us/run",
                     ", \"best\": %.6g, \"cpu_us\": %.6g, \"n\": %ld, \"heap_mib\": %ld",
                     chunks.per_op[0] * 1e6, cpu_us, n, heap);
    else /* rates: the best chunk is the one with the least time per run */
        bench_result(name, 1 / median, "runs/s",
                     ", \"best\": %.6g, \"cpu_us\": %.6g, \"n\": %ld, \"threads\": %ld",
                     1 / chunks.per_op[0], cpu_us, n, threads);
    return 0;
}
