/* winch: on its terminal, prints "size R C" at start and after each SIGWINCH
 * (read with TIOCGWINSZ), "ready" once its handler is in place, and
 * "usr1" then exits 0 on SIGUSR1. Exits 2 after 30 s. */
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

static volatile sig_atomic_t winched, usr1;

static void on_winch(int sig) { (void)sig; winched = 1; }
static void on_usr1(int sig) { (void)sig; usr1 = 1; }

static void print_size(void) {
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0)
        printf("size %u %u\n", ws.ws_row, ws.ws_col);
    else
        printf("size unknown\n");
    fflush(stdout);
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_winch;
    sigaction(SIGWINCH, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    print_size();
    printf("ready\n");
    fflush(stdout);
    for (int i = 0; i < 3000; i++) {
        if (winched) {
            winched = 0;
            print_size();
        }
        if (usr1) {
            printf("usr1\n");
            fflush(stdout);
            return 0;
        }
        usleep(10000);
    }
    return 2;
}
