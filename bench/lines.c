/*
 * lines: figure 3, the bulk read. Streams `seq 1 N` through the library and
 * reads the lines with solti_task_read_lines into one 1 MiB buffer a call
 * (SOLTI_INFINITE waits), counting them from the record headers and
 * checking that they are numbered without a gap. The output is "block", so
 * no line is dropped, with a ring of 65536 lines (how far the child may run
 * ahead of the reader, as a pipe's buffer is). Prints lines per second.
 *
 *   lines [--lines 5000000] [--capacity 65536] [--name lines_lib]
 */
#include "bench.h"

int main(int argc, char **argv) {
    long lines = bench_opt(argc, argv, "--lines", 5000000);
    long capacity = bench_opt(argc, argv, "--capacity", 65536);
    const char *name = bench_opt_str(argc, argv, "--name", "lines_lib");

    char config[256];
    snprintf(config, sizeof config,
             "{\"output\": {\"whenFull\": \"block\", \"capacity\": %ld, \"maxBytes\": 67108864}}",
             capacity);
    solti_runner_t runner = 0;
    CALL(solti_runner_new("bench", config, &runner));
    char count[32];
    snprintf(count, sizeof count, "%ld", lines);
    const char *const argv_seq[] = {"seq", "1", count, NULL};
    solti_task_t task = 0;
    CALL(solti_task_build(runner, bench_spec("seq", argv_seq, ""), &task));

    static _Alignas(8) char buf[1 << 20];
    solti_lines_cursor_t cursor = {0};
    uint64_t got = 0;
    double t0 = bench_now();
    CALL(solti_task_spawn(task));
    for (;;) {
        size_t n = 0;
        solti_lines_info_t info;
        int rc = solti_task_read_lines(task, &cursor, SOLTI_STDOUT, buf, sizeof buf, SOLTI_INFINITE,
                                       &n, &info);
        if (rc == SOLTI_EOF) break;
        CALL(rc);
        if (info.lost_lines) bench_die("lost %" PRIu64 " lines in block mode", info.lost_lines);
        for (const solti_line_run_t *run = (const solti_line_run_t *)buf;
             (const char *)run < buf + n; run = SOLTI_LINE_RUN_NEXT(run)) {
            if (run->seq != got) bench_die("record at line %" PRIu64 ", expected %" PRIu64, run->seq, got);
            got += run->count;
        }
    }
    double secs = bench_now() - t0;
    solti_exit_t ex;
    CALL(solti_task_wait(task, SOLTI_INFINITE, &ex));
    if (ex.outcome != SOLTI_OUTCOME_SUCCESS) bench_die("seq: %s", ex.reason);
    if (got != (uint64_t)lines) bench_die("got %" PRIu64 " lines of %ld", got, lines);
    CALL(solti_task_free(task));
    CALL(solti_runner_free(runner));
    bench_result(name, (double)got / secs, "lines/s", ", \"lines\": %" PRIu64 ", \"secs\": %.3f", got, secs);
    return 0;
}
