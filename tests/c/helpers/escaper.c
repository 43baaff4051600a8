/*
 * escaper [--exit|--stay]: double-forks a grandchild that calls setsid,
 * leaving the process group and the session, and sleeps 60 s with the output
 * pipes still open.  Prints "escaped PID" once the grandchild has its own
 * session, then sleeps 60 s itself (--stay, the default), or exits 0 at once
 * with --exit.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int exit_now = argc > 1 && strcmp(argv[1], "--exit") == 0;
    int fds[2];
    if (pipe(fds) != 0) {
        perror("escaper: pipe");
        return 97;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("escaper: fork");
        return 97;
    }
    if (child == 0) {
        if (fork() == 0) {
            pid_t self;
            if (setsid() < 0) perror("escaper: setsid");
            self = getpid();
            if (write(fds[1], &self, sizeof self) != (ssize_t)sizeof self) _exit(1);
            close(fds[0]);
            close(fds[1]);
            sleep(60);
        }
        _exit(0);
    }
    close(fds[1]);
    waitpid(child, NULL, 0);
    pid_t grandchild = 0;
    if (read(fds[0], &grandchild, sizeof grandchild) != (ssize_t)sizeof grandchild) {
        fprintf(stderr, "escaper: no pid from the grandchild\n");
        return 97;
    }
    printf("escaped %d\n", (int)grandchild);
    fflush(stdout);
    if (!exit_now) sleep(60);
    return 0;
}
