/*
 * With cgroups.pids 20, a fork loop cannot have more than 20 processes in
 * the task (the leader and 19 children: the 20th fork fails), and cancel
 * ends every one of them, checked by pid.  No cgroup of the task is left.
 *
 * Needs: root and the pids controller, in cgroup v2 or v1 (on a hybrid host
 * the v1 fallback enforces it).  Elsewhere: skipped, saying why.
 */
#include "cgroup_check.h"

int main(void) {
    need_controller("test_cgroup_pids", "pids");
    char name[64], prefix[80];
    snprintf(name, sizeof name, "cgpids%d", (int)getpid());
    snprintf(prefix, sizeof prefix, "%s-", name);

    solti_runner_t r = test_runner(name, "{\"cgroups\": {\"pids\": 20, \"failOnError\": true}}");
    const char *argv[] = {test_helper("forkloop"), "100", NULL};
    solti_task_t t = test_cmd_task(r, "loop", argv, 60000, "", "");
    CHECK_OK(solti_task_spawn(t));

    uint64_t cursor = 0;
    test_events_t evs = {0};
    int forked = atoi(wait_line(t, &cursor, &evs, "forked ", 20000));
    const test_event_t *started = test_nth(&evs, SOLTI_EVENT_STARTED, 0, 0);
    CHECK(started != NULL);
    pid_t leader = (pid_t)started->value;

    /* Every process of the task, as the children reported them. */
    pid_t pids[128];
    int n = 0, failed = 0;
    pids[n++] = leader;
    for (size_t i = 0; i < evs.n; i++) {
        const test_event_t *e = &evs.v[i];
        int pid;
        if (e->kind != SOLTI_EVENT_LINE) continue;
        if (sscanf(e->text, "child %d", &pid) == 1 && n < 128) pids[n++] = pid;
        if (strncmp(e->text, "fork failed: ", 13) == 0) failed = 1;
    }
    CHECK_MSG(failed, "no fork failed: the pids limit was not enforced (%d children)", forked);
    CHECK_MSG(forked + 1 <= 20, "the task had %d processes under pids.max 20", forked + 1);
    CHECK_MSG(forked + 1 >= 15, "only %d processes under pids.max 20: something else is counted",
              forked + 1);
    int alive = 0;
    for (int i = 0; i < n; i++) alive += pid_alive(pids[i]);
    CHECK_EQ_INT(alive, forked + 1);

    /* The kernel's own count, in the task's pids cgroup. */
    cg_found_t found;
    cg_find(prefix, &found);
    for (int i = 0; i < found.n; i++) {
        long long current = cg_read_int(found.dirs[i], "pids.current");
        if (current >= 0) {
            printf("%s: pids.current %lld\n", found.dirs[i], current);
            CHECK_MSG(current <= 20, "pids.current %lld > 20", current);
        }
    }

    CHECK_OK(solti_task_cancel(t));
    solti_exit_t ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_CANCELED);
    for (int i = 0; i < n; i++)
        CHECK_MSG(test_wait_pid_gone(pids[i], 3000), "process %d of the task survived cancel", (int)pids[i]);
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(r));
    check_no_cgroup_left(prefix);
    printf("test_cgroup_pids: ok (%d processes, then fork failed)\n", forked + 1);
    return 0;
}
