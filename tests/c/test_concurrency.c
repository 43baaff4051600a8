/*
 * Concurrency: 16 host threads build, spawn, cancel, poll, wait, read the
 * descriptor of, and free the same tasks at random, with stale and double
 * frees on purpose.  No crash, no deadlock (a watchdog thread aborts the test
 * if no call completes for a while, or if it overruns), and every call
 * returns one of the codes its documentation lists.  Afterwards the process
 * is back to its baseline.  Also: host threads that come and go, each
 * leaving a last-error message behind, do not leak memory.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "test.h"
#include "holdings.h"

#define THREADS 16
#define SLOTS 24
#define RUN_MS 6000
#define STALL_MS 20000
#define OVERRUN_MS 90000

static solti_runner_t runner;
static _Atomic uint64_t slots[SLOTS];
static atomic_long calls;
static atomic_int stop;
static const char *volatile doing[THREADS];

/* ---- Random numbers, per thread ------------------------------------------ */

static uint32_t next_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

/* ---- The tasks ------------------------------------------------------------ */

#define KINDS 10
static char *specs[KINDS];

static void make_specs(void) {
    const char *sleep2[] = {"sleep", "2", NULL};
    const char *lines[] = {test_helper("printer"), "outn:300:line", "errn:20:err", NULL};
    const char *quick[] = {"true", NULL};
    const char *flaky[] = {"sh", "-c", "sleep 0.2; exit 3", NULL};
    const char *sleep1[] = {"sleep", "1", NULL};
    const char *stubborn[] = {test_helper("sigignorer"), "5", NULL};
    const char *forker[] = {test_helper("forker"), "--exit", "3", NULL};
    const char *missing[] = {"solti-concurrency-no-such-binary", NULL};
    specs[0] = test_spec("sleep", sleep2, 30000, "", "");
    specs[1] = test_spec("lines", lines, 30000, "", "\"output\": {\"capacity\": 64}");
    specs[2] = test_spec("quick", quick, 30000, "", "");
    specs[3] = test_spec("flaky", flaky, 30000, "",
                         "\"restart\": {\"type\": \"onFailure\"}, \"maxRetries\": 2, "
                         "\"backoff\": {\"jitter\": \"none\", \"firstMs\": 10, \"maxMs\": 50, "
                         "\"factor\": 2.0}");
    specs[4] = test_spec("queue", sleep1, 30000, "", "\"admission\": \"queue\"");
    specs[5] = test_spec("replace", sleep1, 30000, "", "\"admission\": \"replace\"");
    specs[6] = test_spec("stubborn", stubborn, 30000, "", "\"killGraceMs\": 100");
    specs[7] = test_spec("forker", forker, 30000, "", "");
    specs[8] = test_spec("missing", missing, 30000, "", "");
    test_str_t s = {0}; /* bash: "echo script" */
    test_str_cat(&s, "{\"slot\": \"script\", \"timeout\": 30000, \"kind\": {\"subprocess\": "
                     "{\"mode\": {\"script\": {\"runtime\": \"bash\", "
                     "\"body\": \"ZWNobyBzY3JpcHQ=\"}}}}}");
    specs[9] = s.p;
}

/* ---- Checking codes --------------------------------------------------------- */

/* Fails unless rc is one of the codes listed (terminated by 1, which no call
   returns); counts >= 0 are allowed where `count_ok`. */
static void expect(const char *call, int rc, int count_ok, ...) {
    atomic_fetch_add(&calls, 1);
    if (count_ok && rc >= 0) return;
    va_list ap;
    va_start(ap, count_ok);
    for (int c = va_arg(ap, int); c != 1; c = va_arg(ap, int))
        if (rc == c) {
            va_end(ap);
            return;
        }
    va_end(ap);
    FAIL("%s returned %d (%s: %s), not a documented code here; last error: \"%s\"", call, rc,
         test_code_name(rc), solti_strerror(rc), test_last_error());
}

/* ---- One worker --------------------------------------------------------- */

typedef struct worker {
    int id;
    uint64_t rng;
    uint64_t cursor_task[SLOTS]; /* the task each cursor belongs to */
    uint64_t cursor[SLOTS];
    solti_event_t evs[16];
    char buf[4096];
} worker_t;

static int timeout_of(worker_t *w) {
    uint32_t r = next_rand(&w->rng) % 100;
    if (r < 3) return SOLTI_INFINITE; /* a free in another thread must wake it */
    if (r < 40) return 0;
    return (int)(r % 50);
}

static void do_op(worker_t *w) {
    int i = (int)(next_rand(&w->rng) % SLOTS);
    uint64_t t = atomic_load(&slots[i]);
    uint32_t op = next_rand(&w->rng) % 100;
    int rc;

    if (t == 0 || op < 8) { /* build into an empty slot */
        doing[w->id] = "build";
        solti_task_t nt = 0;
        rc = solti_task_build(runner, specs[next_rand(&w->rng) % KINDS], &nt);
        expect("solti_task_build", rc, 0, SOLTI_OK, 1);
        uint64_t empty = 0;
        if (!atomic_compare_exchange_strong(&slots[i], &empty, nt)) {
            doing[w->id] = "free (lost the slot)";
            expect("solti_task_free", solti_task_free(nt), 0, SOLTI_OK, 1);
        }
        return;
    }
    if (op < 28) {
        doing[w->id] = "spawn";
        expect("solti_task_spawn", solti_task_spawn(t), 0, SOLTI_OK, SOLTI_EBADF, SOLTI_ESTATE,
               SOLTI_ESPAWN, 1);
    } else if (op < 38) {
        doing[w->id] = "cancel";
        expect("solti_task_cancel", solti_task_cancel(t), 0, SOLTI_OK, SOLTI_EBADF, 1);
    } else if (op < 58) {
        doing[w->id] = "poll";
        if (w->cursor_task[i] != t) {
            w->cursor_task[i] = t;
            w->cursor[i] = 0;
        }
        size_t count = 0;
        size_t len = next_rand(&w->rng) % 10 == 0 ? 3 : sizeof w->buf; /* sometimes too small */
        rc = solti_task_poll(t, &w->cursor[i], w->evs, 16, w->buf, len, timeout_of(w), &count);
        expect("solti_task_poll", rc, 0, SOLTI_OK, SOLTI_EOF, SOLTI_ERANGE, SOLTI_EBADF, 1);
        if (rc == SOLTI_OK) CHECK(count <= 16);
    } else if (op < 72) {
        doing[w->id] = "wait";
        solti_exit_t ex;
        rc = solti_task_wait(t, timeout_of(w), &ex);
        expect("solti_task_wait", rc, 0, SOLTI_OK, SOLTI_ETIMEDOUT, SOLTI_ESTATE, SOLTI_EBADF, 1);
        if (rc == SOLTI_OK)
            CHECK_MSG(ex.outcome >= SOLTI_OUTCOME_SUCCESS && ex.outcome <= SOLTI_OUTCOME_FATAL,
                      "outcome %d", ex.outcome);
    } else if (op < 78) {
        doing[w->id] = "fd";
        expect("solti_task_fd", solti_task_fd(t), 1, SOLTI_EBADF, 1);
    } else if (op < 82) {
        doing[w->id] = "attempts";
        uint32_t n;
        expect("solti_task_attempts", solti_task_attempts(t, &n), 0, SOLTI_OK, SOLTI_EBADF, 1);
    } else if (op < 86) {
        doing[w->id] = "id";
        char id[8];
        expect("solti_task_id", solti_task_id(t, id, next_rand(&w->rng) % 2 ? sizeof id : 0), 1,
               SOLTI_ERANGE, SOLTI_EBADF, 1);
    } else if (op < 88) {
        doing[w->id] = "metrics";
        size_t n = 0;
        expect("solti_runner_metrics",
               solti_runner_metrics(runner, SOLTI_METRICS_PROMETHEUS, w->buf, sizeof w->buf, &n),
               0, SOLTI_OK, SOLTI_ERANGE, 1);
    } else if (op < 94) {
        doing[w->id] = "free";
        uint64_t want = t;
        if (atomic_compare_exchange_strong(&slots[i], &want, 0)) /* EBADF: a stale free */
            expect("solti_task_free", solti_task_free(t), 0, SOLTI_OK, SOLTI_EBADF, 1);
    } else {
        /* A free that leaves the handle in its slot: others now use a stale
           handle, and a later free of it is a double free. */
        doing[w->id] = "free (stale)";
        expect("solti_task_free", solti_task_free(t), 0, SOLTI_OK, SOLTI_EBADF, 1);
        if (next_rand(&w->rng) % 2) {
            uint64_t want = t;
            atomic_compare_exchange_strong(&slots[i], &want, 0);
        }
    }
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    while (!atomic_load(&stop)) do_op(w);
    doing[w->id] = "done";
    return NULL;
}

/* ---- The watchdog ------------------------------------------------------------ */

static void *watchdog(void *arg) {
    (void)arg;
    int64_t start = test_now_ms(), last_change = start;
    long last = -1;
    for (;;) {
        test_sleep_ms(200);
        long now_calls = atomic_load(&calls);
        int64_t now = test_now_ms();
        if (now_calls != last) {
            last = now_calls;
            last_change = now;
        }
        int stalled = now - last_change > STALL_MS, overrun = now - start > OVERRUN_MS;
        if (stalled || overrun) {
            fprintf(stderr, "watchdog: %s after %lld ms, %ld calls; threads:\n",
                    stalled ? "no call completed for a while" : "overrun",
                    (long long)(now - start), now_calls);
            for (int i = 0; i < THREADS; i++) fprintf(stderr, "  %2d: %s\n", i, doing[i]);
            abort();
        }
    }
    return NULL;
}

static void test_sixteen_threads_at_random(void) {
    make_specs();
    /* What lives for good (the runtime's threads and poller) starts
       with the first spawn: take the baseline after one. */
    const char *argv[] = {"true", NULL};
    test_events_t evs = {0};
    test_run(runner, argv, "", &evs);
    test_events_free(&evs);
    holdings_t base = hold_take("concurrency");
    atomic_store(&calls, 0);
    pthread_t wd;
    CHECK_EQ_INT(pthread_create(&wd, NULL, watchdog, NULL), 0);
    pthread_detach(wd);

    static worker_t workers[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i].id = i;
        workers[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        doing[i] = "start";
        CHECK_EQ_INT(pthread_create(&th[i], NULL, worker_main, &workers[i]), 0);
    }
    test_sleep_ms(RUN_MS);
    atomic_store(&stop, 1);
    /* Free what is left: this also wakes calls blocked without a timeout. */
    for (int i = 0; i < SLOTS; i++) {
        uint64_t t = atomic_exchange(&slots[i], 0);
        if (t != 0) expect("solti_task_free", solti_task_free(t), 0, SOLTI_OK, SOLTI_EBADF, 1);
    }
    for (int i = 0; i < THREADS; i++) CHECK_EQ_INT(pthread_join(th[i], NULL), 0);
    /* A worker may have built into a slot after the sweep. */
    for (int i = 0; i < SLOTS; i++) {
        uint64_t t = atomic_exchange(&slots[i], 0);
        if (t != 0) expect("solti_task_free", solti_task_free(t), 0, SOLTI_OK, SOLTI_EBADF, 1);
    }
    printf("16 threads: %ld calls in %d ms\n", atomic_load(&calls), RUN_MS);
    hold_check_back("after 16 threads", "concurrency", &base, 64, 10000);
    for (int k = 0; k < KINDS; k++) free(specs[k]);
}

/* ---- solti_task_fd racing solti_task_free ------------------------------------ */

static _Atomic uint64_t fd_race_task;

static void *fd_spinner(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        uint64_t t = atomic_load(&fd_race_task);
        if (t != 0) expect("solti_task_fd", solti_task_fd(t), 1, SOLTI_EBADF, 1);
    }
    return NULL;
}

/* A task freed while another thread asks for its descriptor: the answer is
   the fd or SOLTI_EBADF, never SOLTI_EINTERNAL (it was, about once in a few
   thousand frees, when the free released the ring between the handle lookup
   and the descriptor). */
static void test_fd_racing_free(void) {
    const char *argv[] = {"true", NULL};
    char *spec = test_spec("fd-race", argv, 1000, "", "");
    atomic_store(&stop, 0);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) CHECK_EQ_INT(pthread_create(&th[i], NULL, fd_spinner, NULL), 0);
    long frees = 0;
    for (int64_t end = test_now_ms() + 3000; test_now_ms() < end; frees++) {
        solti_task_t t = test_task(runner, spec);
        atomic_store(&fd_race_task, t);
        for (volatile int k = 0; k < 200; k++) {
        }
        CHECK_OK(solti_task_free(t));
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) CHECK_EQ_INT(pthread_join(th[i], NULL), 0);
    atomic_store(&stop, 0);
    free(spec);
    printf("solti_task_fd racing %ld frees: every answer an fd or SOLTI_EBADF\n", frees);
}

/* ---- Threads that come and go ---------------------------------------------- */

static void *fail_once(void *arg) {
    (void)arg;
    /* Leaves a message for this thread, longer than the smallest buffer. */
    char spec[600];
    snprintf(spec, sizeof spec, "{\"slot\": \"%0500d\"}", 7);
    solti_task_t t;
    int rc = solti_task_build(runner, spec, &t);
    return rc == SOLTI_ESPEC && solti_last_error(NULL, 0) > 0 ? NULL : (void *)1;
}

static void test_thread_churn_does_not_leak(void) {
    const int n = 1000;
    /* Warm up: arenas and thread stacks are cached by glibc. */
    for (int i = 0; i < 16; i++) {
        pthread_t th;
        CHECK_EQ_INT(pthread_create(&th, NULL, fail_once, NULL), 0);
        CHECK_EQ_INT(pthread_join(th, NULL), 0);
    }
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < n; i++) {
        pthread_t th;
        void *res = (void *)2;
        CHECK_EQ_INT(pthread_create(&th, NULL, fail_once, NULL), 0);
        CHECK_EQ_INT(pthread_join(th, &res), 0);
        CHECK(res == NULL);
    }
    struct mallinfo2 after = mallinfo2();
    long grown = (long)after.uordblks - (long)before.uordblks;
    printf("%d threads that failed a call and exited: heap grew by %ld bytes\n", n, grown);
    /* A leaked message buffer is at least 256 bytes a thread. */
    CHECK_MSG(grown < n * 64, "the heap grew by %ld bytes over %d threads", grown, n);
}

int main(void) {
    char tmp[64];
    hold_private_tmpdir(tmp, "concurrency");
    runner = test_runner("concurrency", NULL);
    CHECK_ERR(solti_debug_stats(NULL), SOLTI_EINVAL, "stats_out");
    test_thread_churn_does_not_leak();
    test_fd_racing_free();
    test_sixteen_threads_at_random();
    CHECK_OK(solti_runner_free(runner));
    hold_private_tmpdir_done(tmp);
    printf("test_concurrency: ok\n");
    return 0;
}
