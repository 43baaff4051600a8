/*
 * stream: figure 3. Streams `seq 1 N` through the library and counts the
 * lines with solti_task_poll in batches (SOLTI_INFINITE waits, up to 1024
 * events and 256 KiB a call). The output is "block", so no line is dropped
 * and the count is checked. Prints lines per second.
 *
 *   stream [--lines 5000000] [--when-full block] [--capacity 1024]
 *          [--name stream_lib]
 */
#include "bench.h"

int main(int argc, char **argv) {
    long lines = bench_opt(argc, argv, "--lines", 5000000);
    const char *when_full = bench_opt_str(argc, argv, "--when-full", "block");
    long capacity = bench_opt(argc, argv, "--capacity", 1024);
    const char *name = bench_opt_str(argc, argv, "--name", "stream_lib");

    char config[256];
    snprintf(config, sizeof config, "{\"output\": {\"whenFull\": \"%s\", \"capacity\": %ld}}",
             when_full, capacity);
    solti_runner_t runner = 0;
    CALL(solti_runner_new("bench", config, &runner));
    char count[32];
    snprintf(count, sizeof count, "%ld", lines);
    const char *const argv_seq[] = {"seq", "1", count, NULL};
    solti_task_t task = 0;
    CALL(solti_task_build(runner, bench_spec("seq", argv_seq, ""), &task));

    static solti_event_t evs[1024];
    static char buf[1 << 18];
    uint64_t cursor = 0, got = 0, lagged = 0;
    double t0 = bench_now();
    CALL(solti_task_spawn(task));
    for (;;) {
        size_t n = 0;
        int rc = solti_task_poll(task, &cursor, evs, 1024, buf, sizeof buf, SOLTI_INFINITE, &n);
        if (rc == SOLTI_EOF) break;
        CALL(rc);
        for (size_t i = 0; i < n; i++) {
            if (evs[i].kind == SOLTI_EVENT_LINE) got++;
            else if (evs[i].kind == SOLTI_EVENT_LAGGED) lagged += (uint64_t)evs[i].value;
        }
    }
    double secs = bench_now() - t0;
    solti_exit_t ex;
    CALL(solti_task_wait(task, SOLTI_INFINITE, &ex));
    if (ex.outcome != SOLTI_OUTCOME_SUCCESS) bench_die("seq: %s", ex.reason);
    if (strcmp(when_full, "block") == 0 && got != (uint64_t)lines)
        bench_die("got %" PRIu64 " lines of %ld", got, lines);
    CALL(solti_task_free(task));
    CALL(solti_runner_free(runner));
    bench_result(name, (double)got / secs, "lines/s",
                 ", \"lines\": %" PRIu64 ", \"lagged\": %" PRIu64 ", \"secs\": %.3f", got, lagged,
                 secs);
    return 0;
}
