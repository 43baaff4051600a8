/*
 * solti_exec.h: the C interface of libsolti_exec.so, a Linux subprocess engine.
 *
 * The model.  A runner (solti_runner_new) holds a configuration shared by its
 * tasks: environment, rlimits, cgroup limits, security, output sizes.  A task
 * (solti_task_build) is one spec bound to a runner: a command or script plus
 * its policies (timeout, restart, admission).  Spawning a task starts attempts;
 * each attempt is one child process leading its own process group, numbered
 * from 1.  Everything a task does is an event (solti_event_t) in the task's
 * bounded output ring: lines of stdout and stderr, attempt started, attempt
 * finished, warnings.  The ring keeps at most output.capacity events and
 * output.maxBytes bytes, each event counting its bytes plus 80 (its record),
 * so empty lines are bounded too.  Readers hold their own cursor (a uint64_t starting at 0)
 * and read with solti_task_poll; any number of readers can read one task, and
 * one that falls behind the ring gets a single SOLTI_EVENT_LAGGED event and
 * goes on from the oldest event kept.  solti_task_fd gives a descriptor that
 * polls readable when events or the end are there, for poll/epoll/asyncio
 * hosts; solti_task_wait blocks until the task is done and gives its report.
 *
 * The host process.  The library lives inside your process, so:
 *  - it installs no signal handlers of its own and never calls back into the
 *    host; the Go runtime inside handles SIGSEGV, SIGBUS, SIGFPE, SIGPIPE and
 *    SIGURG, passing on what is not its own; give handlers you install
 *    SA_ONSTACK, since a signal may land on one of the runtime's threads;
 *  - call it only in the process that loaded it: in a child made by fork()
 *    without exec every call fails at once with SOLTI_EFORKED;
 *  - a child's environment is the host's `environ` read at spawn time plus
 *    the task and runner pairs, so setenv() before spawning is seen;
 *  - the host may reap children itself (SIGCHLD set to SIG_IGN, or a
 *    waitpid(-1) loop): its children are the library's resident shims,
 *    whose own statuses carry nothing, and each task's exit code, signal
 *    and rusage still arrive exactly;
 *  - when the host dies (killed, crashed, or exiting without freeing
 *    anything) every task's whole process tree is killed and its cgroups
 *    removed within milliseconds;
 *  - never dlclose() it (the Go runtime cannot be unloaded); glibc only; do
 *    not load a second Go c-shared library into the same process;
 *  - a task whose output uses whenFull "block" stalls when nobody reads it,
 *    like a child writing to a pipe nobody drains;
 *  - it prints nothing unless SOLTI_EXEC_LOG=debug is set in the environment
 *    when a runner is made: that runner then logs each task's steps to stderr.
 *
 * Conventions.  Every fallible function returns 0 (or a non-negative count) on
 * success and a negative SOLTI_E* code on failure, and then leaves a message
 * for the calling thread (solti_last_error).  Results go through *_out
 * parameters, written only on success.  Handles are never-reused uint64_t ids,
 * never pointers; 0 is never valid; a stale, freed, unknown or wrong-kind handle
 * gives SOLTI_EBADF, never a crash.  Timeouts are `int timeout_ms`: 0 = do not
 * wait, SOLTI_INFINITE = wait forever.  The library allocates nothing the
 * caller must free: output is copied into caller buffers.  Every function is
 * thread-safe.  Specs and configs are JSON (camelCase): every field, default,
 * bound and error message is in docs/format.md.
 */
#ifndef SOLTI_EXEC_H
#define SOLTI_EXEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ------------------------------------------------------------ */

#define SOLTI_EXEC_VERSION_MAJOR 0
#define SOLTI_EXEC_VERSION_MINOR 1
#define SOLTI_EXEC_VERSION_PATCH 0

/* ---- Handles and timeouts ----------------------------------------------- */

typedef uint64_t solti_runner_t; /* 0 is never a valid runner */
typedef uint64_t solti_task_t;   /* 0 is never a valid task */

#define SOLTI_INFINITE (-1) /* timeout_ms: wait forever */

/* ---- Error codes -------------------------------------------------------- */

/*
 * The one table of error codes: XX(name, value, message).  It generates
 * enum solti_error below and, in the library, solti_strerror(), so the two
 * never drift.  To use it, define XX and expand the table, e.g.
 *     #define XX(name, value, message) case name: return message;
 *     switch (code) { SOLTI_ERRNO_MAP(XX) }
 *     #undef XX
 */
#define SOLTI_ERRNO_MAP(XX)                                                        \
    XX(SOLTI_OK, 0, "success")                                                     \
    XX(SOLTI_EINVAL, -1, "invalid argument")                                       \
    XX(SOLTI_ESPEC, -2, "invalid task spec or runner configuration")               \
    XX(SOLTI_EUNSUPPORTED, -3, "unsupported task kind or feature")                 \
    XX(SOLTI_EBADF, -4, "bad handle")                                              \
    XX(SOLTI_ESTATE, -5, "operation not allowed in the current state")             \
    XX(SOLTI_ESPAWN, -6, "process could not be started")                           \
    XX(SOLTI_ESANDBOX, -7, "sandbox limit or isolation could not be applied")      \
    XX(SOLTI_ETIMEDOUT, -8, "timed out")                                           \
    XX(SOLTI_ERANGE, -9, "buffer too small")                                       \
    XX(SOLTI_EOF, -10, "no more events")                                           \
    XX(SOLTI_EFORKED, -11, "called in a forked child of the host process")         \
    XX(SOLTI_ECHILD, -12, "exit status lost: the task's shim was killed")          \
    XX(SOLTI_EINTERNAL, -13, "internal error")                                     \
    XX(SOLTI_EPIPE, -14, "broken pipe: nothing reads the task's stdin")

#define SOLTI_ERRNO_ENUM_ENTRY_(name, value, message) name = (value),
enum solti_error { SOLTI_ERRNO_MAP(SOLTI_ERRNO_ENUM_ENTRY_) };
#undef SOLTI_ERRNO_ENUM_ENTRY_

/* ---- Events ------------------------------------------------------------- */

enum solti_event_kind {
    SOLTI_EVENT_LINE = 1,     /* one line of output: stream, seq, flags, data/len */
    SOLTI_EVENT_STARTED = 2,  /* an attempt started: value = its pid */
    SOLTI_EVENT_FINISHED = 3, /* an attempt ended: value = outcome, exit_code, signal */
    SOLTI_EVENT_LAGGED = 4,   /* this reader fell behind: value = events it missed */
    SOLTI_EVENT_WARNING = 5,  /* data/len = a message, e.g. a sandbox limit that
                                 could not be applied but was not required */
    SOLTI_EVENT_CHUNK = 6     /* output mode "bytes": exactly the bytes of one
                                 pipe read, at most 64 KiB (a bigger read is
                                 several chunks): stream, seq, data/len */
};

enum solti_stream {
    SOLTI_STDOUT = 1,
    SOLTI_STDERR = 2
};

/* solti_event_t.flags */
#define SOLTI_LINE_TRUNCATED (1u << 0) /* the line was cut (maxLineBytes/maxLineLength) */

/* How an attempt ended: solti_exit_t.outcome and FINISHED events' value. */
enum solti_outcome {
    SOLTI_OUTCOME_SUCCESS = 0,  /* exit 0, or any exit with failOnNonZero false */
    SOLTI_OUTCOME_FAILURE = 1,  /* non-zero exit (failOnNonZero) or killed by a signal */
    SOLTI_OUTCOME_CANCELED = 2, /* solti_task_cancel, solti_task_free, solti_runner_free */
    SOLTI_OUTCOME_TIMEOUT = 3,  /* the spec's timeout passed; the whole tree was killed */
    SOLTI_OUTCOME_FATAL = 4,    /* could not be started or sandboxed; never restarted */
    SOLTI_OUTCOME_LOST = 5      /* exit status unknown: the task's shim was killed from
                                   outside (wait says SOLTI_ECHILD); never restarted */
};

/* solti_runner_metrics formats */
enum solti_metrics_format {
    SOLTI_METRICS_JSON = 0,      /* one JSON object */
    SOLTI_METRICS_PROMETHEUS = 1 /* Prometheus text exposition format */
};

/*
 * One event read by solti_task_poll.  `data` points into the caller's buffer
 * given to that call and is valid until the buffer is reused; it is not
 * NUL-terminated (use `len`).  LINE data is valid UTF-8.
 */
typedef struct solti_event {
    uint32_t kind;      /* enum solti_event_kind */
    uint32_t attempt;   /* the attempt it belongs to, from 1; 0 if none (a
                           WARNING of a failed start); LAGGED: the attempt of
                           the oldest event kept */
    uint32_t stream;    /* LINE, CHUNK: SOLTI_STDOUT or SOLTI_STDERR; else 0 */
    uint32_t flags;     /* LINE: SOLTI_LINE_TRUNCATED; else 0 */
    uint64_t seq;       /* LINE, CHUNK: per stream per attempt, from 0 */
    int64_t ts_ms;      /* Unix time in milliseconds */
    int64_t value;      /* STARTED: pid; FINISHED: outcome; LAGGED: events missed */
    int32_t exit_code;  /* FINISHED: exit code, -1 if none (killed) */
    int32_t signal;     /* FINISHED: signal that killed it, 0 if none */
    const char *data;   /* LINE, CHUNK, WARNING: the bytes, in the caller's buffer */
    size_t len;         /* bytes at data (0 for an empty line and other kinds;
                           then do not read data) */
} solti_event_t;

/* The report of one attempt, filled by solti_task_wait. */
typedef struct solti_exit {
    uint32_t attempt;    /* which attempt, from 1; 0 if none ever started */
    int32_t outcome;     /* enum solti_outcome */
    int32_t exit_code;   /* -1 if none (killed by a signal, never started) */
    int32_t signal;      /* the killing signal's number (never 128+N), 0 if none */
    int32_t core_dumped; /* 1 if a core was dumped, else 0 */
    int64_t started_ms;  /* Unix ms; 0 if never started */
    int64_t finished_ms; /* Unix ms */
    int64_t user_us;     /* rusage: user CPU, microseconds */
    int64_t system_us;   /* rusage: system CPU, microseconds */
    int64_t max_rss_kb;  /* rusage: max resident set, KiB */
    int64_t oom_kills;   /* cgroup OOM kills; -1 without memory accounting */
    int64_t memory_peak_bytes; /* cgroup memory peak of the whole tree; -1 when unknown */
    int64_t cgroup_cpu_us;     /* cgroup CPU time (user + system) of every process of
                                  the task, descendants included; -1 when unknown */
    char reason[256];    /* NUL-terminated, e.g. "process exited with non-zero code: 3";
                            empty on plain success */
} solti_exit_t;

/* ---- Library ------------------------------------------------------------ */

/*
 * Returns the library's version, "MAJOR.MINOR.PATCH" ("0.1.0").
 * Never blocks; thread-safe; the string is static (do not free), never NULL.
 */
const char *solti_version(void);

/*
 * Returns the fixed message for an error code ("bad handle" for SOLTI_EBADF).
 * Never blocks; thread-safe; the string is static (do not free).  Never NULL:
 * an unknown code gives a generic message ("unknown error code").
 */
const char *solti_strerror(int code);

/*
 * Copies the calling thread's last failure message into buf, snprintf-style:
 * truncates to len - 1 bytes and NUL-terminates when len > 0.
 * The message says what failed and why, naming the field, step or errno
 * ("invalid specification: slot must not be empty").  It is kept until the
 * same thread's next failing call; successful calls leave it as it is, like
 * errno.  Never blocks; per thread, so thread-safe.  buf is the caller's
 * (it may be NULL when len is 0, to learn the length).
 * Returns: the full length of the message without its NUL (0 if this thread
 * has had no failure), whether or not it fit.  Never fails.
 */
int solti_last_error(char *buf, size_t len);

/* ---- Runners ------------------------------------------------------------ */

/*
 * Creates a runner named `name` with the configuration `config_json`.
 * The name labels run ids ("{name}-{slot}-{seq}") and metrics; like a slot it
 * is 1..64 bytes of [A-Za-z0-9._-], not "." or "..".  config_json
 * is a runner config object (env, rlimits, cgroups, security, log, output,
 * drainGraceMs, shimPath); NULL or "{}" means the defaults: no limits.
 * Does not block on children; thread-safe.  Both strings are read during the
 * call only (the library keeps copies).
 * Returns:
 *   SOLTI_OK      *runner_out holds the new runner.
 *   SOLTI_EINVAL  name or runner_out is NULL.
 *   SOLTI_ESPEC   the name is invalid, or config_json is not valid JSON, has
 *                 an unknown field, or a value is invalid; the message names
 *                 it ("invalid runner configuration: cgroups.pids cannot be
 *                 zero", "... runner name must not be empty").
 *   SOLTI_EFORKED called in a forked child of the host.
 *   SOLTI_EINTERNAL a bug in the library (the message says where).
 */
int solti_runner_new(const char *name, const char *config_json,
                     solti_runner_t *runner_out);

/*
 * Frees a runner: cancels and frees every task built on it, then the runner.
 * Blocks until those tasks' process trees are killed and reaped (bounded by
 * the drain grace).  Thread-safe; the handle is invalid afterwards, and so are
 * the handles of its tasks (they give SOLTI_EBADF).
 * Returns:
 *   SOLTI_OK      freed.
 *   SOLTI_EBADF   not a live runner: 0, unknown, a task handle, or already
 *                 freed (so freeing twice is harmless).
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_runner_free(solti_runner_t runner);

/*
 * Writes the runner's metrics as text in `format` into buf, NUL-terminated.
 * Series: tasks started, tasks completed by outcome, duration histogram by
 * outcome, errors by kind (Prometheus names solti_runner_tasks_started_total,
 * solti_runner_tasks_completed_total, solti_runner_task_duration_seconds,
 * solti_runner_errors_total, labelled runner="name").
 * Never blocks on children; thread-safe.  buf is the caller's, written on
 * success only; buf may be NULL when len is 0 (a size query).  *len_out
 * receives the text's length without the NUL, on success and on SOLTI_ERANGE,
 * so a caller retries with len = *len_out + 1.
 * Returns:
 *   SOLTI_OK      buf holds the text, *len_out its length.
 *   SOLTI_ERANGE  len <= *len_out: buf is too small; *len_out is set anyway.
 *   SOLTI_EINVAL  len_out is NULL, buf is NULL with len > 0, or format is
 *                 neither SOLTI_METRICS_JSON nor SOLTI_METRICS_PROMETHEUS.
 *   SOLTI_EBADF   not a live runner.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_runner_metrics(solti_runner_t runner, int format, char *buf, size_t len,
                         size_t *len_out);

/* ---- Tasks -------------------------------------------------------------- */

/*
 * Builds a task on `runner` from the task spec `spec_json`: validates it,
 * resolves it (a script body goes into a sealed memfd, or a private 0600
 * file with scriptStorage "file" or where the memfd is refused), allocates
 * its run id and creates its output ring, so readers can start before spawn.
 * Building the same spec twice gives two tasks with two run ids.  Nothing is
 * started.  Does not block on children; thread-safe.  spec_json is read
 * during the call only.
 * Returns:
 *   SOLTI_OK          *task_out holds the new task.
 *   SOLTI_EINVAL      spec_json or task_out is NULL.
 *   SOLTI_EBADF       runner is not a live runner (0, freed, a task handle).
 *   SOLTI_ESPEC       malformed JSON, an unknown field, or an invalid value;
 *                     the message names the field ("invalid specification:
 *                     timeout must be greater than zero").
 *   SOLTI_EUNSUPPORTED the kind is wasm, container or embedded ("unsupported
 *                     task kind for runner 'R': embedded").
 *   SOLTI_ESPAWN      the script file (the fallback) could not be written
 *                     (the errno named).
 *   SOLTI_EFORKED     called in a forked child of the host.
 */
int solti_task_build(solti_runner_t runner, const char *spec_json,
                     solti_task_t *task_out);

/*
 * Copies the task's run id ("{runner}-{slot}-{seq}") into buf, NUL-terminated.
 * Never blocks; thread-safe.  buf is the caller's; on SOLTI_ERANGE it is left
 * unchanged.  len 0 is a size query: nothing is written (buf may be NULL)
 * and the length is returned, as with snprintf.
 * Returns:
 *   >= 0          the run id's length without the NUL (like snprintf).
 *   SOLTI_ERANGE  len is more than 0 and not more than that length; the
 *                 message gives the size needed, counting the NUL.
 *   SOLTI_EINVAL  buf is NULL with len > 0.
 *   SOLTI_EBADF   not a live task (0, freed, a runner handle).
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_id(solti_task_t task, char *buf, size_t len);

/*
 * Copies the spec's labels into buf as a JSON object of strings, keys in
 * sorted order ("{}" when there are none), NUL-terminated.  Never blocks;
 * thread-safe.  buf is the caller's; on SOLTI_ERANGE it is left unchanged.
 * With len 0 (buf may then be NULL) nothing is copied and the length is
 * returned, as snprintf does.
 * Returns:
 *   >= 0          the text's length without the NUL.
 *   SOLTI_ERANGE  len is not 0 and not more than that length.
 *   SOLTI_EINVAL  buf is NULL with len > 0.
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_labels(solti_task_t task, char *buf, size_t len);

/*
 * Starts the task per its spec's policies (admission, then the first attempt;
 * timeout and restarts are supervised in the background).
 * Blocks until the first attempt is running (its STARTED event is in the
 * ring) or has failed to start; with admission "queue" and an attempt running,
 * returns at once and the new one starts after it.  Thread-safe.
 * Returns:
 *   SOLTI_OK      running (or queued).
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_ESTATE  refused: an attempt is running and admission is
 *                 "dropIfRunning".
 *   SOLTI_ESPAWN  the process could not be started; the message gives the
 *                 cause ("spawn failed: exec \"nosuch\": no such file or
 *                 directory").  The task is then done with outcome FATAL,
 *                 and readers get the cause as a SOLTI_EVENT_WARNING.
 *   SOLTI_ESANDBOX a required limit could not be applied (cgroups with
 *                 failOnError, rlimits, no_new_privs, capabilities with
 *                 failOnCapError; the isolation steps: session, namespaces,
 *                 groups, gid, uid, seccomp); the message names it and, when
 *                 privilege is missing, what ("needs root or CAP_SETGID").
 *                 Task done, FATAL.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_spawn(solti_task_t task);

/*
 * Cancels the task: kills the whole process tree of the running attempt
 * (SIGKILL to its process group and cgroup, or SIGTERM then SIGKILL after
 * killGraceMs) and stops all restarts for good.  Idempotent and valid in any
 * state, including never spawned and already done.  Returns once the kill is
 * sent; use solti_task_wait for the end (outcome SOLTI_OUTCOME_CANCELED).
 * Thread-safe; never signals a reused pid.
 * Returns:
 *   SOLTI_OK      canceled, or was already done.
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_cancel(solti_task_t task);

/*
 * Waits until the task is done (no attempt running or scheduled) and copies
 * the report of its last attempt into *exit_out.
 * Blocks up to timeout_ms (0 = just check; SOLTI_INFINITE = until done).
 * Thread-safe: several threads may wait on one task.  exit_out is the
 * caller's, written when done (also with SOLTI_ECHILD); it may be NULL to
 * wait without the report.  A task whose spawn failed is done: its
 * report has outcome SOLTI_OUTCOME_FATAL and the cause in reason.
 * Returns:
 *   SOLTI_OK        done; *exit_out is the last attempt's report.
 *   SOLTI_ETIMEDOUT timeout_ms passed and the task is still running.
 *   SOLTI_ESTATE    the task was never spawned (nothing to wait for).
 *   SOLTI_ECHILD    done, but the exit status was lost: the task's resident
 *                   shim was killed from outside (its pid SIGKILLed, the OOM
 *                   killer) before it reported; the report's outcome is
 *                   SOLTI_OUTCOME_LOST, and no restart policy restarts it.
 *                   A host reaping children (SIGCHLD ignored, waitpid(-1))
 *                   does not cause it.
 *   SOLTI_EINTERNAL done, but the attempt failed inside the library (the
 *                   message says where); its tree was killed.
 *   SOLTI_EINVAL    timeout_ms < -1.
 *   SOLTI_EBADF     not a live task.
 *   SOLTI_EFORKED   called in a forked child of the host.
 */
int solti_task_wait(solti_task_t task, int timeout_ms, solti_exit_t *exit_out);

/*
 * Reads the events after *cursor: copies up to max_events of them into
 * `events`, packs their bytes into buf (events[i].data points into buf) and
 * advances *cursor past them; *count_out is how many.  Start a reader with
 * *cursor = 0; treat the cursor as opaque.  A reader that fell behind the ring
 * first gets one SOLTI_EVENT_LAGGED event (value = events missed), then the
 * oldest event kept.  Events come in order; events stop at the first one whose
 * bytes do not fit in what is left of buf.
 * Blocks up to timeout_ms while there is nothing to read (0 = do not wait).
 * Thread-safe; each reader owns its cursor (two threads must not share one).
 * With output whenFull "block" the task waits for one reader only: the one
 * furthest ahead, i.e. the largest cursor any poll of the task has returned
 * (readers are not registered; a reader counts from its poll on and stops
 * counting as soon as another one is ahead of it).  That reader loses
 * nothing; any reader behind it can still fall behind the ring and get a
 * SOLTI_EVENT_LAGGED event.  For lossless reading, read with one cursor.
 * cursor, events, buf and count_out are the caller's; they are written on
 * success only.
 * Returns:
 *   SOLTI_OK      *count_out events copied; 0 when the timeout passed first.
 *   SOLTI_EOF     the task is done and this reader has every event; no event
 *                 copied.  Later calls return SOLTI_EOF again.
 *   SOLTI_ERANGE  the first event's bytes do not fit in buf_len; the message
 *                 gives the size needed; the cursor does not move.
 *   SOLTI_EINVAL  cursor, events or count_out is NULL, max_events is 0, buf
 *                 is NULL with buf_len > 0, buf_len exceeds PTRDIFF_MAX or
 *                 wraps the address space, or timeout_ms < -1.  Checked
 *                 before anything is read: on any error the cursor does not
 *                 move and no event counts as read (in block mode too).
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 * A task that was never spawned is not done: polling it waits for the timeout.
 */
int solti_task_poll(solti_task_t task, uint64_t *cursor, solti_event_t *events,
                     size_t max_events, char *buf, size_t buf_len, int timeout_ms,
                     size_t *count_out);

/*
 * A reader's place in a bytes-mode task's output for solti_task_read: zero it
 * to start at the beginning and treat it as opaque.  It remembers the offset
 * inside a chunk, so a chunk bigger than the buffer is read across calls.
 */
typedef struct solti_read_cursor {
    uint64_t seq;
    uint64_t pos;
} solti_read_cursor_t;

/* What one solti_task_read call copied. */
typedef struct solti_read_info {
    uint32_t stream;      /* SOLTI_STDOUT or SOLTI_STDERR of the bytes; 0 if none */
    uint32_t attempt;     /* their attempt, from 1; 0 if none */
    uint64_t lost_events; /* events dropped (dropOldest) before this reader read them */
    uint64_t lost_bytes;  /* output bytes among them */
} solti_read_info_t;

/*
 * Reads a bytes-mode task's output in bulk: copies into buf up to buf_len
 * bytes of the CHUNK events after *cursor whose stream is in `streams`
 * (SOLTI_STDOUT, SOLTI_STDERR or both OR'ed), exactly as the child wrote
 * them, advances *cursor past them and sets *n_out.  One call returns bytes
 * of one stream and attempt only (info_out says which); it stops before a
 * chunk of another.  Other events (STARTED, FINISHED, WARNING, LINE of a
 * lines-mode task) are passed over: read those with solti_task_poll, with its
 * own cursor.  A reader that fell behind a dropOldest ring resumes at the
 * oldest event kept and learns what it lost in info_out (then *n_out may be 0
 * with SOLTI_OK).
 * Blocks up to timeout_ms while there is nothing to read (0 = do not wait).
 * Thread-safe; each reader owns its cursor.  cursor, buf, n_out and info_out
 * are the caller's, written on SOLTI_OK (*n_out also on SOLTI_EOF); info_out
 * may be NULL.  In block mode the child waits
 * until the furthest reader has read the bytes, so that reader loses nothing.
 * solti_task_free from another thread ends a blocked read (SOLTI_EOF once
 * what is left is read); later calls get SOLTI_EBADF.
 * Returns:
 *   SOLTI_OK      *n_out bytes copied; 0 when the timeout passed first.
 *   SOLTI_EOF     the task is done and this reader has all its bytes;
 *                 *n_out is 0.  Later calls return SOLTI_EOF again.
 *   SOLTI_EINVAL  cursor, buf or n_out is NULL, buf_len is 0, streams has no
 *                 stream or an unknown bit, the cursor is not one this task
 *                 gave, or timeout_ms < -1.
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_read(solti_task_t task, solti_read_cursor_t *cursor, uint32_t streams, char *buf,
                    size_t buf_len, int timeout_ms, size_t *n_out, solti_read_info_t *info_out);

/*
 * A reader's place in a lines-mode task's output for solti_task_read_lines:
 * zero it to start at the beginning and treat it as opaque.
 */
typedef struct solti_lines_cursor {
    uint64_t seq;
    uint64_t line;
    uint64_t pos;
} solti_lines_cursor_t;

/*
 * The header of one record in a solti_task_read_lines buffer.  `len` bytes of
 * text follow it: `count` lines, each ending in '\n' (the line itself holds
 * no '\n'; it is the same text solti_task_poll gives, valid UTF-8).  The next
 * record starts at the next multiple of 8 after the text, counted from the
 * start of buf.  The lines of a record come from one pipe read of one stream
 * and attempt, and are numbered seq, seq + 1, ... in that stream.
 */
typedef struct solti_line_run {
    uint32_t stream;  /* SOLTI_STDOUT or SOLTI_STDERR */
    uint32_t attempt; /* from 1 */
    uint64_t seq;     /* the first line's seq (per stream per attempt, from 0) */
    int64_t ts_ms;    /* when they were read, Unix time in milliseconds */
    uint32_t count;   /* lines in the record, at least 1 */
    uint32_t flags;   /* SOLTI_LINE_TRUNCATED: every line of the record was cut
                         (cut and whole lines never share a record) */
    uint64_t len;     /* bytes of text after this header */
} solti_line_run_t;

/* Where the record after `run` starts (see solti_line_run_t). */
#define SOLTI_LINE_RUN_NEXT(run) \
    ((const solti_line_run_t *)((const char *)(run) + sizeof(solti_line_run_t) + \
                                (((run)->len + 7u) & ~(uint64_t)7u)))

/* What one solti_task_read_lines call copied, and what this reader lost. */
typedef struct solti_lines_info {
    uint64_t lines;      /* lines copied */
    uint64_t runs;       /* records copied */
    uint64_t lost_lines; /* lines (of either stream) dropped by a dropOldest ring
                            before this reader read them */
    uint64_t lost_bytes; /* their bytes, each line counted with its newline */
} solti_lines_info_t;

/*
 * Reads a lines-mode task's output in bulk: fills buf with records (a
 * solti_line_run_t header, then its lines' text, see there) of the lines
 * after *cursor whose stream is in `streams` (SOLTI_STDOUT, SOLTI_STDERR or
 * both OR'ed), as many whole lines as fit, in order; advances *cursor past
 * them and sets *n_out to the bytes of buf used.  Walk the records from buf
 * with SOLTI_LINE_RUN_NEXT while the record is below buf + *n_out.  Each
 * record's text is copied in one piece: this is the fast way to read lines
 * (solti_task_poll gives the same lines one event each).  Other events
 * (STARTED, FINISHED, WARNING, CHUNK) are passed over: read those with
 * solti_task_poll, with its own cursor.  A reader that fell behind a
 * dropOldest ring resumes at the oldest line kept and learns what it lost in
 * info_out, in lines and in bytes (then *n_out may be 0 with SOLTI_OK).
 * Blocks up to timeout_ms while there is nothing to read (0 = do not wait).
 * Thread-safe; each reader owns its cursor.  buf must be aligned to 8 bytes
 * (malloc's is).  cursor, buf, n_out and info_out are the caller's, written
 * on SOLTI_OK (*n_out also on SOLTI_EOF); info_out may be NULL.  In block mode
 * the child waits until the furthest reader has read its lines (the furthest
 * of all readers of the task, solti_task_poll's included), so that reader
 * loses nothing.  solti_task_free from another thread ends a blocked read
 * (SOLTI_EOF once what is left is read); later calls get SOLTI_EBADF.
 * Returns:
 *   SOLTI_OK      *n_out bytes of records; 0 when the timeout passed first.
 *   SOLTI_EOF     the task is done and this reader has all its lines;
 *                 *n_out is 0.  Later calls return SOLTI_EOF again.
 *   SOLTI_ERANGE  the next line's record does not fit in buf_len; the message
 *                 gives the size needed; the cursor does not move.
 *   SOLTI_EINVAL  cursor, buf or n_out is NULL, buf is not aligned to 8 bytes,
 *                 buf_len exceeds PTRDIFF_MAX or wraps the address space,
 *                 streams has no stream or an unknown bit, the cursor is not
 *                 one this task gave, or timeout_ms < -1.
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_read_lines(solti_task_t task, solti_lines_cursor_t *cursor, uint32_t streams,
                          char *buf, size_t buf_len, int timeout_ms, size_t *n_out,
                          solti_lines_info_t *info_out);

/*
 * Returns a file descriptor that polls readable (POLLIN) when the task has
 * events not yet read or has ended, for poll/epoll/select/asyncio hosts.
 * When it polls readable, drain with solti_task_poll(timeout_ms 0) until the
 * count is 0 or SOLTI_EOF: the fd is cleared only by a poll that catches up
 * with the newest event, never by reading the fd yourself.  One fd per task,
 * the same one on every call, shared by all readers.
 * Never blocks; thread-safe.  The fd is owned by the library and closed by
 * solti_task_free (or solti_runner_free): do not close it, and stop watching
 * it before freeing the task.  It is close-on-exec.
 * Returns:
 *   >= 0          the fd.
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EINTERNAL the descriptor could not be created (the errno named).
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_fd(solti_task_t task);

/*
 * Stores in *attempts_out the number of attempts started so far (successful
 * spawns; 0 before the first).  Never blocks; thread-safe.  attempts_out is
 * the caller's, written on success only.
 * Returns:
 *   SOLTI_OK      *attempts_out is set.
 *   SOLTI_EINVAL  attempts_out is NULL.
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_attempts(solti_task_t task, uint32_t *attempts_out);

/*
 * Frees a task: cancels it if running (outcome CANCELED), removes its script
 * file or closes its memfd, closes its fd and drops its ring.  Blocks until the process tree is
 * killed and reaped (bounded by the drain grace).  Thread-safe; a wait or poll
 * blocked on the task in another thread returns promptly, with the canceled
 * end (SOLTI_OK, SOLTI_EOF) or SOLTI_EBADF.
 * Returns:
 *   SOLTI_OK      freed.
 *   SOLTI_EBADF   not a live task: 0, unknown, a runner handle, or already
 *                 freed (so freeing twice is harmless).
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_free(solti_task_t task);

/* ---- Talking to the child: stdin, terminal, signals ---------------------- */

/*
 * A task whose spec says "stdin": "pipe" gives each attempt a pipe of its
 * own as fd 0; one with "pty" gives it a pseudo-terminal on 0, 1 and 2 (its
 * controlling terminal, in a session it leads; output is one stream, marked
 * SOLTI_STDOUT; echo and canonical line editing are on: docs/format.md).
 * These calls go to the attempt running now.  What was written to an attempt
 * is not replayed to a restarted one; a spec's "input" is written by the
 * library to every attempt, then its stdin is closed.  Writing never raises
 * SIGPIPE in the host, whatever its SIGPIPE disposition (even SIG_DFL set
 * after loading the library): the writing thread blocks SIGPIPE for the
 * write and takes back the one a write nobody reads raises; that write
 * fails with SOLTI_EPIPE.  With "stderr": "stdout" both streams share
 * one pipe and keep the child's own order; two pipes keep no order between
 * them.
 */

/*
 * Writes len bytes of buf to the running attempt's stdin (the pipe, or the
 * terminal).  Blocks until all of it is written or timeout_ms passes
 * (0 = write what fits now, without waiting; SOLTI_INFINITE = until all is
 * written); reading the task's output meanwhile is the caller's business, so
 * a child that writes as much as it reads needs another thread or an event
 * loop reading (solti_task_poll, solti_task_read), as with any pipe.  Under a
 * pty, what is written is echoed into the output.  Thread-safe: concurrent
 * writes to one task are serialized, never interleaved.  buf is read during
 * the call only.  *written_out (may be NULL) gets the number of bytes
 * written on SOLTI_OK, SOLTI_ETIMEDOUT and SOLTI_EPIPE.
 * Returns:
 *   SOLTI_OK        all len bytes written.
 *   SOLTI_ETIMEDOUT timeout_ms passed first; *written_out bytes went in
 *                   (with timeout 0: as much as the pipe took).
 *   SOLTI_EPIPE     nothing reads it: the child (with everything sharing its
 *                   stdin) closed its end, or the attempt ended; also between
 *                   attempts and once the task is done.
 *   SOLTI_ESTATE    the task has no stdin pipe or pty (the message names
 *                   kind.subprocess.stdin), its spec has an "input", it was
 *                   never spawned, or solti_task_close_stdin closed this
 *                   attempt's stdin.
 *   SOLTI_EINVAL    buf is NULL with len > 0, len is not a possible length,
 *                   or timeout_ms < -1.
 *   SOLTI_EBADF     not a live task.
 *   SOLTI_EFORKED   called in a forked child of the host.
 */
int solti_task_write(solti_task_t task, const void *buf, size_t len, int timeout_ms,
                     size_t *written_out);

/*
 * Closes the running attempt's stdin pipe, so the child reads EOF once it
 * has read what was written; a write blocked in another thread returns
 * SOLTI_ESTATE.  Under a pty it writes the terminal's end-of-file character
 * (^D) instead, which ends a read in canonical mode at the start of a line;
 * the terminal stays open until the attempt ends.  Idempotent; does nothing
 * between attempts or once the task is done.  Never blocks; thread-safe.
 * Returns:
 *   SOLTI_OK      closed (or nothing to close).
 *   SOLTI_ESTATE  the task has no stdin pipe or pty, its spec has an
 *                 "input", or it was never spawned.
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_close_stdin(solti_task_t task);

/*
 * Returns the running attempt's stdin descriptor, for event loops: it polls
 * writable (POLLOUT) when the pipe has room, and POLLERR once the child
 * closed its end; then write with solti_task_write(timeout_ms 0).  Do not
 * write to it, read it or close it yourself.  It is owned by the library and
 * valid until solti_task_close_stdin or the end of that attempt (a restart
 * has another one): stop watching it then, as its number may be reused.
 * Never blocks; thread-safe.
 * Returns:
 *   >= 0          the descriptor.
 *   SOLTI_EPIPE   no attempt is running (between attempts, or done).
 *   SOLTI_ESTATE  no stdin pipe or pty, an "input" in the spec, never
 *                 spawned, or this attempt's stdin was closed.
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_stdin_fd(solti_task_t task);

/*
 * Sets the terminal size of a "pty" task to rows x cols: the running
 * attempt's terminal at once (the kernel sends SIGWINCH to its foreground
 * process group) and every later attempt's from its start.  Never blocks;
 * thread-safe.
 * Returns:
 *   SOLTI_OK      resized.
 *   SOLTI_EINVAL  rows or cols is 0 or above 65535.
 *   SOLTI_ESTATE  the task has no pty, or no attempt is running (the size
 *                 is kept for the next one).
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_resize(solti_task_t task, uint32_t rows, uint32_t cols);

/* solti_task_signal flags */
#define SOLTI_SIGNAL_LEADER (1u << 0) /* the attempt's leader alone, not its group */

/*
 * Sends signal sig to the running attempt: its process group and every
 * orphaned descendant (those cancel's kill reaches), or with
 * SOLTI_SIGNAL_LEADER the leader process alone.  The attempt's resident shim,
 * the leader's parent, sends it, so a pid is never reused under it: once the
 * leader is reaped nothing is sent to it.  Sending SIGTERM or SIGKILL this
 * way ends the attempt as the child's own death (outcome FAILURE, restarts
 * apply); to stop the task for good use solti_task_cancel.  Returns once the
 * signal is handed to the shim (it is delivered microseconds later).
 * Never blocks; thread-safe.
 * Returns:
 *   SOLTI_OK      sent (or the attempt was just ending: nothing left to signal).
 *   SOLTI_EINVAL  sig is not 1..64, or flags has an unknown bit.
 *   SOLTI_ESTATE  no attempt is running (never spawned, between attempts, done).
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_signal(solti_task_t task, int sig, uint32_t flags);

/* ---- Spawn failures ----------------------------------------------------- */

/*
 * Which step of a spawn failed, on what, with which errno: filled by
 * solti_task_spawn_failure, so a caller can tell a missing program from a
 * bad directory or the library's own trouble without reading the message.
 */
typedef struct solti_spawn_failure {
    char step[16];   /* NUL-terminated; the library's steps: "plan", "pipe",
                        "stdin", "fork", "shim" (the exec shim could not be
                        run), "status"; the shim's, in its order: "cgroup",
                        "rlimit", "caps", "nnp", "signals", "fds", "chdir"
                        (the spec's cwd), "exec" (the program), "subreaper" */
    int32_t errnum;  /* the failing call's errno (ENOENT, EACCES, ...); 0 when
                        the cause is not an errno */
    int32_t sandbox; /* 1 for a sandbox step (cgroup, rlimit, caps, nnp): the
                        spawn gave SOLTI_ESANDBOX; else 0 (SOLTI_ESPAWN) */
    size_t arg_len;  /* the full length of what the step worked on; more than
                        sizeof arg - 1 when arg is cut */
    char arg[4096];  /* NUL-terminated, cut to 4095 bytes: the program for
                        "exec", the directory for "chdir", the shim's path for
                        "shim", the limit for "rlimit"; "" when none */
} solti_spawn_failure_t;

/*
 * Reports why the task's last run could not start, when it ended because a
 * spawn step failed (solti_task_spawn gave SOLTI_ESPAWN or SOLTI_ESANDBOX
 * for it, or a restart's attempt failed to start and ended the task FATAL).
 * Never blocks; thread-safe.  failure_out is the caller's, written only when
 * 1 is returned.  Other failures that end a task FATAL (a cgroup that could
 * not be prepared) have no step here: they return 0.
 * Returns:
 *   1             *failure_out is filled.
 *   0             no spawn failure: never spawned, running, or ended another
 *                 way; *failure_out untouched.
 *   SOLTI_EINVAL  failure_out is NULL.
 *   SOLTI_EBADF   not a live task.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_task_spawn_failure(solti_task_t task, solti_spawn_failure_t *failure_out);

/* ---- Debugging ---------------------------------------------------------- */

/*
 * What the library holds at one moment, for leak checks in tests and in
 * long-running hosts: take a snapshot after the first spawn and compare it
 * with one taken after freeing everything.  Nothing here is needed to use
 * the library.
 */
typedef struct solti_debug_stats {
    int64_t goroutines; /* goroutines of the Go runtime inside the library,
                           counting the few that live for good (the spawn
                           thread's appears at the first spawn) */
    int64_t runners;    /* runners created and not yet freed */
    int64_t tasks;      /* tasks built and not yet freed */
    int64_t processes;  /* children started and not yet reaped and released */
    int64_t fds;        /* descriptors the library holds for its tasks:
                           pipes, pidfds, the solti_task_fd descriptors */
} solti_debug_stats_t;

/*
 * Fills *stats_out with what the library holds now (see solti_debug_stats_t).
 * The counts are read one after the other, not as one atomic snapshot, so
 * while tasks run they may disagree slightly.  Once every task and runner is
 * freed, runners, tasks, processes and fds are 0, and goroutines is back to
 * its level after the first spawn within a few milliseconds (the last
 * watchers end just after solti_task_free returns).
 * Never blocks; thread-safe.  stats_out is the caller's, written on success
 * only.
 * Returns:
 *   SOLTI_OK      *stats_out is set.
 *   SOLTI_EINVAL  stats_out is NULL.
 *   SOLTI_EFORKED called in a forked child of the host.
 */
int solti_debug_stats(solti_debug_stats_t *stats_out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SOLTI_EXEC_H */
