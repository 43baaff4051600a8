/*
 * A task cannot make sub-cgroups of its own cgroup (cgroup.max.depth 0), so
 * it cannot move part of its tree out of reach of its limits: mkdir there,
 * from inside the task, is refused with EAGAIN. Needs root and a cgroup v2
 * mount for the task's cgroup; else it says why and is skipped.
 */
#include "cgroup_check.h"

int main(void) {
    need_tracking("test_isolation_cgroup");
    need_controller("test_isolation_cgroup", "pids");
    char probe[1200];
    snprintf(probe, sizeof probe, "cgmkdir=%s", cg_v2_mount());
    const char *argv[] = {test_helper("isoprobe"), probe, NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_try_run_config("isocg", "{\"cgroups\": {\"pids\": 64}}", argv, &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    const char *cg = test_line_after(&evs, "cgroup ");
    if (cg == NULL) {
        test_events_dump(&evs);
        FAIL("the child printed no v2 cgroup");
    }
    if (strstr(cg, "/isocg-run-") == NULL)
        test_skip("test_isolation_cgroup", "the pids limit went to a v1 hierarchy: the task's v2 cgroup is the "
                  "host's %s", cg);
    const char *got = test_line_after(&evs, "cgmkdir ");
    char want[16];
    snprintf(want, sizeof want, "%d", EAGAIN); /* the kernel's answer past max.depth */
    CHECK(got != NULL);
    CHECK_STR_EQ(got, want);
    test_events_free(&evs);
    check_no_cgroup_left("isocg-");
    printf("test_isolation_cgroup: ok\n");
    return 0;
}
