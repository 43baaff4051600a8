/*
 * A limit the host cannot enforce is never silently dropped.  With
 * failOnError true the spawn fails with SOLTI_ESANDBOX naming the controller
 * and the parent (the task is done, FATAL, and the runner counts
 * cgroup_prepare_failed); with failOnError false the task runs, and a
 * WARNING event before STARTED names the limit that was not applied.
 *
 * The host without the controller is made honestly: the test runs itself
 * again in a private mount namespace where every mount that could provide
 * the memory controller is unmounted (the v1 memory hierarchies, and the v2
 * mount if its root offers memory).  The library reads /proc/self/mountinfo
 * and finds no memory controller, exactly as on such a host.
 *
 * Needs: root (CAP_SYS_ADMIN, for the mount namespace).  Elsewhere: skipped,
 * saying why.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "cgroup_check.h"

#define IN_NAMESPACE "SOLTI_TEST_IN_NAMESPACE=1"

extern char **environ;

/* Runs this test again, without the memory controller; returns its status. */
static int rerun_without_memory(char **argv) {
    if (geteuid() != 0) test_skip("test_cgroup_unavailable", "needs root for a private mount namespace");
    cg_mount_t m[64];
    int n = cg_mounts(m, 64), k = 0;
    const char *drop[64];
    for (int i = 0; i < n; i++) {
        if (m[i].v2 ? cg_v2_offers(m[i].point, "memory") : cg_has_option(m[i].options, "memory"))
            drop[k++] = m[i].point;
    }
    size_t envc = 0;
    while (environ[envc] != NULL) envc++;
    char **envp = calloc(envc + 2, sizeof *envp);
    CHECK(envp != NULL);
    memcpy(envp, environ, envc * sizeof *envp);
    envp[envc] = IN_NAMESPACE;
    fflush(stdout);

    /* The child is the forking thread alone: system calls only until exec. */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        static const char no_ns[] = "test_cgroup_unavailable: SKIPPED: cannot make a private mount namespace\n";
        static const char no_umount[] = "test_cgroup_unavailable: SKIPPED: cannot unmount a memory hierarchy\n";
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
            if (write(1, no_ns, sizeof no_ns - 1) < 0) _exit(TEST_SKIP_CODE);
            _exit(TEST_SKIP_CODE);
        }
        for (int i = 0; i < k; i++) {
            if (umount2(drop[i], MNT_DETACH) != 0) {
                if (write(1, no_umount, sizeof no_umount - 1) < 0) _exit(TEST_SKIP_CODE);
                _exit(TEST_SKIP_CODE);
            }
        }
        execve("/proc/self/exe", argv, envp);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) CHECK(errno == EINTR);
    free(envp);
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "the test in the namespace died by signal %d\n", WTERMSIG(status));
        return 1;
    }
    return WEXITSTATUS(status);
}

static void test_required(const char *v2) {
    char name[64], prefix[80];
    snprintf(name, sizeof name, "cgna%d", (int)getpid());
    snprintf(prefix, sizeof prefix, "%s-", name);
    solti_runner_t r = test_runner(name, "{\"cgroups\": {\"memory\": 67108864, \"failOnError\": true}}");
    const char *argv[] = {test_helper("printer"), "out:ran", NULL};
    solti_task_t t = test_cmd_task(r, "need", argv, 10000, "", "");
    CHECK_ERR(solti_task_spawn(t), SOLTI_ESANDBOX, "failed to prepare cgroup: controller \"memory\" is not available under ");
    const char *msg = test_last_error();
    printf("failOnError true: %s\n", msg);
    CHECK_STR_CONTAINS(msg, "v1: not mounted");
    if (v2 != NULL) CHECK_STR_CONTAINS(msg, v2); /* the parent, under the v2 mount */

    solti_exit_t ex = test_wait(t, 5000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FATAL);
    CHECK_EQ_INT(ex.attempt, 0);
    CHECK_STR_CONTAINS(ex.reason, "failed to prepare cgroup: controller \"memory\"");
    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 5000);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_STARTED, 0), 0);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, 0), 0);
    test_events_free(&evs);

    char metrics[8192];
    size_t len = 0;
    CHECK_OK(solti_runner_metrics(r, SOLTI_METRICS_PROMETHEUS, metrics, sizeof metrics, &len));
    CHECK_STR_CONTAINS(metrics, "error=\"cgroup_prepare_failed\"} 1");
    CHECK_OK(solti_runner_free(r));
    check_no_cgroup_left(prefix);
}

static void test_optional(void) {
    char name[64], prefix[80], why[512];
    snprintf(name, sizeof name, "cgnb%d", (int)getpid());
    snprintf(prefix, sizeof prefix, "%s-", name);
    /* pids, where the host has it, is still enforced: only memory is said. */
    int pids = host_has_controller("pids", why, sizeof why);
    solti_runner_t r = test_runner(name, pids ? "{\"cgroups\": {\"memory\": 67108864, \"pids\": 50, \"failOnError\": false}}"
                                              : "{\"cgroups\": {\"memory\": 67108864, \"failOnError\": false}}");
    const char *argv[] = {test_helper("printer"), "out:ran", NULL};
    solti_task_t t = test_cmd_task(r, "may", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 10000);
    solti_exit_t ex = test_wait(t, 5000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_LINES(&evs, SOLTI_STDOUT, "ran");
    CHECK_EQ_INT(ex.oom_kills, -1); /* no memory accounting */

    CHECK_MSG(evs.n >= 2 && evs.v[0].kind == SOLTI_EVENT_WARNING && evs.v[1].kind == SOLTI_EVENT_STARTED,
              "want one WARNING and then STARTED first");
    const char *warning = evs.v[0].text;
    printf("failOnError false: WARNING: %s\n", warning);
    CHECK_STR_CONTAINS(warning, "cgroup limit memory.max=67108864 not applied (failOnError is false): ");
    CHECK_STR_CONTAINS(warning, "controller \"memory\" is not available under ");
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_WARNING, 0), 1);
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(r));
    check_no_cgroup_left(prefix);
}

int main(int argc, char **argv) {
    (void)argc;
    if (getenv("SOLTI_TEST_IN_NAMESPACE") == NULL) return rerun_without_memory(argv);
    char why[512];
    CHECK_MSG(!host_has_controller("memory", why, sizeof why), "memory is still available: %s", why);
    printf("test_cgroup_unavailable: in a mount namespace without the memory controller\n");
    test_required(cg_v2_mount());
    test_optional();
    printf("test_cgroup_unavailable: ok\n");
    return 0;
}
