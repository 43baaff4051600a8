/*
 * Line events: order and seq per stream, attempt 1, stdout and stderr kept
 * apart, STARTED (pid) first and FINISHED (outcome, exit code) last, framing
 * (CR LF, empty lines, a last line without newline), invalid UTF-8 replaced,
 * long lines cut and flagged without losing the lines after them.
 */
#include <time.h>

#include "test.h"

static solti_runner_t runner;

static void check_lifecycle(const test_events_t *evs, int32_t exit_code) {
    CHECK_MSG(evs->n >= 2, "%zu events", evs->n);
    const test_event_t *first = &evs->v[0], *last = &evs->v[evs->n - 1];
    if (first->kind != SOLTI_EVENT_STARTED || last->kind != SOLTI_EVENT_FINISHED) {
        test_events_dump(evs);
        FAIL("want STARTED first and FINISHED last");
    }
    CHECK_EQ_INT(test_count(evs, SOLTI_EVENT_STARTED, 0), 1);
    CHECK_EQ_INT(test_count(evs, SOLTI_EVENT_FINISHED, 0), 1);
    CHECK_EQ_INT(first->attempt, 1);
    CHECK_MSG(first->value > 1, "STARTED value (pid) is %" PRId64, first->value);
    CHECK_EQ_INT(last->attempt, 1);
    CHECK_EQ_INT(last->value, SOLTI_OUTCOME_SUCCESS);
    CHECK_EQ_INT(last->exit_code, exit_code);
    CHECK_EQ_INT(last->signal, 0);
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    for (size_t i = 0; i < evs->n; i++) {
        CHECK_MSG(evs->v[i].ts_ms > now_ms - 60000 && evs->v[i].ts_ms < now_ms + 60000,
                  "event %zu ts_ms %" PRId64 " is not Unix ms near %" PRId64, i, evs->v[i].ts_ms, now_ms);
        if (i > 0) CHECK(evs->v[i].ts_ms >= evs->v[i - 1].ts_ms - 1000);
        if (evs->v[i].kind == SOLTI_EVENT_LINE) CHECK_EQ_INT(evs->v[i].attempt, 1);
    }
}

static void test_lines_in_order(void) {
    const char *argv[] = {test_helper("printer"), "outn:100:line-", NULL};
    test_events_t evs = {0};
    solti_exit_t ex = test_run(runner, argv, "", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_EQ_INT(ex.attempt, 1);
    CHECK_EQ_INT(ex.exit_code, 0);
    check_lifecycle(&evs, 0);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT), 100);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDERR), 0);
    for (size_t i = 0; i < 100; i++) {
        const test_event_t *e = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, i);
        char want[32];
        snprintf(want, sizeof want, "line-%zu", i);
        CHECK_STR_EQ(e->text, want);
        CHECK_EQ_INT(e->seq, i);
        CHECK_EQ_INT(e->flags, 0);
        CHECK_EQ_INT(e->len, strlen(want));
    }
    test_events_free(&evs);
}

static void test_echo(void) {
    const char *argv[] = {"echo", "hello", "world", NULL};
    test_events_t evs = {0};
    solti_exit_t ex = test_run(runner, argv, "", &evs);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    check_lifecycle(&evs, 0);
    CHECK_LINES(&evs, SOLTI_STDOUT, "hello world");
    test_events_free(&evs);
}

static void test_started_value_is_pid(void) {
    const char *argv[] = {"sh", "-c", "echo $$", NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    check_lifecycle(&evs, 0);
    const test_event_t *line = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 0);
    CHECK(line != NULL);
    CHECK_MSG(evs.v[0].value == atoll(line->text), "STARTED value %" PRId64 ", the child's pid is %s",
              evs.v[0].value, line->text);
    test_events_free(&evs);
}

static void test_stderr_apart(void) {
    const char *argv[] = {test_helper("printer"), "out:o0", "err:e0", "out:o1", "err:e1",
                          "err:e2", "exit:0", NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    check_lifecycle(&evs, 0);
    CHECK_LINES(&evs, SOLTI_STDOUT, "o0", "o1");
    CHECK_LINES(&evs, SOLTI_STDERR, "e0", "e1", "e2");
    test_events_free(&evs);
}

static void test_no_output(void) {
    const char *argv[] = {"true", NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    check_lifecycle(&evs, 0);
    CHECK_EQ_INT(evs.n, 2);
    test_events_free(&evs);
}

static void test_framing(void) {
    /* CRLF loses both; one \r only; empty lines are events; the last line has no \n. */
    const char *argv[] = {test_helper("printer"), "raw:crlf\\r\\n", "raw:two-cr\\r\\r\\n",
                          "raw:\\n\\n", "raw:mid\\rdle\\n", "raw:no-newline", NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, "crlf", "two-cr\r", "", "", "mid\rdle", "no-newline");
    test_events_free(&evs);
}

static void test_invalid_utf8_replaced(void) {
    const char *argv[] = {test_helper("printer"), "out:a\\xffb", "out:\xc3\xa9t\xc3\xa9", NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, "a\xef\xbf\xbd" "b", "\xc3\xa9t\xc3\xa9");
    test_events_free(&evs);
}

static int all_x(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 'x') return 0;
    return 1;
}

static void test_long_lines(void) {
    /* Defaults: maxLineBytes 65536, maxLineLength 4096 characters. */
    const char *argv[] = {test_helper("printer"), "big:5000", "big:200000", "out:after", "big:10",
                          NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT), 4);

    const test_event_t *e = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 0);
    CHECK(e->len > 4096 && all_x(e->text, 4096));
    CHECK_STR_EQ(e->text + 4096, "... (truncated 904 bytes)");
    CHECK_MSG(e->flags & SOLTI_LINE_TRUNCATED, "line cut at maxLineLength: flags %u", e->flags);

    /* 200000 bytes: cut at 65536 bytes, then at 4096 characters; the rest of
       the physical line is skipped, not the lines after it. */
    e = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 1);
    CHECK(e->len > 4096 && all_x(e->text, 4096));
    CHECK_STR_CONTAINS(e->text + 4096, "... (truncated ");
    CHECK_EQ_INT(e->seq, 1);
    CHECK_MSG(e->flags & SOLTI_LINE_TRUNCATED, "line cut at maxLineBytes: flags %u", e->flags);

    e = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 2);
    CHECK_STR_EQ(e->text, "after");
    CHECK_EQ_INT(e->seq, 2);
    CHECK_EQ_INT(e->flags, 0);
    e = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 3);
    CHECK_STR_EQ(e->text, "xxxxxxxxxx");
    CHECK_EQ_INT(e->seq, 3);
    test_events_free(&evs);
}

static void test_small_line_limits(void) {
    solti_runner_t r = test_runner("lines-small",
                                   "{\"log\": {\"maxLineLength\": 8, \"maxLineBytes\": 16}}");
    const char *argv[] = {test_helper("printer"), "out:0123456789", "big:40", "out:tail", NULL};
    test_events_t evs = {0};
    test_run(r, argv, "", &evs);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT), 3);
    const test_event_t *e = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 0);
    CHECK_STR_EQ(e->text, "01234567... (truncated 2 bytes)");
    CHECK(e->flags & SOLTI_LINE_TRUNCATED);
    e = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 1);
    CHECK_STR_EQ(e->text, "xxxxxxxx... (truncated 8 bytes)");
    CHECK(e->flags & SOLTI_LINE_TRUNCATED);
    e = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 2);
    CHECK_STR_EQ(e->text, "tail");
    CHECK_EQ_INT(e->flags, 0);
    test_events_free(&evs);
    CHECK_OK(solti_runner_free(r));
}

int main(void) {
    runner = test_runner("lines", NULL);
    test_lines_in_order();
    test_echo();
    test_started_value_is_pid();
    test_stderr_apart();
    test_no_output();
    test_framing();
    test_invalid_utf8_replaced();
    test_long_lines();
    test_small_line_limits();
    CHECK_OK(solti_runner_free(runner));
    printf("test_lines: ok\n");
    return 0;
}
