/*
 * Buffers too small: SOLTI_ERANGE with the size needed, for solti_task_id,
 * solti_task_poll and solti_runner_metrics; solti_last_error returns the full
 * length (checked in test_version).
 */
#include "test.h"

static void test_task_id(solti_runner_t r) {
    static const char *const argv[] = {"true", NULL};
    solti_task_t t = test_cmd_task(r, "buf-id", argv, 5000, "", "");
    char id[256];
    int n = CHECK_OK(solti_task_id(t, id, sizeof id));
    CHECK_EQ_INT((size_t)n, strlen(id));
    CHECK(strncmp(id, "buffers-buf-id-", 15) == 0);

    /* Exactly enough (n + 1 with the NUL) works; one less does not. */
    char exact[256];
    CHECK_EQ_INT(solti_task_id(t, exact, (size_t)n + 1), n);
    CHECK_STR_EQ(exact, id);

    char small[256];
    memset(small, 'Q', sizeof small);
    char needed[32];
    snprintf(needed, sizeof needed, "%d", n + 1);
    CHECK_ERR(solti_task_id(t, small, (size_t)n), SOLTI_ERANGE, needed);
    CHECK_EQ_INT(small[0], 'Q'); /* left unchanged */
    CHECK_ERR(solti_task_id(t, small, 1), SOLTI_ERANGE, needed);
    /* A size query (NULL, 0) gives the length, like snprintf. */
    CHECK_EQ_INT(solti_task_id(t, NULL, 0), n);
    CHECK_EQ_INT(solti_task_id(t, small, 0), n);
    CHECK_EQ_INT(small[0], 'Q');
    CHECK_OK(solti_task_free(t));
}

static void test_poll(solti_runner_t r) {
    /* One 1000-byte line then a short one. */
    const char *argv[] = {test_helper("printer"), "big:1000", "out:short", NULL};
    solti_task_t t = test_cmd_task(r, "buf-poll", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    solti_exit_t ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);

    uint64_t cursor = 0;
    solti_event_t ev[8];
    size_t count = 0;
    char buf[2048];
    /* Skip the STARTED event (no bytes: fits any buffer). */
    CHECK_OK(solti_task_poll(t, &cursor, ev, 1, buf, 0, 1000, &count));
    CHECK_EQ_INT(count, 1);
    CHECK_EQ_INT(ev[0].kind, SOLTI_EVENT_STARTED);

    uint64_t before = cursor;
    count = 99;
    CHECK_ERR(solti_task_poll(t, &cursor, ev, 8, buf, 999, 1000, &count), SOLTI_ERANGE, "1000");
    CHECK_EQ_INT(cursor, before); /* the cursor did not move */
    CHECK_EQ_INT(count, 99);
    CHECK_ERR(solti_task_poll(t, &cursor, ev, 8, NULL, 0, 0, &count), SOLTI_ERANGE, "1000");

    /* Exactly 1000 bytes: the long line only; the short one waits for the next call. */
    CHECK_OK(solti_task_poll(t, &cursor, ev, 8, buf, 1000, 1000, &count));
    CHECK_EQ_INT(count, 1);
    CHECK_EQ_INT(ev[0].kind, SOLTI_EVENT_LINE);
    CHECK_EQ_INT(ev[0].len, 1000);
    CHECK(ev[0].data == buf);
    CHECK(ev[0].data[0] == 'x' && ev[0].data[999] == 'x');

    CHECK_OK(solti_task_poll(t, &cursor, ev, 8, buf, sizeof buf, 1000, &count));
    CHECK(count >= 1);
    CHECK_EQ_INT(ev[0].kind, SOLTI_EVENT_LINE);
    CHECK_EQ_INT(ev[0].len, 5);
    CHECK(memcmp(ev[0].data, "short", 5) == 0);
    CHECK_OK(solti_task_free(t));
}

static void test_poll_packs_many_lines(solti_runner_t r) {
    /* max_events and buf both cap a batch; the data pointers never overlap. */
    const char *argv[] = {test_helper("printer"), "outn:50:line-", NULL};
    solti_task_t t = test_cmd_task(r, "buf-pack", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    test_wait(t, 10000);
    uint64_t cursor = 0;
    solti_event_t ev[10];
    char buf[64];
    size_t count = 0, lines = 0;
    for (int guard = 0; guard < 200; guard++) {
        int rc = solti_task_poll(t, &cursor, ev, 10, buf, sizeof buf, 1000, &count);
        if (rc == SOLTI_EOF) break;
        CHECK_OK(rc);
        CHECK(count <= 10);
        size_t used = 0;
        for (size_t i = 0; i < count; i++) {
            if (ev[i].kind != SOLTI_EVENT_LINE) continue;
            char want[32];
            snprintf(want, sizeof want, "line-%zu", lines);
            CHECK_MSG(ev[i].len == strlen(want) && memcmp(ev[i].data, want, ev[i].len) == 0,
                      "line %zu is \"%.*s\", want %s", lines, (int)ev[i].len, ev[i].data, want);
            CHECK(ev[i].data >= buf + used && ev[i].data + ev[i].len <= buf + sizeof buf);
            used = (size_t)(ev[i].data - buf) + ev[i].len;
            lines++;
        }
    }
    CHECK_EQ_INT(lines, 50);
    CHECK_OK(solti_task_free(t));
}

static void test_metrics(solti_runner_t r) {
    for (int format = SOLTI_METRICS_JSON; format <= SOLTI_METRICS_PROMETHEUS; format++) {
        size_t need = 0;
        CHECK_CODE(solti_runner_metrics(r, format, NULL, 0, &need), SOLTI_ERANGE);
        CHECK(need > 10);
        char *buf = (char *)malloc(need + 1);
        size_t got = 0;
        memset(buf, 'Q', need + 1);
        /* One byte short (no room for the NUL): SOLTI_ERANGE, len_out still set. */
        CHECK_CODE(solti_runner_metrics(r, format, buf, need, &got), SOLTI_ERANGE);
        CHECK_EQ_INT(got, need);
        CHECK_EQ_INT(buf[0], 'Q'); /* written on success only */
        CHECK_OK(solti_runner_metrics(r, format, buf, need + 1, &got));
        CHECK_EQ_INT(got, need);
        CHECK_EQ_INT(strlen(buf), need);
        free(buf);
    }
}

static void test_poll_bad_buf_len(solti_runner_t r) {
    /* A buf_len no buffer can have is refused before anything is read: the
       cursor stays, and the events are still there for the next poll. */
    const char *argv[] = {test_helper("printer"), "out:kept", NULL};
    solti_task_t t = test_cmd_task(r, "buf-badlen", argv, 10000, "", "");
    CHECK_OK(solti_task_spawn(t));
    test_wait(t, 10000);

    uint64_t cursor = 0;
    solti_event_t ev[8];
    size_t count = 99;
    char buf[256];
    CHECK_ERR(solti_task_poll(t, &cursor, ev, 8, buf, SIZE_MAX, 1000, &count), SOLTI_EINVAL,
              "buf_len");
    CHECK_EQ_INT(cursor, 0);
    CHECK_EQ_INT(count, 99);
    CHECK_ERR(solti_task_poll(t, &cursor, ev, 8, buf, (size_t)PTRDIFF_MAX + 1, 0, &count),
              SOLTI_EINVAL, "buf_len");
    CHECK_EQ_INT(cursor, 0);

    CHECK_OK(solti_task_poll(t, &cursor, ev, 8, buf, sizeof buf, 1000, &count));
    CHECK(count >= 2);
    CHECK_EQ_INT(ev[0].kind, SOLTI_EVENT_STARTED);
    CHECK_EQ_INT(ev[1].kind, SOLTI_EVENT_LINE);
    CHECK(ev[1].len == 4 && memcmp(ev[1].data, "kept", 4) == 0);
    CHECK_OK(solti_task_free(t));
}

int main(void) {
    solti_runner_t r = test_runner("buffers", NULL);
    test_task_id(r);
    test_poll(r);
    test_poll_packs_many_lines(r);
    test_poll_bad_buf_len(r);
    test_metrics(r);
    CHECK_OK(solti_runner_free(r));
    printf("test_buffers: ok\n");
    return 0;
}
