/*
 * lifetime_host MODE CONFIG SCRIPT FILE: a host program for test_host_death.
 * It makes a runner with CONFIG, spawns `sh SCRIPT FILE` (a tree with setsid
 * and double-forked descendants that appends their pids and then "ready" to
 * FILE), prints "spawned", and then, by MODE:
 *   wait  blocks until killed (the test sends SIGKILL);
 *   exit  once FILE says "ready", waits for its stdin to close (the test has
 *         checked the tree by then), and returns from main, freeing nothing.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "solti_exec.h"

static int file_ready(const char *path) {
    char line[64];
    int ready = 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "ready", 5) == 0) ready = 1;
    fclose(f);
    return ready;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: lifetime_host wait|exit CONFIG SCRIPT FILE\n");
        return 2;
    }
    solti_runner_t r = 0;
    solti_task_t t = 0;
    char spec[4096];
    snprintf(spec, sizeof spec,
             "{\"slot\":\"lifetime\",\"kind\":{\"subprocess\":{\"mode\":{\"command\":"
             "{\"command\":\"sh\",\"args\":[\"%s\",\"%s\"]}}}},\"timeout\":600000}",
             argv[3], argv[4]);
    if (solti_runner_new("lifetime", argv[2], &r) != SOLTI_OK || solti_task_build(r, spec, &t) != SOLTI_OK ||
        solti_task_spawn(t) != SOLTI_OK) {
        char msg[512];
        solti_last_error(msg, sizeof msg);
        fprintf(stderr, "lifetime_host: %s\n", msg);
        return 1;
    }
    printf("spawned\n");
    fflush(stdout);
    if (strcmp(argv[1], "exit") == 0) {
        while (!file_ready(argv[4])) usleep(5000);
        char c;
        while (read(0, &c, 1) > 0) {
        }
        return 0; /* nothing freed: the runner, the task and the tree are left as they are */
    }
    for (;;) pause();
}
