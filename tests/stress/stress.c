/*
 * solti-stress: the library under load through its C API, then a leak check.
 *
 *   solti-stress [--cycles N] [--cycle-threads N] [--tasks N] [--lines N]
 *                [--readers N] [--max-threads N] [--deadline SECONDS]
 *
 * Phase 1, cycles: N build/spawn/wait/free cycles spread over threads, of
 * several kinds in turn: a plain success, a failing exit with output on both
 * streams, a bash script (a script file made and removed), a missing binary
 * (a spawn error), and a sleeper canceled while it runs.
 *
 * Phase 2, output: T tasks at once, each printing L lines (seq 1 L), read by
 * R reader threads that sleep in poll(2) on the tasks' descriptors.  Half the
 * tasks use whenFull "block" and must deliver every line, in order, with the
 * right seq; the other half use "dropOldest" and must account for every
 * event: the events read plus the LAGGED counts equal what was written.
 *
 * After each phase the process must be back to its baseline: the same open
 * descriptors, at most --max-threads threads, no child (zombie or not), no
 * script directory left under TMPDIR, no cgroup directory named after the
 * runner, and the library's own counts (solti_debug_stats) back, goroutines
 * included.  The program prints its figures and exits 0, or says what failed
 * and aborts.  A watchdog aborts it after --deadline seconds.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "test.h"
#include "holdings.h"

#define RUNNER "stress"

static struct {
    long cycles;
    int cycle_threads;
    int tasks;
    long lines;
    int readers;
    int max_threads;
    int deadline_s;
} opt = {10000, 4, 200, 100000, 4, 64, 900};

static solti_runner_t runner;
static atomic_int peak_fds, peak_threads;
static atomic_int sampling = 1;
static const char *volatile phase = "start";

/* ---- Watchdog and sampler ------------------------------------------------ */

static void *watchdog(void *arg) {
    (void)arg;
    for (int s = 0; s < opt.deadline_s; s++) sleep(1);
    fprintf(stderr, "solti-stress: watchdog: still in phase \"%s\" after %d s\n", phase,
            opt.deadline_s);
    abort();
}

static void *sampler(void *arg) {
    (void)arg;
    while (atomic_load(&sampling)) {
        int fds = hold_fds(), threads = hold_threads();
        if (fds > atomic_load(&peak_fds)) atomic_store(&peak_fds, fds);
        if (threads > atomic_load(&peak_threads)) atomic_store(&peak_threads, threads);
        test_sleep_ms(10);
    }
    return NULL;
}

/* ---- Phase 1: cycles ----------------------------------------------------- */

enum { KIND_TRUE, KIND_FAIL, KIND_SCRIPT, KIND_MISSING, KIND_CANCEL, KINDS };

/* Which kind cycle i is: mostly plain successes, the others in turn. */
static int kind_of(long i) {
    static const int pattern[] = {KIND_TRUE,  KIND_FAIL, KIND_TRUE, KIND_SCRIPT, KIND_TRUE,
                                  KIND_MISSING, KIND_TRUE, KIND_CANCEL, KIND_TRUE, KIND_TRUE};
    return pattern[i % (long)(sizeof pattern / sizeof pattern[0])];
}

static char *spec_of(int kind) {
    switch (kind) {
    case KIND_TRUE: {
        const char *argv[] = {"true", NULL};
        return test_spec("true", argv, 30000, "", "");
    }
    case KIND_FAIL: {
        const char *argv[] = {test_helper("printer"), "out:o", "err:e", "exit:3", NULL};
        return test_spec("fail", argv, 30000, "", "");
    }
    case KIND_SCRIPT: {
        /* bash: "echo script" */
        test_str_t s = {0};
        test_str_cat(&s, "{\"slot\": \"script\", \"timeout\": 30000, \"kind\": {\"subprocess\": "
                         "{\"mode\": {\"script\": {\"runtime\": \"bash\", "
                         "\"body\": \"ZWNobyBzY3JpcHQ=\"}}}}}");
        return s.p;
    }
    case KIND_MISSING: {
        const char *argv[] = {"solti-stress-no-such-binary", NULL};
        return test_spec("missing", argv, 30000, "", "");
    }
    default: {
        const char *argv[] = {"sleep", "30", NULL};
        return test_spec("cancel", argv, 60000, "", "");
    }
    }
}

static atomic_long cycles_done;

static void one_cycle(long i, char *specs[KINDS]) {
    int kind = kind_of(i);
    solti_task_t t = test_task(runner, specs[kind]);
    solti_exit_t ex;
    memset(&ex, 0, sizeof ex);
    switch (kind) {
    case KIND_TRUE:
        CHECK_OK(solti_task_spawn(t));
        ex = test_wait(t, 30000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
        CHECK_EQ_INT(ex.exit_code, 0);
        break;
    case KIND_FAIL:
    case KIND_SCRIPT: {
        CHECK_OK(solti_task_spawn(t));
        uint64_t cursor = 0;
        test_events_t evs = {0};
        test_read_all(t, &cursor, &evs, 30000);
        ex = test_wait(t, 30000);
        if (kind == KIND_FAIL) {
            CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
            CHECK_EQ_INT(ex.exit_code, 3);
            CHECK_LINES(&evs, SOLTI_STDOUT, "o");
            CHECK_LINES(&evs, SOLTI_STDERR, "e");
        } else {
            CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
            CHECK_LINES(&evs, SOLTI_STDOUT, "script");
        }
        test_events_free(&evs);
        break;
    }
    case KIND_MISSING:
        CHECK_ERR(solti_task_spawn(t), SOLTI_ESPAWN, "no such file or directory");
        ex = test_wait(t, 30000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_FATAL);
        break;
    default:
        CHECK_OK(solti_task_spawn(t));
        CHECK_OK(solti_task_cancel(t));
        ex = test_wait(t, 30000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_CANCELED);
        break;
    }
    CHECK_OK(solti_task_free(t));
    atomic_fetch_add(&cycles_done, 1);
}

static void *cycle_thread(void *arg) {
    long first = (long)(intptr_t)arg;
    char *specs[KINDS];
    for (int k = 0; k < KINDS; k++) specs[k] = spec_of(k);
    for (long i = first; i < opt.cycles; i += opt.cycle_threads) one_cycle(i, specs);
    for (int k = 0; k < KINDS; k++) free(specs[k]);
    return NULL;
}

/* ---- Phase 2: many tasks with much output -------------------------------- */

typedef struct out_task {
    solti_task_t task;
    int fd;
    int block; /* whenFull "block": lossless */
    uint64_t cursor;
    long lines;       /* line events read */
    long next_seq;    /* the seq the next line must have (block) or exceed (drop) */
    long events;      /* events read, LAGGED not counted */
    long missed;      /* sum of LAGGED values */
    long lagged;      /* LAGGED events */
    int finished;     /* a FINISHED event was read */
    int eof;
} out_task_t;

static out_task_t *otasks;
static atomic_long lines_read, lagged_events;

/* Checks one event of task ot. */
static void check_event(out_task_t *ot, const solti_event_t *e) {
    if (e->kind == SOLTI_EVENT_LAGGED) {
        CHECK_MSG(!ot->block, "a lossless (block) task lagged by %lld", (long long)e->value);
        ot->missed += e->value;
        ot->lagged++;
        return;
    }
    ot->events++;
    switch (e->kind) {
    case SOLTI_EVENT_LINE: {
        CHECK_EQ_INT(e->stream, SOLTI_STDOUT);
        char want[32];
        int n = snprintf(want, sizeof want, "%llu", (unsigned long long)e->seq + 1);
        if (e->len != (size_t)n || memcmp(e->data, want, (size_t)n) != 0)
            FAIL("task %llu line seq %llu is \"%.*s\", want \"%s\"", (unsigned long long)ot->task,
                 (unsigned long long)e->seq, (int)e->len, e->data, want);
        if (ot->block)
            CHECK_MSG((long)e->seq == ot->next_seq, "seq %llu, want %ld (lost or reordered)",
                      (unsigned long long)e->seq, ot->next_seq);
        else
            CHECK_MSG((long)e->seq >= ot->next_seq, "seq %llu after %ld (reordered)",
                      (unsigned long long)e->seq, ot->next_seq - 1);
        ot->next_seq = (long)e->seq + 1;
        ot->lines++;
        break;
    }
    case SOLTI_EVENT_STARTED:
        break;
    case SOLTI_EVENT_FINISHED:
        CHECK_EQ_INT(e->value, SOLTI_OUTCOME_SUCCESS);
        CHECK_EQ_INT(e->exit_code, 0);
        ot->finished = 1;
        break;
    default:
        FAIL("unexpected event kind %u: %.*s", e->kind, (int)e->len, e->data ? e->data : "");
    }
}

/* Reads what is there without waiting, until caught up or EOF. */
static void drain(out_task_t *ot, solti_event_t *evs, size_t max, char *buf, size_t len) {
    for (;;) {
        size_t count = 0;
        int rc = solti_task_poll(ot->task, &ot->cursor, evs, max, buf, len, 0, &count);
        if (rc == SOLTI_EOF) {
            ot->eof = 1;
            return;
        }
        CHECK_OK(rc);
        if (count == 0) return;
        long lines = 0, lagged = 0;
        for (size_t i = 0; i < count; i++) {
            check_event(ot, &evs[i]);
            lines += evs[i].kind == SOLTI_EVENT_LINE;
            lagged += evs[i].kind == SOLTI_EVENT_LAGGED;
        }
        atomic_fetch_add(&lines_read, lines);
        atomic_fetch_add(&lagged_events, lagged);
    }
}

static void *reader_thread(void *arg) {
    int r = (int)(intptr_t)arg;
    int n = 0;
    for (int j = r; j < opt.tasks; j += opt.readers) n++;
    struct pollfd *pfds = calloc((size_t)n, sizeof *pfds);
    out_task_t **mine = calloc((size_t)n, sizeof *mine);
    const size_t max = 512, len = 1 << 16;
    solti_event_t *evs = calloc(max, sizeof *evs);
    char *buf = malloc(len);
    if (pfds == NULL || mine == NULL || evs == NULL || buf == NULL) abort();
    n = 0;
    for (int j = r; j < opt.tasks; j += opt.readers) mine[n++] = &otasks[j];

    int open = n;
    while (open > 0) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (mine[i]->eof) continue;
            pfds[k].fd = mine[i]->fd;
            pfds[k].events = POLLIN;
            pfds[k].revents = 0;
            k++;
        }
        int rc = poll(pfds, (nfds_t)k, 1000);
        if (rc < 0 && errno != EINTR) FAIL("poll: %s", strerror(errno));
        /* Drain the ready ones (and, on a timeout, all: a lost wake-up would
           show as a stall here, and the watchdog would catch a real one). */
        k = 0;
        for (int i = 0; i < n; i++) {
            if (mine[i]->eof) continue;
            if (rc == 0 || (pfds[k].revents & POLLIN)) drain(mine[i], evs, max, buf, len);
            if (mine[i]->eof) open--;
            k++;
        }
    }
    free(pfds);
    free(mine);
    free(evs);
    free(buf);
    return NULL;
}

static void check_output_task(out_task_t *ot) {
    CHECK(ot->eof && ot->finished);
    if (ot->block) {
        CHECK_MSG(ot->lines == opt.lines && ot->lagged == 0,
                  "block task: %ld lines of %ld, %ld lagged", ot->lines, opt.lines, ot->lagged);
    } else {
        /* STARTED, every line, FINISHED: read or counted as missed. */
        CHECK_MSG(ot->events + ot->missed == opt.lines + 2,
                  "dropOldest task: %ld events read + %ld missed != %ld written", ot->events,
                  ot->missed, opt.lines + 2);
    }
    solti_exit_t ex = test_wait(ot->task, 10000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_OK(solti_task_free(ot->task));
}

/* ---- Main ---------------------------------------------------------------- */

static void parse_args(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v = i + 1 < argc ? strtol(argv[i + 1], NULL, 10) : -1;
        if (v < 0 || (v == 0 && strcmp(a, "--cycles") != 0 && strcmp(a, "--tasks") != 0)) {
            fprintf(stderr, "usage: solti-stress [--cycles N] [--cycle-threads N] [--tasks N] "
                            "[--lines N] [--readers N] [--max-threads N] [--deadline S]\n");
            exit(2);
        }
        if (strcmp(a, "--cycles") == 0) opt.cycles = v;
        else if (strcmp(a, "--cycle-threads") == 0) opt.cycle_threads = (int)v;
        else if (strcmp(a, "--tasks") == 0) opt.tasks = (int)v;
        else if (strcmp(a, "--lines") == 0) opt.lines = v;
        else if (strcmp(a, "--readers") == 0) opt.readers = (int)v;
        else if (strcmp(a, "--max-threads") == 0) opt.max_threads = (int)v;
        else if (strcmp(a, "--deadline") == 0) opt.deadline_s = (int)v;
        else {
            fprintf(stderr, "solti-stress: unknown option %s\n", a);
            exit(2);
        }
        i++;
    }
}

static double seconds_since(int64_t start_ms) { return (double)(test_now_ms() - start_ms) / 1000.0; }

int main(int argc, char **argv) {
    parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t wd, smp;
    pthread_create(&wd, NULL, watchdog, NULL);
    pthread_detach(wd);

    /* A private TMPDIR, set after the library was loaded: the library must
       read it from the host's environment at build time. */
    char tmp[] = "/tmp/solti-stress-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    CHECK(setenv("TMPDIR", tmp, 1) == 0);

    runner = test_runner(RUNNER, NULL);
    /* Warm up, so that what lives for good (the spawn thread, the runtime's
       poller) is in the baseline. */
    char *specs[KINDS];
    for (int k = 0; k < KINDS; k++) specs[k] = spec_of(k);
    for (long i = 0; i < KINDS * 2; i++) one_cycle(i, specs);
    for (int k = 0; k < KINDS; k++) free(specs[k]);
    atomic_store(&cycles_done, 0);
    test_sleep_ms(200); /* the last watchers end just after the free */
    holdings_t base = hold_take(RUNNER);
    hold_print("baseline", &base);
    CHECK_EQ_INT(base.script_dirs, 0);
    CHECK_EQ_INT(base.children, 0);
    CHECK_EQ_INT(base.lib.tasks, 0);
    atomic_store(&peak_fds, base.fds);
    atomic_store(&peak_threads, base.threads);
    pthread_create(&smp, NULL, sampler, NULL);

    /* Phase 1. */
    phase = "cycles";
    int64_t t0 = test_now_ms();
    pthread_t *th = calloc((size_t)opt.cycle_threads, sizeof *th);
    for (int i = 0; i < opt.cycle_threads; i++)
        pthread_create(&th[i], NULL, cycle_thread, (void *)(intptr_t)i);
    for (int i = 0; i < opt.cycle_threads; i++) pthread_join(th[i], NULL);
    free(th);
    double cycles_s = seconds_since(t0);
    CHECK_EQ_INT(atomic_load(&cycles_done), opt.cycles);
    printf("cycles: %ld build/spawn/wait/free cycles on %d threads in %.1f s (%.0f/s)\n",
           opt.cycles, opt.cycle_threads, cycles_s, (double)opt.cycles / cycles_s);
    hold_check_back("after the cycles", RUNNER, &base, opt.max_threads, 5000);

    /* Phase 2. */
    phase = "output";
    otasks = calloc((size_t)opt.tasks, sizeof *otasks);
    char lines_arg[32];
    snprintf(lines_arg, sizeof lines_arg, "%ld", opt.lines);
    const char *argv_seq[] = {"seq", "1", lines_arg, NULL};
    char *block_spec = test_spec("lines", argv_seq, 600000, "",
                                 "\"output\": {\"capacity\": 4096, \"whenFull\": \"block\"}");
    char *drop_spec = test_spec("lines", argv_seq, 600000, "",
                                "\"output\": {\"capacity\": 4096, \"whenFull\": \"dropOldest\"}");
    t0 = test_now_ms();
    for (int j = 0; j < opt.tasks; j++) {
        out_task_t *ot = &otasks[j];
        ot->block = j % 2 == 0;
        ot->task = test_task(runner, ot->block ? block_spec : drop_spec);
        ot->fd = CHECK_OK(solti_task_fd(ot->task));
        CHECK_OK(solti_task_spawn(ot->task));
    }
    free(block_spec);
    free(drop_spec);
    th = calloc((size_t)opt.readers, sizeof *th);
    for (int r = 0; r < opt.readers; r++)
        pthread_create(&th[r], NULL, reader_thread, (void *)(intptr_t)r);
    for (int r = 0; r < opt.readers; r++) pthread_join(th[r], NULL);
    free(th);
    double output_s = seconds_since(t0);
    for (int j = 0; j < opt.tasks; j++) check_output_task(&otasks[j]);
    free(otasks);
    long total = atomic_load(&lines_read);
    printf("output: %d tasks x %ld lines (half lossless, half dropOldest) in %.1f s: "
           "%ld lines read (%.2f M/s), %ld LAGGED events\n",
           opt.tasks, opt.lines, output_s, total, (double)total / output_s / 1e6,
           atomic_load(&lagged_events));
    hold_check_back("after the output", RUNNER, &base, opt.max_threads, 5000);

    atomic_store(&sampling, 0);
    pthread_join(smp, NULL);
    CHECK_OK(solti_runner_free(runner));
    solti_debug_stats_t st;
    CHECK_OK(solti_debug_stats(&st));
    CHECK_EQ_INT(st.runners, 0);
    CHECK_EQ_INT(st.tasks, 0);
    CHECK_MSG(rmdir(tmp) == 0, "rmdir %s: %s (something was left in it)", tmp, strerror(errno));
    printf("peak: %d fds (baseline %d), %d threads (baseline %d, bound %d)\n",
           atomic_load(&peak_fds), base.fds, atomic_load(&peak_threads), base.threads,
           opt.max_threads);
    printf("solti-stress: ok\n");
    return 0;
}
