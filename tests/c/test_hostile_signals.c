/*
 * A host whose signal state would leak into children: SIGPIPE, SIGXFSZ and
 * other signals ignored, SIGTERM (and more) blocked.  The state is set up
 * before the library is loaded (this program re-executes itself with it, and
 * both survive exec), so the Go runtime's own threads start with it; it is
 * also set again on the calling threads.
 * Children must start with every disposition at its default and an empty
 * mask: the masks are read in the child, a pipe writer dies of SIGPIPE
 * quietly, a file writer over RLIMIT_FSIZE dies of SIGXFSZ, and a graceful
 * cancel's SIGTERM kills at once.
 */
#include <pthread.h>

#include "test.h"

static const int ignored[] = {SIGPIPE, SIGXFSZ, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGTTOU};
static const int blocked[] = {SIGTERM, SIGCHLD, SIGUSR1, SIGALRM, SIGINT};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static solti_runner_t runner;

static void make_hostile(void) {
    for (size_t i = 0; i < COUNT(ignored); i++) signal(ignored[i], SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < COUNT(blocked); i++) sigaddset(&set, blocked[i]);
    CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
}

/* SIGPIPE is not checked: the Go runtime installs its own handler at load,
   which passes the host's SIG_IGN on for writes outside Go. */
static void check_still_hostile(void) {
    struct sigaction sa;
    CHECK(sigaction(SIGXFSZ, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN);
    CHECK(sigaction(SIGHUP, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN);
    sigset_t cur;
    CHECK(pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0);
    CHECK(sigismember(&cur, SIGTERM) == 1);
}

static void check_masks(void) {
    const char *argv[] = {test_helper("envprinter"), "--sig", NULL};
    test_events_t evs = {0};
    solti_exit_t ex = test_run(runner, argv, "", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_LINES(&evs, SOLTI_STDOUT, "SigBlk=0000000000000000", "SigIgn=0000000000000000");
    test_events_free(&evs);
}

static void check_sigpipe_kills_quietly(void) {
    /* yes dies of SIGPIPE when head exits; with SIGPIPE ignored it would
       report EPIPE on stderr instead. */
    const char *argv[] = {"sh", "-c", "yes | head -n 1", NULL};
    test_events_t evs = {0};
    solti_exit_t ex = test_run(runner, argv, "", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_LINES(&evs, SOLTI_STDOUT, "y");
    if (test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDERR) != 0) {
        test_events_dump(&evs);
        FAIL("stderr output: the child inherited SIG_IGN for SIGPIPE");
    }
    test_events_free(&evs);
}

static void check_sigxfsz_kills(void) {
    /* RLIMIT_FSIZE 1024 on the child: dd's write past it raises SIGXFSZ,
       which kills it by default (ignored, dd would get EFBIG and exit 1). */
    solti_runner_t limited =
        test_runner("hostile-signals-fsize", "{\"rlimits\": {\"maxFileSizeBytes\": 1024}}");
    char out[64];
    snprintf(out, sizeof out, "of=/tmp/solti-hostile-xfsz-%d", (int)getpid());
    const char *argv[] = {"dd", "if=/dev/zero", out, "bs=512", "count=8", NULL};
    test_events_t evs = {0};
    solti_exit_t ex = test_run(limited, argv, "", &evs);
    unlink(out + 3);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(ex.signal, SIGXFSZ);
    CHECK_STR_CONTAINS(ex.reason, "SIGXFSZ");
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(limited));
}

static void check_graceful_cancel_term_kills(void) {
    /* The host blocks SIGTERM; the child must not: a graceful cancel ends it
       with SIGTERM well before the 20 s grace would bring SIGKILL. */
    const char *argv[] = {"sleep", "30", NULL};
    solti_task_t t = test_cmd_task(runner, "term", argv, 60000, "", "\"killGraceMs\": 20000");
    CHECK_OK(solti_task_spawn(t));
    int64_t start = test_now_ms();
    CHECK_OK(solti_task_cancel(t));
    solti_exit_t ex = test_wait(t, 15000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_CANCELED);
    CHECK_EQ_INT(ex.signal, SIGTERM);
    CHECK_MSG(test_now_ms() - start < 5000, "SIGTERM took %lld ms", (long long)(test_now_ms() - start));
    CHECK_OK(solti_task_free(t));
}

static void run_checks(void) {
    check_masks();
    check_sigpipe_kills_quietly();
    check_sigxfsz_kills();
    check_graceful_cancel_term_kills();
}

/* The same from a host thread that blocks every signal it can. */
static void *all_blocked(void *arg) {
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    CHECK(pthread_sigmask(SIG_BLOCK, &all, NULL) == 0);
    run_checks();
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--hostile") != 0) {
        /* Set the state up, then run again with it, so that the library
           loads into a process that already has it. */
        make_hostile();
        execl("/proc/self/exe", argv[0], "--hostile", (char *)NULL);
        FAIL("re-exec: %s", strerror(errno));
    }
    check_still_hostile();
    runner = test_runner("hostile-signals", NULL);
    run_checks();
    make_hostile(); /* again, after the library started its threads */
    run_checks();
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, all_blocked, NULL), 0);
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
    check_still_hostile();
    CHECK_OK(solti_runner_free(runner));
    printf("test_hostile_signals: ok\n");
    return 0;
}
