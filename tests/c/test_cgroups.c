/*
 * Cgroup limits (runner config "cgroups") are enforced, or refused with
 * SOLTI_ESANDBOX naming the controller (failOnError true), or skipped with a
 * WARNING event saying so (failOnError false): never silently ignored.  Which
 * of these happens depends on the host; each is accepted.
 */
#include "test.h"

/* pids 4, failOnError true: either 8 background sleeps fail to fork, or the
   spawn is refused with SOLTI_ESANDBOX naming the controller. */
static void test_cgroup_pids_required(void) {
    const char *argv[] = {"sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait; echo waited", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    int rc = test_try_run_config("sandbox-cg", "{\"cgroups\": {\"pids\": 4, \"failOnError\": true}}", argv, &evs, &ex);
    if (rc == SOLTI_ESANDBOX) {
        CHECK_STR_CONTAINS(test_last_error(), "pids");
        printf("cgroups unavailable here: spawn refused: %s\n", test_last_error());
        return;
    }
    CHECK_OK(rc);
    if (test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDERR) == 0) {
        test_events_dump(&evs);
        FAIL("cgroups.pids 4 with failOnError true: 8 children forked fine, and the spawn "
             "was not refused: the limit was silently ignored");
    }
    test_events_free(&evs);
}

/* failOnError false: it runs; a limit not applied is said in a WARNING. */
static void test_cgroup_optional(void) {
    const char *argv[] = {"sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait; echo waited", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_try_run_config("sandbox-cg-opt", "{\"cgroups\": {\"pids\": 4, \"failOnError\": false}}", argv, &evs, &ex));
    int enforced = test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDERR) > 0;
    const test_event_t *warning = test_nth(&evs, SOLTI_EVENT_WARNING, 0, 0);
    if (!enforced && warning == NULL) {
        test_events_dump(&evs);
        FAIL("cgroups.pids 4 with failOnError false: not enforced and no WARNING event said so");
    }
    printf("optional pids limit: %s\n", enforced ? "enforced" : warning->text);
    test_events_free(&evs);
}

/* memory 64 MiB, failOnError true: allocating 256 MiB is OOM-killed, or the
   spawn is refused. */
static void test_cgroup_memory_required(void) {
    const char *argv[] = {test_helper("printer"), "alloc:256", "out:survived", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    int rc = test_try_run_config("sandbox-mem", "{\"cgroups\": {\"memory\": 67108864, \"failOnError\": true}}", argv,
                    &evs, &ex);
    if (rc == SOLTI_ESANDBOX) {
        CHECK_STR_CONTAINS(test_last_error(), "memory");
        return;
    }
    CHECK_OK(rc);
    CHECK_MSG(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT) == 0,
              "memory 64 MiB with failOnError true: a 256 MiB allocation survived (outcome %s): "
              "the limit was silently ignored", test_outcome_name(ex.outcome));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(ex.signal, SIGKILL);
    CHECK_MSG(ex.oom_kills >= 1, "OOM-killed, but oom_kills is %" PRId64, ex.oom_kills);
    test_events_free(&evs);
}

int main(void) {
    test_cgroup_pids_required();
    test_cgroup_optional();
    test_cgroup_memory_required();
    printf("test_cgroups: ok\n");
    return 0;
}
