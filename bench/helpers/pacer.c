/*
 * pacer RATE SECONDS: writes RATE lines a second ("line N") to stdout for
 * SECONDS seconds, in bursts every millisecond, then exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double rate = argc > 1 ? atof(argv[1]) : 1000;
    double secs = argc > 2 ? atof(argv[2]) : 1;
    long total = (long)(rate * secs), sent = 0;
    static char buf[1 << 20];
    double t0 = now();
    while (sent < total) {
        /* Catch up with the schedule, at most 1 MiB at a time. */
        long due = (long)((now() - t0) * rate) + 1;
        if (due > total) due = total;
        size_t n = 0;
        while (sent < due && n + 32 < sizeof buf) n += (size_t)sprintf(buf + n, "line %ld\n", sent++);
        if (n > 0 && write(1, buf, n) != (ssize_t)n) return 1;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}
