/*
 * solti_task_signal: SIGUSR1 reaches a handler in the child and in the rest
 * of its process group; with SOLTI_SIGNAL_LEADER the leader alone; SIGTERM
 * ends the attempt as a death by signal; no attempt running, a bad signal or
 * flag are refused.
 */
#include "test.h"

static solti_runner_t runner;

/* Reads the task to its end and returns its lines (lines mode). */
static void read_to_end(solti_task_t t, uint64_t *cursor, test_events_t *evs) {
    test_read_all(t, cursor, evs, 20000);
}

static void run_sigwaiter(uint32_t flags, int child_gets_it) {
    const char *argv[] = {test_helper("sigwaiter"), NULL};
    solti_task_t t = test_cmd_task(runner, "usr1", argv, 20000, "", "");
    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_wait_line(t, &cursor, &evs, "ready");
    CHECK_OK(solti_task_signal(t, SIGUSR1, flags));
    read_to_end(t, &cursor, &evs);
    solti_exit_t ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    if (child_gets_it) {
        /* Two processes print: either order. */
        if (test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT) != 3 || !test_line_after(&evs, "child usr1") ||
            !test_line_after(&evs, "usr1")) {
            test_events_dump(&evs);
            FAIL("want ready, usr1 and child usr1");
        }
    } else {
        CHECK_LINES(&evs, SOLTI_STDOUT, "ready", "usr1");
    }
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

int main(void) {
    runner = test_runner("signal", NULL);

    /* The group: the leader's handler and its child's both run. */
    run_sigwaiter(0, 1);
    /* The leader alone: its child is not signalled. */
    run_sigwaiter(SOLTI_SIGNAL_LEADER, 0);

    /* SIGTERM ends the attempt: killed by signal 15, not canceled. */
    const char *sl[] = {test_helper("sleeper"), "30000", NULL};
    solti_task_t t = test_cmd_task(runner, "term", sl, 20000, "", "");
    CHECK_ERR(solti_task_signal(t, SIGTERM, 0), SOLTI_ESTATE, "never spawned");
    CHECK_OK(solti_task_spawn(t));
    CHECK_ERR(solti_task_signal(t, 0, 0), SOLTI_EINVAL, "sig 0");
    CHECK_ERR(solti_task_signal(t, 65, 0), SOLTI_EINVAL, "sig 65");
    CHECK_ERR(solti_task_signal(t, SIGTERM, 1u << 5), SOLTI_EINVAL, "unknown flags");
    CHECK_OK(solti_task_signal(t, SIGTERM, 0));
    solti_exit_t ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(ex.signal, SIGTERM);
    CHECK_ERR(solti_task_signal(t, SIGTERM, 0), SOLTI_ESTATE, "not running");
    CHECK_OK(solti_task_free(t));
    CHECK_CODE(solti_task_signal(t, SIGTERM, 0), SOLTI_EBADF);

    CHECK_OK(solti_runner_free(runner));
    printf("test_signal: ok\n");
    return 0;
}
