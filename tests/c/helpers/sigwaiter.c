/* sigwaiter: forks a child (in the same process group) that prints
 * "child usr1" and exits if SIGUSR1 reaches it; the parent prints "ready",
 * and on SIGUSR1 prints "usr1", gives the child 2 s to say it got it too
 * (under load it may take a while to run), kills it if it is still there and
 * exits 0. Exits 2 after 30 s without SIGUSR1. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t usr1;

static void on_usr1(int sig) { (void)sig; usr1 = 1; }

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t child = fork();
    if (child == 0) {
        for (int i = 0; i < 3000; i++) {
            if (usr1) {
                printf("child usr1\n");
                fflush(stdout);
                _exit(0);
            }
            usleep(10000);
        }
        _exit(0);
    }
    usleep(50000); /* the child's handler is in place (inherited at fork) */
    printf("ready\n");
    fflush(stdout);
    for (int i = 0; i < 3000; i++) {
        if (usr1) {
            printf("usr1\n");
            fflush(stdout);
            for (int j = 0; j < 200; j++) { /* up to 2 s for the child's word */
                if (waitpid(child, NULL, WNOHANG) == child) return 0;
                usleep(10000);
            }
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            return 0;
        }
        usleep(10000);
    }
    return 2;
}
