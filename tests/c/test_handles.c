/*
 * Handles and arguments: a zero, unknown, stale (freed) or wrong-kind handle
 * gives SOLTI_EBADF from every function, never a crash; freeing twice is
 * harmless (SOLTI_EBADF); NULL and out-of-range arguments give SOLTI_EINVAL.
 */
#include <pthread.h>

#include "test.h"

/* Every function taking a runner, given `r`, must say SOLTI_EBADF. */
static void check_bad_runner(solti_runner_t r, const char *what) {
    fprintf(stderr, "bad runner: %s (%" PRIu64 ")\n", what, r);
    char buf[256];
    size_t len = 0;
    solti_task_t t = 0;
    CHECK_ERR(solti_runner_metrics(r, SOLTI_METRICS_JSON, buf, sizeof buf, &len), SOLTI_EBADF,
              "");
    CHECK_CODE(solti_runner_metrics(r, SOLTI_METRICS_PROMETHEUS, buf, sizeof buf, &len),
               SOLTI_EBADF);
    CHECK_CODE(solti_task_build(r, "{\"slot\":\"x\",\"kind\":{\"subprocess\":{\"mode\":{"
                                   "\"command\":{\"command\":\"true\"}}}},\"timeout\":1000}",
                                &t),
               SOLTI_EBADF);
    CHECK_EQ_INT(t, 0); /* out-parameters are written on success only */
    CHECK_CODE(solti_runner_free(r), SOLTI_EBADF);
}

/* Every function taking a task, given `t`, must say SOLTI_EBADF. */
static void check_bad_task(solti_task_t t, const char *what) {
    fprintf(stderr, "bad task: %s (%" PRIu64 ")\n", what, t);
    char buf[256];
    solti_event_t ev[4];
    uint64_t cursor = 0;
    size_t count = 77;
    solti_exit_t ex;
    uint32_t attempts = 77;
    CHECK_CODE(solti_task_id(t, buf, sizeof buf), SOLTI_EBADF);
    CHECK_CODE(solti_task_spawn(t), SOLTI_EBADF);
    CHECK_CODE(solti_task_cancel(t), SOLTI_EBADF);
    CHECK_CODE(solti_task_wait(t, 0, &ex), SOLTI_EBADF);
    CHECK_CODE(solti_task_wait(t, 100, &ex), SOLTI_EBADF);
    CHECK_CODE(solti_task_poll(t, &cursor, ev, 4, buf, sizeof buf, 0, &count), SOLTI_EBADF);
    CHECK_CODE(solti_task_poll(t, &cursor, ev, 4, buf, sizeof buf, 100, &count), SOLTI_EBADF);
    CHECK_EQ_INT(cursor, 0);
    CHECK_EQ_INT(count, 77);
    CHECK_CODE(solti_task_fd(t), SOLTI_EBADF);
    CHECK_CODE(solti_task_attempts(t, &attempts), SOLTI_EBADF);
    CHECK_EQ_INT(attempts, 77);
    CHECK_CODE(solti_task_free(t), SOLTI_EBADF);
    /* The message says what was wrong. */
    CHECK(test_last_error()[0] != '\0');
}

static const char *const ECHO_HI[] = {"echo", "hi", NULL};

static void test_zero_and_unknown_handles(void) {
    check_bad_runner(0, "zero");
    check_bad_runner(UINT64_MAX, "UINT64_MAX");
    check_bad_runner(987654321, "never issued");
    check_bad_task(0, "zero");
    check_bad_task(UINT64_MAX, "UINT64_MAX");
    check_bad_task(987654321, "never issued");
}

static void test_wrong_kind_handles(void) {
    solti_runner_t r = test_runner("handles-kind", NULL);
    solti_task_t t = test_cmd_task(r, "kind", ECHO_HI, 5000, "", "");
    CHECK(r != t);
    check_bad_task((solti_task_t)r, "a runner passed as a task");
    check_bad_runner((solti_runner_t)t, "a task passed as a runner");
    /* Both are still alive and well afterwards. */
    char id[128];
    CHECK_OK(solti_task_id(t, id, sizeof id));
    CHECK_OK(solti_task_free(t));
    CHECK_OK(solti_runner_free(r));
}

static void test_stale_handles_and_double_free(void) {
    solti_runner_t r = test_runner("handles-stale", NULL);
    solti_task_t t = test_cmd_task(r, "stale", ECHO_HI, 5000, "", "");
    CHECK_OK(solti_task_free(t));
    check_bad_task(t, "freed task"); /* includes a second solti_task_free */
    CHECK_CODE(solti_task_free(t), SOLTI_EBADF);

    /* Freeing a runner frees its tasks: their handles go stale too. */
    solti_task_t t2 = test_cmd_task(r, "stale2", ECHO_HI, 5000, "", "");
    CHECK_OK(solti_runner_free(r));
    check_bad_runner(r, "freed runner"); /* includes a second solti_runner_free */
    check_bad_task(t2, "task of a freed runner");

    /* Ids are never reused: new handles differ from every freed one. */
    solti_runner_t r2 = test_runner("handles-stale", NULL);
    solti_task_t t3 = test_cmd_task(r2, "stale", ECHO_HI, 5000, "", "");
    CHECK(r2 != r && r2 != t && r2 != t2);
    CHECK(t3 != r && t3 != t && t3 != t2);
    CHECK_OK(solti_runner_free(r2));
}

static void test_null_and_invalid_arguments(void) {
    solti_runner_t r = 0;
    CHECK_CODE(solti_runner_new(NULL, NULL, &r), SOLTI_EINVAL);
    CHECK_CODE(solti_runner_new("args", NULL, NULL), SOLTI_EINVAL);
    CHECK_EQ_INT(r, 0);

    r = test_runner("args", NULL);
    char buf[4096];
    size_t len = 0;
    CHECK_CODE(solti_runner_metrics(r, SOLTI_METRICS_JSON, buf, sizeof buf, NULL), SOLTI_EINVAL);
    CHECK_CODE(solti_runner_metrics(r, SOLTI_METRICS_JSON, NULL, 16, &len), SOLTI_EINVAL);
    CHECK_CODE(solti_runner_metrics(r, 7, buf, sizeof buf, &len), SOLTI_EINVAL);
    CHECK_CODE(solti_runner_metrics(r, -1, buf, sizeof buf, &len), SOLTI_EINVAL);

    solti_task_t t = 0;
    CHECK_CODE(solti_task_build(r, NULL, &t), SOLTI_EINVAL);
    char *spec = test_spec("args", ECHO_HI, 5000, "", "");
    CHECK_CODE(solti_task_build(r, spec, NULL), SOLTI_EINVAL);
    free(spec);
    t = test_cmd_task(r, "args", ECHO_HI, 5000, "", "");

    CHECK_CODE(solti_task_id(t, NULL, 16), SOLTI_EINVAL);

    solti_exit_t ex;
    CHECK_CODE(solti_task_wait(t, 0, NULL), SOLTI_ESTATE); /* exit_out is optional */
    CHECK_CODE(solti_task_wait(t, -2, &ex), SOLTI_EINVAL);

    solti_event_t ev[4];
    uint64_t cursor = 0;
    size_t count = 0;
    CHECK_CODE(solti_task_poll(t, NULL, ev, 4, buf, sizeof buf, 0, &count), SOLTI_EINVAL);
    CHECK_CODE(solti_task_poll(t, &cursor, NULL, 4, buf, sizeof buf, 0, &count), SOLTI_EINVAL);
    CHECK_CODE(solti_task_poll(t, &cursor, ev, 0, buf, sizeof buf, 0, &count), SOLTI_EINVAL);
    CHECK_CODE(solti_task_poll(t, &cursor, ev, 4, NULL, 16, 0, &count), SOLTI_EINVAL);
    CHECK_CODE(solti_task_poll(t, &cursor, ev, 4, buf, sizeof buf, 0, NULL), SOLTI_EINVAL);
    CHECK_CODE(solti_task_poll(t, &cursor, ev, 4, buf, sizeof buf, -2, &count), SOLTI_EINVAL);
    CHECK_EQ_INT(cursor, 0);

    CHECK_CODE(solti_task_attempts(t, NULL), SOLTI_EINVAL);
    CHECK(test_last_error()[0] != '\0');

    /* Nothing above harmed the task: it still runs normally. */
    test_events_t evs = {0};
    CHECK_OK(solti_task_spawn(t));
    test_read_all(t, &cursor, &evs, 10000);
    CHECK_OK(solti_task_wait(t, 5000, NULL));
    CHECK_LINES(&evs, SOLTI_STDOUT, "hi");
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
    CHECK_OK(solti_runner_free(r));
}

/* A thread blocked in solti_task_wait or solti_task_poll when another frees
   the task comes back at once, without a crash. */
typedef struct blocked_call {
    solti_task_t task;
    int use_poll;
    int rc;
    int64_t returned_ms;
} blocked_call_t;

static void *blocked_thread(void *arg) {
    blocked_call_t *c = (blocked_call_t *)arg;
    if (c->use_poll) {
        /* Read the STARTED event, then block for more. */
        uint64_t cursor = 0;
        solti_event_t ev[4];
        char buf[256];
        size_t count = 0;
        c->rc = solti_task_poll(c->task, &cursor, ev, 4, buf, sizeof buf, 5000, &count);
        if (c->rc == SOLTI_OK)
            c->rc = solti_task_poll(c->task, &cursor, ev, 4, buf, sizeof buf, 20000, &count);
    } else {
        solti_exit_t ex;
        c->rc = solti_task_wait(c->task, 20000, &ex);
    }
    c->returned_ms = test_now_ms();
    return NULL;
}

static void test_free_while_blocked(void) {
    solti_runner_t r = test_runner("handles-blocked", NULL);
    const char *argv[] = {"sleep", "30", NULL};
    for (int use_poll = 0; use_poll <= 1; use_poll++) {
        blocked_call_t c = {test_cmd_task(r, "blocked", argv, 60000, "", ""), use_poll, 99, 0};
        CHECK_OK(solti_task_spawn(c.task));
        pthread_t th;
        CHECK_EQ_INT(pthread_create(&th, NULL, blocked_thread, &c), 0);
        test_sleep_ms(300); /* let it block */
        int64_t freed_at = test_now_ms();
        CHECK_OK(solti_task_free(c.task));
        CHECK_EQ_INT(pthread_join(th, NULL), 0);
        int64_t after = c.returned_ms - freed_at;
        CHECK_MSG(after < 5000, "%s blocked %lld ms after the task was freed",
                  use_poll ? "solti_task_poll" : "solti_task_wait", (long long)after);
        CHECK_MSG(c.rc == SOLTI_OK || c.rc == SOLTI_EOF || c.rc == SOLTI_EBADF,
                  "%s returned %d (%s) when the task was freed under it",
                  use_poll ? "solti_task_poll" : "solti_task_wait", c.rc, test_code_name(c.rc));
        printf("%s when freed meanwhile: %s\n", use_poll ? "solti_task_poll" : "solti_task_wait",
               test_code_name(c.rc));
    }
    CHECK_OK(solti_runner_free(r));
}

int main(void) {
    test_zero_and_unknown_handles();
    test_wrong_kind_handles();
    test_stale_handles_and_double_free();
    test_null_and_invalid_arguments();
    test_free_while_blocked();
    printf("test_handles: ok\n");
    return 0;
}
