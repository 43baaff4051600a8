/*
 * forkloop MAX: forks children that each sleep 60 s, one after the other,
 * printing "child PID" for each, until MAX are running or a fork fails
 * ("fork failed: REASON"); then prints "forked N" and sleeps 60 s itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int max = argc > 1 ? atoi(argv[1]) : 100, n = 0;
    while (n < max) {
        pid_t pid = fork();
        if (pid < 0) {
            printf("fork failed: %s\n", strerror(errno));
            break;
        }
        if (pid == 0) {
            sleep(60);
            _exit(0);
        }
        printf("child %d\n", (int)pid);
        fflush(stdout);
        n++;
    }
    printf("forked %d\n", n);
    fflush(stdout);
    sleep(60);
    return 0;
}
