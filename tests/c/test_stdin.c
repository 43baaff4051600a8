/*
 * stdin "pipe": sort fed 10 MB returns it sorted while its output is read;
 * cat echoes 100 MB in and out at once without deadlock; a write after the
 * child exited, or after it closed its stdin, gives SOLTI_EPIPE and no
 * SIGPIPE in this host (which leaves SIGPIPE as it found it); timeouts give
 * partial writes; the stdin descriptor polls writable; the spec's input is
 * written and closed by the library; wrong states and arguments are refused.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "test.h"

static solti_runner_t runner;

#define BLOCK_BYTES "\"output\": {\"mode\": \"bytes\", \"whenFull\": \"block\", \"capacity\": 64, \"maxBytes\": 4194304}"
#define PIPE "\"stdin\": \"pipe\""

typedef struct {
    solti_task_t task;
    const char *data;
    size_t len, chunk;
    int rc;
    size_t written;
} writer_t;

/* Writes data in chunks of `chunk` bytes (all at once when 0), then closes
 * the task's stdin. */
static void *write_all(void *arg) {
    writer_t *w = arg;
    size_t chunk = w->chunk ? w->chunk : w->len;
    w->rc = SOLTI_OK;
    for (size_t off = 0; off < w->len && w->rc == SOLTI_OK; off += chunk) {
        size_t n = w->len - off < chunk ? w->len - off : chunk, done = 0;
        w->rc = solti_task_write(w->task, w->data + off, n, SOLTI_INFINITE, &done);
        w->written += done;
    }
    if (w->rc == SOLTI_OK) w->rc = solti_task_close_stdin(w->task);
    return NULL;
}

/* Reads the task's stdout (bytes mode) to the end into a malloc'd buffer. */
static char *read_stdout(solti_task_t t, size_t *len_out) {
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    CHECK(out != NULL);
    solti_read_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    for (;;) {
        if (cap - len < 65536) {
            cap *= 2;
            out = realloc(out, cap);
            CHECK(out != NULL);
        }
        size_t n = 0;
        int rc = solti_task_read(t, &cur, SOLTI_STDOUT | SOLTI_STDERR, out + len, cap - len, 60000, &n, NULL);
        if (rc == SOLTI_EOF) break;
        CHECK_OK(rc);
        len += n;
    }
    *len_out = len;
    return out;
}

static int cmp_lines(const void *a, const void *b) {
    return memcmp(*(const char *const *)a, *(const char *const *)b, 8);
}

static void test_sort_10mb(void) {
    enum { LINE = 9, LINES = 10 * 1000 * 1000 / LINE };
    size_t len = (size_t)LINES * LINE;
    char *in = malloc(len), *want = malloc(len);
    const char **index = malloc(sizeof *index * LINES);
    CHECK(in && want && index);
    uint32_t x = 12345;
    for (size_t i = 0; i < LINES; i++) {
        x = x * 1103515245u + 12345u;
        snprintf(in + i * LINE, LINE + 1, "%08x", x);
        in[i * LINE + 8] = '\n';
        index[i] = in + i * LINE;
    }
    qsort(index, LINES, sizeof *index, cmp_lines);
    for (size_t i = 0; i < LINES; i++) memcpy(want + i * LINE, index[i], LINE);

    const char *argv[] = {"sort", NULL};
    solti_task_t t = test_cmd_task(runner, "sort", argv, 120000,
                                   PIPE ", \"env\": [{\"key\": \"LC_ALL\", \"value\": \"C\"}]", BLOCK_BYTES);
    CHECK_OK(solti_task_spawn(t));
    writer_t w = {.task = t, .data = in, .len = len, .chunk = 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, write_all, &w) == 0);
    size_t got_len = 0;
    char *got = read_stdout(t, &got_len);
    pthread_join(th, NULL);
    CHECK_OK(w.rc);
    CHECK_EQ_INT(w.written, len);
    CHECK_EQ_INT(got_len, len);
    CHECK_MSG(memcmp(got, want, len) == 0, "sort's output is not the input sorted");
    solti_exit_t ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_OK(solti_task_free(t));
    free(in);
    free(want);
    free(index);
    free(got);
}

static unsigned char pattern(size_t i) { return (unsigned char)(i * 131u + (i >> 12)); }

static void test_cat_100mb(void) {
    size_t len = 100u << 20;
    char *in = malloc(len);
    CHECK(in != NULL);
    for (size_t i = 0; i < len; i++) in[i] = (char)pattern(i);
    const char *argv[] = {"cat", NULL};
    solti_task_t t = test_cmd_task(runner, "cat", argv, 120000, PIPE, BLOCK_BYTES);
    CHECK_OK(solti_task_spawn(t));
    writer_t w = {.task = t, .data = in, .len = len, .chunk = 1 << 20};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, write_all, &w) == 0);
    /* Read while the writer writes: neither side may wait for the other. */
    solti_read_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    static char buf[1 << 16];
    size_t pos = 0;
    for (;;) {
        size_t n = 0;
        int rc = solti_task_read(t, &cur, SOLTI_STDOUT, buf, sizeof buf, 60000, &n, NULL);
        if (rc == SOLTI_EOF) break;
        CHECK_OK(rc);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)buf[i] != pattern(pos + i))
                FAIL("byte %zu is 0x%02x, want 0x%02x", pos + i, (unsigned char)buf[i], pattern(pos + i));
        pos += n;
    }
    pthread_join(th, NULL);
    CHECK_OK(w.rc);
    CHECK_EQ_INT(pos, len);
    solti_exit_t ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_OK(solti_task_free(t));
    free(in);
}

static void test_epipe(void) {
    static char big[1 << 20];
    size_t done = 7;
    /* The child exited: its attempt is over. */
    const char *t_argv[] = {"true", NULL};
    solti_task_t t = test_cmd_task(runner, "epipe", t_argv, 10000, PIPE, "");
    CHECK_OK(solti_task_spawn(t));
    test_wait(t, 10000);
    CHECK_ERR(solti_task_write(t, "x", 1, 1000, &done), SOLTI_EPIPE, "broken pipe");
    CHECK_EQ_INT(done, 0);
    CHECK_CODE(solti_task_stdin_fd(t), SOLTI_EPIPE);
    CHECK_OK(solti_task_free(t));

    /* The child lives but closed its stdin: the kernel's EPIPE, no SIGPIPE. */
    const char *c_argv[] = {"sh", "-c", "exec 0<&-; echo closed; sleep 10", NULL};
    t = test_cmd_task(runner, "epipe", c_argv, 20000, PIPE, "");
    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_wait_line(t, &cursor, NULL, "closed");
    done = 7;
    CHECK_ERR(solti_task_write(t, big, sizeof big, 5000, &done), SOLTI_EPIPE, "broken pipe");
    CHECK_EQ_INT(done, 0);
    CHECK_OK(solti_task_cancel(t));
    CHECK_OK(solti_task_free(t));

    sigset_t pending;
    sigpending(&pending);
    CHECK_MSG(!sigismember(&pending, SIGPIPE), "a SIGPIPE is pending in the host");
}

static void test_timeouts_and_fd(void) {
    static char big[4 << 20];
    const char *argv[] = {"sh", "-c", "echo up; sleep 0.5; cat >/dev/null", NULL};
    solti_task_t t = test_cmd_task(runner, "slow", argv, 20000, PIPE, "");
    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_wait_line(t, &cursor, NULL, "up");
    int fd = solti_task_stdin_fd(t);
    CHECK_MSG(fd >= 3, "stdin fd %d", fd);
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    CHECK_EQ_INT(poll(&p, 1, 1000), 1);
    CHECK(p.revents & POLLOUT);

    /* Nobody reads yet: timeout 0 writes what fits, then a 100 ms wait. */
    size_t done = 0;
    CHECK_CODE(solti_task_write(t, big, sizeof big, 0, &done), SOLTI_ETIMEDOUT);
    CHECK_MSG(done > 0 && done < sizeof big, "wrote %zu", done);
    p.revents = 0;
    CHECK_EQ_INT(poll(&p, 1, 0), 0); /* full now */
    int64_t start = test_now_ms();
    size_t more = 0;
    int rc = solti_task_write(t, big, sizeof big, 100, &more);
    CHECK_CODE(rc, SOLTI_ETIMEDOUT);
    CHECK_MSG(test_now_ms() - start < 400, "a 100 ms write took %lld ms", (long long)(test_now_ms() - start));
    /* Once cat reads, the rest goes through. */
    CHECK_OK(solti_task_write(t, big, sizeof big, 20000, &more));
    CHECK_EQ_INT(more, sizeof big);
    CHECK_OK(solti_task_close_stdin(t));
    CHECK_OK(solti_task_close_stdin(t));
    CHECK_ERR(solti_task_write(t, "x", 1, 0, NULL), SOLTI_ESTATE, "closed");
    CHECK_ERR(solti_task_stdin_fd(t), SOLTI_ESTATE, "closed");
    solti_exit_t ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_OK(solti_task_free(t));
}

static void test_input_and_states(void) {
    /* "input": the library writes it and closes stdin, on each attempt. */
    const char *argv[] = {"sort", NULL};
    solti_task_t t = test_cmd_task(runner, "input", argv, 10000, "\"input\": \"YwphCmIK\"", "");
    CHECK_ERR(solti_task_write(t, "x", 1, 0, NULL), SOLTI_ESTATE, "input");
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_spawn_to_end(t, &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_LINES(&evs, SOLTI_STDOUT, "a", "b", "c");
    test_events_free(&evs);
    CHECK_ERR(solti_task_close_stdin(t), SOLTI_ESTATE, "input");
    CHECK_OK(solti_task_free(t));

    /* No pipe: /dev/null by default. */
    const char *cat[] = {"cat", NULL};
    t = test_cmd_task(runner, "null", cat, 10000, "", "");
    CHECK_ERR(solti_task_write(t, "x", 1, 0, NULL), SOLTI_ESTATE, "stdin is not a pipe");
    CHECK_OK(solti_task_free(t));

    /* A pipe, never spawned; bad arguments. */
    t = test_cmd_task(runner, "idle", cat, 10000, PIPE, "");
    CHECK_ERR(solti_task_write(t, "x", 1, 0, NULL), SOLTI_ESTATE, "never spawned");
    CHECK_ERR(solti_task_write(t, NULL, 1, 0, NULL), SOLTI_EINVAL, "buf must not be NULL");
    CHECK_ERR(solti_task_write(t, "x", 1, -2, NULL), SOLTI_EINVAL, "timeout_ms");
    CHECK_OK(solti_task_free(t));
    CHECK_CODE(solti_task_write(t, "x", 1, 0, NULL), SOLTI_EBADF);
    CHECK_CODE(solti_task_close_stdin(t), SOLTI_EBADF);
    CHECK_CODE(solti_task_stdin_fd(0), SOLTI_EBADF);
    CHECK_STR_CONTAINS(solti_strerror(SOLTI_EPIPE), "broken pipe");
}

/* A host may set SIGPIPE back to SIG_DFL after loading the library, which
 * replaces the Go runtime's handler: a write nobody reads must still give
 * SOLTI_EPIPE and leave the host alive (the library blocks SIGPIPE on the
 * writing thread and takes back the one its write raised). */
static void test_epipe_with_default_sigpipe(void) {
    struct sigaction dfl, old;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    CHECK(sigaction(SIGPIPE, &dfl, &old) == 0);
    static char big[1 << 20];
    const char *argv[] = {"sh", "-c", "exec 0<&-; echo closed; sleep 10", NULL};
    for (int i = 0; i < 3; i++) {
        solti_task_t t = test_cmd_task(runner, "epipe-dfl", argv, 20000, PIPE, "");
        CHECK_OK(solti_task_spawn(t));
        uint64_t cursor = 0;
        test_wait_line(t, &cursor, NULL, "closed");
        CHECK_CODE(solti_task_write(t, big, sizeof big, 5000, NULL), SOLTI_EPIPE);
        CHECK_CODE(solti_task_write(t, "x", 1, 0, NULL), SOLTI_EPIPE);
        CHECK_OK(solti_task_free(t));
    }
    sigset_t pending;
    sigpending(&pending);
    CHECK_MSG(!sigismember(&pending, SIGPIPE), "a SIGPIPE is pending in the host");
    CHECK(sigaction(SIGPIPE, &old, NULL) == 0);
}

int main(void) {
    /* This host leaves SIGPIPE as the process started with it (not ignored):
     * a write nobody reads must still not kill it. */
    struct sigaction old;
    CHECK(sigaction(SIGPIPE, NULL, &old) == 0);
    CHECK_MSG(old.sa_handler != SIG_IGN, "the test must run with SIGPIPE not ignored");
    runner = test_runner("stdin", NULL);
    test_input_and_states();
    test_epipe();
    test_timeouts_and_fd();
    test_sort_10mb();
    test_cat_100mb();
    test_epipe_with_default_sigpipe();
    CHECK_OK(solti_runner_free(runner));
    printf("test_stdin: ok\n");
    return 0;
}
