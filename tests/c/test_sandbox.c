/*
 * The runner's sandbox settings reach the child before its first
 * instruction: rlimits, no_new_privs, capability drop with kept ones.
 * (Cgroup limits: test_cgroups.)
 */
#include "test.h"

/* The value of a line "Key:  value" in the child's /proc/self/status. */
static const char *status_field(const test_events_t *evs, const char *key) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s:", key);
    const char *v = test_line_after(evs, prefix);
    if (v == NULL) {
        test_events_dump(evs);
        FAIL("no \"%s\" line in the child's output", prefix);
    }
    return v + strspn(v, " \t");
}

/* The soft limit column of a /proc/self/limits line, e.g. "Max open files". */
static const char *soft_limit(const test_events_t *evs, const char *name) {
    static char value[64];
    const char *v = test_line_after(evs, name);
    if (v == NULL || sscanf(v, " %63s", value) != 1) {
        test_events_dump(evs);
        FAIL("no \"%s\" line in the child's /proc/self/limits", name);
    }
    return value;
}

static void test_rlimits(void) {
    const char *argv[] = {"cat", "/proc/self/limits", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_try_run_config("sandbox-rl",
                    "{\"rlimits\": {\"maxOpenFiles\": 64, \"maxFileSizeBytes\": 1048576,"
                    " \"disableCoreDumps\": true}}",
                    argv, &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_STR_EQ(soft_limit(&evs, "Max open files"), "64");
    CHECK_STR_EQ(soft_limit(&evs, "Max file size"), "1048576");
    CHECK_STR_EQ(soft_limit(&evs, "Max core file size"), "0");
    test_events_free(&evs);
}

static void test_no_new_privs(void) {
    const char *argv[] = {"cat", "/proc/self/status", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_try_run_config("sandbox-nnp", NULL, argv, &evs, &ex));
    CHECK_STR_EQ(status_field(&evs, "NoNewPrivs"), "0"); /* not by default */
    test_events_free(&evs);
    CHECK_OK(test_try_run_config("sandbox-nnp", "{\"security\": {\"noNewPrivs\": true}}", argv, &evs, &ex));
    CHECK_STR_EQ(status_field(&evs, "NoNewPrivs"), "1");
    test_events_free(&evs);
}

static void test_capabilities(void) {
    if (geteuid() != 0) {
        printf("not root: capability drop not tested\n");
        return;
    }
    const char *argv[] = {"cat", "/proc/self/status", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_try_run_config("sandbox-caps",
                    "{\"security\": {\"dropAllCaps\": true, \"keepCaps\": [\"NET_BIND_SERVICE\"],"
                    " \"failOnCapError\": true}}",
                    argv, &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    /* CAP_NET_BIND_SERVICE is bit 10: 0x400, and nothing else, in every set. */
    CHECK_STR_EQ(status_field(&evs, "CapEff"), "0000000000000400");
    CHECK_STR_EQ(status_field(&evs, "CapPrm"), "0000000000000400");
    CHECK_STR_EQ(status_field(&evs, "CapBnd"), "0000000000000400");
    CHECK_STR_EQ(status_field(&evs, "CapAmb"), "0000000000000400");
    test_events_free(&evs);

    CHECK_OK(test_try_run_config("sandbox-caps", "{\"security\": {\"dropAllCaps\": true}}", argv, &evs, &ex));
    CHECK_STR_EQ(status_field(&evs, "CapEff"), "0000000000000000");
    CHECK_STR_EQ(status_field(&evs, "CapBnd"), "0000000000000000");
    test_events_free(&evs);
}

int main(void) {
    test_rlimits();
    test_no_new_privs();
    test_capabilities();
    printf("test_sandbox: ok\n");
    return 0;
}
