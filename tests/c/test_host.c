/*
 * The host process's state does not leak into children, and the library does
 * not disturb the host: ignored SIGPIPE and a blocked signal in the host still
 * give children default dispositions and an empty mask; host descriptors
 * without O_CLOEXEC are not inherited; stdin is /dev/null; the host's
 * RLIMIT_NOFILE soft limit is what children get; nothing is printed on the
 * host's stdout/stderr unless asked (SOLTI_EXEC_LOG=debug); a host that
 * ignores SIGCHLD gets an answer, not a hang.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "test.h"

static solti_runner_t runner;

static void test_sigpipe_default_in_children(void) {
    signal(SIGPIPE, SIG_IGN); /* as Python does */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGUSR1);
    CHECK(pthread_sigmask(SIG_BLOCK, &block, NULL) == 0);

    /* With SIGPIPE ignored, yes would see EPIPE and complain on stderr. */
    const char *argv[] = {"sh", "-c", "yes | head -n 1", NULL};
    test_events_t evs = {0};
    solti_exit_t ex = test_run(runner, argv, "", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_EQ_INT(ex.exit_code, 0);
    CHECK_LINES(&evs, SOLTI_STDOUT, "y");
    if (test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDERR) != 0) {
        test_events_dump(&evs);
        FAIL("stderr lines: the child inherited SIG_IGN for SIGPIPE");
    }
    test_events_free(&evs);

    const char *sig[] = {test_helper("envprinter"), "--sig", NULL};
    test_run(runner, sig, "", &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, "SigBlk=0000000000000000", "SigIgn=0000000000000000");
    test_events_free(&evs);
    CHECK(pthread_sigmask(SIG_UNBLOCK, &block, NULL) == 0);
    signal(SIGPIPE, SIG_DFL);
}

static void test_host_fds_not_inherited(void) {
    int devnull = open("/dev/null", O_RDONLY); /* no O_CLOEXEC, on purpose */
    int p[2];
    CHECK(devnull >= 0 && pipe(p) == 0);
    int high = dup2(devnull, 100);
    CHECK(high == 100);
    CHECK((fcntl(devnull, F_GETFD) & FD_CLOEXEC) == 0);

    const char *argv[] = {test_helper("fdlister"), NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, "0", "1", "2");
    test_events_free(&evs);
    close(devnull);
    close(p[0]);
    close(p[1]);
    close(high);
}

static void test_stdin_is_dev_null(void) {
    const char *argv[] = {"sh", "-c", "readlink /proc/self/fd/0; cat; echo done", NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, "/dev/null", "done");
    test_events_free(&evs);
}

static void test_nofile_limit_passed_on(void) {
    struct rlimit saved, rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 300) {
        printf("hard RLIMIT_NOFILE too low: limit inheritance not tested\n");
        return;
    }
    rl = saved;
    rl.rlim_cur = 200;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    const char *argv[] = {"sh", "-c", "ulimit -n", NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, "200");
    test_events_free(&evs);
    CHECK(setrlimit(RLIMIT_NOFILE, &saved) == 0);
}

static void test_library_prints_nothing(void) {
    const char *level = getenv("SOLTI_EXEC_LOG");
    if (level != NULL && *level != '\0') {
        printf("SOLTI_EXEC_LOG is set: silence not tested\n");
        return;
    }
    fflush(stdout);
    fflush(stderr);
    char path[] = "/tmp/solti-host-out-XXXXXX";
    int out = mkstemp(path);
    CHECK(out >= 0);
    unlink(path);
    int saved1 = dup(1), saved2 = dup(2);
    dup2(out, 1);
    dup2(out, 2);

    /* Successes, failures, output on both streams, a spawn error. */
    solti_task_t t = 0;
    int bad_spec = solti_task_build(runner, "{", &t);
    const char *argv[] = {test_helper("printer"), "out:x", "err:y", "exit:1", NULL};
    char *spec = test_spec("quiet", argv, 5000, "", "");
    int built = solti_task_build(runner, spec, &t);
    int spawned = built == SOLTI_OK ? solti_task_spawn(t) : built;
    solti_exit_t ex;
    int waited = spawned == SOLTI_OK ? solti_task_wait(t, 5000, &ex) : spawned;
    if (built == SOLTI_OK) solti_task_free(t);
    free(spec);
    const char *missing[] = {"solti-no-such-binary", NULL};
    spec = test_spec("quiet", missing, 5000, "", "");
    int missing_rc = solti_task_build(runner, spec, &t);
    if (missing_rc == SOLTI_OK) {
        missing_rc = solti_task_spawn(t);
        solti_task_free(t);
    }
    free(spec);

    fflush(stdout);
    fflush(stderr);
    dup2(saved1, 1);
    dup2(saved2, 2);
    close(saved1);
    close(saved2);
    CHECK_EQ_INT(bad_spec, SOLTI_ESPEC);
    CHECK_EQ_INT(waited, SOLTI_OK);
    CHECK_EQ_INT(missing_rc, SOLTI_ESPAWN);
    struct stat st;
    CHECK(fstat(out, &st) == 0);
    if (st.st_size != 0) {
        char buf[1024] = {0};
        ssize_t n = pread(out, buf, sizeof buf - 1, 0);
        (void)n;
        FAIL("the library wrote %lld bytes to the host's stdout/stderr: \"%s\"", (long long)st.st_size, buf);
    }
    close(out);
}

/* Asked with SOLTI_EXEC_LOG=debug (read when the runner is made), the
   library does write: one line per step of the task's life, on stderr. */
static void test_debug_log_when_asked(void) {
    setenv("SOLTI_EXEC_LOG", "debug", 1);
    solti_runner_t r = test_runner("host-debug", NULL);
    unsetenv("SOLTI_EXEC_LOG");

    fflush(stderr);
    char path[] = "/tmp/solti-host-log-XXXXXX";
    int out = mkstemp(path);
    CHECK(out >= 0);
    unlink(path);
    int saved2 = dup(2);
    dup2(out, 2);
    const char *argv[] = {test_helper("printer"), "out:x", NULL};
    solti_task_t t = test_cmd_task(r, "logged", argv, 5000, "", "");
    int spawned = solti_task_spawn(t);
    solti_exit_t ex;
    int waited = spawned == SOLTI_OK ? solti_task_wait(t, 5000, &ex) : spawned;
    solti_task_free(t);
    fflush(stderr);
    dup2(saved2, 2);
    close(saved2);
    CHECK_EQ_INT(spawned, SOLTI_OK);
    CHECK_EQ_INT(waited, SOLTI_OK);

    char buf[4096] = {0};
    ssize_t n = pread(out, buf, sizeof buf - 1, 0);
    close(out);
    CHECK_MSG(n > 0, "SOLTI_EXEC_LOG=debug, yet nothing was written to stderr");
    CHECK_STR_CONTAINS(buf, "solti-exec: task host-debug-logged-");
    CHECK_STR_CONTAINS(buf, ": attempt 1 started, pid ");
    CHECK_STR_CONTAINS(buf, ": attempt 1 ended: success");
    CHECK_OK(solti_runner_free(r));
}

static void test_sigchld_ignored(void) {
    /* The kernel reaps the children itself: either the status survives (pidfd)
       or wait says SOLTI_ECHILD; the output arrives, and nothing hangs. */
    signal(SIGCHLD, SIG_IGN);
    const char *argv[] = {"echo", "reaped", NULL};
    solti_task_t t = test_cmd_task(runner, "sigchld", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 10000);
    CHECK_LINES(&evs, SOLTI_STDOUT, "reaped");
    solti_exit_t ex;
    int rc = solti_task_wait(t, 10000, &ex);
    if (rc == SOLTI_OK) {
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
        printf("SIGCHLD ignored: exit status kept\n");
    } else {
        CHECK_CODE(rc, SOLTI_ECHILD);
        printf("SIGCHLD ignored: SOLTI_ECHILD (%s)\n", test_last_error());
    }
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
    signal(SIGCHLD, SIG_DFL);
}

int main(void) {
    runner = test_runner("host", NULL);
    test_sigpipe_default_in_children();
    test_host_fds_not_inherited();
    test_stdin_is_dev_null();
    test_nofile_limit_passed_on();
    test_library_prints_nothing();
    test_debug_log_when_asked();
    test_sigchld_ignored();
    CHECK_OK(solti_runner_free(runner));
    printf("test_host: ok\n");
    return 0;
}
