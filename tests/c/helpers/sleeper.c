/* sleeper MS [TEXT...]: sleeps MS milliseconds, then prints each TEXT as a line. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    for (int i = 2; i < argc; i++) printf("%s\n", argv[i]);
    return 0;
}
