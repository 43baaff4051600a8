/*
 * pty: under a terminal `test -t 0 -a -t 1` succeeds, `stty size` reports the
 * spec's size, a resize reaches a SIGWINCH handler with the new size, input
 * written to the terminal reaches the child (and is echoed), ^C is SIGINT,
 * the output is one stream, and cancel kills the tree as with pipes.
 */
#include <fcntl.h>
#include <unistd.h>

#include "test.h"

static solti_runner_t runner;

int main(void) {
    int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (fd < 0) {
        printf("test_pty: skipped: /dev/ptmx cannot be opened here (%s)\n", strerror(errno));
        return 77;
    }
    close(fd);
    runner = test_runner("pty", NULL);

    /* isatty on 0, 1 and 2, and the size. */
    const char *tty[] = {"sh", "-c", "test -t 0 -a -t 1 -a -t 2 && echo tty; stty size", NULL};
    solti_task_t t = test_cmd_task(runner, "tty", tty, 10000, "\"pty\": {\"rows\": 42, \"cols\": 117}", "");
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_spawn_to_end(t, &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_LINES(&evs, SOLTI_STDOUT, "tty", "42 117");
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDERR), 0);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));

    /* A resize reaches the SIGWINCH handler; a signal goes through too. */
    const char *winch[] = {test_helper("winch"), NULL};
    t = test_cmd_task(runner, "winch", winch, 20000, "\"pty\": {\"rows\": 24, \"cols\": 80}", "");
    CHECK_OK(solti_task_spawn(t));
    uint64_t cursor = 0;
    test_wait_line(t, &cursor, &evs, "ready");
    CHECK_STR_EQ(test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 0)->text, "size 24 80");
    CHECK_OK(solti_task_resize(t, 50, 160));
    test_wait_line(t, &cursor, &evs, "size 50 160");
    CHECK_OK(solti_task_signal(t, SIGUSR1, 0));
    test_wait_line(t, &cursor, &evs, "usr1");
    ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    test_events_free(&evs);
    CHECK_ERR(solti_task_resize(t, 10, 10), SOLTI_ESTATE, "not running");
    CHECK_ERR(solti_task_resize(t, 0, 10), SOLTI_EINVAL, "rows 0");
    CHECK_OK(solti_task_free(t));

    /* Input goes through the terminal's line discipline: echoed, then read. */
    const char *rd[] = {"sh", "-c", "read line; echo \"got $line\"", NULL};
    t = test_cmd_task(runner, "input", rd, 10000, "\"pty\": {}", "");
    CHECK_OK(solti_task_spawn(t));
    size_t done = 0;
    CHECK_OK(solti_task_write(t, "hello\n", 6, 5000, &done));
    CHECK_EQ_INT(done, 6);
    cursor = 0;
    test_wait_line(t, &cursor, &evs, "got hello");
    CHECK_STR_EQ(test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 0)->text, "hello"); /* the echo */
    test_wait(t, 10000);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));

    /* close_stdin is ^D: cat sees the end of its input. */
    const char *cat[] = {"cat", NULL};
    t = test_cmd_task(runner, "eof", cat, 10000, "\"pty\": {}", "");
    CHECK_OK(solti_task_spawn(t));
    CHECK_OK(solti_task_close_stdin(t));
    ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_OK(solti_task_free(t));

    /* Cancel kills the tree (a background child included). */
    const char *sl[] = {"sh", "-c", "sleep 30 & echo $!; wait", NULL};
    t = test_cmd_task(runner, "cancel", sl, 20000, "\"pty\": {}", "");
    CHECK_OK(solti_task_spawn(t));
    static char buf[4096];
    solti_event_t ev[8];
    pid_t child = 0;
    int64_t deadline = test_now_ms() + 10000;
    cursor = 0;
    while (child == 0 && test_now_ms() < deadline) {
        size_t n = 0;
        CHECK_OK(solti_task_poll(t, &cursor, ev, 8, buf, sizeof buf, 200, &n));
        for (size_t i = 0; i < n; i++)
            if (ev[i].kind == SOLTI_EVENT_LINE) child = (pid_t)strtol(ev[i].data, NULL, 10);
    }
    CHECK_MSG(child > 0 && pid_alive(child), "background child %d", (int)child);
    CHECK_OK(solti_task_cancel(t));
    ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_CANCELED);
    CHECK_MSG(test_wait_pid_gone(child, 5000), "the background child %d outlived the cancel", (int)child);
    CHECK_OK(solti_task_free(t));

    /* ^C written to the terminal is SIGINT to its foreground group. */
    const char *nap[] = {"sleep", "30", NULL};
    t = test_cmd_task(runner, "intr", nap, 20000, "\"pty\": {}", "");
    CHECK_OK(solti_task_spawn(t));
    CHECK_OK(solti_task_write(t, "\x03", 1, 5000, NULL));
    ex = test_wait(t, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(ex.signal, SIGINT);
    CHECK_OK(solti_task_free(t));

    CHECK_OK(solti_runner_free(runner));
    printf("test_pty: ok\n");
    return 0;
}
