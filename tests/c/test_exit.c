/*
 * How an attempt ends: exit codes with and without failOnNonZero, death by a
 * signal (reported as the signal, never 128+N), the report's fields, and
 * spawn failures reported by solti_task_spawn with their cause.
 */
#include <sys/stat.h>
#include <time.h>

#include "test.h"

static solti_runner_t runner;

static solti_exit_t run_sh(const char *script, const char *sub_extra, test_events_t *evs) {
    const char *argv[] = {"sh", "-c", script, NULL};
    return test_run(runner, argv, sub_extra, evs);
}

static void test_exit_zero(void) {
    test_events_t evs = {0};
    int64_t before = (int64_t)time(NULL) * 1000;
    solti_exit_t ex = run_sh("echo ok", "", &evs);
    int64_t after = (int64_t)time(NULL) * 1000 + 1000;
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_EQ_INT(ex.attempt, 1);
    CHECK_EQ_INT(ex.exit_code, 0);
    CHECK_EQ_INT(ex.signal, 0);
    CHECK_EQ_INT(ex.core_dumped, 0);
    CHECK_MSG(ex.reason[0] == '\0', "reason on success: \"%s\"", ex.reason);
    CHECK_MSG(ex.started_ms >= before - 1000 && ex.started_ms <= ex.finished_ms && ex.finished_ms <= after,
              "started %" PRId64 " finished %" PRId64 " not within [%" PRId64 ", %" PRId64 "]",
              ex.started_ms, ex.finished_ms, before, after);
    CHECK(ex.user_us >= 0 && ex.system_us >= 0);
    CHECK_MSG(ex.max_rss_kb > 0, "max_rss_kb %" PRId64, ex.max_rss_kb);
    CHECK(ex.oom_kills >= -1);
    test_events_free(&evs);
}

static void test_non_zero(void) {
    test_events_t evs = {0};
    solti_exit_t ex = run_sh("echo out; exit 3", "", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(ex.exit_code, 3);
    CHECK_EQ_INT(ex.signal, 0);
    CHECK_STR_EQ(ex.reason, "process exited with non-zero code: 3");
    const test_event_t *fin = test_nth(&evs, SOLTI_EVENT_FINISHED, 0, 0);
    CHECK(fin != NULL);
    CHECK_EQ_INT(fin->value, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(fin->exit_code, 3);
    CHECK_LINES(&evs, SOLTI_STDOUT, "out");
    test_events_free(&evs);

    /* Explicitly true: the same. */
    ex = run_sh("exit 3", "\"failOnNonZero\": true", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
    CHECK_STR_EQ(ex.reason, "process exited with non-zero code: 3");
    test_events_free(&evs);

    /* failOnNonZero false: success, the code still reported. */
    ex = run_sh("exit 3", "\"failOnNonZero\": false", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_EQ_INT(ex.exit_code, 3);
    fin = test_nth(&evs, SOLTI_EVENT_FINISHED, 0, 0);
    CHECK_EQ_INT(fin->value, SOLTI_OUTCOME_SUCCESS);
    CHECK_EQ_INT(fin->exit_code, 3);
    test_events_free(&evs);
}

static void test_killed_by_signal(void) {
    test_events_t evs = {0};
    solti_exit_t ex = run_sh("kill -KILL $$", "", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(ex.signal, SIGKILL);
    CHECK_EQ_INT(ex.exit_code, -1);
    CHECK_STR_EQ(ex.reason, "process terminated by signal: SIGKILL");
    const test_event_t *fin = test_nth(&evs, SOLTI_EVENT_FINISHED, 0, 0);
    CHECK_EQ_INT(fin->signal, SIGKILL);
    CHECK_EQ_INT(fin->exit_code, -1);
    test_events_free(&evs);

    ex = run_sh("kill -TERM $$", "\"failOnNonZero\": false", &evs);
    CHECK_EQ_INT(ex.signal, SIGTERM);
    CHECK_EQ_INT(ex.exit_code, -1);
    CHECK_STR_CONTAINS(ex.reason, "SIGTERM");
    test_events_free(&evs);
}

/* solti_task_spawn fails with SOLTI_ESPAWN and a message with all of needles;
   the task is then done: FATAL, no attempt. */
static void check_spawn_fails(const char *const argv[], const char *sub_extra, const char *needle1,
                              const char *needle2) {
    solti_task_t t = test_cmd_task(runner, "spawnfail", argv, 5000, sub_extra, "");
    int64_t t0 = test_now_ms();
    CHECK_ERR(solti_task_spawn(t), SOLTI_ESPAWN, needle1);
    CHECK_MSG(test_now_ms() - t0 < 3000, "the failed spawn took %lld ms", (long long)(test_now_ms() - t0));
    CHECK_STR_CONTAINS(test_last_error(), needle2);
    CHECK_STR_CONTAINS(test_last_error(), "spawn failed");
    uint32_t attempts = 99;
    CHECK_OK(solti_task_attempts(t, &attempts));
    CHECK_EQ_INT(attempts, 0);
    solti_exit_t ex = test_wait(t, 2000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FATAL);
    CHECK_EQ_INT(ex.exit_code, -1);
    CHECK_MSG(ex.reason[0] != '\0', "no reason for a fatal end");
    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 2000);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, 0), 0);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

static void test_spawn_failures(void) {
    const char *missing[] = {"solti-no-such-binary", "x", NULL};
    check_spawn_fails(missing, "", "exec \"solti-no-such-binary\"", "no such file or directory");
    const char *missing_abs[] = {"/nonexistent/solti-bin", NULL};
    check_spawn_fails(missing_abs, "", "/nonexistent/solti-bin", "no such file or directory");
    /* A file without any x bit: EACCES, even for root. */
    char plain[] = "/tmp/solti-not-exec-XXXXXX";
    int fd = mkstemp(plain);
    CHECK(fd >= 0 && fchmod(fd, 0644) == 0);
    close(fd);
    const char *not_exec[] = {plain, NULL};
    check_spawn_fails(not_exec, "", plain, "permission denied");
    unlink(plain);
    const char *ok_cmd[] = {"true", NULL};
    check_spawn_fails(ok_cmd, "\"cwd\": \"/nonexistent-solti-dir\"", "/nonexistent-solti-dir",
                      "no such file or directory");
}

/* A task whose spawn failed is done when solti_task_spawn returns: a wait
   that does not wait has its report at once, every time. */
static void test_failed_spawn_is_done(void) {
    const char *missing[] = {"solti-no-such-binary", NULL};
    for (int i = 0; i < 300; i++) {
        solti_task_t t = test_cmd_task(runner, "done", missing, 5000, "", "");
        CHECK_CODE(solti_task_spawn(t), SOLTI_ESPAWN);
        solti_exit_t ex;
        memset(&ex, 0, sizeof ex);
        CHECK_CODE(solti_task_wait(t, 0, &ex), SOLTI_OK);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_FATAL);
        CHECK_OK(solti_task_free(t));
    }
}

/* An argument or an environment value too big for exec is refused before
   anything starts, as a spec error naming it. */
static void test_too_big_for_exec(void) {
    size_t n = 10u << 20;
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    memset(big, 'x', n);
    big[n] = 0;
    const char *argv[] = {"true", big, NULL};
    solti_task_t t = test_cmd_task(runner, "big", argv, 5000, "", "");
    CHECK_ERR(solti_task_spawn(t), SOLTI_ESPEC, "Args[0] is 10485761 bytes");
    CHECK_OK(solti_task_free(t));

    CHECK(setenv("SOLTI_TEST_BIG", big, 1) == 0);
    const char *ok_cmd[] = {"true", NULL};
    t = test_cmd_task(runner, "big", ok_cmd, 5000, "", "");
    CHECK_ERR(solti_task_spawn(t), SOLTI_ESPEC, "Env \"SOLTI_TEST_BIG\" is");
    CHECK_OK(solti_task_free(t));
    unsetenv("SOLTI_TEST_BIG");
    free(big);
}

int main(void) {
    runner = test_runner("exit", NULL);
    test_too_big_for_exec();
    test_failed_spawn_is_done();
    test_exit_zero();
    test_non_zero();
    test_killed_by_signal();
    test_spawn_failures();
    CHECK_OK(solti_runner_free(runner));
    printf("test_exit: ok\n");
    return 0;
}
