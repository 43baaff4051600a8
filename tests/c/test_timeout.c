/* timeout: the attempt's whole tree is killed and its outcome is TIMEOUT. */
#include "test.h"

static void test_sleep_times_out(solti_runner_t r) {
    const char *argv[] = {"sleep", "5", NULL};
    solti_task_t t = test_cmd_task(r, "timeout", argv, 300, "", "");
    int64_t t0 = test_now_ms();
    CHECK_OK(solti_task_spawn(t));
    solti_exit_t ex = test_wait(t, 5000);
    int64_t took = test_now_ms() - t0;
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_TIMEOUT);
    CHECK_MSG(took >= 250 && took < 2000, "timeout 300 ended after %lld ms", (long long)took);
    CHECK_EQ_INT(ex.attempt, 1);
    CHECK_EQ_INT(ex.signal, SIGKILL);

    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 2000);
    const test_event_t *fin = test_nth(&evs, SOLTI_EVENT_FINISHED, 0, 0);
    CHECK(fin != NULL);
    CHECK_EQ_INT(fin->value, SOLTI_OUTCOME_TIMEOUT);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

static void test_timeout_kills_grandchildren(solti_runner_t r) {
    const char *argv[] = {test_helper("forker"), "30", NULL};
    solti_task_t t = test_cmd_task(r, "timeout-tree", argv, 500, "", "");
    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 5000);
    const test_event_t *line = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 0);
    CHECK_MSG(line != NULL, "forker printed nothing");
    int grandchild = 0;
    CHECK(sscanf(line->text, "grandchild %d", &grandchild) == 1 && grandchild > 1);
    solti_exit_t ex = test_wait(t, 5000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_TIMEOUT);
    CHECK_MSG(test_wait_pid_gone(grandchild, 3000), "grandchild %d survived the timeout", grandchild);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

int main(void) {
    solti_runner_t r = test_runner("timeout", NULL);
    test_sleep_times_out(r);
    test_timeout_kills_grandchildren(r);
    CHECK_OK(solti_runner_free(r));
    printf("test_timeout: ok\n");
    return 0;
}
