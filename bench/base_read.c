/*
 * base_read: the baseline of figure 7. Starts `head -c N /dev/zero` with
 * posix_spawn, its stdout on a pipe, and reads it with read(2) into a 1 MiB
 * buffer; prints bytes per second.
 *
 *   base_read [--mib 1024] [--name bytes_base]
 */
#define BENCH_NO_LIBRARY
#include "bench.h"

#include <sys/wait.h>

int main(int argc, char **argv) {
    long mib = bench_opt(argc, argv, "--mib", 1024);
    const char *name = bench_opt_str(argc, argv, "--name", "bytes_base");
    char count[32];
    snprintf(count, sizeof count, "%ld", mib << 20);

    static char buf[1 << 20];
    double t0 = bench_now();
    char *const args[] = {"head", "-c", count, "/dev/zero", NULL};
    pid_t pid;
    int out = bench_spawn_stdout(args, &pid);

    uint64_t got = 0;
    for (;;) {
        ssize_t n = read(out, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) bench_die("read: %s", strerror(errno));
        if (n == 0) break;
        got += (uint64_t)n;
    }
    close(out);
    int status;
    waitpid(pid, &status, 0);
    double secs = bench_now() - t0;
    if (got != (uint64_t)mib << 20) bench_die("got %" PRIu64 " bytes of %ld MiB", got, mib);
    bench_result(name, (double)got / secs, "B/s", ", \"bytes\": %" PRIu64 ", \"secs\": %.3f", got, secs);
    return 0;
}
