/* alternator N: writes "oI" to stdout and "eI" to stderr, alternately, for I
 * from 0 to N-1, one write(2) per line and no buffering, so the order of the
 * lines is exactly the order of the writes. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    char line[32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(line, sizeof line, "o%d\n", i);
        if (write(1, line, (size_t)len) != len) return 1;
        len = snprintf(line, sizeof line, "e%d\n", i);
        if (write(2, line, (size_t)len) != len) return 1;
    }
    return 0;
}
