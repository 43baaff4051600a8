/*
 * The child's environment: the host's environ read at spawn time, plus the
 * task env, plus the runner env, the runner winning on a duplicate key and the
 * last entry winning inside one list; and the child's working directory.
 */
#include "test.h"

/* Runs envprinter with args under runner r, sub_extra in the subprocess. */
static void run_envprinter(solti_runner_t r, const char *sub_extra, const char *const args[],
                           test_events_t *evs) {
    const char *argv[16] = {test_helper("envprinter")};
    for (int i = 0; args[i] != NULL && i < 14; i++) argv[i + 1] = args[i];
    solti_exit_t ex = test_run(r, argv, sub_extra, evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
}

static void test_merge_and_precedence(void) {
    solti_runner_t r = test_runner(
        "env", "{\"env\": [{\"key\": \"B\", \"value\": \"runner\"}, {\"key\": \"C\", \"value\": \"runner-c\"},"
               " {\"key\": \"E\", \"value\": \"first\"}, {\"key\": \"E\", \"value\": \"last\"}]}");
    const char *args[] = {"A", "B", "C", "D", "E", NULL};
    test_events_t evs = {0};
    run_envprinter(r,
                   "\"env\": [{\"key\": \"A\", \"value\": \"task\"}, {\"key\": \"B\", \"value\": \"task\"},"
                   " {\"key\": \"D\", \"value\": \"1\"}, {\"key\": \"D\", \"value\": \"2\"}]",
                   args, &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, "A=task", "B=runner", "C=runner-c", "D=2", "E=last");
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(r));
}

static void test_host_environ_at_spawn(void) {
    solti_runner_t r = test_runner("env-host", NULL);
    const char *args[] = {"SOLTI_TEST_HOST", "SOLTI_TEST_GONE", "SOLTI_TEST_OVER", "PATH", NULL};

    /* Set after the library loaded and after the runner exists: still seen. */
    setenv("SOLTI_TEST_HOST", "first", 1);
    setenv("SOLTI_TEST_GONE", "here", 1);
    setenv("SOLTI_TEST_OVER", "host", 1);
    test_events_t evs = {0};
    run_envprinter(r, "\"env\": [{\"key\": \"SOLTI_TEST_OVER\", \"value\": \"task\"}]", args, &evs);
    char path_line[8192];
    snprintf(path_line, sizeof path_line, "PATH=%s", getenv("PATH"));
    CHECK_LINES(&evs, SOLTI_STDOUT, "SOLTI_TEST_HOST=first", "SOLTI_TEST_GONE=here",
                "SOLTI_TEST_OVER=task", path_line);
    test_events_free(&evs);

    /* Changed again: the next spawn reads environ anew. */
    setenv("SOLTI_TEST_HOST", "second", 1);
    unsetenv("SOLTI_TEST_GONE");
    run_envprinter(r, "", args, &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, "SOLTI_TEST_HOST=second", "SOLTI_TEST_GONE unset",
                "SOLTI_TEST_OVER=host", path_line);
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(r));
}

static void test_cwd(void) {
    solti_runner_t r = test_runner("env-cwd", NULL);
    const char *args[] = {"--cwd", NULL};
    test_events_t evs = {0};
    run_envprinter(r, "\"cwd\": \"/tmp\"", args, &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, "cwd=/tmp");
    test_events_free(&evs);

    /* Without cwd, the child starts in the host's working directory. */
    char here[4096], want[4200];
    CHECK(getcwd(here, sizeof here) != NULL);
    snprintf(want, sizeof want, "cwd=%s", here);
    run_envprinter(r, "", args, &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, want);
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(r));
}

int main(void) {
    test_merge_and_precedence();
    test_host_environ_at_spawn();
    test_cwd();
    printf("test_env: ok\n");
    return 0;
}
