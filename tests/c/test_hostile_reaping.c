/*
 * A host that reaps the library's children: SIGCHLD set to SIG_IGN (the
 * kernel reaps at exit), and a host thread looping on waitpid(-1).  The
 * host's children are the resident shims, whose own status carries nothing:
 * every task still gets its exact exit code, signal and rusage (never
 * SOLTI_ECHILD), its output in full, cancel and timeout still kill the tree,
 * and nothing hangs or leaks.  A watchdog aborts the test if it does hang.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "test.h"
#include "holdings.h"

static solti_runner_t runner;
static int lost, kept; /* statuses lost to the host / kept, over the test */

static void *watchdog(void *arg) {
    (void)arg;
    sleep(120);
    fprintf(stderr, "watchdog: test_hostile_reaping hung\n");
    abort();
}

/* Waits for t: the status is never lost to the host. */
static solti_exit_t wait_any(solti_task_t t, int want_outcome) {
    solti_exit_t ex;
    memset(&ex, 0xff, sizeof ex);
    int rc = solti_task_wait(t, 15000, &ex);
    if (rc == SOLTI_ECHILD) lost++;
    CHECK_CODE(rc, SOLTI_OK);
    CHECK_OUTCOME(ex, want_outcome);
    kept++;
    return ex;
}

/* The exact code, the exact signal, and the rusage of a task that works. */
static void exact_statuses(const char *what) {
    const char *code[] = {"sh", "-c", "exit 42", NULL};
    solti_task_t t = test_cmd_task(runner, "code", code, 15000, "", "");
    CHECK_OK(solti_task_spawn(t));
    solti_exit_t ex = wait_any(t, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(ex.exit_code, 42);
    CHECK_EQ_INT(ex.signal, 0);
    CHECK_OK(solti_task_free(t));

    const char *sig[] = {"sh", "-c", "kill -TERM $$", NULL};
    t = test_cmd_task(runner, "signal", sig, 15000, "", "");
    CHECK_OK(solti_task_spawn(t));
    ex = wait_any(t, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(ex.exit_code, -1);
    CHECK_EQ_INT(ex.signal, SIGTERM);
    CHECK_OK(solti_task_free(t));

    const char *busy[] = {"sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done", NULL};
    t = test_cmd_task(runner, "busy", busy, 30000, "", "");
    CHECK_OK(solti_task_spawn(t));
    ex = wait_any(t, SOLTI_OUTCOME_SUCCESS);
    CHECK_EQ_INT(ex.exit_code, 0);
    CHECK_MSG(ex.user_us + ex.system_us > 10000, "the rusage of the task reaches the host");
    CHECK_MSG(ex.max_rss_kb > 100, "the peak RSS of the task reaches the host");
    CHECK_OK(solti_task_free(t));
    printf("%s: exit code 42, SIGTERM and rusage exact\n", what);
}

/* A batch of tasks with output on both streams, run at once. */
static void run_batch(const char *what) {
    enum { N = 16 };
    solti_task_t ts[N];
    const char *argv[] = {test_helper("printer"), "outn:500:o", "err:e", "exit:0", NULL};
    for (int i = 0; i < N; i++) {
        ts[i] = test_cmd_task(runner, "batch", argv, 15000, "", "");
        CHECK_OK(solti_task_spawn(ts[i]));
    }
    for (int i = 0; i < N; i++) {
        uint64_t cursor = 0;
        test_events_t evs = {0};
        test_read_all(ts[i], &cursor, &evs, 15000);
        CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT), 500);
        CHECK_LINES(&evs, SOLTI_STDERR, "e");
        CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_FINISHED, 0), 1);
        test_events_free(&evs);
        wait_any(ts[i], SOLTI_OUTCOME_SUCCESS);
        CHECK_OK(solti_task_free(ts[i]));
    }
    printf("%s: %d tasks ended (statuses so far: %d kept, %d lost to the host)\n", what, N, kept,
           lost);
    CHECK_EQ_INT(lost, 0);
}

/* Cancel, timeout and a grandchild holding the pipes still end the task. */
static void kill_paths(const char *what) {
    const char *sleeper[] = {"sleep", "30", NULL};
    solti_task_t t = test_cmd_task(runner, "cancel", sleeper, 30000, "", "");
    CHECK_OK(solti_task_spawn(t));
    CHECK_OK(solti_task_cancel(t));
    solti_exit_t ex = wait_any(t, SOLTI_OUTCOME_CANCELED);
    (void)ex;
    CHECK_OK(solti_task_free(t));

    t = test_cmd_task(runner, "timeout", sleeper, 300, "", "");
    CHECK_OK(solti_task_spawn(t));
    wait_any(t, SOLTI_OUTCOME_TIMEOUT);
    CHECK_OK(solti_task_free(t));

    /* The leader exits at once, a grandchild keeps stdout: the drain grace
       ends the attempt. */
    const char *forker[] = {test_helper("forker"), "--exit", "30", NULL};
    t = test_cmd_task(runner, "drain", forker, 30000, "", "");
    CHECK_OK(solti_task_spawn(t));
    int64_t start = test_now_ms();
    wait_any(t, SOLTI_OUTCOME_SUCCESS);
    CHECK_MSG(test_now_ms() - start < 10000, "the drain grace bounds the attempt");
    CHECK_OK(solti_task_free(t));

    /* A spawn failure still fails at spawn. */
    const char *missing[] = {"solti-hostile-no-such-binary", NULL};
    t = test_cmd_task(runner, "missing", missing, 30000, "", "");
    CHECK_ERR(solti_task_spawn(t), SOLTI_ESPAWN, "no such file or directory");
    CHECK_OK(solti_task_free(t));
    printf("%s: cancel, timeout, drain and spawn failure all end\n", what);
}

static void test_sigchld_ignored(void) {
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    CHECK(sigaction(SIGCHLD, &ign, &old) == 0);
    exact_statuses("SIGCHLD ignored");
    run_batch("SIGCHLD ignored");
    kill_paths("SIGCHLD ignored");
    CHECK(sigaction(SIGCHLD, &old, NULL) == 0);
}

static atomic_int reaper_stop;
static atomic_long reaped;

static void *reaper(void *arg) {
    (void)arg;
    while (!atomic_load(&reaper_stop)) {
        int st;
        pid_t pid = waitpid(-1, &st, __WALL);
        if (pid > 0) atomic_fetch_add(&reaped, 1);
        else test_sleep_ms(1); /* ECHILD: no child right now */
    }
    return NULL;
}

static void test_host_thread_reaps(void) {
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, reaper, NULL), 0);
    exact_statuses("waitpid(-1) thread");
    run_batch("waitpid(-1) thread");
    kill_paths("waitpid(-1) thread");
    atomic_store(&reaper_stop, 1);
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
    printf("the host thread reaped %ld children\n", atomic_load(&reaped));
}

int main(void) {
    pthread_t wd;
    CHECK_EQ_INT(pthread_create(&wd, NULL, watchdog, NULL), 0);
    pthread_detach(wd);
    char tmp[64];
    hold_private_tmpdir(tmp, "hostile-reaping");
    runner = test_runner("hostile-reaping", "{\"drainGraceMs\": 500}");
    /* Baseline after a first spawn (the poller lives for good). */
    const char *argv[] = {"true", NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    test_events_free(&evs);
    holdings_t base = hold_take("hostile-reaping");

    test_sigchld_ignored();
    test_host_thread_reaps();
    /* The forker's grandchildren were killed with their group; some may stay
       zombies of init, none is ours. */
    hold_check_back("after hostile reaping", "hostile-reaping", &base, 64, 5000);
    CHECK_OK(solti_runner_free(runner));
    hold_private_tmpdir_done(tmp);
    CHECK_EQ_INT(lost, 0);
    printf("test_hostile_reaping: ok (%d statuses kept, %d lost to the host)\n", kept, lost);
    return 0;
}
