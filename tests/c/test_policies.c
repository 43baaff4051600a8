/*
 * Waiting and the spec's policies: wait before spawn and with a timeout,
 * attempt counting, admission (dropIfRunning, replace, queue) and restart
 * (onFailure with maxRetries, always until canceled).
 */
#include "test.h"

static solti_runner_t runner;

static uint32_t attempts(solti_task_t t) {
    uint32_t n = 0;
    CHECK_OK(solti_task_attempts(t, &n));
    return n;
}

static void test_wait_states(void) {
    const char *argv[] = {"sleep", "2", NULL};
    solti_task_t t = test_cmd_task(runner, "wait", argv, 10000, "", "");
    solti_exit_t ex;
    memset(&ex, 0x5a, sizeof ex);
    CHECK_CODE(solti_task_wait(t, 0, &ex), SOLTI_ESTATE);
    CHECK_CODE(solti_task_wait(t, 100, &ex), SOLTI_ESTATE);
    CHECK_EQ_INT(ex.attempt, 0x5a5a5a5a); /* not written on failure */
    CHECK_EQ_INT(attempts(t), 0);

    CHECK_OK(solti_task_spawn(t));
    CHECK_EQ_INT(attempts(t), 1);
    CHECK_CODE(solti_task_wait(t, 0, &ex), SOLTI_ETIMEDOUT);
    int64_t t0 = test_now_ms();
    CHECK_CODE(solti_task_wait(t, 200, &ex), SOLTI_ETIMEDOUT);
    int64_t took = test_now_ms() - t0;
    CHECK_MSG(took >= 150 && took < 1500, "wait(200) returned after %lld ms", (long long)took);
    ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    /* Done: every later wait answers at once with the same report. */
    solti_exit_t again = test_wait(t, 0);
    CHECK_EQ_INT(again.finished_ms, ex.finished_ms);
    CHECK_OK(solti_task_free(t));
}

static void test_admission_drop_if_running(void) {
    const char *argv[] = {"sleep", "30", NULL};
    solti_task_t t = test_cmd_task(runner, "drop", argv, 60000, "", "\"admission\": \"dropIfRunning\"");
    CHECK_OK(solti_task_spawn(t));
    CHECK_CODE(solti_task_spawn(t), SOLTI_ESTATE);
    CHECK_EQ_INT(attempts(t), 1);
    CHECK_OK(solti_task_cancel(t));
    solti_exit_t ex = test_wait(t, 5000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_CANCELED);
    CHECK_OK(solti_task_free(t));
}

static void test_admission_replace(void) {
    const char *argv[] = {"sleep", "30", NULL};
    solti_task_t t = test_cmd_task(runner, "replace", argv, 60000, "", "\"admission\": \"replace\"");
    CHECK_OK(solti_task_spawn(t));
    CHECK_OK(solti_task_spawn(t));
    CHECK_EQ_INT(attempts(t), 2);
    CHECK_CODE(solti_task_wait(t, 200, &(solti_exit_t){0}), SOLTI_ETIMEDOUT);
    CHECK_OK(solti_task_cancel(t));
    solti_exit_t ex = test_wait(t, 5000);
    CHECK_EQ_INT(ex.attempt, 2);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_CANCELED);

    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 5000);
    /* Attempt 1 finished (canceled) before attempt 2 started. */
    const test_event_t *fin1 = test_nth(&evs, SOLTI_EVENT_FINISHED, 0, 0);
    const test_event_t *start2 = test_nth(&evs, SOLTI_EVENT_STARTED, 0, 1);
    CHECK(fin1 != NULL && start2 != NULL);
    CHECK_EQ_INT(fin1->attempt, 1);
    CHECK_EQ_INT(fin1->value, SOLTI_OUTCOME_CANCELED);
    CHECK_EQ_INT(start2->attempt, 2);
    CHECK(fin1 < start2);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

static void test_admission_queue(void) {
    const char *argv[] = {test_helper("printer"), "sleep:1000", "out:done", NULL};
    solti_task_t t = test_cmd_task(runner, "queue", argv, 10000, "", "\"admission\": \"queue\"");
    CHECK_OK(solti_task_spawn(t));
    int64_t t0 = test_now_ms();
    CHECK_OK(solti_task_spawn(t)); /* queued: returns at once, not after the first one */
    CHECK_MSG(test_now_ms() - t0 < 700, "a queued spawn blocked %lld ms", (long long)(test_now_ms() - t0));
    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 10000);
    solti_exit_t ex = test_wait(t, 1000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_EQ_INT(ex.attempt, 2);
    CHECK_EQ_INT(attempts(t), 2);
    /* STARTED 1, line, FINISHED 1, STARTED 2, line, FINISHED 2: one after the other. */
    CHECK_EQ_INT(evs.n, 6);
    CHECK(evs.v[2].kind == SOLTI_EVENT_FINISHED && evs.v[2].attempt == 1);
    CHECK(evs.v[3].kind == SOLTI_EVENT_STARTED && evs.v[3].attempt == 2);
    CHECK(evs.v[4].kind == SOLTI_EVENT_LINE && evs.v[4].attempt == 2 && evs.v[4].seq == 0);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

static void test_restart_on_failure(void) {
    const char *argv[] = {"sh", "-c", "echo try; exit 1", NULL};
    solti_task_t t = test_cmd_task(
        runner, "restart", argv, 10000, "",
        "\"restart\": {\"type\": \"onFailure\"}, \"maxRetries\": 2,"
        " \"backoff\": {\"jitter\": \"none\", \"firstMs\": 20, \"maxMs\": 20, \"factor\": 1.0}");
    CHECK_OK(solti_task_spawn(t));
    solti_exit_t ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
    uint32_t n = attempts(t);
    CHECK_MSG(n == 3, "maxRetries 2: %u attempts, want 3 (the first and two retries)", n);
    CHECK_EQ_INT(ex.attempt, n);

    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 5000);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_STARTED, 0), n);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_FINISHED, 0), n);
    for (uint32_t a = 0; a < n; a++) {
        const test_event_t *line = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, a);
        CHECK(line != NULL);
        CHECK_EQ_INT(line->attempt, a + 1);
        CHECK_EQ_INT(line->seq, 0); /* seq restarts per attempt */
    }
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));

    /* A success stops onFailure restarts. */
    const char *ok[] = {"true", NULL};
    t = test_cmd_task(runner, "restart-ok", ok, 10000, "",
                      "\"restart\": {\"type\": \"onFailure\"}, \"maxRetries\": 5,"
                      " \"backoff\": {\"jitter\": \"none\", \"firstMs\": 20, \"maxMs\": 20, \"factor\": 1.0}");
    CHECK_OK(solti_task_spawn(t));
    ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_EQ_INT(attempts(t), 1);
    CHECK_OK(solti_task_free(t));
}

static void test_restart_always_until_cancel(void) {
    const char *argv[] = {"echo", "again", NULL};
    solti_task_t t = test_cmd_task(runner, "always", argv, 10000, "",
                                   "\"restart\": {\"type\": \"always\", \"intervalMs\": 20}");
    CHECK_OK(solti_task_spawn(t));
    int64_t deadline = test_now_ms() + 10000;
    while (attempts(t) < 3) {
        CHECK_MSG(test_now_ms() < deadline, "restart always: only %u attempts in 10 s", attempts(t));
        test_sleep_ms(10);
    }
    CHECK_CODE(solti_task_wait(t, 0, &(solti_exit_t){0}), SOLTI_ETIMEDOUT); /* still scheduled */
    CHECK_OK(solti_task_cancel(t));
    solti_exit_t ex = test_wait(t, 5000);
    (void)ex;
    uint32_t n = attempts(t);
    test_sleep_ms(200);
    CHECK_MSG(attempts(t) == n, "attempts went on after cancel: %u then %u", n, attempts(t));
    CHECK_OK(solti_task_free(t));
}

int main(void) {
    runner = test_runner("policies", NULL);
    test_wait_states();
    test_admission_drop_if_running();
    test_admission_replace();
    test_admission_queue();
    test_restart_on_failure();
    test_restart_always_until_cancel();
    CHECK_OK(solti_runner_free(runner));
    printf("test_policies: ok\n");
    return 0;
}
