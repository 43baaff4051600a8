/*
 * test.h: the C tests' assertions and helpers.
 *
 * A failed check prints file:line, the expression and, for calls returning a
 * solti code, the code's name, solti_strerror(code) and solti_last_error(),
 * then aborts.  Every wait and poll here has a finite deadline, so a test
 * fails instead of hanging.
 *
 * Define TEST_NO_LIBRARY before including it in a test that must not link
 * libsolti_exec (it then gets the checks that need no library call only).
 */
#ifndef SOLTI_TEST_H
#define SOLTI_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "solti_exec.h"
#include "test_config.h"

/* ---- Failing ------------------------------------------------------------ */

static inline void test_vfail(const char *file, int line, const char *fmt, va_list ap) {
    fflush(stdout);
    fprintf(stderr, "%s:%d: FAILED: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

static inline void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    test_vfail(file, line, fmt, ap);
    va_end(ap);
}

#define FAIL(...) test_fail(__FILE__, __LINE__, __VA_ARGS__)

#define CHECK(expr)                                                                      \
    do {                                                                                 \
        if (!(expr)) FAIL("CHECK(%s)", #expr);                                           \
    } while (0)

/* CHECK with an explanation: CHECK_MSG(n == 3, "got %d lines", n). */
#define CHECK_MSG(expr, ...)                                                             \
    do {                                                                                 \
        if (!(expr)) {                                                                   \
            fprintf(stderr, "%s:%d: CHECK(%s) is false\n", __FILE__, __LINE__, #expr);   \
            FAIL(__VA_ARGS__);                                                           \
        }                                                                                \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                               \
    do {                                                                                 \
        long long a_ = (long long)(a), b_ = (long long)(b);                              \
        if (a_ != b_) FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);                     \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                               \
    do {                                                                                 \
        const char *a_ = (a), *b_ = (b);                                                 \
        if (strcmp(a_, b_) != 0) FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, a_, b_);     \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                  \
    do {                                                                                 \
        const char *h_ = (hay), *n_ = (needle);                                          \
        if (h_ == NULL || strstr(h_, n_) == NULL)                                        \
            FAIL("%s contains \"%s\": it is \"%s\"", #hay, n_, h_ ? h_ : "(null)");      \
    } while (0)

/* ---- Time, processes, paths ----------------------------------------------- */

static inline int64_t test_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void test_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* 1 if pid exists and is not a zombie (a killed orphan may stay a zombie
   when the container's init does not reap). */
static inline int pid_alive(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')');
    if (close_paren == NULL || close_paren[1] == '\0') return 1;
    char state = close_paren[2];
    return state != 'Z' && state != 'X';
}

/* Waits until pid is gone (or a zombie); 1 if it went within timeout_ms. */
static inline int test_wait_pid_gone(pid_t pid, int timeout_ms) {
    int64_t deadline = test_now_ms() + timeout_ms;
    while (pid_alive(pid)) {
        if (test_now_ms() > deadline) return 0;
        test_sleep_ms(10);
    }
    return 1;
}

/* The path of a helper program built beside the tests (printer, forker...).
   Returns a static buffer per call slot (4 slots, round robin). */
static inline const char *test_helper(const char *name) {
    static char paths[4][4096];
    static int next;
    const char *dir = getenv("SOLTI_EXEC_TEST_HELPERS");
    if (dir == NULL || dir[0] == '\0') dir = SOLTI_TEST_HELPERS_DIR;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    if (access(p, X_OK) != 0) {
        fprintf(stderr, "helper program %s is missing (set SOLTI_EXEC_TEST_HELPERS)\n", p);
        abort();
    }
    return p;
}

/* ---- A growing string, for JSON ------------------------------------------- */

typedef struct test_str {
    char *p;
    size_t len, cap;
} test_str_t;

static inline void test_str_add(test_str_t *s, const char *text, size_t n) {
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (s->len + n + 1 > cap) cap *= 2;
        s->p = (char *)realloc(s->p, cap);
        if (s->p == NULL) abort();
        s->cap = cap;
    }
    memcpy(s->p + s->len, text, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static inline void test_str_cat(test_str_t *s, const char *text) {
    test_str_add(s, text, strlen(text));
}

static inline void test_str_printf(test_str_t *s, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) abort();
    test_str_add(s, tmp, (size_t)n);
}

/* Appends text as a JSON string literal, quotes included. */
static inline void test_str_json(test_str_t *s, const char *text) {
    test_str_cat(s, "\"");
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char esc[2] = {'\\', (char)*c};
            test_str_add(s, esc, 2);
        } else if (*c < 0x20) {
            test_str_printf(s, "\\u%04x", *c);
        } else {
            test_str_add(s, (const char *)c, 1);
        }
    }
    test_str_cat(s, "\"");
}

/*
 * A command-mode task spec: argv (NULL-terminated) is the command and its
 * args; sub_extra is spliced into "subprocess" and top_extra at the top level
 * (each "" or JSON members without braces, e.g. "\"failOnNonZero\": false").
 * The result is malloc'd; free() it.
 */
static inline char *test_spec(const char *slot, const char *const argv[], int timeout_ms,
                              const char *sub_extra, const char *top_extra) {
    test_str_t s = {0};
    test_str_cat(&s, "{\"slot\": ");
    test_str_json(&s, slot);
    test_str_cat(&s, ", \"kind\": {\"subprocess\": {\"mode\": {\"command\": {\"command\": ");
    test_str_json(&s, argv[0]);
    test_str_cat(&s, ", \"args\": [");
    for (int i = 1; argv[i] != NULL; i++) {
        if (i > 1) test_str_cat(&s, ", ");
        test_str_json(&s, argv[i]);
    }
    test_str_cat(&s, "]}}");
    if (sub_extra && *sub_extra) {
        test_str_cat(&s, ", ");
        test_str_cat(&s, sub_extra);
    }
    test_str_printf(&s, "}}, \"timeout\": %d", timeout_ms);
    if (top_extra && *top_extra) {
        test_str_cat(&s, ", ");
        test_str_cat(&s, top_extra);
    }
    test_str_cat(&s, "}");
    return s.p;
}

#ifndef TEST_NO_LIBRARY

/* ---- Checks on solti calls ------------------------------------------------ */

static inline const char *test_code_name(int code) {
#define TEST_CODE_NAME_(name, value, message)                                            \
    if (code == (value)) return #name;
    SOLTI_ERRNO_MAP(TEST_CODE_NAME_)
#undef TEST_CODE_NAME_
    return code >= 0 ? "a count" : "an unknown code";
}

/* The calling thread's last error, in a static per-thread buffer. */
static inline const char *test_last_error(void) {
    static _Thread_local char buf[4096];
    buf[0] = '\0';
    solti_last_error(buf, sizeof buf);
    return buf;
}

static inline void test_fail_code(const char *file, int line, const char *call, int rc,
                                  const char *want) {
    char last[4096];
    last[0] = '\0';
    solti_last_error(last, sizeof last);
    test_fail(file, line, "%s returned %d (%s: %s), want %s; last error: \"%s\"", call, rc,
              test_code_name(rc), solti_strerror(rc), want, last);
}

/* CHECK_OK(call): the call must succeed (0 or a count); evaluates to its result. */
static inline int test_check_ok(int rc, const char *call, const char *file, int line) {
    if (rc < 0) test_fail_code(file, line, call, rc, "success");
    return rc;
}
#define CHECK_OK(call) test_check_ok((call), #call, __FILE__, __LINE__)

/* CHECK_CODE(call, SOLTI_EX): the call must return exactly that code. */
static inline void test_check_code(int rc, int want, const char *call, const char *want_name,
                                   const char *file, int line) {
    if (rc != want) test_fail_code(file, line, call, rc, want_name);
}
#define CHECK_CODE(call, want) test_check_code((call), (want), #call, #want, __FILE__, __LINE__)

/* CHECK_ERR(call, SOLTI_EX, "text"): that code, and a last error containing text. */
static inline void test_check_err(int rc, int want, const char *needle, const char *call,
                                  const char *want_name, const char *file, int line) {
    test_check_code(rc, want, call, want_name, file, line);
    const char *last = test_last_error();
    if (strstr(last, needle) == NULL)
        test_fail(file, line, "%s returned %s as expected, but its message \"%s\" lacks \"%s\"",
                  call, want_name, last, needle);
}
#define CHECK_ERR(call, want, needle)                                                    \
    test_check_err((call), (want), (needle), #call, #want, __FILE__, __LINE__)

/* ---- Runners and tasks ---------------------------------------------------- */

static inline solti_runner_t test_runner(const char *name, const char *config_json) {
    solti_runner_t r = 0;
    CHECK_OK(solti_runner_new(name, config_json, &r));
    CHECK(r != 0);
    return r;
}

static inline solti_task_t test_task(solti_runner_t runner, const char *spec_json) {
    solti_task_t t = 0;
    CHECK_OK(solti_task_build(runner, spec_json, &t));
    CHECK(t != 0);
    return t;
}

/* Builds a command task from argv (NULL-terminated); see test_spec. */
static inline solti_task_t test_cmd_task(solti_runner_t runner, const char *slot,
                                         const char *const argv[], int timeout_ms,
                                         const char *sub_extra, const char *top_extra) {
    char *spec = test_spec(slot, argv, timeout_ms, sub_extra, top_extra);
    solti_task_t t = 0;
    int rc = solti_task_build(runner, spec, &t);
    if (rc < 0) {
        fprintf(stderr, "spec: %s\n", spec);
        CHECK_OK(rc);
    }
    free(spec);
    return t;
}

/* Waits for the task with a finite deadline; fails the test on timeout. */
static inline solti_exit_t test_wait(solti_task_t task, int timeout_ms) {
    solti_exit_t ex;
    memset(&ex, 0, sizeof ex);
    CHECK_OK(solti_task_wait(task, timeout_ms, &ex));
    return ex;
}

/* ---- Reading events ------------------------------------------------------- */

/* One event, copied out of the poll buffer (text NUL-terminated). */
typedef struct test_event {
    uint32_t kind, attempt, stream, flags;
    uint64_t seq;
    int64_t ts_ms, value;
    int32_t exit_code, signal;
    char *text; /* LINE/WARNING bytes + NUL, else NULL */
    size_t len;
} test_event_t;

typedef struct test_events {
    test_event_t *v;
    size_t n, cap;
    int eof; /* 1 once SOLTI_EOF was seen */
} test_events_t;

static inline void test_events_push(test_events_t *evs, const solti_event_t *e) {
    if (evs->n == evs->cap) {
        evs->cap = evs->cap ? evs->cap * 2 : 64;
        evs->v = (test_event_t *)realloc(evs->v, evs->cap * sizeof *evs->v);
        if (evs->v == NULL) abort();
    }
    test_event_t *c = &evs->v[evs->n++];
    c->kind = e->kind;
    c->attempt = e->attempt;
    c->stream = e->stream;
    c->flags = e->flags;
    c->seq = e->seq;
    c->ts_ms = e->ts_ms;
    c->value = e->value;
    c->exit_code = e->exit_code;
    c->signal = e->signal;
    c->len = e->len;
    c->text = NULL;
    if (e->data != NULL) {
        c->text = (char *)malloc(e->len + 1);
        if (c->text == NULL) abort();
        memcpy(c->text, e->data, e->len);
        c->text[e->len] = '\0';
    }
}

static inline void test_events_free(test_events_t *evs) {
    for (size_t i = 0; i < evs->n; i++) free(evs->v[i].text);
    free(evs->v);
    memset(evs, 0, sizeof *evs);
}

/*
 * Polls the task from *cursor until SOLTI_EOF, appending every event to evs;
 * fails the test if EOF has not come within timeout_ms.
 */
static inline void test_read_all(solti_task_t task, uint64_t *cursor, test_events_t *evs,
                                 int timeout_ms) {
    static _Thread_local char buf[1 << 17];
    solti_event_t batch[32];
    int64_t deadline = test_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - test_now_ms();
        if (left <= 0)
            FAIL("no SOLTI_EOF within %d ms (%zu events read so far)", timeout_ms, evs->n);
        size_t count = 0;
        int rc = solti_task_poll(task, cursor, batch, 32, buf, sizeof buf,
                                 left > 500 ? 500 : (int)left, &count);
        if (rc == SOLTI_EOF) {
            evs->eof = 1;
            return;
        }
        CHECK_OK(rc);
        for (size_t i = 0; i < count; i++) test_events_push(evs, &batch[i]);
    }
}

/* How many events of a kind (and, for lines, of a stream; 0 = any). */
static inline size_t test_count(const test_events_t *evs, uint32_t kind, uint32_t stream) {
    size_t n = 0;
    for (size_t i = 0; i < evs->n; i++)
        if (evs->v[i].kind == kind && (stream == 0 || evs->v[i].stream == stream)) n++;
    return n;
}

/* The k-th (from 0) event of a kind/stream, or NULL. */
static inline const test_event_t *test_nth(const test_events_t *evs, uint32_t kind,
                                           uint32_t stream, size_t k) {
    for (size_t i = 0; i < evs->n; i++)
        if (evs->v[i].kind == kind && (stream == 0 || evs->v[i].stream == stream) && k-- == 0)
            return &evs->v[i];
    return NULL;
}

/* The text after `prefix` of the first line starting with it, or NULL. */
static inline const char *test_line_after(const test_events_t *evs, const char *prefix) {
    size_t n = strlen(prefix);
    for (size_t i = 0; i < evs->n; i++) {
        const test_event_t *e = &evs->v[i];
        if (e->kind == SOLTI_EVENT_LINE && e->text != NULL && strncmp(e->text, prefix, n) == 0)
            return e->text + n;
    }
    return NULL;
}

/* Prints the events, to explain a failure. */
static inline void test_events_dump(const test_events_t *evs) {
    for (size_t i = 0; i < evs->n; i++) {
        const test_event_t *e = &evs->v[i];
        fprintf(stderr, "  [%zu] kind=%u attempt=%u stream=%u flags=%u seq=%" PRIu64
                        " value=%" PRId64 " exit=%d sig=%d text=%s\n",
                i, e->kind, e->attempt, e->stream, e->flags, e->seq, e->value, e->exit_code,
                e->signal,
                e->kind == SOLTI_EVENT_LINE || e->kind == SOLTI_EVENT_WARNING
                    ? (e->text ? e->text : "")
                    : "-");
    }
}

/* Polls the task's events (into evs, if not NULL) until a line equal to
 * want arrives; fails after 10 s or at the end of the events. */
static inline void test_wait_line(solti_task_t t, uint64_t *cursor, test_events_t *evs, const char *want) {
    static char buf[65536];
    solti_event_t ev[16];
    int64_t deadline = test_now_ms() + 10000;
    while (test_now_ms() < deadline) {
        size_t n = 0;
        int rc = solti_task_poll(t, cursor, ev, 16, buf, sizeof buf, 200, &n);
        if (rc == SOLTI_EOF) break;
        CHECK_OK(rc);
        for (size_t i = 0; i < n; i++) {
            if (evs != NULL) test_events_push(evs, &ev[i]);
            if (ev[i].kind == SOLTI_EVENT_LINE && ev[i].len == strlen(want) && memcmp(ev[i].data, want, ev[i].len) == 0)
                return;
        }
    }
    if (evs != NULL) test_events_dump(evs);
    FAIL("no line \"%s\"", want);
}

/* Checks that the lines of one stream are exactly want[] (NULL-terminated), in
   order, with seq 0, 1, 2... */
static inline void test_check_lines(const test_events_t *evs, uint32_t stream,
                                    const char *const want[], const char *file, int line) {
    size_t n = 0;
    while (want[n] != NULL) n++;
    size_t got = test_count(evs, SOLTI_EVENT_LINE, stream);
    if (got != n) {
        test_events_dump(evs);
        test_fail(file, line, "stream %u: %zu lines, want %zu", stream, got, n);
    }
    for (size_t i = 0; i < n; i++) {
        const test_event_t *e = test_nth(evs, SOLTI_EVENT_LINE, stream, i);
        if (strcmp(e->text, want[i]) != 0 || e->seq != i) {
            test_events_dump(evs);
            test_fail(file, line, "stream %u line %zu: \"%s\" seq %" PRIu64 ", want \"%s\" seq %zu",
                      stream, i, e->text, e->seq, want[i], i);
        }
    }
}
#define CHECK_LINES(evs, stream, ...)                                                    \
    do {                                                                                 \
        const char *const want_[] = {__VA_ARGS__, NULL};                                 \
        test_check_lines((evs), (stream), want_, __FILE__, __LINE__);                    \
    } while (0)

/* Spawns a built task and reads it to its end, collecting its events;
   returns the code of solti_task_spawn and, when that is 0, the report. */
static inline int test_spawn_to_end(solti_task_t t, test_events_t *evs, solti_exit_t *ex) {
    int rc = solti_task_spawn(t);
    if (rc == SOLTI_OK) {
        uint64_t cursor = 0;
        test_read_all(t, &cursor, evs, 20000);
        *ex = test_wait(t, 5000);
    }
    return rc;
}

/* Runs argv to its end (see test_spawn_to_end); the task is freed after. */
static inline int test_try_run(solti_runner_t runner, const char *const argv[],
                               const char *sub_extra, test_events_t *evs, solti_exit_t *ex) {
    solti_task_t t = test_cmd_task(runner, "run", argv, 20000, sub_extra, "");
    int rc = test_spawn_to_end(t, evs, ex);
    CHECK_OK(solti_task_free(t));
    return rc;
}

/* The same under a new runner with that name and config, freed after. */
static inline int test_try_run_config(const char *name, const char *config,
                                      const char *const argv[], test_events_t *evs,
                                      solti_exit_t *ex) {
    solti_runner_t r = test_runner(name, config);
    int rc = test_try_run(r, argv, "", evs, ex);
    CHECK_OK(solti_runner_free(r));
    return rc;
}

/* Runs argv to its end (the spawn must succeed); returns the exit report. */
static inline solti_exit_t test_run(solti_runner_t runner, const char *const argv[],
                                    const char *sub_extra, test_events_t *evs) {
    solti_exit_t ex;
    CHECK_OK(test_try_run(runner, argv, sub_extra, evs, &ex));
    return ex;
}

static inline const char *test_outcome_name(int32_t outcome) {
    switch (outcome) {
    case SOLTI_OUTCOME_SUCCESS: return "success";
    case SOLTI_OUTCOME_FAILURE: return "failure";
    case SOLTI_OUTCOME_CANCELED: return "canceled";
    case SOLTI_OUTCOME_TIMEOUT: return "timeout";
    case SOLTI_OUTCOME_FATAL: return "fatal";
    default: return "unknown";
    }
}

#define CHECK_OUTCOME(ex, want)                                                          \
    do {                                                                                 \
        const solti_exit_t *ex_ = &(ex);                                                 \
        if (ex_->outcome != (want))                                                      \
            FAIL("outcome %s (exit %d, signal %d, reason \"%s\"), want %s",              \
                 test_outcome_name(ex_->outcome), ex_->exit_code, ex_->signal,           \
                 ex_->reason, test_outcome_name(want));                                  \
    } while (0)

#endif /* TEST_NO_LIBRARY */

#endif /* SOLTI_TEST_H */
