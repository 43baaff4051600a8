/*
 * What the child starts with, proven from inside it: the env policy
 * (inherit, clear with the safe PATH, allowlist), umask, a new session
 * whose tree cancel still kills, argv0, passed descriptors with every other
 * one closed, and the denyHostControl seccomp filter (ptrace and mount
 * refused with EPERM, ordinary work runs). None of these needs root.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "test.h"

/* Runs argv under a runner with config (NULL: none) and the task's
   sub_extra; collects the events; returns the spawn's code. */
static int run_with(const char *config, const char *const argv[], const char *sub_extra,
                    test_events_t *evs, solti_exit_t *ex) {
    solti_runner_t r = test_runner("iso", config);
    int rc = test_try_run(r, argv, sub_extra, evs, ex);
    CHECK_OK(solti_runner_free(r));
    return rc;
}

static const char *line(const test_events_t *evs, const char *prefix) {
    const char *v = test_line_after(evs, prefix);
    if (v == NULL) {
        test_events_dump(evs);
        FAIL("no line starting \"%s\" in the child's output", prefix);
    }
    return v;
}

static void check_no_line(const test_events_t *evs, const char *prefix) {
    if (test_line_after(evs, prefix) != NULL) {
        test_events_dump(evs);
        FAIL("the child printed a line starting \"%s\"", prefix);
    }
}

static void test_env_policies(void) {
    const char *argv[] = {test_helper("envprinter"), NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    setenv("SOLTI_ISO_SECRET", "hunter2", 1);
    setenv("SOLTI_ISO_KEEP", "kept", 1);
    setenv("PATH", "/opt/host-only:/usr/bin:/bin", 1);

    /* inherit, the default: the host's variables reach the child. */
    CHECK_OK(run_with(NULL, argv, "\"env\": [{\"key\": \"A\", \"value\": \"1\"}]", &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_STR_EQ(line(&evs, "SOLTI_ISO_SECRET="), "hunter2");
    CHECK_STR_EQ(line(&evs, "A="), "1");
    test_events_free(&evs);

    /* clear: only the pairs, and the safe PATH. */
    CHECK_OK(run_with("{\"envPolicy\": {\"mode\": \"clear\"}}", argv,
                      "\"env\": [{\"key\": \"A\", \"value\": \"1\"}]", &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_STR_EQ(line(&evs, "A="), "1");
    CHECK_STR_EQ(line(&evs, "PATH="), "/usr/local/bin:/usr/bin:/bin");
    check_no_line(&evs, "SOLTI_ISO_SECRET=");
    check_no_line(&evs, "SOLTI_ISO_KEEP=");
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, 0), 2);
    test_events_free(&evs);

    /* clear with a PATH of the spec's own: that one. */
    CHECK_OK(run_with("{\"envPolicy\": {\"mode\": \"clear\"}}", argv,
                      "\"env\": [{\"key\": \"PATH\", \"value\": \"/bin\"}]", &evs, &ex));
    CHECK_STR_EQ(line(&evs, "PATH="), "/bin");
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, 0), 1);
    test_events_free(&evs);

    /* allowlist per task, over the runner's clear: the named host
       variables (PATH among them here), nothing else. */
    CHECK_OK(run_with("{\"envPolicy\": {\"mode\": \"clear\"}}", argv,
                      "\"envPolicy\": {\"mode\": \"allowlist\", \"allow\": [\"SOLTI_ISO_KEEP\", \"PATH\"]}",
                      &evs, &ex));
    CHECK_STR_EQ(line(&evs, "SOLTI_ISO_KEEP="), "kept");
    CHECK_STR_EQ(line(&evs, "PATH="), "/opt/host-only:/usr/bin:/bin");
    check_no_line(&evs, "SOLTI_ISO_SECRET=");
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, 0), 2);
    test_events_free(&evs);

    /* A task's inherit undoes the runner's clear. */
    CHECK_OK(run_with("{\"envPolicy\": {\"mode\": \"clear\"}}", argv,
                      "\"envPolicy\": {\"mode\": \"inherit\"}", &evs, &ex));
    CHECK_STR_EQ(line(&evs, "SOLTI_ISO_SECRET="), "hunter2");
    test_events_free(&evs);
    unsetenv("SOLTI_ISO_SECRET");
    unsetenv("SOLTI_ISO_KEEP");
}

static void test_umask(void) {
    const char *argv[] = {test_helper("isoprobe"), "umask", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    mode_t host = umask(022);
    CHECK_OK(run_with(NULL, argv, "", &evs, &ex));
    CHECK_STR_EQ(line(&evs, "umask "), "0022"); /* the host's */
    test_events_free(&evs);
    CHECK_OK(run_with("{\"umask\": \"077\"}", argv, "", &evs, &ex));
    CHECK_STR_EQ(line(&evs, "umask "), "0077");
    test_events_free(&evs);
    CHECK_OK(run_with("{\"umask\": \"077\"}", argv, "\"umask\": \"027\"", &evs, &ex));
    CHECK_STR_EQ(line(&evs, "umask "), "0027"); /* the task's wins */
    test_events_free(&evs);
    umask(host);
}

static void test_new_session(void) {
    const char *argv[] = {test_helper("isoprobe"), "session", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(run_with(NULL, argv, "", &evs, &ex));
    CHECK(strcmp(line(&evs, "sid "), line(&evs, "pid ")) != 0); /* not a session leader */
    CHECK_STR_EQ(line(&evs, "pgid "), line(&evs, "pid "));
    test_events_free(&evs);
    CHECK_OK(run_with("{\"newSession\": true}", argv, "", &evs, &ex));
    CHECK_STR_EQ(line(&evs, "sid "), line(&evs, "pid "));
    CHECK_STR_EQ(line(&evs, "pgid "), line(&evs, "pid "));
    test_events_free(&evs);

    /* The tree kill still reaches a new session: a forker's grandchild
       dies with it on cancel. */
    solti_runner_t r = test_runner("iso", NULL);
    const char *tree[] = {test_helper("forker"), "30", NULL};
    solti_task_t t = test_cmd_task(r, "tree", tree, 60000, "\"newSession\": true", "");
    CHECK_OK(solti_task_spawn(t));
    test_sleep_ms(300);
    CHECK_OK(solti_task_cancel(t));
    ex = test_wait(t, 5000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_CANCELED);
    uint64_t cursor = 0;
    test_read_all(t, &cursor, &evs, 5000);
    pid_t grandchild = (pid_t)atoi(line(&evs, "grandchild "));
    CHECK(grandchild > 0);
    CHECK_MSG(test_wait_pid_gone(grandchild, 2000), "grandchild %d outlived the cancel", (int)grandchild);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
    CHECK_OK(solti_runner_free(r));
}

static void test_argv0(void) {
    const char *argv[] = {test_helper("isoprobe"), "argv0", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(run_with(NULL, argv, "\"argv0\": \"renamed-probe\"", &evs, &ex));
    CHECK_STR_EQ(line(&evs, "argv0 "), "renamed-probe");
    test_events_free(&evs);
}

/* A pipe whose read end is at fd `at` (moved there with dup2), holding a
   line; returns at. */
static int pipe_at(int at, const char *text) {
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    CHECK(write(p[1], text, strlen(text)) == (ssize_t)strlen(text));
    close(p[1]);
    CHECK(dup3(p[0], at, O_CLOEXEC) == at);
    close(p[0]);
    return at;
}

static void test_passed_fds(void) {
    /* 3 is the shim's status pipe number and 4 its control socket; 40 is
       above both; the host's 41 is open but not passed. Close-on-exec does
       not matter: what is passed is passed. */
    pipe_at(3, "three\n");
    pipe_at(40, "forty\n");
    pipe_at(41, "not passed\n");
    const char *argv[] = {test_helper("isoprobe"), "fd=3", "fd=40", "fd=41", "fds", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(run_with(NULL, argv, "\"passFds\": [40, 3]", &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_STR_EQ(line(&evs, "fd 3 "), "read three");
    CHECK_STR_EQ(line(&evs, "fd 40 "), "read forty");
    CHECK_STR_EQ(line(&evs, "fd 41 "), "closed");
    CHECK_STR_EQ(line(&evs, "open"), " 0 1 2 3 40");
    test_events_free(&evs);

    /* Without passFds only the standard three. */
    const char *list[] = {test_helper("isoprobe"), "fds", NULL};
    CHECK_OK(run_with(NULL, list, "", &evs, &ex));
    CHECK_STR_EQ(line(&evs, "open"), " 0 1 2");
    test_events_free(&evs);
    close(3);
    close(40);
    close(41);

    /* A descriptor the host does not have: the spawn fails, naming it. */
    solti_runner_t r = test_runner("iso", NULL);
    solti_task_t t = test_cmd_task(r, "badfd", list, 5000, "\"passFds\": [57]", "");
    CHECK_ERR(solti_task_spawn(t), SOLTI_ESPAWN, "fd 57");
    CHECK_OK(solti_task_free(t));
    /* The standard three are not passFds. */
    char *spec = test_spec("stdfd", list, 5000, "\"passFds\": [2]", "");
    solti_task_t bad = 0;
    CHECK_ERR(solti_task_build(r, spec, &bad), SOLTI_ESPEC, "kind.subprocess.passFds[0]");
    free(spec);
    CHECK_OK(solti_runner_free(r));
}

static void test_seccomp(void) {
    const char *argv[] = {test_helper("isoprobe"), "hostcontrol", NULL};
    const char *status[] = {"cat", "/proc/self/status", NULL};
    const char *cfg = "{\"security\": {\"seccomp\": \"denyHostControl\"}}";
    test_events_t evs = {0};
    solti_exit_t ex;
    char want[32];

    /* Without the filter ptrace(PTRACE_TRACEME) succeeds. */
    CHECK_OK(run_with(NULL, argv, "", &evs, &ex));
    CHECK_STR_EQ(line(&evs, "ptrace "), "0");
    if (geteuid() == 0) /* root may mount: the missing directory is what fails */
        CHECK(strcmp(line(&evs, "mount "), "1") != 0);
    test_events_free(&evs);

    CHECK_OK(run_with(cfg, argv, "", &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    snprintf(want, sizeof want, "%d", EPERM);
    CHECK_STR_EQ(line(&evs, "ptrace "), want);
    CHECK_STR_EQ(line(&evs, "mount "), want);
    CHECK_STR_EQ(line(&evs, "work "), "ok");
    test_events_free(&evs);

    CHECK_OK(run_with(cfg, status, "", &evs, &ex));
    CHECK_STR_EQ(line(&evs, "Seccomp:\t"), "2");
    CHECK_STR_EQ(line(&evs, "NoNewPrivs:\t"), "1"); /* set with the filter */
    test_events_free(&evs);

    solti_runner_t r = 0;
    CHECK_ERR(solti_runner_new("iso", "{\"security\": {\"seccomp\": \"strict\"}}", &r), SOLTI_ESPEC,
              "security.seccomp");
}

static void test_bad_values(void) {
    solti_runner_t r = 0;
    CHECK_ERR(solti_runner_new("iso", "{\"umask\": \"0800\"}", &r), SOLTI_ESPEC, "umask");
    CHECK_ERR(solti_runner_new("iso", "{\"umask\": 18}", &r), SOLTI_ESPEC, "umask");
    CHECK_ERR(solti_runner_new("iso", "{\"envPolicy\": {\"mode\": \"clear\", \"allow\": [\"HOME\"]}}", &r),
              SOLTI_ESPEC, "envPolicy.allow");
    CHECK_ERR(solti_runner_new("iso", "{\"envPolicy\": {\"mode\": \"allowlist\", \"allow\": [\"A=B\"]}}", &r),
              SOLTI_ESPEC, "envPolicy.allow[0]");
    CHECK_ERR(solti_runner_new("iso", "{\"envPolicy\": {\"mode\": \"some\"}}", &r), SOLTI_ESPEC,
              "envPolicy.mode");
}

int main(void) {
    test_env_policies();
    test_umask();
    test_new_session();
    test_argv0();
    test_passed_fds();
    test_seccomp();
    test_bad_values();
    printf("test_isolation_process: ok\n");
    return 0;
}
