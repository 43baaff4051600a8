/*
 * stamp [MICROSECONDS]: prints the CLOCK_MONOTONIC time in nanoseconds as
 * its first act, sleeps MICROSECONDS (default 0), and prints it again as its
 * last act before exiting. The phases benchmark reads both lines to split a
 * run into the time to the child's first instruction of main and the time
 * from its exit to the host's EOF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void stamp(void) {
    struct timespec ts;
    char line[32];
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int n = snprintf(line, sizeof line, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    if (write(1, line, (size_t)n) != n) exit(1);
}

int main(int argc, char **argv) {
    long us = argc > 1 ? atol(argv[1]) : 0;
    stamp();
    if (us > 0) {
        struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    stamp();
    return 0;
}
