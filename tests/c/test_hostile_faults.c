/*
 * Faults of the host's making, each failing cleanly with its cause named and
 * leaving nothing behind, and the library recovering once the fault is gone:
 *  - TMPDIR missing, not a directory, read-only or full: building a script
 *    task fails with SOLTI_ESPAWN naming the path and the errno.  A full
 *    disk is a 16 KiB tmpfs where mounting is allowed (root), and always
 *    RLIMIT_FSIZE on the process (SIGXFSZ ignored, as a host must to see
 *    EFBIG instead of dying);
 *  - RLIMIT_NOFILE lowered to 64 with the descriptors used up, leaving 0 to
 *    12 free: spawn fails with SOLTI_ESPAWN (SOLTI_ESANDBOX when it is the
 *    task's cgroup that could not be opened) and "too many open files"
 *    (EMFILE), or succeeds; it never leaks a descriptor, and spawns work
 *    again once descriptors are free;
 *  - the exec shim missing, not executable, or a directory: spawn fails with
 *    SOLTI_ESPAWN naming the path; a runner recovers once it is fixed.
 */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "test.h"
#include "holdings.h"

static solti_runner_t runner;

/* A bash script task spec whose body is `len` bytes ("#xxx...\n"). */
static char *script_spec(size_t len) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char *body = malloc(len);
    CHECK(body != NULL && len >= 2);
    memset(body, 'x', len);
    body[0] = '#';
    body[len - 1] = '\n';
    test_str_t s = {0};
    test_str_cat(&s, "{\"slot\": \"script\", \"timeout\": 10000, \"kind\": {\"subprocess\": "
                     "{\"mode\": {\"script\": {\"runtime\": \"bash\", \"body\": \"");
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)body[i] << 16;
        if (i + 1 < len) v |= (uint32_t)body[i + 1] << 8;
        if (i + 2 < len) v |= body[i + 2];
        char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63], b64[(v >> 6) & 63], b64[v & 63]};
        if (i + 1 >= len) q[2] = '=';
        if (i + 2 >= len) q[3] = '=';
        test_str_add(&s, q, 4);
    }
    test_str_cat(&s, "\"}}}}}");
    free(body);
    return s.p;
}

/* Builds a script task under TMPDIR=dir: must fail naming dir and cause. */
static void check_build_fails(const char *dir, size_t len, const char *cause) {
    CHECK(setenv("TMPDIR", dir, 1) == 0);
    char *spec = script_spec(len);
    solti_task_t t = 0;
    int rc = solti_task_build(runner, spec, &t);
    free(spec);
    CHECK_CODE(rc, SOLTI_ESPAWN);
    const char *msg = test_last_error();
    CHECK_STR_CONTAINS(msg, "script file");
    CHECK_STR_CONTAINS(msg, dir);
    CHECK_STR_CONTAINS(msg, cause);
    printf("TMPDIR=%s: \"%s\"\n", dir, msg);
    CHECK_EQ_INT(hold_script_dirs(), 0); /* nothing half-made left behind */
}

/* Builds and runs a script task under TMPDIR=dir: must work. */
static void check_build_works(const char *dir) {
    CHECK(setenv("TMPDIR", dir, 1) == 0);
    char *spec = script_spec(64);
    solti_task_t t = test_task(runner, spec);
    free(spec);
    CHECK_EQ_INT(hold_script_dirs(), 1);
    CHECK_OK(solti_task_spawn(t));
    solti_exit_t ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_OK(solti_task_free(t));
    CHECK_EQ_INT(hold_script_dirs(), 0);
}

static void test_tmpdir_faults(void) {
    char base[64];
    hold_private_tmpdir(base, "faults");
    char path[128];

    snprintf(path, sizeof path, "%s/missing", base);
    check_build_fails(path, 64, "no such file or directory");

    snprintf(path, sizeof path, "%s/a-file", base);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    check_build_fails(path, 64, "not a directory");
    unlink(path);

    /* Read-only and full: a tmpfs of our own, where mounting is allowed. */
    snprintf(path, sizeof path, "%s/mnt", base);
    CHECK(mkdir(path, 0700) == 0);
    if (mount("solti-test", path, "tmpfs", MS_RDONLY, "size=16k") == 0) {
        check_build_fails(path, 64, "read-only file system");
        CHECK(mount("solti-test", path, "tmpfs", MS_REMOUNT, "size=16k") == 0);
        check_build_fails(path, 64 * 1024, "no space left on device");
        check_build_works(path); /* a small one still fits */
        CHECK(umount(path) == 0);
    } else {
        printf("tmpfs mount not allowed (%s): read-only and full TMPDIR via tmpfs not tested\n",
               strerror(errno));
    }
    rmdir(path);

    /* Full, portably: RLIMIT_FSIZE. The host ignores SIGXFSZ, or the write
       past the limit would kill it. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit saved, rl;
    CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    rl = saved;
    rl.rlim_cur = 4096;
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    check_build_fails(base, 64 * 1024, "file too large");
    CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
    signal(SIGXFSZ, SIG_DFL);
    check_build_works(base);
    hold_private_tmpdir_done(base);
}

/* ---- RLIMIT_NOFILE ---------------------------------------------------------- */

static int filler[1024];
static int n_filler;

/* Opens descriptors until only `left` are free under the current limit. */
static void use_up_fds(int left) {
    n_filler = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            CHECK_MSG(errno == EMFILE, "open: %s", strerror(errno));
            break;
        }
        CHECK(n_filler < 1024);
        filler[n_filler++] = fd;
    }
    for (int i = 0; i < left && n_filler > 0; i++) close(filler[--n_filler]);
}

static void free_fds(void) {
    while (n_filler > 0) close(filler[--n_filler]);
}

static void test_nofile_64(void) {
    const char *argv[] = {"true", NULL};
    /* Baseline after a first spawn, with the limit as it was. */
    solti_task_t t = test_cmd_task(runner, "nofile", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    test_wait(t, 10000);
    CHECK_OK(solti_task_free(t));
    int before = hold_fds();
    CHECK_MSG(before < 40, "%d descriptors open already", before);

    struct rlimit saved, rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    rl = saved;
    rl.rlim_cur = 64;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);

    int failed = 0, worked = 0;
    for (int left = 0; left <= 12; left++) {
        t = test_cmd_task(runner, "nofile", argv, 10000, "", "");
        use_up_fds(left);
        int rc = solti_task_spawn(t);
        free_fds();
        if (rc == SOLTI_OK) {
            worked++;
            solti_exit_t ex = test_wait(t, 10000);
            CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
        } else {
            /* SOLTI_ESANDBOX when the descriptor that ran out was the one
               for the task's cgroup. */
            if (rc != SOLTI_ESANDBOX) CHECK_CODE(rc, SOLTI_ESPAWN);
            CHECK_STR_CONTAINS(test_last_error(), "too many open files");
            printf("%d free descriptors: %s: \"%s\"\n", left, test_code_name(rc), test_last_error());
            failed++;
            solti_exit_t ex = test_wait(t, 10000);
            CHECK_OUTCOME(ex, SOLTI_OUTCOME_FATAL);
            CHECK_STR_CONTAINS(ex.reason, "too many open files");
        }
        CHECK_OK(solti_task_free(t));
        int now = hold_fds();
        CHECK_MSG(now == before, "%d free descriptors: %d open after the spawn, %d before", left,
                  now, before);
    }
    printf("RLIMIT_NOFILE 64 with 0..12 descriptors free: %d spawns failed with EMFILE, %d worked, "
           "no descriptor leaked\n", failed, worked);
    CHECK_MSG(failed > 0, "no spawn failed: the limit did not bite");
    CHECK_MSG(worked > 0, "no spawn worked even with 12 descriptors free");

    /* Recovery: descriptors free (still under the limit of 64), then the
       limit raised back. */
    t = test_cmd_task(runner, "nofile", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    test_wait(t, 10000);
    CHECK_OK(solti_task_free(t));
    CHECK(setrlimit(RLIMIT_NOFILE, &saved) == 0);
    t = test_cmd_task(runner, "nofile", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    test_wait(t, 10000);
    CHECK_OK(solti_task_free(t));
    CHECK_EQ_INT(hold_fds(), before);
}

/* ---- The exec shim ---------------------------------------------------------- */

static void check_shim_fails(const char *shim, const char *cause) {
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"shimPath\": \"%s\"}", shim);
    solti_runner_t r = test_runner("hostile-shim", cfg);
    const char *argv[] = {"true", NULL};
    for (int i = 0; i < 2; i++) { /* the second spawn says the same */
        solti_task_t t = test_cmd_task(r, "shim", argv, 10000, "", "");
        CHECK_ERR(solti_task_spawn(t), SOLTI_ESPAWN, shim);
        CHECK_STR_CONTAINS(test_last_error(), cause);
        if (i == 0) printf("shimPath %s: \"%s\"\n", shim, test_last_error());
        solti_exit_t ex = test_wait(t, 10000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_FATAL);
        CHECK_STR_CONTAINS(ex.reason, shim);
        CHECK_OK(solti_task_free(t));
    }
    CHECK_OK(solti_runner_free(r));
}

/* Copies the real shim to path with mode. */
static void copy_shim(const char *path, mode_t mode) {
    /* The built shim sits beside the built library. */
    char real[4096];
    snprintf(real, sizeof real, "%s", SOLTI_TEST_LIBRARY);
    char *slash = strrchr(real, '/');
    CHECK(slash != NULL);
    snprintf(slash + 1, sizeof real - (size_t)(slash + 1 - real), "solti-exec-shim");
    int in = open(real, O_RDONLY);
    CHECK_MSG(in >= 0, "%s: %s", real, strerror(errno));
    int out = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    CHECK(out >= 0);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) CHECK(write(out, buf, (size_t)n) == n);
    close(in);
    close(out);
    CHECK(chmod(path, mode) == 0);
}

static void test_shim_faults(void) {
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/solti-shim-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char shim[128];
    snprintf(shim, sizeof shim, "%s/solti-exec-shim", dir);

    check_shim_fails(shim, "not found");
    copy_shim(shim, 0644);
    check_shim_fails(shim, "not executable");
    unlink(shim);
    CHECK(mkdir(shim, 0755) == 0);
    check_shim_fails(shim, "not executable");
    rmdir(shim);

    /* A runner whose shim was missing at its first spawn works once the
       shim is there. */
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"shimPath\": \"%s\"}", shim);
    solti_runner_t r = test_runner("hostile-shim", cfg);
    const char *argv[] = {"echo", "shim back", NULL};
    solti_task_t t = test_cmd_task(r, "shim", argv, 10000, "", "");
    CHECK_ERR(solti_task_spawn(t), SOLTI_ESPAWN, "not found");
    CHECK_OK(solti_task_free(t));
    copy_shim(shim, 0755);
    t = test_cmd_task(r, "shim", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 10000);
    CHECK_LINES(&evs, SOLTI_STDOUT, "shim back");
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
    CHECK_OK(solti_runner_free(r));
    unlink(shim);
    rmdir(dir);
}

int main(void) {
    runner = test_runner("hostile-faults", "{\"scriptStorage\": \"file\"}"); /* TMPDIR matters to files */
    test_tmpdir_faults();
    test_nofile_64();
    test_shim_faults();
    CHECK_OK(solti_runner_free(runner));
    printf("test_hostile_faults: ok\n");
    return 0;
}
