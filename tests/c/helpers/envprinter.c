/*
 * envprinter [--cwd] [--sig] KEY...: prints "KEY=VALUE" (or "KEY unset") for
 * each KEY, and with --cwd "cwd=DIR", with --sig the SigBlk/SigIgn masks it
 * inherited ("SigBlk=HEX", "SigIgn=HEX").  No KEY: the whole environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void print_signal_masks(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    if (f == NULL) return;
    while (fgets(line, sizeof line, f) != NULL) {
        char hex[64];
        if (sscanf(line, "SigBlk: %63s", hex) == 1) printf("SigBlk=%s\n", hex);
        if (sscanf(line, "SigIgn: %63s", hex) == 1) printf("SigIgn=%s\n", hex);
    }
    fclose(f);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cwd") == 0) {
            char dir[4096];
            printf("cwd=%s\n", getcwd(dir, sizeof dir) ? dir : "?");
        } else if (strcmp(argv[i], "--sig") == 0) {
            print_signal_masks();
        } else {
            const char *v = getenv(argv[i]);
            if (v) printf("%s=%s\n", argv[i], v);
            else printf("%s unset\n", argv[i]);
        }
    }
    if (argc == 1)
        for (char **e = environ; *e; e++) printf("%s\n", *e);
    return 0;
}
