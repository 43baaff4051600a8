/*
 * flood [LEN]: writes LEN-byte lines (newline included, default 100) to
 * stdout as fast as it can, in 64 KiB writes, until killed.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    size_t len = argc > 1 ? (size_t)atol(argv[1]) : 100;
    if (len < 2) len = 2;
    static char buf[1 << 16];
    size_t lines = sizeof buf / len;
    memset(buf, 'x', sizeof buf);
    for (size_t i = 0; i < lines; i++) buf[i * len + len - 1] = '\n';
    for (;;) {
        if (write(1, buf, lines * len) < 0) return 1;
    }
}
