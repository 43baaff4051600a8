/* sigignorer [SECONDS]: ignores SIGTERM and SIGINT, prints "ready", sleeps. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int seconds = argc > 1 ? atoi(argv[1]) : 30;
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    printf("ready\n");
    fflush(stdout);
    for (int i = 0; i < seconds; i++) sleep(1);
    return 0;
}
