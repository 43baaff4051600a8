/*
 * solti_task_spawn_failure: the step, errno and argument of a spawn that
 * failed, so callers choose from them (a missing program, a program that
 * cannot run, a bad directory, a missing shim) and never from the message.
 */
#include <errno.h>
#include <sys/stat.h>

#include "test.h"

static solti_runner_t runner;

/* Spawns argv (with sub_extra in "subprocess"), which must fail with code,
   and checks what solti_task_spawn_failure reports. */
static void check_failure(solti_runner_t r, const char *const argv[], const char *sub_extra, int code,
                          const char *step, int errnum, const char *arg, int sandbox) {
    solti_task_t t = test_cmd_task(r, "fail", argv, 5000, sub_extra, "");
    solti_spawn_failure_t f;
    memset(&f, 0x55, sizeof f);
    CHECK_EQ_INT(solti_task_spawn_failure(t, &f), 0); /* never spawned */
    CHECK_EQ_INT((unsigned char)f.step[0], 0x55);     /* untouched */
    CHECK_CODE(solti_task_spawn(t), code);
    CHECK_EQ_INT(solti_task_spawn_failure(t, &f), 1);
    CHECK_STR_EQ(f.step, step);
    CHECK_MSG(f.errnum == errnum, "errnum %d (%s), want %d (%s)", f.errnum, strerror(f.errnum), errnum,
              strerror(errnum));
    CHECK_STR_EQ(f.arg, arg);
    CHECK_EQ_INT(f.arg_len, strlen(arg));
    CHECK_EQ_INT(f.sandbox, sandbox);
    CHECK_OK(solti_task_free(t));
}

static void test_steps(void) {
    const char *missing[] = {"solti-no-such-binary", NULL};
    check_failure(runner, missing, "", SOLTI_ESPAWN, "exec", ENOENT, "solti-no-such-binary", 0);

    char plain[] = "/tmp/solti-not-exec-XXXXXX";
    int fd = mkstemp(plain);
    CHECK(fd >= 0 && fchmod(fd, 0644) == 0);
    close(fd);
    const char *not_exec[] = {plain, NULL};
    check_failure(runner, not_exec, "", SOLTI_ESPAWN, "exec", EACCES, plain, 0);
    unlink(plain);

    const char *ok_cmd[] = {"true", NULL};
    check_failure(runner, ok_cmd, "\"cwd\": \"/nonexistent-solti-dir\"", SOLTI_ESPAWN, "chdir", ENOENT,
                  "/nonexistent-solti-dir", 0);

    solti_runner_t noshim = test_runner("noshim", "{\"shimPath\": \"/nonexistent/solti-exec-shim\"}");
    check_failure(noshim, ok_cmd, "", SOLTI_ESPAWN, "shim", ENOENT, "/nonexistent/solti-exec-shim", 0);
    CHECK_OK(solti_runner_free(noshim));
}

/* A long program name is cut in arg, and arg_len says by how much. */
static void test_long_arg(void) {
    size_t n = 6000;
    char *name = malloc(n + 1);
    CHECK(name != NULL);
    memset(name, 'x', n);
    name[n] = '\0';
    const char *argv[] = {name, NULL};
    solti_task_t t = test_cmd_task(runner, "long", argv, 5000, "", "");
    CHECK_CODE(solti_task_spawn(t), SOLTI_ESPAWN);
    solti_spawn_failure_t f;
    CHECK_EQ_INT(solti_task_spawn_failure(t, &f), 1);
    CHECK_STR_EQ(f.step, "exec");
    CHECK_EQ_INT(f.arg_len, n);
    CHECK_EQ_INT(strlen(f.arg), sizeof f.arg - 1);
    CHECK(strncmp(f.arg, name, sizeof f.arg - 1) == 0);
    CHECK_OK(solti_task_free(t));
    free(name);
}

/* Running, or ended by its own exit: no spawn failure. */
static void test_none(void) {
    const char *argv[] = {"sh", "-c", "sleep 0.2; exit 3", NULL};
    solti_task_t t = test_cmd_task(runner, "none", argv, 5000, "", "");
    CHECK_OK(solti_task_spawn(t));
    solti_spawn_failure_t f;
    CHECK_EQ_INT(solti_task_spawn_failure(t, &f), 0);
    solti_exit_t ex = test_wait(t, 5000);
    CHECK_EQ_INT(ex.exit_code, 3);
    CHECK_EQ_INT(solti_task_spawn_failure(t, &f), 0);
    CHECK_CODE(solti_task_spawn_failure(t, NULL), SOLTI_EINVAL);
    CHECK_OK(solti_task_free(t));
    CHECK_CODE(solti_task_spawn_failure(t, &f), SOLTI_EBADF);
    CHECK_CODE(solti_task_spawn_failure(0, &f), SOLTI_EBADF);
    CHECK_CODE(solti_task_spawn_failure(runner, &f), SOLTI_EBADF);
}

int main(void) {
    runner = test_runner("spawnfail", NULL);
    test_steps();
    test_long_arg();
    test_none();
    CHECK_OK(solti_runner_free(runner));
    printf("test_spawn_failure: ok\n");
    return 0;
}
