/*
 * Readers: cursors are independent (each sees every event), a late reader
 * sees what the ring still holds, and a reader that fell behind the ring gets
 * exactly one LAGGED event counting what it missed, then goes on in order.
 */
#include "test.h"

static void check_same_events(const test_events_t *a, const test_events_t *b) {
    if (a->n != b->n) {
        fprintf(stderr, "reader A:\n");
        test_events_dump(a);
        fprintf(stderr, "reader B:\n");
        test_events_dump(b);
        FAIL("reader A saw %zu events, reader B %zu", a->n, b->n);
    }
    for (size_t i = 0; i < a->n; i++) {
        const test_event_t *x = &a->v[i], *y = &b->v[i];
        CHECK(x->kind == y->kind && x->stream == y->stream && x->seq == y->seq &&
              x->attempt == y->attempt && x->value == y->value);
        CHECK(x->len == y->len && (x->len == 0 || memcmp(x->text, y->text, x->len) == 0));
    }
}

static void test_two_cursors(solti_runner_t r) {
    const char *argv[] = {test_helper("printer"), "outn:20:a", "sleep:100", "errn:20:b", NULL};
    solti_task_t t = test_cmd_task(r, "two", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));

    /* A reads a little, B reads everything, A reads the rest. */
    uint64_t ca = 0, cb = 0;
    test_events_t a = {0}, b = {0};
    solti_event_t ev[3];
    char buf[1024];
    size_t count = 0;
    CHECK_OK(solti_task_poll(t, &ca, ev, 3, buf, sizeof buf, 2000, &count));
    CHECK(count >= 1);
    for (size_t i = 0; i < count; i++) test_events_push(&a, &ev[i]);
    test_read_all(t, &cb, &b, 10000);
    test_read_all(t, &ca, &a, 10000);
    check_same_events(&a, &b);
    CHECK_EQ_INT(test_count(&a, SOLTI_EVENT_LINE, SOLTI_STDOUT), 20);
    CHECK_EQ_INT(test_count(&a, SOLTI_EVENT_LINE, SOLTI_STDERR), 20);
    CHECK(b.eof && a.eof);

    /* A third reader, after the end, sees it all too, and EOF stays EOF. */
    uint64_t cc = 0;
    test_events_t c = {0};
    test_read_all(t, &cc, &c, 5000);
    check_same_events(&a, &c);
    CHECK_CODE(solti_task_poll(t, &cc, ev, 3, buf, sizeof buf, 0, &count), SOLTI_EOF);
    CHECK_CODE(solti_task_poll(t, &cc, ev, 3, buf, sizeof buf, 100, &count), SOLTI_EOF);
    test_events_free(&a);
    test_events_free(&b);
    test_events_free(&c);
    CHECK_OK(solti_task_free(t));
}

static void test_reader_before_spawn(solti_runner_t r) {
    /* Readers started before spawn see the STARTED event too. */
    const char *argv[] = {"echo", "early", NULL};
    solti_task_t t = test_cmd_task(r, "early", argv, 10000, "", "");
    uint64_t cursor = 0;
    solti_event_t ev[4];
    char buf[256];
    size_t count = 9;
    CHECK_OK(solti_task_poll(t, &cursor, ev, 4, buf, sizeof buf, 0, &count));
    CHECK_EQ_INT(count, 0);
    CHECK_OK(solti_task_poll(t, &cursor, ev, 4, buf, sizeof buf, 50, &count));
    CHECK_EQ_INT(count, 0);
    CHECK_OK(solti_task_spawn(t));
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 5000);
    CHECK_EQ_INT(evs.v[0].kind, SOLTI_EVENT_STARTED);
    CHECK_LINES(&evs, SOLTI_STDOUT, "early");
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

/* Reads from *cursor to EOF; checks one LAGGED event first and order after
   it; returns (missed, kept after it). */
static void read_lagged(solti_task_t t, uint64_t *cursor, int64_t *missed, size_t *kept,
                        test_events_t *evs) {
    test_read_all(t, cursor, evs, 5000);
    if (evs->n == 0 || evs->v[0].kind != SOLTI_EVENT_LAGGED ||
        test_count(evs, SOLTI_EVENT_LAGGED, 0) != 1) {
        test_events_dump(evs);
        FAIL("want exactly one LAGGED event, first");
    }
    *missed = evs->v[0].value;
    *kept = evs->n - 1;
    /* After it: lines in seq order without gaps, then FINISHED last. */
    for (size_t i = 2; i < evs->n; i++) {
        const test_event_t *p = &evs->v[i - 1], *e = &evs->v[i];
        if (p->kind == SOLTI_EVENT_LINE && e->kind == SOLTI_EVENT_LINE && e->stream == p->stream)
            CHECK_MSG(e->seq == p->seq + 1, "seq %" PRIu64 " after %" PRIu64, e->seq, p->seq);
    }
    CHECK_EQ_INT(evs->v[evs->n - 1].kind, SOLTI_EVENT_FINISHED);
}

static void test_lagged_after_end(void) {
    solti_runner_t r = test_runner("lag", "{\"output\": {\"capacity\": 16}}");
    const char *argv[] = {test_helper("printer"), "outn:100:l", NULL};
    solti_task_t t = test_cmd_task(r, "lag", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    test_wait(t, 10000);

    /* 102 events were made (STARTED, 100 lines, FINISHED); the ring keeps 16. */
    uint64_t cursor = 0;
    int64_t missed;
    size_t kept;
    test_events_t evs = {0};
    read_lagged(t, &cursor, &missed, &kept, &evs);
    CHECK_EQ_INT(kept, 16);
    CHECK_EQ_INT(missed, 102 - 16);
    const test_event_t *first_line = &evs.v[1];
    CHECK_EQ_INT(first_line->kind, SOLTI_EVENT_LINE);
    CHECK_EQ_INT(first_line->seq, 85); /* events 0..85 missed: STARTED, lines 0..84 */
    CHECK_STR_EQ(first_line->text, "l85");
    CHECK_STR_EQ(evs.v[15].text, "l99");
    test_events_free(&evs);

    /* A second late reader gets the same, independently. */
    uint64_t cursor2 = 0;
    read_lagged(t, &cursor2, &missed, &kept, &evs);
    CHECK_EQ_INT(missed, 86);
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(r));
}

static void test_lagged_midway(void) {
    solti_runner_t r = test_runner("lag-mid", "{\"output\": {\"capacity\": 16}}");
    const char *argv[] = {test_helper("printer"), "outn:5:a", "sleep:300", "outn:100:b", NULL};
    solti_task_t t = test_cmd_task(r, "lag", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));

    /* Read STARTED and the 5 first lines, then stop reading until the end. */
    uint64_t cursor = 0;
    test_events_t head = {0};
    solti_event_t ev[8];
    char buf[1024];
    int64_t deadline = test_now_ms() + 5000;
    while (head.n < 6) {
        CHECK_MSG(test_now_ms() < deadline, "only %zu events in 5 s", head.n);
        size_t count = 0;
        CHECK_OK(solti_task_poll(t, &cursor, ev, 6 - head.n, buf, sizeof buf, 200, &count));
        for (size_t i = 0; i < count; i++) test_events_push(&head, &ev[i]);
    }
    CHECK_EQ_INT(head.v[0].kind, SOLTI_EVENT_STARTED);
    CHECK_LINES(&head, SOLTI_STDOUT, "a0", "a1", "a2", "a3", "a4");
    test_wait(t, 10000);

    int64_t missed;
    size_t kept;
    test_events_t tail = {0};
    read_lagged(t, &cursor, &missed, &kept, &tail);
    /* 107 events in all: 6 read, `missed` lost, `kept` read after the LAGGED. */
    CHECK_MSG(6 + missed + (int64_t)kept == 107, "read 6, missed %" PRId64 ", then %zu: not 107",
              missed, kept);
    CHECK_EQ_INT(kept, 16);
    CHECK_STR_EQ(tail.v[1].text, "b85");
    test_events_free(&head);
    test_events_free(&tail);
    CHECK_OK(solti_runner_free(r));
}

static void test_ring_bounded_by_bytes(void) {
    solti_runner_t r = test_runner("lag-bytes", "{\"output\": {\"capacity\": 1000, \"maxBytes\": 1024}}");
    const char *argv[] = {test_helper("printer"), "outn:200:0123456789012345678901234567890123456789-",
                          NULL};
    solti_task_t t = test_cmd_task(r, "bytes", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    test_wait(t, 10000);
    uint64_t cursor = 0;
    int64_t missed;
    size_t kept;
    test_events_t evs = {0};
    read_lagged(t, &cursor, &missed, &kept, &evs);
    size_t bytes = 0;
    for (size_t i = 0; i < evs.n; i++) bytes += evs.v[i].len;
    CHECK_MSG(bytes <= 1024, "the ring kept %zu bytes of lines, maxBytes is 1024", bytes);
    CHECK_MSG(missed + (int64_t)kept == 202, "missed %" PRId64 " + kept %zu != 202 events", missed, kept);
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(r));
}

/* whenFull "block": the pipe readers wait for the reader instead of dropping;
   the task is not done until its output was read, and nothing is lost, even
   when the reader comes long after the leader exited (past the drain grace). */
static void check_block_mode(const char *name, const char *config, const char *top_extra,
                             int read_after_ms) {
    solti_runner_t r = test_runner(name, config);
    const char *argv[] = {test_helper("printer"), "outn:500:k", NULL};
    solti_task_t t = test_cmd_task(r, "block", argv, 20000, "", top_extra);
    CHECK_OK(solti_task_spawn(t));
    solti_exit_t ex;
    int rc = solti_task_wait(t, read_after_ms, &ex);
    CHECK_MSG(rc == SOLTI_ETIMEDOUT, "%s: block mode, nobody reading: wait(%d) gave %s, want SOLTI_ETIMEDOUT",
              name, read_after_ms, test_code_name(rc));
    /* A slow reader: 4 events at a time, 5 ms apart (about 0.6 s for all). */
    uint64_t cursor = 0;
    test_events_t evs = {0};
    solti_event_t ev[4];
    char buf[256];
    int64_t deadline = test_now_ms() + 15000;
    for (;;) {
        CHECK_MSG(test_now_ms() < deadline, "%s: no EOF in 15 s", name);
        size_t count = 0;
        rc = solti_task_poll(t, &cursor, ev, 4, buf, sizeof buf, 500, &count);
        if (rc == SOLTI_EOF) break;
        CHECK_OK(rc);
        for (size_t i = 0; i < count; i++) test_events_push(&evs, &ev[i]);
        test_sleep_ms(5);
    }
    size_t lines = test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT);
    if (lines != 500 || test_count(&evs, SOLTI_EVENT_LAGGED, 0) != 0) {
        test_events_dump(&evs);
        FAIL("%s: block mode, slow reader from %d ms on: %zu of 500 lines, %zu LAGGED events", name,
             read_after_ms, lines, test_count(&evs, SOLTI_EVENT_LAGGED, 0));
    }
    for (size_t i = 0; i < 500; i++) CHECK_EQ_INT(test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, i)->seq, i);
    CHECK_MSG(evs.v[evs.n - 1].kind == SOLTI_EVENT_FINISHED, "%s: the last event is not FINISHED", name);
    ex = test_wait(t, 5000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(r));
}

static void test_block_mode(void) {
    check_block_mode("block", "{\"output\": {\"capacity\": 16, \"whenFull\": \"block\"}}", "", 500);
    /* Asked by the task spec on a dropOldest runner (the task's output object
       replaces the runner's as a whole). */
    check_block_mode("block-task", NULL, "\"output\": {\"capacity\": 16, \"whenFull\": \"block\"}", 500);
    /* The drain grace (200 ms here) must not cut a slow reader off. */
    check_block_mode("block-late",
                     "{\"drainGraceMs\": 200, \"output\": {\"capacity\": 16, \"whenFull\": \"block\"}}",
                     "", 1000);
}

int main(void) {
    solti_runner_t r = test_runner("cursors", NULL);
    test_two_cursors(r);
    test_reader_before_spawn(r);
    CHECK_OK(solti_runner_free(r));
    test_lagged_after_end();
    test_lagged_midway();
    test_ring_bounded_by_bytes();
    test_block_mode();
    printf("test_cursors: ok\n");
    return 0;
}
