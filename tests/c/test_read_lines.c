/*
 * solti_task_read_lines: a lines-mode task's lines in bulk, as records. In
 * block mode a million numbered lines arrive each exactly once and in order
 * (and through solti_task_poll too); in dropOldest mode lines read + lines
 * lost is every line printed, in lines and in bytes; buffers down to one
 * record, a line bigger than the buffer (SOLTI_ERANGE with the size, the
 * cursor kept), cut lines in records of their own, the stream mask,
 * concurrent readers, a free during a blocking read, bad arguments.
 */
#include <pthread.h>
#include <stdalign.h>

#include "test.h"

static solti_runner_t runner;

#define BLOCK "\"output\": {\"whenFull\": \"block\"}"
#define DROP_SMALL "\"output\": {\"capacity\": 1000}"

/* The text of seq 1 N: N lines, and its size in bytes. */
static uint64_t seq_bytes(uint64_t n) {
    uint64_t total = 0;
    for (uint64_t i = 1; i <= n; i++) {
        uint64_t d = 1;
        for (uint64_t v = i; v >= 10; v /= 10) d++;
        total += d + 1;
    }
    return total;
}

typedef struct {
    uint64_t lines, bytes, lost_lines, lost_bytes, records;
    uint64_t next;     /* the number the next line must have (seq 1 N: from 1) */
    int in_order;      /* every line read was next, next + 1, ... */
    int fields_ok;     /* stream, attempt, count, flags, seq as documented */
} tally_t;

/* Checks and counts the records of one read of `seq` output. */
static void tally_records(tally_t *t, const char *buf, size_t n, int lossless) {
    const solti_line_run_t *run = (const solti_line_run_t *)buf;
    for (; (const char *)run < buf + n; run = SOLTI_LINE_RUN_NEXT(run)) {
        t->records++;
        if (run->stream != SOLTI_STDOUT || run->attempt != 1 || run->count == 0 || run->flags != 0)
            t->fields_ok = 0;
        const char *p = (const char *)(run + 1), *end = p + run->len;
        CHECK_MSG(run->len > 0 && end[-1] == '\n', "a record's text ends with a newline");
        uint64_t count = 0;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            CHECK(nl != NULL);
            uint64_t v = strtoull(p, NULL, 10);
            if (lossless ? v != t->next : v < t->next) t->in_order = 0;
            if (count == 0 && run->seq != v - 1) t->fields_ok = 0; /* seq numbers lines from 0 */
            t->next = v + 1;
            t->bytes += (uint64_t)(nl - p) + 1;
            count++;
            p = nl + 1;
        }
        CHECK_EQ_INT(count, run->count);
        t->lines += count;
    }
}

/* Reads a task to SOLTI_EOF with read_lines through buf_len bytes, sleeping
 * pause_ms between reads. */
static tally_t read_all(solti_task_t task, size_t buf_len, int pause_ms, int lossless) {
    tally_t t = {0, 0, 0, 0, 0, 1, 1, 1};
    char *buf = aligned_alloc(8, (buf_len + 7) & ~(size_t)7);
    CHECK(buf != NULL);
    solti_lines_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    for (;;) {
        size_t n = 99;
        solti_lines_info_t info;
        int rc = solti_task_read_lines(task, &cur, SOLTI_STDOUT, buf, buf_len, 60000, &n, &info);
        if (rc == SOLTI_EOF) {
            CHECK_EQ_INT(n, 0);
            break;
        }
        CHECK_OK(rc);
        CHECK(n <= buf_len);
        t.lost_lines += info.lost_lines;
        t.lost_bytes += info.lost_bytes;
        uint64_t before = t.lines;
        tally_records(&t, buf, n, lossless);
        CHECK_EQ_INT(info.lines, t.lines - before);
        if (pause_ms) test_sleep_ms(pause_ms);
    }
    free(buf);
    return t;
}

static void test_block_million(void) {
    const char *argv[] = {"seq", "1", "1000000", NULL};
    for (int round = 0; round < 2; round++) {
        size_t buf_len = round == 0 ? 1 << 20 : 4096;
        solti_task_t task = test_cmd_task(runner, "lines", argv, 120000, "", BLOCK);
        CHECK_OK(solti_task_spawn(task));
        tally_t t = read_all(task, buf_len, 0, 1);
        CHECK_EQ_INT(t.lines, 1000000);
        CHECK_EQ_INT(t.bytes, seq_bytes(1000000));
        CHECK_EQ_INT(t.lost_lines, 0);
        CHECK_MSG(t.in_order, "every line once, in order");
        CHECK_MSG(t.fields_ok, "record fields as documented");
        {
        solti_exit_t ex = test_wait(task, 10000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    }
        CHECK_OK(solti_task_free(task));
    }

    /* The same through solti_task_poll, one event a line. */
    solti_task_t task = test_cmd_task(runner, "lines", argv, 120000, "", BLOCK);
    CHECK_OK(solti_task_spawn(task));
    static solti_event_t evs[1024];
    static char buf[1 << 16];
    uint64_t cursor = 0, next = 1;
    for (;;) {
        size_t n = 0;
        int rc = solti_task_poll(task, &cursor, evs, 1024, buf, sizeof buf, 60000, &n);
        if (rc == SOLTI_EOF) break;
        CHECK_OK(rc);
        for (size_t i = 0; i < n; i++) {
            CHECK(evs[i].kind != SOLTI_EVENT_LAGGED);
            if (evs[i].kind != SOLTI_EVENT_LINE) continue;
            char text[32];
            CHECK(evs[i].len < sizeof text);
            memcpy(text, evs[i].data, evs[i].len);
            text[evs[i].len] = 0;
            CHECK_EQ_INT(strtoull(text, NULL, 10), next);
            CHECK_EQ_INT(evs[i].seq, next - 1);
            next++;
        }
    }
    CHECK_EQ_INT(next, 1000001);
    {
        solti_exit_t ex = test_wait(task, 10000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    }
    CHECK_OK(solti_task_free(task));
}

static void test_drop_oldest_accounts(void) {
    const char *argv[] = {"seq", "1", "1000000", NULL};
    solti_task_t task = test_cmd_task(runner, "lines", argv, 120000, "", DROP_SMALL);
    CHECK_OK(solti_task_spawn(task));
    tally_t t = read_all(task, 2048, 2, 0);
    CHECK_MSG(t.lost_lines > 0, "a slow reader of a ring of 1000 lost lines");
    CHECK_MSG(t.in_order, "what was read is in order");
    CHECK_EQ_INT(t.lines + t.lost_lines, 1000000);
    CHECK_EQ_INT(t.bytes + t.lost_bytes, seq_bytes(1000000));
    {
        solti_exit_t ex = test_wait(task, 10000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    }
    CHECK_OK(solti_task_free(task));
}

/* The smallest useful buffer holds one record of one line. */
static void test_tiny_buffers(void) {
    const char *argv[] = {"seq", "1", "3000", NULL};
    solti_task_t task = test_cmd_task(runner, "lines", argv, 60000, "", BLOCK);
    CHECK_OK(solti_task_spawn(task));
    tally_t t = read_all(task, sizeof(solti_line_run_t) + 8, 0, 1);
    CHECK_EQ_INT(t.lines, 3000);
    CHECK_MSG(t.records >= 3000 / 4, "%" PRIu64 " records: at most 8 bytes of text each", t.records);
    CHECK_MSG(t.in_order, "in order");
    {
        solti_exit_t ex = test_wait(task, 10000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    }
    CHECK_OK(solti_task_free(task));
}

static void test_line_bigger_than_buffer(void) {
    const char *argv[] = {test_helper("printer"), "out:a", "big:3000", "out:b", NULL};
    solti_task_t task = test_cmd_task(runner, "lines", argv, 60000, "", BLOCK);
    CHECK_OK(solti_task_spawn(task));
    {
        solti_exit_t ex = test_wait(task, 30000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    }
    alignas(8) static char small[1024];
    solti_lines_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    size_t n = 0;
    CHECK_OK(solti_task_read_lines(task, &cur, SOLTI_STDOUT, small, sizeof small, 0, &n, NULL));
    const solti_line_run_t *run = (const solti_line_run_t *)small;
    CHECK_EQ_INT(run->count, 1);
    CHECK(memcmp(run + 1, "a\n", 2) == 0);
    solti_lines_cursor_t kept = cur;
    CHECK_ERR(solti_task_read_lines(task, &cur, SOLTI_STDOUT, small, sizeof small, 0, &n, NULL), SOLTI_ERANGE,
              "3048");
    CHECK(memcmp(&kept, &cur, sizeof cur) == 0);
    char *big = aligned_alloc(8, 3048);
    CHECK(big != NULL);
    /* The rest: the big line, then "b" (in the same record or the next). */
    test_str_t rest = {0};
    for (;;) {
        int rc = solti_task_read_lines(task, &cur, SOLTI_STDOUT, big, 3048, 0, &n, NULL);
        if (rc == SOLTI_EOF) break;
        CHECK_OK(rc);
        for (run = (const solti_line_run_t *)big; (const char *)run < big + n; run = SOLTI_LINE_RUN_NEXT(run))
            test_str_add(&rest, (const char *)(run + 1), run->len);
    }
    CHECK_EQ_INT(rest.len, 3003);
    CHECK(rest.p[0] == 'x' && rest.p[2999] == 'x' && memcmp(rest.p + 3000, "\nb\n", 3) == 0);
    free(rest.p);
    CHECK_CODE(solti_task_read_lines(task, &cur, SOLTI_STDOUT, big, 3048, 0, &n, NULL), SOLTI_EOF);
    free(big);
    CHECK_OK(solti_task_free(task));
}

/* Cut lines come in records of their own, flagged; the mask picks a stream. */
static void test_flags_and_streams(void) {
    const char *argv[] = {test_helper("printer"), "out:one", "err:e1", "big:100", "out:two", NULL};
    solti_runner_t small = test_runner("lines-small", "{\"log\": {\"maxLineLength\": 10}}");
    solti_task_t task = test_cmd_task(small, "lines", argv, 60000, "", "");
    CHECK_OK(solti_task_spawn(task));
    {
        solti_exit_t ex = test_wait(task, 30000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    }
    alignas(8) static char buf[4096];
    const char *want_out[] = {"one", "xxxxxxxxxx... (truncated 90 bytes)", "two"};
    uint32_t want_flags[] = {0, SOLTI_LINE_TRUNCATED, 0};
    solti_lines_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    int got = 0;
    for (;;) {
        size_t n = 0;
        int rc = solti_task_read_lines(task, &cur, SOLTI_STDOUT, buf, sizeof buf, 0, &n, NULL);
        if (rc == SOLTI_EOF) break;
        CHECK_OK(rc);
        for (const solti_line_run_t *run = (const solti_line_run_t *)buf; (const char *)run < buf + n;
             run = SOLTI_LINE_RUN_NEXT(run)) {
            const char *p = (const char *)(run + 1);
            for (uint32_t i = 0; i < run->count; i++, got++) {
                CHECK(got < 3);
                size_t len = strlen(want_out[got]);
                CHECK_MSG(memcmp(p, want_out[got], len) == 0 && p[len] == '\n', "line %d", got);
                CHECK_EQ_INT(run->flags, want_flags[got]);
                p += len + 1;
            }
        }
    }
    CHECK_EQ_INT(got, 3);
    memset(&cur, 0, sizeof cur);
    size_t n = 0;
    CHECK_OK(solti_task_read_lines(task, &cur, SOLTI_STDERR, buf, sizeof buf, 0, &n, NULL));
    const solti_line_run_t *run = (const solti_line_run_t *)buf;
    CHECK_EQ_INT(run->stream, SOLTI_STDERR);
    CHECK(run->len == 3 && memcmp(run + 1, "e1\n", 3) == 0);
    CHECK_CODE(solti_task_read_lines(task, &cur, SOLTI_STDERR, buf, sizeof buf, 0, &n, NULL), SOLTI_EOF);
    CHECK_OK(solti_task_free(task));
    CHECK_OK(solti_runner_free(small));
}

typedef struct {
    solti_task_t task;
    tally_t tally;
    int rc;
} reader_t;

static void *reader_main(void *arg) {
    reader_t *r = arg;
    alignas(8) static _Thread_local char buf[8192];
    solti_lines_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    r->tally = (tally_t){0, 0, 0, 0, 0, 1, 1, 1};
    for (;;) {
        size_t n = 0;
        solti_lines_info_t info;
        r->rc = solti_task_read_lines(r->task, &cur, SOLTI_STDOUT, buf, sizeof buf, SOLTI_INFINITE, &n, &info);
        if (r->rc != SOLTI_OK) return NULL;
        r->tally.lost_lines += info.lost_lines;
        r->tally.lost_bytes += info.lost_bytes;
        tally_records(&r->tally, buf, n, 0);
    }
}

static void test_concurrent_readers(void) {
    const char *argv[] = {"seq", "1", "300000", NULL};
    solti_task_t task = test_cmd_task(runner, "lines", argv, 120000, "", DROP_SMALL);
    reader_t readers[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        readers[i] = (reader_t){task, {0}, 0};
        CHECK(pthread_create(&threads[i], NULL, reader_main, &readers[i]) == 0);
    }
    CHECK_OK(solti_task_spawn(task));
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK_CODE(readers[i].rc, SOLTI_EOF);
        CHECK_MSG(readers[i].tally.in_order, "reader %d in order", i);
        CHECK_EQ_INT(readers[i].tally.lines + readers[i].tally.lost_lines, 300000);
        CHECK_EQ_INT(readers[i].tally.bytes + readers[i].tally.lost_bytes, seq_bytes(300000));
    }
    CHECK_OK(solti_task_free(task));
}

static void test_free_during_read(void) {
    const char *argv[] = {"sleep", "30", NULL};
    solti_task_t task = test_cmd_task(runner, "lines", argv, 60000, "", "");
    CHECK_OK(solti_task_spawn(task));
    reader_t r = {task, {0}, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, reader_main, &r) == 0);
    test_sleep_ms(100);
    int64_t t0 = test_now_ms();
    CHECK_OK(solti_task_free(task));
    CHECK(pthread_join(th, NULL) == 0);
    CHECK_MSG(test_now_ms() - t0 < 20000, "the blocked read took %" PRId64 " ms to end", test_now_ms() - t0);
    CHECK_MSG(r.rc == SOLTI_EOF || r.rc == SOLTI_EBADF, "a read blocked in a freed task ended with %s",
              test_code_name(r.rc));
    CHECK_EQ_INT(r.tally.lines, 0);
}

static void test_bad_arguments(void) {
    const char *argv[] = {"true", NULL};
    solti_task_t task = test_cmd_task(runner, "lines", argv, 60000, "", "");
    solti_lines_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    alignas(8) char buf[64];
    size_t n;
    CHECK_ERR(solti_task_read_lines(task, &cur, 0, buf, sizeof buf, 0, &n, NULL), SOLTI_EINVAL, "streams");
    CHECK_ERR(solti_task_read_lines(task, &cur, 4, buf, sizeof buf, 0, &n, NULL), SOLTI_EINVAL, "streams");
    CHECK_ERR(solti_task_read_lines(task, NULL, SOLTI_STDOUT, buf, sizeof buf, 0, &n, NULL), SOLTI_EINVAL,
              "cursor");
    CHECK_ERR(solti_task_read_lines(task, &cur, SOLTI_STDOUT, NULL, sizeof buf, 0, &n, NULL), SOLTI_EINVAL,
              "buf");
    CHECK_ERR(solti_task_read_lines(task, &cur, SOLTI_STDOUT, buf + 1, 32, 0, &n, NULL), SOLTI_EINVAL,
              "aligned");
    CHECK_ERR(solti_task_read_lines(task, &cur, SOLTI_STDOUT, buf, sizeof buf, -2, &n, NULL), SOLTI_EINVAL,
              "timeout_ms");
    cur.seq = 1000;
    CHECK_ERR(solti_task_read_lines(task, &cur, SOLTI_STDOUT, buf, sizeof buf, 0, &n, NULL), SOLTI_EINVAL,
              "cursor");
    memset(&cur, 0, sizeof cur);
    n = 7;
    CHECK_OK(solti_task_read_lines(task, &cur, SOLTI_STDOUT, buf, sizeof buf, 0, &n, NULL));
    CHECK_EQ_INT(n, 0); /* not spawned: nothing yet, the timeout of 0 passed */
    CHECK_OK(solti_task_free(task));
    CHECK_CODE(solti_task_read_lines(task, &cur, SOLTI_STDOUT, buf, sizeof buf, 0, &n, NULL), SOLTI_EBADF);
}

int main(void) {
    runner = test_runner("lines", NULL);
    test_block_million();
    test_drop_oldest_accounts();
    test_tiny_buffers();
    test_line_bigger_than_buffer();
    test_flags_and_streams();
    test_concurrent_readers();
    test_free_during_read();
    test_bad_arguments();
    CHECK_OK(solti_runner_free(runner));
    printf("test_read_lines: ok\n");
    return 0;
}
