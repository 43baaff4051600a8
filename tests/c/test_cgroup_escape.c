/*
 * A child that double-forks and calls setsid has left the process group; the
 * resident shim, its subreaper, still holds it, and so does the task's cgroup
 * where there is one.  Cancel, timeout and the end of the drain grace all
 * kill it: no process of the task survives, checked by pid.  Run without
 * limits (no task cgroup: the shim alone) and with a pids limit.  No cgroup
 * of the task is left.
 *
 * Needs: root and a cgroup v2 mount (the tracking cgroup); the limited run
 * also needs the pids controller (v2 or v1) and is left out without it.
 * Elsewhere: skipped, saying why.
 */
#include "cgroup_check.h"

enum ending { BY_CANCEL, BY_TIMEOUT, BY_DRAIN_GRACE };
static const char *const ending_names[] = {"cancel", "timeout", "the drain grace"};

static void escape(solti_runner_t r, enum ending how) {
    const char *argv[] = {test_helper("escaper"), how == BY_DRAIN_GRACE ? "--exit" : "--stay", NULL};
    solti_task_t t = test_cmd_task(r, "esc", argv, how == BY_TIMEOUT ? 1000 : 60000, "", "");
    int64_t t0 = test_now_ms();
    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_events_t evs = {0};
    pid_t grandchild = (pid_t)atoi(wait_line(t, &cursor, &evs, "escaped ", 10000));
    const test_event_t *started = test_nth(&evs, SOLTI_EVENT_STARTED, 0, 0);
    CHECK(started != NULL);
    pid_t leader = (pid_t)started->value;
    CHECK_MSG(pid_alive(grandchild), "grandchild %d is not running", (int)grandchild);
    CHECK_MSG(getpgid(grandchild) != leader && getsid(grandchild) == grandchild,
              "grandchild %d did not leave the group (pgid %d, sid %d)", (int)grandchild,
              (int)getpgid(grandchild), (int)getsid(grandchild));

    if (how == BY_CANCEL) CHECK_OK(solti_task_cancel(t));
    solti_exit_t ex = test_wait(t, 10000);
    int64_t took = test_now_ms() - t0;
    int want = how == BY_CANCEL ? SOLTI_OUTCOME_CANCELED
               : how == BY_TIMEOUT ? SOLTI_OUTCOME_TIMEOUT
                                   : SOLTI_OUTCOME_SUCCESS;
    CHECK_OUTCOME(ex, want);
    CHECK_MSG(took < 5000, "ending by %s took %lld ms", ending_names[how], (long long)took);
    CHECK_MSG(test_wait_pid_gone(leader, 3000), "leader %d survived %s", (int)leader, ending_names[how]);
    CHECK_MSG(test_wait_pid_gone(grandchild, 3000), "setsid grandchild %d survived %s",
              (int)grandchild, ending_names[how]);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

static void run_all(const char *what, const char *config) {
    char name[64], prefix[80];
    snprintf(name, sizeof name, "cgesc%s%d", what, (int)getpid());
    snprintf(prefix, sizeof prefix, "%s-", name);
    solti_runner_t r = test_runner(name, config);
    escape(r, BY_CANCEL);
    escape(r, BY_TIMEOUT);
    escape(r, BY_DRAIN_GRACE);
    CHECK_OK(solti_runner_free(r));
    check_no_cgroup_left(prefix);
    printf("test_cgroup_escape: %s: cancel, timeout and drain grace killed the setsid grandchild\n", what);
}

int main(void) {
    need_tracking("test_cgroup_escape");
    run_all("track", "{\"drainGraceMs\": 300}");
    char why[512];
    if (host_has_controller("pids", why, sizeof why))
        run_all("pids", "{\"drainGraceMs\": 300, \"cgroups\": {\"pids\": 1000}}");
    else
        printf("test_cgroup_escape: the run with a pids limit left out: %s\n", why);
    printf("test_cgroup_escape: ok\n");
    return 0;
}
