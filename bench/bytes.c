/*
 * bytes: figure 7. Streams `head -c N /dev/zero` through a bytes-mode task
 * ("output": {"mode": "bytes", "whenFull": "block"}, so nothing is dropped
 * and the total is checked) and reads it with solti_task_read into a 1 MiB
 * buffer. Prints bytes per second.
 *
 *   bytes [--mib 1024] [--name bytes_lib]
 */
#include "bench.h"

int main(int argc, char **argv) {
    long mib = bench_opt(argc, argv, "--mib", 1024);
    const char *name = bench_opt_str(argc, argv, "--name", "bytes_lib");

    solti_runner_t runner = 0;
    CALL(solti_runner_new("bench", "{\"output\": {\"mode\": \"bytes\", \"whenFull\": \"block\"}}", &runner));
    char count[32];
    snprintf(count, sizeof count, "%ld", mib << 20);
    const char *const argv_head[] = {"head", "-c", count, "/dev/zero", NULL};
    solti_task_t task = 0;
    CALL(solti_task_build(runner, bench_spec("head", argv_head, ""), &task));

    static char buf[1 << 20];
    solti_read_cursor_t cur = {0, 0};
    uint64_t got = 0;
    double t0 = bench_now();
    CALL(solti_task_spawn(task));
    for (;;) {
        size_t n = 0;
        int rc = solti_task_read(task, &cur, SOLTI_STDOUT, buf, sizeof buf, SOLTI_INFINITE, &n, NULL);
        if (rc == SOLTI_EOF) break;
        CALL(rc);
        got += n;
    }
    double secs = bench_now() - t0;
    solti_exit_t ex;
    CALL(solti_task_wait(task, SOLTI_INFINITE, &ex));
    if (ex.outcome != SOLTI_OUTCOME_SUCCESS) bench_die("head: %s", ex.reason);
    if (got != (uint64_t)mib << 20) bench_die("got %" PRIu64 " bytes of %ld MiB", got, mib);
    CALL(solti_task_free(task));
    CALL(solti_runner_free(runner));
    bench_result(name, (double)got / secs, "B/s", ", \"bytes\": %" PRIu64 ", \"secs\": %.3f", got, secs);
    return 0;
}
