// The C side of the C ABI: the public solti_* entry points. Each one refuses
// a call from a forked child before entering Go (a forked copy of the Go
// runtime has lost its threads and could hang), then calls the Go export.
// The error table, the per-thread last error and the load-time host state
// (RLIMIT_NOFILE, the library's own path) live here too, since they must work
// without Go.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "solti_exec.h"
#include "_cgo_export.h"
#include "host.h"

static pid_t load_pid;
static struct rlimit load_nofile;
static int load_nofile_ok;

// Runs before the Go runtime's own constructor (which raises the soft
// RLIMIT_NOFILE during its start-up) so the host's value can be put back.
__attribute__((constructor(101))) static void solti_capture_host(void) {
    load_pid = getpid();
    load_nofile_ok = getrlimit(RLIMIT_NOFILE, &load_nofile) == 0;
}

void soltic_restore_nofile(void) {
    if (load_nofile_ok)
        setrlimit(RLIMIT_NOFILE, &load_nofile);
}

// --- last error, per calling thread -------------------------------------

static __thread char *last_error;
static __thread size_t last_error_cap;

// A thread's message buffer is freed when the thread exits: hosts that churn
// threads (a Python pool, a thread per request) must not leak one per thread.
// The key's value is the buffer; its destructor runs in the exiting thread.
static pthread_key_t last_error_key;
static pthread_once_t last_error_once = PTHREAD_ONCE_INIT;
static int last_error_key_ok;

static void last_error_free(void *p) {
    free(p);
    last_error = NULL;
    last_error_cap = 0;
}

static void last_error_key_init(void) {
    last_error_key_ok = pthread_key_create(&last_error_key, last_error_free) == 0;
}

void soltic_set_last_error(const char *msg, size_t len) {
    if (len + 1 > last_error_cap) {
        size_t cap = len + 1 < 256 ? 256 : len + 1;
        char *p = realloc(last_error, cap);
        if (p == NULL)
            return; // keep the old message rather than lose the thread's state
        last_error = p;
        last_error_cap = cap;
        pthread_once(&last_error_once, last_error_key_init);
        if (last_error_key_ok)
            pthread_setspecific(last_error_key, p);
    }
    if (len > 0)
        memcpy(last_error, msg, len);
    last_error[len] = '\0';
}

int solti_last_error(char *buf, size_t len) {
    const char *msg = last_error ? last_error : "";
    size_t n = strlen(msg);
    if (buf != NULL && len > 0) {
        size_t k = n < len - 1 ? n : len - 1;
        memcpy(buf, msg, k);
        buf[k] = '\0';
    }
    return (int)n;
}

const char *solti_strerror(int code) {
#define XX(name, value, message) case name: return message;
    switch (code) { SOLTI_ERRNO_MAP(XX) }
#undef XX
    return "unknown error code";
}

#define SOLTI_STR_(x) #x
#define SOLTI_STR(x) SOLTI_STR_(x)
const char *solti_version(void) {
    return SOLTI_STR(SOLTI_EXEC_VERSION_MAJOR) "." SOLTI_STR(SOLTI_EXEC_VERSION_MINOR) "." SOLTI_STR(
        SOLTI_EXEC_VERSION_PATCH);
}

// --- the environment the library obeys -----------------------------------

// soltic_trusted_getenv reads one of the library's own variables
// (SOLTI_EXEC_SHIM, SOLTI_EXEC_LOG), or gives NULL when the environment may
// come from a less privileged user: a setuid or setgid program, or one that
// gained capabilities at exec (secure_getenv: AT_SECURE), and a process whose
// effective ids differ from its real ones (a setresuid after start, which
// AT_SECURE does not see). Otherwise an ordinary user running a setuid-root
// host could make it exec their own "shim" as root.
const char *soltic_trusted_getenv(const char *name) {
    if (getuid() != geteuid() || getgid() != getegid())
        return NULL;
    return secure_getenv(name);
}

// --- where the library is -------------------------------------------------

// soltic_library_dir writes the directory holding this library into buf,
// so the exec shim installed beside it can be found.
int soltic_library_dir(char *buf, size_t len) {
    Dl_info info;
    if (dladdr((void *)solti_version, &info) == 0 || info.dli_fname == NULL)
        return -1;
    const char *slash = strrchr(info.dli_fname, '/');
    if (slash == NULL)
        return -1;
    size_t n = (size_t)(slash - info.dli_fname);
    if (n + 1 > len)
        return -1;
    memcpy(buf, info.dli_fname, n);
    buf[n] = '\0';
    return 0;
}

// --- the entry points -----------------------------------------------------

#define FORK_GUARD()                                                             \
    do {                                                                         \
        if (getpid() != load_pid) {                                              \
            static const char m[] = "libsolti_exec was called in a forked child " \
                                    "of the process that loaded it; call it "    \
                                    "only from the loading process";             \
            soltic_set_last_error(m, sizeof m - 1);                              \
            return SOLTI_EFORKED;                                                \
        }                                                                        \
    } while (0)

int solti_runner_new(const char *name, const char *config_json, solti_runner_t *runner_out) {
    FORK_GUARD();
    return soltigo_runner_new((char *)name, (char *)config_json, runner_out);
}

int solti_runner_free(solti_runner_t runner) {
    FORK_GUARD();
    return soltigo_runner_free(runner);
}

int solti_runner_metrics(solti_runner_t runner, int format, char *buf, size_t len, size_t *len_out) {
    FORK_GUARD();
    return soltigo_runner_metrics(runner, format, buf, len, len_out);
}

int solti_task_build(solti_runner_t runner, const char *spec_json, solti_task_t *task_out) {
    FORK_GUARD();
    return soltigo_task_build(runner, (char *)spec_json, task_out);
}

int solti_task_id(solti_task_t task, char *buf, size_t len) {
    FORK_GUARD();
    return soltigo_task_id(task, buf, len);
}

int solti_task_labels(solti_task_t task, char *buf, size_t len) {
    FORK_GUARD();
    return soltigo_task_labels(task, buf, len);
}

int solti_task_spawn(solti_task_t task) {
    FORK_GUARD();
    return soltigo_task_spawn(task);
}

int solti_task_cancel(solti_task_t task) {
    FORK_GUARD();
    return soltigo_task_cancel(task);
}

int solti_task_wait(solti_task_t task, int timeout_ms, solti_exit_t *exit_out) {
    FORK_GUARD();
    return soltigo_task_wait(task, timeout_ms, exit_out);
}

int solti_task_poll(solti_task_t task, uint64_t *cursor, solti_event_t *events, size_t max_events,
                    char *buf, size_t buf_len, int timeout_ms, size_t *count_out) {
    FORK_GUARD();
    return soltigo_task_poll(task, cursor, events, max_events, buf, buf_len, timeout_ms, count_out);
}

int solti_task_read(solti_task_t task, solti_read_cursor_t *cursor, uint32_t streams, char *buf,
                    size_t buf_len, int timeout_ms, size_t *n_out, solti_read_info_t *info_out) {
    FORK_GUARD();
    return soltigo_task_read(task, cursor, streams, buf, buf_len, timeout_ms, n_out, info_out);
}

int solti_task_read_lines(solti_task_t task, solti_lines_cursor_t *cursor, uint32_t streams,
                          char *buf, size_t buf_len, int timeout_ms, size_t *n_out,
                          solti_lines_info_t *info_out) {
    FORK_GUARD();
    return soltigo_task_read_lines(task, cursor, streams, buf, buf_len, timeout_ms, n_out,
                                   info_out);
}

int solti_task_fd(solti_task_t task) {
    FORK_GUARD();
    return soltigo_task_fd(task);
}

int solti_task_attempts(solti_task_t task, uint32_t *attempts_out) {
    FORK_GUARD();
    return soltigo_task_attempts(task, attempts_out);
}

int solti_task_free(solti_task_t task) {
    FORK_GUARD();
    return soltigo_task_free(task);
}

int solti_task_spawn_failure(solti_task_t task, solti_spawn_failure_t *failure_out) {
    FORK_GUARD();
    return soltigo_task_spawn_failure(task, failure_out);
}

int solti_debug_stats(solti_debug_stats_t *stats_out) {
    FORK_GUARD();
    return soltigo_debug_stats(stats_out);
}

// --- talking to the child: stdin, terminal, signals -------------------------

int solti_task_write(solti_task_t task, const void *buf, size_t len, int timeout_ms, size_t *written_out) {
    FORK_GUARD();
    return soltigo_task_write(task, (void *)buf, len, timeout_ms, written_out);
}

int solti_task_close_stdin(solti_task_t task) {
    FORK_GUARD();
    return soltigo_task_close_stdin(task);
}

int solti_task_stdin_fd(solti_task_t task) {
    FORK_GUARD();
    return soltigo_task_stdin_fd(task);
}

int solti_task_resize(solti_task_t task, uint32_t rows, uint32_t cols) {
    FORK_GUARD();
    return soltigo_task_resize(task, rows, cols);
}

int solti_task_signal(solti_task_t task, int sig, uint32_t flags) {
    FORK_GUARD();
    return soltigo_task_signal(task, sig, flags);
}
