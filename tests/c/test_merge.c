/*
 * stderr "stdout": a child alternating stdout and stderr 1,000 times (one
 * write per line) comes back in exactly its own order, every line marked
 * stdout, in lines and in bytes mode; with two pipes each stream is whole
 * (their relative order is not promised).
 */
#include "test.h"

static solti_runner_t runner;

#define N 1000

static void check_interleaved(const test_events_t *evs) {
    CHECK_EQ_INT(test_count(evs, SOLTI_EVENT_LINE, SOLTI_STDERR), 0);
    size_t n = test_count(evs, SOLTI_EVENT_LINE, SOLTI_STDOUT);
    if (n != 2 * N) {
        test_events_dump(evs);
        FAIL("%zu lines, want %d", n, 2 * N);
    }
    char want[32];
    for (int i = 0; i < 2 * N; i++) {
        const test_event_t *e = test_nth(evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, (size_t)i);
        snprintf(want, sizeof want, "%c%d", i % 2 ? 'e' : 'o', i / 2);
        if (strcmp(e->text, want) != 0) FAIL("line %d is \"%s\", want \"%s\"", i, e->text, want);
        CHECK_EQ_INT(e->seq, (uint64_t)i);
    }
}

int main(void) {
    runner = test_runner("merge", "{\"output\": {\"capacity\": 8192, \"whenFull\": \"block\"}}");
    const char *argv[] = {test_helper("alternator"), "1000", NULL};

    solti_task_t t = test_cmd_task(runner, "merged", argv, 30000, "\"stderr\": \"stdout\"", "");
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_spawn_to_end(t, &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    check_interleaved(&evs);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));

    /* Bytes mode: one stream of exactly the bytes, in order. */
    t = test_cmd_task(runner, "merged-bytes", argv, 30000, "\"stderr\": \"stdout\"",
                      "\"output\": {\"mode\": \"bytes\", \"whenFull\": \"block\"}");
    CHECK_OK(solti_task_spawn(t));
    test_str_t want = {0}, got = {0};
    for (int i = 0; i < N; i++) test_str_printf(&want, "o%d\ne%d\n", i, i);
    solti_read_cursor_t cur;
    memset(&cur, 0, sizeof cur);
    char buf[4096];
    for (;;) {
        size_t n = 0;
        solti_read_info_t info;
        int rc = solti_task_read(t, &cur, SOLTI_STDOUT | SOLTI_STDERR, buf, sizeof buf, 20000, &n, &info);
        if (rc == SOLTI_EOF) break;
        CHECK_OK(rc);
        if (n > 0) CHECK_EQ_INT(info.stream, SOLTI_STDOUT);
        test_str_add(&got, buf, n);
    }
    CHECK_EQ_INT(got.len, want.len);
    CHECK_MSG(memcmp(got.p, want.p, want.len) == 0, "the merged bytes are not the child's order");
    free(got.p);
    free(want.p);
    test_wait(t, 10000);
    CHECK_OK(solti_task_free(t));

    /* Two pipes: each stream whole and in its own order. */
    t = test_cmd_task(runner, "apart", argv, 30000, "", "");
    CHECK_OK(test_spawn_to_end(t, &evs, &ex));
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT), N);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDERR), N);
    CHECK_STR_EQ(test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDERR, N - 1)->text, "e999");
    CHECK_STR_EQ(test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, N - 1)->text, "o999");
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));

    CHECK_OK(solti_runner_free(runner));
    printf("test_merge: ok\n");
    return 0;
}
