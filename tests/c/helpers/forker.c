/*
 * forker [--setsid] [--exit] SECONDS: forks a grandchild that sleeps SECONDS
 * (in a new session with --setsid), prints "grandchild PID" on stdout, then
 * sleeps SECONDS itself, or exits 0 at once with --exit (leaving the
 * grandchild holding the output pipes).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int new_session = 0, exit_now = 0, seconds = 30;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--setsid") == 0) new_session = 1;
        else if (strcmp(argv[i], "--exit") == 0) exit_now = 1;
        else seconds = atoi(argv[i]);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("forker: fork");
        return 97;
    }
    if (pid == 0) {
        if (new_session && setsid() < 0) perror("forker: setsid");
        sleep((unsigned)seconds);
        _exit(0);
    }
    printf("grandchild %d\n", (int)pid);
    fflush(stdout);
    if (!exit_now) sleep((unsigned)seconds);
    return 0;
}
