/*
 * printer: writes lines as its arguments say, in order, with write(2) so each
 * one reaches the pipe at once.
 *   out:TEXT     TEXT and a newline on stdout      err:TEXT  the same on stderr
 *   outn:N:P     N lines "P0" .. "P(N-1)" on stdout errn:N:P  the same on stderr
 *   raw:TEXT     TEXT on stdout, no newline         rawerr:TEXT on stderr
 *   big:N        one stdout line of N 'x' bytes     sleep:MS  sleep MS ms
 *   alloc:MB     allocate and touch MB mebibytes    exit:CODE exit with CODE (default 0)
 * Backslash escapes in TEXT: \n \r \\ and \xHH (a byte: specs must be UTF-8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) exit(99);
        p += w;
        n -= (size_t)w;
    }
}

static void emit(int fd, const char *text, int newline) {
    char *buf = malloc(strlen(text) + 2);
    size_t n = 0;
    for (const char *c = text; *c; c++) {
        if (c[0] == '\\' && c[1] == 'x' && c[2] && c[3]) {
            char hex[3] = {c[2], c[3], 0};
            buf[n++] = (char)strtol(hex, NULL, 16);
            c += 3;
        } else if (*c == '\\' && c[1]) {
            c++;
            buf[n++] = *c == 'n' ? '\n' : *c == 'r' ? '\r' : *c;
        } else {
            buf[n++] = *c;
        }
    }
    if (newline) buf[n++] = '\n';
    write_all(fd, buf, n);
    free(buf);
}

static void emit_n(int fd, const char *arg) {
    char *end;
    long n = strtol(arg, &end, 10);
    const char *prefix = *end == ':' ? end + 1 : "";
    for (long i = 0; i < n; i++) {
        char line[512];
        int len = snprintf(line, sizeof line, "%s%ld\n", prefix, i);
        write_all(fd, line, (size_t)len);
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "out:", 4) == 0) emit(1, a + 4, 1);
        else if (strncmp(a, "err:", 4) == 0) emit(2, a + 4, 1);
        else if (strncmp(a, "raw:", 4) == 0) emit(1, a + 4, 0);
        else if (strncmp(a, "rawerr:", 7) == 0) emit(2, a + 7, 0);
        else if (strncmp(a, "outn:", 5) == 0) emit_n(1, a + 5);
        else if (strncmp(a, "errn:", 5) == 0) emit_n(2, a + 5);
        else if (strncmp(a, "big:", 4) == 0) {
            size_t n = strtoul(a + 4, NULL, 10);
            char *line = malloc(n + 1);
            memset(line, 'x', n);
            line[n] = '\n';
            write_all(1, line, n + 1);
            free(line);
        } else if (strncmp(a, "sleep:", 6) == 0) {
            long ms = strtol(a + 6, NULL, 10);
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        } else if (strncmp(a, "alloc:", 6) == 0) {
            size_t n = strtoul(a + 6, NULL, 10) << 20;
            volatile char *p = malloc(n); /* volatile: the stores must happen */
            if (p == NULL) return 96;
            for (size_t k = 0; k < n; k += 4096) p[k] = 1;
        } else if (strncmp(a, "exit:", 5) == 0) {
            return atoi(a + 5);
        } else {
            fprintf(stderr, "printer: unknown argument %s\n", a);
            return 98;
        }
    }
    return 0;
}
