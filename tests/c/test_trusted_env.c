/*
 * SOLTI_EXEC_SHIM and SOLTI_EXEC_LOG are obeyed only when the process may
 * trust its environment. A host whose real uid is an ordinary user's while
 * its effective uid is 0 (what a setuid-root program is) must ignore them:
 * it starts children through the shim built into the library and logs
 * nothing.
 * The same variables in an ordinary process are obeyed (the fake shim makes
 * the spawn fail), which shows the test would see them honoured.
 *
 * Needs root (to make the setuid-like child with setresuid); exits 77
 * otherwise.
 */
#include <sys/wait.h>

#include "test.h"

enum { SPAWN_OK = 0, SPAWN_FAILED = 3, OTHER_ERROR = 4 };
#define FAKE_SHIM "/nonexistent/solti-fake-shim"

/* Child mode: spawn `true` and say how it went in the exit code. */
static int spawn_true(void) {
    solti_runner_t r = 0;
    if (solti_runner_new("trusted-env", NULL, &r) != SOLTI_OK) return OTHER_ERROR;
    const char *argv[] = {"true", NULL};
    char *spec = test_spec("t", argv, 10000, "", "");
    solti_task_t t = 0;
    if (solti_task_build(r, spec, &t) != SOLTI_OK) return OTHER_ERROR;
    free(spec);
    int rc = solti_task_spawn(t);
    int out = rc == SOLTI_OK ? SPAWN_OK : rc == SOLTI_ESPAWN ? SPAWN_FAILED : OTHER_ERROR;
    if (rc != SOLTI_OK) printf("spawn: %s\n", test_last_error());
    if (rc == SOLTI_OK) (void)test_wait(t, 10000);
    solti_task_free(t);
    solti_runner_free(r);
    return out;
}

/* Runs this program in "spawn" mode, with real uid nobody and effective uid
   0 when setuid_like; gives its exit code and the bytes it wrote to stderr. */
static int run_child(int setuid_like, size_t *stderr_bytes) {
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        if (setuid_like && setresuid(65534, 0, 0) != 0) _exit(OTHER_ERROR + 1);
        execl("/proc/self/exe", "test_trusted_env", "spawn", (char *)NULL);
        _exit(OTHER_ERROR + 2);
    }
    close(pipefd[1]);
    char buf[4096];
    ssize_t n;
    *stderr_bytes = 0;
    while ((n = read(pipefd[0], buf, sizeof buf)) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
        *stderr_bytes += (size_t)n;
    }
    close(pipefd[0]);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status), "child died of signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "spawn") == 0) return spawn_true();
    if (geteuid() != 0) {
        printf("test_trusted_env: skipped: needs root to make a setuid-like process\n");
        return 77;
    }
    setenv("SOLTI_EXEC_SHIM", FAKE_SHIM, 1);
    setenv("SOLTI_EXEC_LOG", "debug", 1);

    size_t err_bytes = 0;
    int code = run_child(0, &err_bytes);
    CHECK_MSG(code == SPAWN_FAILED,
              "an ordinary process ignored SOLTI_EXEC_SHIM=%s (child exit %d, want %d)",
              FAKE_SHIM, code, SPAWN_FAILED);
    CHECK_MSG(err_bytes > 0, "an ordinary process ignored SOLTI_EXEC_LOG=debug");

    code = run_child(1, &err_bytes);
    CHECK_MSG(code == SPAWN_OK,
              "real uid nobody, effective uid 0: SOLTI_EXEC_SHIM was obeyed or the spawn failed "
              "(child exit %d, want %d)", code, SPAWN_OK);
    CHECK_MSG(err_bytes == 0,
              "real uid nobody, effective uid 0: SOLTI_EXEC_LOG=debug was obeyed (%zu bytes on "
              "stderr)", err_bytes);
    printf("test_trusted_env: ok\n");
    return 0;
}
