/*
 * Output mode "bytes": solti_task_read gives exactly the bytes the child
 * wrote (a binary, 200 MB of random bytes, a tar stream), through buffers down
 * to 1 byte, with nothing lost in block mode; stdout and stderr apart;
 * solti_task_poll gives the same bytes as CHUNK events; concurrent readers
 * each account for every byte (read + lost); a free during a blocking read
 * ends it; bad arguments are refused.
 */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "test.h"

static solti_runner_t runner;

#define BYTES_DROP "\"output\": {\"mode\": \"bytes\"}"
#define BYTES_BLOCK "\"output\": {\"mode\": \"bytes\", \"whenFull\": \"block\", \"capacity\": 8, \"maxBytes\": 131072}"

typedef struct {
    char *p;
    size_t n, cap;
} blob_t;

static void blob_add(blob_t *b, const char *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 4096;
        b->p = realloc(b->p, b->cap);
        CHECK(b->p != NULL);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* Reads all of a file or a command's stdout (popen) into a blob. */
static blob_t slurp_fd(FILE *f) {
    blob_t b = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) blob_add(&b, buf, n);
    return b;
}

/* Spawns argv in bytes mode (output config top_extra) and reads the streams
 * in mask with solti_task_read through a buf_len buffer until SOLTI_EOF.
 * Every call's bytes must be of one stream; out[stream-1] gets them. */
static void read_task(const char *const argv[], const char *top_extra, uint32_t mask, size_t buf_len,
                      blob_t out[2], uint64_t *lost_events) {
    solti_task_t t = test_cmd_task(runner, "bytes", argv, 120000, "", top_extra);
    CHECK_OK(solti_task_spawn(t));
    char *buf = malloc(buf_len);
    CHECK(buf != NULL);
    solti_read_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    *lost_events = 0;
    for (;;) {
        size_t n = 99;
        solti_read_info_t info;
        int rc = solti_task_read(t, &cur, mask, buf, buf_len, 60000, &n, &info);
        if (rc == SOLTI_EOF) {
            CHECK_EQ_INT(n, 0);
            break;
        }
        CHECK_OK(rc);
        *lost_events += info.lost_events;
        CHECK_MSG(n > 0 || info.lost_events > 0, "a read returned nothing before its timeout");
        CHECK(n <= buf_len);
        if (n == 0) continue;
        CHECK_MSG(info.stream == SOLTI_STDOUT || info.stream == SOLTI_STDERR, "stream %u", info.stream);
        CHECK_MSG(info.stream & mask, "stream %u not asked for", info.stream);
        CHECK_EQ_INT(info.attempt, 1);
        blob_add(&out[info.stream - 1], buf, n);
    }
    free(buf);
    solti_exit_t ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_OK(solti_task_free(t));
}

static void check_same(const blob_t *got, const blob_t *want, const char *what) {
    CHECK_MSG(got->n == want->n, "%s: %zu bytes, want %zu", what, got->n, want->n);
    CHECK_MSG(memcmp(got->p, want->p, want->n) == 0, "%s: bytes differ", what);
}

/* Copies path through `cat` in bytes mode and compares with the file. */
static void check_copy(const char *path, const char *top_extra, size_t buf_len) {
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "open %s", path);
    blob_t want = slurp_fd(f);
    fclose(f);
    const char *argv[] = {"cat", path, NULL};
    blob_t got[2] = {{0}, {0}};
    uint64_t lost;
    read_task(argv, top_extra, SOLTI_STDOUT | SOLTI_STDERR, buf_len, got, &lost);
    CHECK_EQ_INT(lost, 0);
    CHECK_EQ_INT(got[1].n, 0);
    check_same(&got[0], &want, path);
    free(want.p);
    free(got[0].p);
}

static char dir[] = "/tmp/solti-test-bytes-XXXXXX";
static char big[sizeof dir + 16];

static void make_big_file(size_t size) {
    snprintf(big, sizeof big, "%s/random", dir);
    int in = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    int out = open(big, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(in >= 0 && out >= 0);
    char buf[65536];
    for (size_t done = 0; done < size;) {
        ssize_t n = read(in, buf, sizeof buf);
        CHECK(n > 0);
        CHECK(write(out, buf, (size_t)n) == n);
        done += (size_t)n;
    }
    close(in);
    close(out);
}

static void test_binary(void) {
    check_copy("/bin/true", BYTES_DROP, 65536);
    check_copy("/bin/true", BYTES_BLOCK, 1); /* a 1-byte buffer splits every chunk */
    check_copy("/bin/true", BYTES_BLOCK, 7);
}

static void test_big_random(void) {
    check_copy(big, BYTES_BLOCK, 1 << 20);
    check_copy(big, BYTES_BLOCK, 4093);
}

static void test_tar(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tar -cf - -C %s .", dir);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    blob_t want = slurp_fd(p);
    CHECK_EQ_INT(pclose(p), 0);
    CHECK(want.n > 20 * 1000 * 1000);
    const char *argv[] = {"tar", "-cf", "-", "-C", dir, ".", NULL};
    blob_t got[2] = {{0}, {0}};
    uint64_t lost;
    read_task(argv, BYTES_BLOCK, SOLTI_STDOUT, 65536, got, &lost);
    CHECK_EQ_INT(lost, 0);
    check_same(&got[0], &want, "tar stream");
    free(want.p);
    free(got[0].p);
}

static void test_streams_apart(void) {
    const char *argv[] = {"sh", "-c", "printf 'o1\\r\\n'; sleep 0.1; printf 'e1\\377' >&2; sleep 0.1; printf o2", NULL};
    blob_t got[2] = {{0}, {0}};
    uint64_t lost;
    read_task(argv, BYTES_DROP, SOLTI_STDOUT | SOLTI_STDERR, 64, got, &lost);
    CHECK_EQ_INT(got[0].n, 6);
    CHECK(memcmp(got[0].p, "o1\r\no2", 6) == 0);
    CHECK_EQ_INT(got[1].n, 3);
    CHECK(memcmp(got[1].p, "e1\377", 3) == 0);
    free(got[0].p);
    free(got[1].p);

    blob_t only[2] = {{0}, {0}};
    read_task(argv, BYTES_DROP, SOLTI_STDERR, 64, only, &lost);
    CHECK_EQ_INT(only[0].n, 0);
    CHECK_EQ_INT(only[1].n, 3);
    free(only[1].p);
}

static void test_poll_chunks(void) {
    const char *argv[] = {"cat", "/bin/true", NULL};
    solti_task_t t = test_cmd_task(runner, "bytes", argv, 60000, "", BYTES_DROP);
    CHECK_OK(solti_task_spawn(t));
    test_wait(t, 30000);
    FILE *f = fopen("/bin/true", "rb");
    CHECK(f != NULL);
    blob_t want = slurp_fd(f);
    fclose(f);
    blob_t got = {0};
    uint64_t cursor = 0, chunks = 0;
    solti_event_t evs[16];
    static char buf[1 << 20];
    for (;;) {
        size_t n = 0;
        int rc = solti_task_poll(t, &cursor, evs, 16, buf, sizeof buf, 0, &n);
        if (rc == SOLTI_EOF) break;
        CHECK_OK(rc);
        CHECK(n > 0);
        for (size_t i = 0; i < n; i++) {
            CHECK_MSG(evs[i].kind != SOLTI_EVENT_LINE, "bytes mode gives no LINE events");
            if (evs[i].kind != SOLTI_EVENT_CHUNK) continue;
            CHECK_EQ_INT(evs[i].stream, SOLTI_STDOUT);
            CHECK_EQ_INT(evs[i].seq, chunks);
            chunks++;
            blob_add(&got, evs[i].data, evs[i].len);
        }
    }
    CHECK(chunks > 0);
    check_same(&got, &want, "CHUNK events");
    free(want.p);
    free(got.p);
    CHECK_OK(solti_task_free(t));
}

typedef struct {
    solti_task_t task;
    size_t buf_len;
    uint64_t got, lost_bytes;
    int rc;
    int same; /* the bytes read so far match the file at their offset */
    const blob_t *want;
} reader_t;

static void *reader_main(void *arg) {
    reader_t *r = arg;
    char *buf = malloc(r->buf_len);
    solti_read_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    r->same = 1;
    for (;;) {
        size_t n = 0;
        solti_read_info_t info;
        r->rc = solti_task_read(r->task, &cur, SOLTI_STDOUT, buf, r->buf_len, 60000, &n, &info);
        if (r->rc != SOLTI_OK) break;
        r->lost_bytes += info.lost_bytes;
        uint64_t at = r->got + r->lost_bytes; /* the stream offset of these bytes */
        if (r->want && (at + n > r->want->n || memcmp(r->want->p + at, buf, n) != 0)) r->same = 0;
        r->got += n;
    }
    free(buf);
    return NULL;
}

static void test_concurrent_readers(void) {
    FILE *f = fopen(big, "rb");
    CHECK(f != NULL);
    blob_t want = slurp_fd(f);
    fclose(f);
    const char *argv[] = {"cat", big, NULL};
    for (int block = 0; block < 2; block++) {
        solti_task_t t = test_cmd_task(runner, "bytes", argv, 120000, "", block ? BYTES_BLOCK : BYTES_DROP);
        reader_t rs[3] = {{t, 65536, 0, 0, 0, 0, &want}, {t, 1000, 0, 0, 0, 0, &want}, {t, 7, 0, 0, 0, 0, &want}};
        pthread_t th[3];
        for (int i = 0; i < 3; i++) CHECK(pthread_create(&th[i], NULL, reader_main, &rs[i]) == 0);
        CHECK_OK(solti_task_spawn(t));
        for (int i = 0; i < 3; i++) CHECK(pthread_join(th[i], NULL) == 0);
        for (int i = 0; i < 3; i++) {
            CHECK_MSG(rs[i].rc == SOLTI_EOF, "reader %d ended with %s", i, test_code_name(rs[i].rc));
            CHECK_MSG(rs[i].got + rs[i].lost_bytes == want.n, "reader %d: %" PRIu64 " read + %" PRIu64
                      " lost of %zu", i, rs[i].got, rs[i].lost_bytes, want.n);
            CHECK_MSG(rs[i].same, "reader %d: bytes differ from the file at their offset", i);
        }
        solti_exit_t ex = test_wait(t, 30000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
        CHECK_OK(solti_task_free(t));
    }
    free(want.p);
}

static void test_free_during_read(void) {
    const char *argv[] = {"sleep", "30", NULL};
    solti_task_t t = test_cmd_task(runner, "bytes", argv, 60000, "", BYTES_DROP);
    CHECK_OK(solti_task_spawn(t));
    reader_t r = {t, 64, 0, 0, 0, 0, NULL};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, reader_main, &r) == 0);
    test_sleep_ms(100);
    int64_t t0 = test_now_ms();
    CHECK_OK(solti_task_free(t));
    CHECK(pthread_join(th, NULL) == 0);
    CHECK_MSG(test_now_ms() - t0 < 20000, "the blocked read took %" PRId64 " ms to end", test_now_ms() - t0);
    CHECK_MSG(r.rc == SOLTI_EOF || r.rc == SOLTI_EBADF, "a read blocked in a freed task ended with %s",
              test_code_name(r.rc));
    CHECK_EQ_INT(r.got, 0);
}

static void test_bad_arguments(void) {
    const char *argv[] = {"true", NULL};
    solti_task_t t = test_cmd_task(runner, "bytes", argv, 60000, "", BYTES_DROP);
    solti_read_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    char buf[8];
    size_t n;
    CHECK_ERR(solti_task_read(t, &cur, 0, buf, sizeof buf, 0, &n, NULL), SOLTI_EINVAL, "streams");
    CHECK_ERR(solti_task_read(t, &cur, 4, buf, sizeof buf, 0, &n, NULL), SOLTI_EINVAL, "streams");
    CHECK_ERR(solti_task_read(t, &cur, SOLTI_STDOUT, buf, 0, 0, &n, NULL), SOLTI_EINVAL, "buf_len");
    CHECK_ERR(solti_task_read(t, NULL, SOLTI_STDOUT, buf, sizeof buf, 0, &n, NULL), SOLTI_EINVAL, "cursor");
    CHECK_ERR(solti_task_read(t, &cur, SOLTI_STDOUT, buf, sizeof buf, -2, &n, NULL), SOLTI_EINVAL, "timeout_ms");
    cur.seq = 1000;
    CHECK_ERR(solti_task_read(t, &cur, SOLTI_STDOUT, buf, sizeof buf, 0, &n, NULL), SOLTI_EINVAL, "cursor");
    CHECK_OK(solti_task_free(t));
    memset(&cur, 0, sizeof cur);
    CHECK_CODE(solti_task_read(t, &cur, SOLTI_STDOUT, buf, sizeof buf, 0, &n, NULL), SOLTI_EBADF);
}

int main(void) {
    CHECK(mkdtemp(dir) != NULL);
    make_big_file(200 * 1000 * 1000);
    runner = test_runner("bytes", NULL);
    test_binary();
    test_big_random();
    test_tar();
    test_streams_apart();
    test_poll_chunks();
    test_concurrent_readers();
    test_free_during_read();
    test_bad_arguments();
    CHECK_OK(solti_runner_free(runner));
    CHECK(unlink(big) == 0);
    CHECK(rmdir(dir) == 0);
    printf("test_bytes: ok\n");
    return 0;
}
