/*
 * tree N: forks N children that sleep until killed, prints each child's pid
 * on a line, then "ready", and sleeps until killed itself. The children stay
 * in its process group.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("tree: fork");
            return 1;
        }
        if (pid == 0) {
            for (;;) pause();
        }
        printf("%d\n", (int)pid);
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
