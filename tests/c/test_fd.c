/*
 * solti_task_fd: one close-on-exec descriptor per task that polls readable
 * (poll(2)) when events arrive or the task ends, and is cleared by a
 * solti_task_poll that catches up.
 */
#include <fcntl.h>
#include <poll.h>

#include "test.h"

static int readable(int fd, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc;
    do {
        rc = poll(&p, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    CHECK_MSG(rc >= 0, "poll: %s", strerror(errno));
    CHECK_MSG((p.revents & (POLLERR | POLLNVAL)) == 0, "revents 0x%x", p.revents);
    return rc == 1 && (p.revents & POLLIN);
}

/* Reads with timeout 0 until nothing is left; returns SOLTI_OK or SOLTI_EOF. */
static int drain(solti_task_t t, uint64_t *cursor, test_events_t *evs) {
    solti_event_t ev[16];
    char buf[4096];
    for (int guard = 0; guard < 1000; guard++) {
        size_t count = 0;
        int rc = solti_task_poll(t, cursor, ev, 16, buf, sizeof buf, 0, &count);
        if (rc == SOLTI_EOF) return rc;
        CHECK_OK(rc);
        if (count == 0) return SOLTI_OK;
        for (size_t i = 0; i < count; i++) test_events_push(evs, &ev[i]);
    }
    FAIL("drain never caught up");
    return -1;
}

static void test_readiness(solti_runner_t r) {
    const char *argv[] = {test_helper("sleeper"), "500", "hi", NULL};
    solti_task_t t = test_cmd_task(r, "fd", argv, 10000, "", "");
    int fd = CHECK_OK(solti_task_fd(t));
    CHECK_EQ_INT(solti_task_fd(t), fd);
    CHECK_MSG(fcntl(fd, F_GETFD) & FD_CLOEXEC, "task fd %d is not close-on-exec", fd);
    CHECK_MSG(!readable(fd, 0), "readable before anything happened");

    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_events_t evs = {0};
    CHECK_MSG(readable(fd, 2000), "not readable after spawn (STARTED is there)");
    CHECK_EQ_INT(drain(t, &cursor, &evs), SOLTI_OK);
    CHECK_EQ_INT(evs.n, 1);
    CHECK_EQ_INT(evs.v[0].kind, SOLTI_EVENT_STARTED);
    CHECK_MSG(!readable(fd, 0), "still readable after a poll caught up");

    /* The child prints after 500 ms: the fd turns readable then, not before. */
    int64_t t0 = test_now_ms();
    CHECK_MSG(readable(fd, 5000), "not readable within 5 s of the output");
    int64_t took = test_now_ms() - t0;
    CHECK_MSG(took >= 200, "readable after %lld ms, before the child printed", (long long)took);
    drain(t, &cursor, &evs);
    CHECK_LINES(&evs, SOLTI_STDOUT, "hi");

    /* Then the end: readable, and a drain reaches EOF. */
    int64_t deadline = test_now_ms() + 5000;
    int rc = SOLTI_OK;
    while (rc != SOLTI_EOF) {
        CHECK_MSG(test_now_ms() < deadline, "no EOF within 5 s");
        if (readable(fd, 1000)) rc = drain(t, &cursor, &evs);
    }
    CHECK(test_nth(&evs, SOLTI_EVENT_FINISHED, 0, 0) != NULL);
    CHECK_MSG(readable(fd, 0), "not readable once the task ended");
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
    /* The fd is the library's and closed by solti_task_free. */
}

static void test_reading_the_fd_is_not_needed(solti_runner_t r) {
    /* Many events, one wakeup: the fd stays readable until the poll catches up. */
    const char *argv[] = {test_helper("printer"), "outn:50", NULL};
    solti_task_t t = test_cmd_task(r, "fd-many", argv, 10000, "", "");
    int fd = CHECK_OK(solti_task_fd(t));
    CHECK_OK(solti_task_spawn(t));
    test_wait(t, 10000);
    CHECK(readable(fd, 0));
    uint64_t cursor = 0;
    solti_event_t ev[4];
    char buf[256];
    size_t count = 0;
    CHECK_OK(solti_task_poll(t, &cursor, ev, 4, buf, sizeof buf, 0, &count));
    CHECK_EQ_INT(count, 4);
    CHECK_MSG(readable(fd, 0), "not readable with 48 events unread");
    test_events_t evs = {0};
    CHECK_EQ_INT(drain(t, &cursor, &evs), SOLTI_EOF);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, 0), 47);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

int main(void) {
    solti_runner_t r = test_runner("fd", NULL);
    test_readiness(r);
    test_reading_the_fd_is_not_needed(r);
    CHECK_OK(solti_runner_free(r));
    printf("test_fd: ok\n");
    return 0;
}
