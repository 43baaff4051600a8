/*
 * base_cancel: the baseline of figure 4. Starts `tree 100` with posix_spawn
 * in its own process group, reads its pids from a pipe, then kill(-pgid,
 * SIGKILL) and times until the last of the 101 processes is gone; reaps the
 * leader. Runs 20 times; prints the median in milliseconds.
 *
 *   base_cancel --tree PATH [--runs 20] [--procs 100] [--name cancel_base]
 */
#define BENCH_NO_LIBRARY
#include "bench.h"
#include "bench_tree.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv) {
    const char *tree = bench_opt_str(argc, argv, "--tree", NULL);
    long runs = bench_opt(argc, argv, "--runs", 20);
    long procs = bench_opt(argc, argv, "--procs", 100);
    const char *name = bench_opt_str(argc, argv, "--name", "cancel_base");
    if (tree == NULL) bench_die("--tree PATH is required");
    char count[32];
    snprintf(count, sizeof count, "%ld", procs);

    double *gone = calloc((size_t)runs, sizeof *gone);
    for (long r = 0; r < runs; r++) {
        int out[2];
        if (pipe2(out, O_CLOEXEC) != 0) bench_die("pipe2: %s", strerror(errno));
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawnattr_t sa;
        posix_spawnattr_init(&sa);
        posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&sa, 0);
        char *const args[] = {(char *)tree, count, NULL};
        pid_t pid;
        int rc = posix_spawn(&pid, tree, &fa, &sa, args, environ);
        if (rc != 0) bench_die("posix_spawn %s: %s", tree, strerror(rc));
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&sa);
        close(out[1]);

        bench_tree_t t = {0};
        bench_tree_add(&t, pid);
        FILE *f = fdopen(out[0], "r");
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while (!t.ready && (len = getline(&line, &cap, f)) > 0) {
            if (line[len - 1] == '\n') len--;
            bench_tree_line(&t, line, (size_t)len);
        }
        if (t.n != procs + 1) bench_die("tree reported %d processes, want %ld", t.n, procs + 1);

        double t0 = bench_now();
        kill(-pid, SIGKILL);
        bench_tree_wait_gone(&t);
        gone[r] = bench_now() - t0;
        int status;
        waitpid(pid, &status, 0);
        fclose(f);
        free(line);
        bench_tree_close(&t);
    }
    bench_chunks_t g = {gone, (size_t)runs, (size_t)runs};
    double g50 = bench_median(&g);
    bench_result(name, g50 * 1e3, "ms", ", \"best\": %.6g, \"worst\": %.6g, \"runs\": %ld",
                 g.per_op[0] * 1e3, g.per_op[g.n - 1] * 1e3, runs);
    return 0;
}
