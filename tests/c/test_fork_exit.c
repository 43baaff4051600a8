/*
 * A forked child of the host that calls exit() (not _exit) runs the
 * library's exit-time destructor. It must neither hang there, even when a
 * host thread held the library's script lock at the fork, nor remove the
 * parent's live script directories.
 *
 * One thread builds and frees script tasks without pause (each takes the
 * lock twice) while the main thread forks FORKS children that call exit(0)
 * at once. A child still alive after 5 s hung in exit(). Then the parent's
 * script task, built before the forks, must still have its script and run.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/wait.h>

#include "test.h"
#include "holdings.h"

enum { FORKS = 2000, CHILD_DEADLINE_MS = 5000 };

/* base64 of "echo live" and of "true" */
#define SCRIPT_SPEC(slot, b64)                                                           \
    "{\"slot\": \"" slot "\", \"timeout\": 20000, \"kind\": {\"subprocess\": {\"mode\": " \
    "{\"script\": {\"runtime\": \"bash\", \"body\": \"" b64 "\"}}}}}"

static solti_runner_t runner;
static volatile int stop;
static long churned;

static void *churn(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        solti_task_t t = test_task(runner, SCRIPT_SPEC("churn", "dHJ1ZQ=="));
        CHECK_OK(solti_task_free(t));
        churned++;
    }
    return NULL;
}

int main(void) {
    /* A private TMPDIR, so the directories counted are this test's own. */
    char tmp[] = "/tmp/solti-fork-exit-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    setenv("TMPDIR", tmp, 1);

    runner = test_runner("fork-exit", "{\"scriptStorage\": \"file\"}"); /* the lock guards files */
    solti_task_t live = test_task(runner, SCRIPT_SPEC("live", "ZWNobyBsaXZl"));
    CHECK_EQ_INT(hold_script_dirs(), 1);

    pthread_t th;
    CHECK(pthread_create(&th, NULL, churn, NULL) == 0);
    int hung = 0;
    for (int i = 0; i < FORKS; i++) {
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) exit(0); /* runs the destructors, unlike _exit */
        int status = 0;
        int64_t deadline = test_now_ms() + CHILD_DEADLINE_MS;
        pid_t got;
        while ((got = waitpid(pid, &status, WNOHANG)) == 0 && test_now_ms() < deadline)
            test_sleep_ms(1);
        if (got == 0) {
            hung++;
            kill(pid, SIGKILL);
            CHECK(waitpid(pid, &status, 0) == pid);
            continue;
        }
        CHECK_EQ_INT(got, pid);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "forked child %d ended with status 0x%x", i, status);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    CHECK(pthread_join(th, NULL) == 0);
    printf("%d forks while %ld script tasks were built and freed\n", FORKS, churned);
    /* The children's exits left the parent's script alone. */
    int dirs = hold_script_dirs();
    CHECK_MSG(hung == 0 && dirs == 1,
              "%d of %d forked children hung in exit(); %d script directories left (want 1, "
              "the live task's)", hung, FORKS, dirs);
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_spawn_to_end(live, &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_LINES(&evs, SOLTI_STDOUT, "live");
    test_events_free(&evs);
    CHECK_OK(solti_task_free(live));
    CHECK_OK(solti_runner_free(runner));
    CHECK_EQ_INT(hold_script_dirs(), 0);
    CHECK(rmdir(tmp) == 0);
    printf("test_fork_exit: ok\n");
    return 0;
}
