/*
 * fork() without exec: in the child every call fails at once with
 * SOLTI_EFORKED (no hang, no crash), and the parent goes on working.
 */
#include <sys/wait.h>

#include "test.h"

/* Child exit codes: 0 = all calls said SOLTI_EFORKED in time. */
enum { CHILD_OK = 0, CHILD_BUILD = 10, CHILD_NEW = 11, CHILD_SPAWN = 12, CHILD_POLL = 13,
       CHILD_FREE = 14, CHILD_SLOW = 15 };

static int child(solti_runner_t r, solti_task_t running) {
    alarm(10); /* a hang shows as SIGALRM in the parent */
    int64_t t0 = test_now_ms();
    solti_task_t t = 0;
    const char *spec = "{\"slot\": \"f\", \"kind\": {\"subprocess\": {\"mode\": {\"command\": "
                       "{\"command\": \"true\"}}}}, \"timeout\": 1000}";
    if (solti_task_build(r, spec, &t) != SOLTI_EFORKED) return CHILD_BUILD;
    solti_runner_t r2 = 0;
    if (solti_runner_new("in-child", NULL, &r2) != SOLTI_EFORKED) return CHILD_NEW;
    if (solti_task_spawn(running) != SOLTI_EFORKED) return CHILD_SPAWN;
    uint64_t cursor = 0;
    solti_event_t ev[2];
    char buf[64];
    size_t count = 0;
    if (solti_task_poll(running, &cursor, ev, 2, buf, sizeof buf, 1000, &count) != SOLTI_EFORKED)
        return CHILD_POLL;
    if (solti_task_free(running) != SOLTI_EFORKED) return CHILD_FREE;
    if (test_now_ms() - t0 > 2000) return CHILD_SLOW;
    return CHILD_OK;
}

int main(void) {
    solti_runner_t r = test_runner("fork", NULL);
    /* A running task, so the library has threads and children when we fork. */
    const char *argv[] = {"sleep", "30", NULL};
    solti_task_t running = test_cmd_task(r, "running", argv, 60000, "", "");
    CHECK_OK(solti_task_spawn(running));

    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(child(r, running));

    int status = 0;
    int64_t deadline = test_now_ms() + 20000;
    pid_t got;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0) {
        if (test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            FAIL("forked child still running after 20 s");
        }
        test_sleep_ms(10);
    }
    CHECK_EQ_INT(got, pid);
    if (WIFSIGNALED(status))
        FAIL("forked child died of signal %d%s", WTERMSIG(status),
             WTERMSIG(status) == SIGALRM ? " (a call hung)" : "");
    CHECK_MSG(WEXITSTATUS(status) == CHILD_OK,
              "forked child exit %d (10 build, 11 runner_new, 12 spawn, 13 poll, 14 free: not "
              "SOLTI_EFORKED; 15: too slow)",
              WEXITSTATUS(status));

    /* The parent is unharmed: its task still runs and cancels, new ones work. */
    uint32_t attempts = 0;
    CHECK_OK(solti_task_attempts(running, &attempts));
    CHECK_EQ_INT(attempts, 1);
    CHECK_OK(solti_task_cancel(running));
    solti_exit_t ex = test_wait(running, 5000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_CANCELED);
    const char *echo[] = {"echo", "after-fork", NULL};
    test_events_t evs = {0};
    ex = test_run(r, echo, "", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_LINES(&evs, SOLTI_STDOUT, "after-fork");
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(r));
    printf("test_fork: ok\n");
    return 0;
}
