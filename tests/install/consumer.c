/*
 * An installed-package consumer: builds against the installed header and
 * library (found by pkg-config or find_package), runs `echo installed-ok`
 * and prints its output.  Exit 0 on success.
 */
#include <stdio.h>
#include <string.h>

#include <solti_exec.h>

static int check(int rc, const char *what) {
    if (rc < 0) {
        char msg[1024];
        solti_last_error(msg, sizeof msg);
        fprintf(stderr, "consumer: %s: %s: %s\n", what, solti_strerror(rc), msg);
    }
    return rc;
}

int main(void) {
    solti_runner_t runner = 0;
    solti_task_t task = 0;
    if (check(solti_runner_new("consumer", NULL, &runner), "solti_runner_new") < 0) return 1;
    const char *spec = "{\"slot\": \"consumer\", \"kind\": {\"subprocess\": {\"mode\": {\"command\": "
                       "{\"command\": \"echo\", \"args\": [\"installed-ok\"]}}}}, \"timeout\": 10000}";
    if (check(solti_task_build(runner, spec, &task), "solti_task_build") < 0) return 1;
    if (check(solti_task_spawn(task), "solti_task_spawn") < 0) return 1;

    uint64_t cursor = 0;
    solti_event_t events[16];
    char buf[4096];
    for (int polls = 0; polls < 100; polls++) { /* at most 100 x 100 ms */
        size_t count = 0;
        int rc = solti_task_poll(task, &cursor, events, 16, buf, sizeof buf, 100, &count);
        if (rc == SOLTI_EOF) break;
        if (check(rc, "solti_task_poll") < 0) return 1;
        for (size_t i = 0; i < count; i++)
            if (events[i].kind == SOLTI_EVENT_LINE)
                printf("%.*s\n", (int)events[i].len, events[i].data);
    }

    solti_exit_t ex;
    if (check(solti_task_wait(task, 10000, &ex), "solti_task_wait") < 0) return 1;
    solti_task_free(task);
    solti_runner_free(runner);
    if (ex.outcome != SOLTI_OUTCOME_SUCCESS) {
        fprintf(stderr, "consumer: task ended with outcome %d: %s\n", (int)ex.outcome, ex.reason);
        return 1;
    }
    printf("consumer: solti_exec %s\n", solti_version());
    return 0;
}
