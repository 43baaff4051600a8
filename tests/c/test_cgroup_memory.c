/*
 * With cgroups.memory 64 MiB, a child that allocates and touches 512 MiB is
 * OOM-killed, and the report says so: outcome FAILURE, signal 9, oom_kills
 * >= 1.  A child that stays under the limit runs to the end with oom_kills
 * 0.  No cgroup of the task is left.
 *
 * Needs: root and the memory controller, in cgroup v2 or v1 (on a hybrid
 * host the v1 fallback enforces it).  Elsewhere: skipped, saying why.
 */
#include "cgroup_check.h"

static solti_exit_t run(solti_runner_t r, const char *mib, test_events_t *evs) {
    char alloc[32];
    snprintf(alloc, sizeof alloc, "alloc:%s", mib);
    const char *argv[] = {test_helper("printer"), alloc, "out:survived", NULL};
    solti_task_t t = test_cmd_task(r, "alloc", argv, 30000, "", "");
    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_read_all(t, &cursor, evs, 30000);
    solti_exit_t ex = test_wait(t, 5000);
    CHECK_OK(solti_task_free(t));
    return ex;
}

int main(void) {
    need_controller("test_cgroup_memory", "memory");
    char name[64], prefix[80];
    snprintf(name, sizeof name, "cgmem%d", (int)getpid());
    snprintf(prefix, sizeof prefix, "%s-", name);
    solti_runner_t r = test_runner(name, "{\"cgroups\": {\"memory\": 67108864, \"failOnError\": true}}");

    test_events_t evs = {0};
    solti_exit_t ex = run(r, "512", &evs);
    CHECK_MSG(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT) == 0,
              "512 MiB under memory 64 MiB survived (outcome %s)", test_outcome_name(ex.outcome));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(ex.signal, SIGKILL);
    CHECK_EQ_INT(ex.exit_code, -1);
    CHECK_STR_EQ(ex.reason, "process terminated by signal: SIGKILL");
    CHECK_MSG(ex.oom_kills >= 1, "OOM-killed, but oom_kills is %" PRId64, ex.oom_kills);
    test_events_free(&evs);

    ex = run(r, "16", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_LINES(&evs, SOLTI_STDOUT, "survived");
    CHECK_EQ_INT(ex.oom_kills, 0);
    /* The peak is the tree's, from the cgroup: 16 MiB touched, under 64 MiB. */
    CHECK_MSG(ex.memory_peak_bytes >= 16 * 1024 * 1024 && ex.memory_peak_bytes <= 67108864,
              "memory_peak_bytes %" PRId64 " for 16 MiB touched under a 64 MiB limit", ex.memory_peak_bytes);
    CHECK_MSG(ex.cgroup_cpu_us >= 0, "cgroup_cpu_us %" PRId64 " with cpuacct or cpu.stat", ex.cgroup_cpu_us);
    test_events_free(&evs);

    CHECK_OK(solti_runner_free(r));
    check_no_cgroup_left(prefix);
    printf("test_cgroup_memory: ok\n");
    return 0;
}
