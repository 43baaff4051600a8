/*
 * base_getline: the baseline of figure 3. Starts `seq 1 N` with posix_spawn,
 * its stdout on a pipe, and counts the lines with getline(); prints lines
 * per second.
 *
 *   base_getline [--lines 5000000] [--name stream_base]
 */
#define BENCH_NO_LIBRARY
#include "bench.h"

#include <sys/wait.h>

int main(int argc, char **argv) {
    long lines = bench_opt(argc, argv, "--lines", 5000000);
    const char *name = bench_opt_str(argc, argv, "--name", "stream_base");
    char count[32];
    snprintf(count, sizeof count, "%ld", lines);

    double t0 = bench_now();
    char *const args[] = {"seq", "1", count, NULL};
    pid_t pid;
    int out = bench_spawn_stdout(args, &pid);

    FILE *f = fdopen(out, "r");
    char *line = NULL;
    size_t cap = 0;
    long got = 0;
    while (getline(&line, &cap, f) >= 0) got++;
    fclose(f);
    free(line);
    int status;
    waitpid(pid, &status, 0);
    double secs = bench_now() - t0;
    if (got != lines) bench_die("got %ld lines of %ld", got, lines);
    bench_result(name, (double)got / secs, "lines/s", ", \"lines\": %ld, \"secs\": %.3f", got, secs);
    return 0;
}
