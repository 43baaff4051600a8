/*
 * solti-run: run one command (or script) through libsolti_exec, pass its
 * output through as it comes, and exit with its exit code.  The library's
 * demo and an everyday tool, as faithful in a pipeline as the command alone:
 *
 *   solti-run --timeout 5s --memory 64M --pids 64 --cpu 50% -- make -j8
 *   solti-run --script build.sh --runtime bash --json -- arg1
 *
 * It builds a runner config (only the parts asked for) and a task spec as
 * JSON, spawns the task, and copies the child's bytes to its own stdout and
 * stderr with solti_task_read (output mode "bytes", whenFull "block": lossless
 * and byte-exact; --lines reads framed lines with solti_task_poll instead),
 * driven by solti_task_fd and poll(2).  SIGINT/SIGTERM/SIGHUP become a cancel
 * of the whole process tree (the library installs no handlers; this program
 * does, with a self-pipe), and so does a reader that went away: SIGPIPE is
 * ignored so that a write gets EPIPE, the tree is canceled and solti-run
 * exits 141 as a shell pipeline's writer would.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "solti_exec.h"

enum {
    EXIT_TOOL = 125,      /* solti-run's own error (bad usage, library refused) */
    EXIT_CANNOT_RUN = 126, /* the command exists but could not be started */
    EXIT_NOT_FOUND = 127, /* the command was not found */
    EXIT_TIMEOUT = 124,   /* --timeout passed, like coreutils timeout */
    EXIT_PIPE = 128 + SIGPIPE /* solti-run's stdout or stderr was closed */
};

static const char usage_text[] =
    "usage: solti-run [options] -- CMD [ARGS...]\n"
    "       solti-run [options] --script FILE [--runtime bash|python|node] [-- ARGS...]\n"
    "\n"
    "Runs CMD in its own process group through libsolti_exec, passes its stdout\n"
    "and stderr through byte for byte as they come (nothing lost, nothing\n"
    "added), and exits with its exit code.\n"
    "\n"
    "options:\n"
    "  --timeout DUR      kill the whole tree after DUR (default 24h); exit 124\n"
    "  --kill-grace DUR   on cancel or timeout, SIGTERM first and SIGKILL after DUR\n"
    "cgroup limits (the whole tree; see the README's Sandbox section for what\n"
    "they need from the host):\n"
    "  --memory SIZE      memory limit (K, M, G suffixes): memory.max\n"
    "  --pids N           limit on the number of processes: pids.max\n"
    "  --cpu QUOTA        CPU limit: 50% of one core, or QUOTA/PERIOD in\n"
    "                     microseconds (50000/100000): cpu.max\n"
    "  --cgroup-parent P  make the task's cgroup under P (a cgroup path, or a\n"
    "                     directory under a cgroup mount); default: a solti-exec\n"
    "                     child of solti-run's own cgroup\n"
    "  --no-fail-on-cgroup-error\n"
    "                     run without a limit the host cannot enforce (with a\n"
    "                     warning) instead of refusing to start\n"
    "resource limits (setrlimit in the child, soft = hard = the value):\n"
    "  --nofile N         open files (RLIMIT_NOFILE)\n"
    "  --fsize SIZE       largest file it may write (RLIMIT_FSIZE); beyond: SIGXFSZ\n"
    "  --no-core          no core dumps (RLIMIT_CORE 0); --core leaves it as is\n"
    "  --as SIZE          address space (RLIMIT_AS)\n"
    "  --cpu-seconds N    CPU time in seconds (RLIMIT_CPU); beyond: SIGXCPU\n"
    "  --nproc N          processes of the user (RLIMIT_NPROC; 0: no fork)\n"
    "privileges:\n"
    "  --no-new-privs     set no_new_privs before exec\n"
    "  --no-fail-on-cap-error\n"
    "                     run even if dropping capabilities fails (with a\n"
    "                     warning) instead of refusing to start\n"
    "  --drop-caps        drop every capability (but those kept)\n"
    "  --keep-cap NAME    keep capability NAME (e.g. NET_BIND_SERVICE) with --drop-caps\n"
    "other:\n"
    "  --restart POLICY   never (default), on-failure or always (not after a\n"
    "                     cancel); the exit status is the last attempt's\n"
    "  --restart-interval DUR  with --restart always: the pause between attempts\n"
    "  --max-retries N    at most N restarts\n"
    "  --cwd DIR          run in DIR\n"
    "  --env KEY=VALUE    add to the command's environment (repeatable)\n"
    "  --stdin            feed solti-run's stdin to the command through a pipe\n"
    "                     (default /dev/null); EOF closes the command's stdin\n"
    "  --merge            the command's stderr into its stdout (2>&1): one stream\n"
    "                     in the command's own order, all of it on stdout\n"
    "  --pty              run the command on a new terminal of solti-run's\n"
    "                     terminal size (24x80 when not on one), resized with it\n"
    "                     (SIGWINCH): isatty is true,\n"
    "                     output is one stream, echo is on; with --stdin, input\n"
    "                     goes through the terminal (^D after the input's end)\n"
    "  --script FILE      run FILE's contents with --runtime (default bash)\n"
    "  --name NAME        runner name in run ids and metrics (default solti-run)\n"
    "  --lines            frame the output in lines instead: stderr prefixed\n"
    "                     \"[stderr] \", invalid UTF-8 replaced, long lines cut\n"
    "  --json             print the exit report as JSON on stderr at the end\n"
    "                     (after the command's own output)\n"
    "  --json-file PATH   write the exit report to PATH instead (created or\n"
    "                     truncated, mode 0644); '-' is stdout\n"
    "  --json-fd N        write the exit report to open descriptor N instead\n"
    "  (the task spec and runner config formats: docs/format.md in the project)\n"
    "  --version, --help\n"
    "\n"
    "DUR is a number with ms, s, m or h (no suffix: seconds), e.g. 500ms, 1.5s.\n"
    "Exit status: the command's; 128+N if a signal N killed it or solti-run was\n"
    "interrupted; 141 (128+SIGPIPE) when solti-run's output was closed, which\n"
    "kills the command's tree; 124 on timeout; 125 solti-run's own error (a bad\n"
    "--cwd included); 126 the command was found but could not be run; 127 it\n"
    "was not found.\n";

/* ---- Errors ----------------------------------------------------------------- */

static void fail(const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fputs("solti-run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_TOOL);
}

static void usage_error(const char *fmt, ...) {
    va_list ap;
    fputs("solti-run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'solti-run --help'.\n", stderr);
    exit(EXIT_TOOL);
}

/* Prints "solti-run: <strerror>: <last error>". */
static void print_library_error(int code) {
    char msg[2048];
    solti_last_error(msg, sizeof msg);
    fflush(stdout);
    fprintf(stderr, "solti-run: %s: %s\n", solti_strerror(code), msg);
}

static void fail_library(int code) {
    print_library_error(code);
    exit(EXIT_TOOL);
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (p == NULL) fail("out of memory");
    return p;
}

/* ---- A growing string, and JSON ------------------------------------------ */

typedef struct strbuf {
    char *p;
    size_t len, cap;
} strbuf_t;

static void sb_add(strbuf_t *s, const char *data, size_t n) {
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (s->len + n + 1 > cap) cap *= 2;
        s->p = xrealloc(s->p, cap);
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void sb_cat(strbuf_t *s, const char *text) { sb_add(s, text, strlen(text)); }

static void sb_printf(strbuf_t *s, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) fail("internal error: format too long");
    sb_add(s, tmp, (size_t)n);
}

/* A JSON string literal: quotes, backslashes and control bytes escaped. */
static void sb_json_n(strbuf_t *s, const char *text, size_t n) {
    sb_cat(s, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        switch (c) {
        case '"': sb_cat(s, "\\\""); break;
        case '\\': sb_cat(s, "\\\\"); break;
        case '\n': sb_cat(s, "\\n"); break;
        case '\r': sb_cat(s, "\\r"); break;
        case '\t': sb_cat(s, "\\t"); break;
        default:
            if (c < 0x20) sb_printf(s, "\\u%04x", c);
            else sb_add(s, (const char *)&text[i], 1);
        }
    }
    sb_cat(s, "\"");
}

static void sb_json(strbuf_t *s, const char *text) { sb_json_n(s, text, strlen(text)); }

/* Standard base64 with padding. */
static void sb_base64(strbuf_t *s, const unsigned char *data, size_t n) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < n) v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < n) v |= data[i + 2];
        char quad[4] = {abc[v >> 18 & 63], abc[v >> 12 & 63], i + 1 < n ? abc[v >> 6 & 63] : '=',
                        i + 2 < n ? abc[v & 63] : '='};
        sb_add(s, quad, 4);
    }
}

/* ---- Options ---------------------------------------------------------------- */

/* A numeric option that may be absent (0 can be a value: --nproc 0). */
typedef struct limit_opt {
    int set;
    uint64_t v;
} limit_opt_t;

typedef struct options {
    int64_t timeout_ms, kill_grace_ms; /* kill_grace_ms < 0: not given */
    limit_opt_t memory, pids, nofile, fsize, as, cpu_seconds, nproc;
    limit_opt_t cpu_quota;             /* set with v 0: "max" (no quota) */
    uint64_t cpu_period;               /* with cpu_quota */
    const char *cgroup_parent;
    int no_fail_on_cgroup_error, no_core;
    int no_new_privs, drop_caps, json;
    int pipe_stdin, merge, pty; /* --stdin, --merge, --pty */
    const char *json_file; /* --json-file, or NULL */
    const char *restart;   /* --restart: the wire name, or NULL */
    int64_t restart_interval_ms; /* --restart-interval, or -1 */
    limit_opt_t max_retries;     /* --max-retries */
    int no_fail_on_cap_error;    /* --no-fail-on-cap-error */
    int json_fd;           /* --json-fd, or -1 */
    int lines;             /* --lines: line framing instead of bytes */
    const char **keep_caps;
    size_t n_keep_caps;
    const char **env;
    size_t n_env;
    const char *cwd, *script, *runtime, *name;
    char **cmd; /* the command and its args, or the script's args */
    int n_cmd;
} options_t;

/* "500ms", "1.5s", "2m", "1h", "30" (seconds). */
static int64_t parse_duration(const char *opt, const char *text) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    double scale = 1000;
    if (strcmp(end, "ms") == 0) scale = 1;
    else if (strcmp(end, "s") == 0 || *end == '\0') scale = 1000;
    else if (strcmp(end, "m") == 0) scale = 60 * 1000.0;
    else if (strcmp(end, "h") == 0) scale = 3600 * 1000.0;
    else end = NULL;
    if (end == NULL || end == text || errno != 0 || !(v >= 0) || v * scale > 9e15)
        usage_error("%s: invalid duration '%s' (use e.g. 500ms, 5s, 2m, 1h)", opt, text);
    return (int64_t)(v * scale + 0.5);
}

/* "64M", "1G", "4096", "512K" (powers of 1024). */
static uint64_t parse_size(const char *opt, const char *text) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    uint64_t scale = 1;
    switch (*end) {
    case 'k': case 'K': scale = 1ull << 10; end++; break;
    case 'm': case 'M': scale = 1ull << 20; end++; break;
    case 'g': case 'G': scale = 1ull << 30; end++; break;
    case 't': case 'T': scale = 1ull << 40; end++; break;
    default: break;
    }
    if (scale > 1 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)) end += strlen(end);
    if (end == text || *end != '\0' || errno != 0 || text[0] == '-' || v > UINT64_MAX / scale)
        usage_error("%s: invalid size '%s' (use e.g. 64M, 1G)", opt, text);
    return (uint64_t)v * scale;
}

static uint64_t parse_count(const char *opt, const char *text) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || text[0] == '-')
        usage_error("%s: invalid number '%s'", opt, text);
    return (uint64_t)v;
}

/* "50%" (of one core, period 100 ms), "50000/100000" (quota/period in µs),
   "max" or "max/PERIOD" (no quota). */
static void parse_cpu(const char *opt, const char *text, options_t *o) {
    char *end;
    errno = 0;
    o->cpu_quota.set = 1;
    o->cpu_period = 100000;
    if (strncmp(text, "max", 3) == 0) {
        o->cpu_quota.v = 0;
        end = (char *)text + 3;
    } else {
        unsigned long long v = strtoull(text, &end, 10);
        if (end == text || errno != 0 || text[0] == '-') end = NULL;
        else if (*end == '%') {
            if (end[1] != '\0' || v == 0 || v > 100) usage_error("%s: '%s' is not 1%% to 100%%", opt, text);
            o->cpu_quota.v = v * o->cpu_period / 100;
            return;
        } else {
            o->cpu_quota.v = v;
        }
    }
    if (end != NULL && *end == '/') {
        const char *p = end + 1;
        unsigned long long period = strtoull(p, &end, 10);
        if (end == p || errno != 0 || *p == '-' || period == 0) end = NULL;
        else o->cpu_period = period;
    }
    if (end == NULL || *end != '\0' || (o->cpu_quota.v == 0 && strncmp(text, "max", 3) != 0))
        usage_error("%s: invalid CPU limit '%s' (use e.g. 50%%, 50000/100000, max)", opt, text);
}

static void push(const char ***list, size_t *n, const char *item) {
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = item;
}

/* ---- --stdin, --merge, --pty ------------------------------------------------ */

static int parse_stdio_option(const char *opt, options_t *o) {
    if (strcmp(opt, "--stdin") == 0) o->pipe_stdin = 1;
    else if (strcmp(opt, "--merge") == 0) o->merge = 1;
    else if (strcmp(opt, "--pty") == 0) o->pty = 1;
    else return 0;
    return 1;
}

/* --json-file and --json-fd: where the exit report goes. Each implies --json.
   Returns 1 if opt was one of them. */
static int parse_report_option(const char *opt, const char *value, options_t *o) {
    if (strcmp(opt, "--json-file") == 0) {
        if (value[0] == '\0') usage_error("--json-file needs a path");
        o->json = 1;
        o->json_file = value;
        o->json_fd = -1;
        return 1;
    }
    if (strcmp(opt, "--json-fd") == 0) {
        uint64_t fd = parse_count(opt, value);
        if (fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0)
            usage_error("--json-fd: %s is not an open descriptor", value);
        o->json = 1;
        o->json_fd = (int)fd;
        o->json_file = NULL;
        return 1;
    }
    return 0;
}

/* --restart, --restart-interval, --max-retries, --no-fail-on-cap-error.
   Returns 1 if opt was one of them. */
static int parse_policy_option(const char *opt, const char *value, options_t *o) {
    if (strcmp(opt, "--restart") == 0) {
        if (strcmp(value, "never") == 0) o->restart = "never";
        else if (strcmp(value, "on-failure") == 0) o->restart = "onFailure";
        else if (strcmp(value, "always") == 0) o->restart = "always";
        else usage_error("--restart: '%s' is not never, on-failure or always", value);
    } else if (strcmp(opt, "--restart-interval") == 0) {
        o->restart_interval_ms = parse_duration(opt, value);
    } else if (strcmp(opt, "--max-retries") == 0) {
        o->max_retries = (limit_opt_t){1, parse_count(opt, value)};
    } else if (strcmp(opt, "--no-fail-on-cap-error") == 0) {
        o->no_fail_on_cap_error = 1;
    } else {
        return 0;
    }
    return 1;
}

/* --lines. Returns 1 if opt was it. */
static int parse_output_option(const char *opt, options_t *o) {
    if (strcmp(opt, "--lines") == 0) {
        o->lines = 1;
        return 1;
    }
    return 0;
}

/* The checks between policy options, once all are read. */
static void check_policy_options(const options_t *o) {
    if (o->restart_interval_ms >= 0 && (o->restart == NULL || strcmp(o->restart, "always") != 0))
        usage_error("--restart-interval needs --restart always");
}

static void parse_options(int argc, char **argv, options_t *o) {
    memset(o, 0, sizeof *o);
    o->json_fd = -1;
    o->restart_interval_ms = -1;
    o->timeout_ms = 24LL * 3600 * 1000;
    o->kill_grace_ms = -1;
    o->name = "solti-run";
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (strncmp(arg, "--", 2) != 0) break; /* the command starts here */
        /* --opt=value or --opt value */
        char opt[64];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len >= sizeof opt) usage_error("unknown option %s", arg);
        memcpy(opt, arg, len);
        opt[len] = '\0';
        static const char *const with_value[] = {"--timeout", "--kill-grace", "--memory", "--pids",
                                                 "--cpu", "--cgroup-parent", "--nofile", "--fsize",
                                                 "--as", "--cpu-seconds", "--nproc", "--keep-cap",
                                                 "--cwd", "--env", "--script", "--runtime", "--name",
                                                 "--json-file", "--json-fd", "--restart",
                                                 "--restart-interval", "--max-retries",
                                                 NULL};
        int takes_value = 0;
        for (int k = 0; with_value[k]; k++) takes_value |= strcmp(opt, with_value[k]) == 0;
        if (takes_value) {
            if (eq) value = eq + 1;
            else if (i + 1 < argc) value = argv[++i];
            else usage_error("%s needs a value", opt);
        } else if (eq) {
            usage_error("%s takes no value", opt);
        }

        if (strcmp(opt, "--help") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        } else if (strcmp(opt, "--version") == 0) {
            printf("solti-run %s\n", solti_version());
            exit(0);
        } else if (strcmp(opt, "--timeout") == 0) o->timeout_ms = parse_duration(opt, value);
        else if (strcmp(opt, "--kill-grace") == 0) o->kill_grace_ms = parse_duration(opt, value);
        else if (strcmp(opt, "--memory") == 0) o->memory = (limit_opt_t){1, parse_size(opt, value)};
        else if (strcmp(opt, "--pids") == 0) o->pids = (limit_opt_t){1, parse_count(opt, value)};
        else if (strcmp(opt, "--cpu") == 0) parse_cpu(opt, value, o);
        else if (strcmp(opt, "--cgroup-parent") == 0) o->cgroup_parent = value;
        else if (strcmp(opt, "--no-fail-on-cgroup-error") == 0) o->no_fail_on_cgroup_error = 1;
        else if (strcmp(opt, "--nofile") == 0) o->nofile = (limit_opt_t){1, parse_count(opt, value)};
        else if (strcmp(opt, "--fsize") == 0) o->fsize = (limit_opt_t){1, parse_size(opt, value)};
        else if (strcmp(opt, "--as") == 0) o->as = (limit_opt_t){1, parse_size(opt, value)};
        else if (strcmp(opt, "--cpu-seconds") == 0) o->cpu_seconds = (limit_opt_t){1, parse_count(opt, value)};
        else if (strcmp(opt, "--nproc") == 0) o->nproc = (limit_opt_t){1, parse_count(opt, value)};
        else if (strcmp(opt, "--core") == 0) o->no_core = 0;
        else if (strcmp(opt, "--no-core") == 0) o->no_core = 1;
        else if (strcmp(opt, "--no-new-privs") == 0) o->no_new_privs = 1;
        else if (strcmp(opt, "--drop-caps") == 0) o->drop_caps = 1;
        else if (strcmp(opt, "--keep-cap") == 0) push(&o->keep_caps, &o->n_keep_caps, value);
        else if (strcmp(opt, "--cwd") == 0) o->cwd = value;
        else if (strcmp(opt, "--env") == 0) {
            if (strchr(value, '=') == NULL || value[0] == '=')
                usage_error("--env: '%s' is not KEY=VALUE", value);
            push(&o->env, &o->n_env, value);
        } else if (parse_stdio_option(opt, o)) { /* done */
        } else if (strcmp(opt, "--script") == 0) o->script = value;
        else if (strcmp(opt, "--runtime") == 0) o->runtime = value;
        else if (strcmp(opt, "--name") == 0) o->name = value;
        else if (strcmp(opt, "--json") == 0) o->json = 1;
        else if (parse_report_option(opt, value, o)) { /* done */ }
        else if (parse_output_option(opt, o)) { /* done */ }
        else if (parse_policy_option(opt, value, o)) { /* done */ }
        else usage_error("unknown option %s", arg);
    }
    o->cmd = argv + i;
    o->n_cmd = argc - i;
    if (o->script == NULL && o->n_cmd == 0) usage_error("no command given");
    if (o->runtime != NULL && o->script == NULL) usage_error("--runtime needs --script");
    if (o->runtime == NULL) o->runtime = "bash";
    if (strcmp(o->runtime, "bash") != 0 && strcmp(o->runtime, "python") != 0 &&
        strcmp(o->runtime, "node") != 0)
        usage_error("--runtime: '%s' is not bash, python or node", o->runtime);
    if (o->n_keep_caps > 0 && !o->drop_caps) usage_error("--keep-cap needs --drop-caps");
    if (o->merge && o->pty) usage_error("--merge with --pty: a terminal is one stream already");
    check_policy_options(o);
}

/* ---- JSON documents ------------------------------------------------------- */

/* Appends `"key": N, ` for a limit that was given. */
static void sb_limit(strbuf_t *s, const char *key, limit_opt_t l) {
    if (l.set) sb_printf(s, "\"%s\": %" PRIu64 ", ", key, l.v);
}

/* The runner config, or NULL when nothing was asked for. */
static char *runner_config(const options_t *o) {
    strbuf_t s = {0};
    const char *sep = "";
    sb_cat(&s, "{");
    if (o->memory.set || o->pids.set || o->cpu_quota.set || o->cgroup_parent || o->no_fail_on_cgroup_error) {
        sb_cat(&s, "\"cgroups\": {");
        sb_limit(&s, "memory", o->memory);
        sb_limit(&s, "pids", o->pids);
        if (o->cpu_quota.set) {
            sb_cat(&s, "\"cpu\": {");
            if (o->cpu_quota.v > 0) sb_printf(&s, "\"quota\": %" PRIu64 ", ", o->cpu_quota.v);
            sb_printf(&s, "\"period\": %" PRIu64 "}, ", o->cpu_period);
        }
        if (o->cgroup_parent) {
            sb_cat(&s, "\"parent\": ");
            sb_json(&s, o->cgroup_parent);
            sb_cat(&s, ", ");
        }
        sb_printf(&s, "\"failOnError\": %s}", o->no_fail_on_cgroup_error ? "false" : "true");
        sep = ", ";
    }
    if (o->nofile.set || o->fsize.set || o->as.set || o->cpu_seconds.set || o->nproc.set || o->no_core) {
        sb_printf(&s, "%s\"rlimits\": {", sep);
        sb_limit(&s, "maxOpenFiles", o->nofile);
        sb_limit(&s, "maxFileSizeBytes", o->fsize);
        sb_limit(&s, "maxAddressSpaceBytes", o->as);
        sb_limit(&s, "maxCpuSeconds", o->cpu_seconds);
        sb_limit(&s, "maxProcesses", o->nproc);
        sb_printf(&s, "\"disableCoreDumps\": %s}", o->no_core ? "true" : "false");
        sep = ", ";
    }
    if (o->no_new_privs || o->drop_caps || o->no_fail_on_cap_error) {
        sb_printf(&s, "%s\"security\": {\"noNewPrivs\": %s, \"dropAllCaps\": %s", sep,
                  o->no_new_privs ? "true" : "false", o->drop_caps ? "true" : "false");
        if (o->n_keep_caps > 0) {
            sb_cat(&s, ", \"keepCaps\": [");
            for (size_t i = 0; i < o->n_keep_caps; i++) {
                if (i) sb_cat(&s, ", ");
                sb_json(&s, o->keep_caps[i]);
            }
            sb_cat(&s, "]");
        }
        if (o->no_fail_on_cap_error) sb_cat(&s, ", \"failOnCapError\": false");
        sb_cat(&s, "}");
        sep = ", ";
    }
    sb_cat(&s, "}");
    if (*sep == '\0') {
        free(s.p);
        return NULL;
    }
    return s.p;
}

/* The task spec's restart policy and retry bound, from the policy options. */
static void sb_policy(strbuf_t *s, const options_t *o) {
    if (o->restart != NULL) {
        sb_printf(s, ", \"restart\": {\"type\": \"%s\"", o->restart);
        if (o->restart_interval_ms >= 0) sb_printf(s, ", \"intervalMs\": %" PRId64, o->restart_interval_ms);
        sb_cat(s, "}");
    }
    if (o->max_retries.set) sb_printf(s, ", \"maxRetries\": %" PRIu64, o->max_retries.v);
}

/* The task's output: lossless either way (the pipe readers wait for
   solti-run, as a pipe would); bytes unless --lines. */
static void sb_output(strbuf_t *s, const options_t *o) {
    sb_printf(s, ", \"output\": {\"mode\": \"%s\", \"whenFull\": \"block\"}", o->lines ? "lines" : "bytes");
}

static void read_file(const char *path, strbuf_t *out) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail("--script %s: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        sb_add(out, chunk, n);
        if (out->len > (64u << 20)) fail("--script %s: larger than 64 MiB", path);
    }
    if (ferror(f)) fail("--script %s: %s", path, strerror(errno));
    fclose(f);
}

static void json_args(strbuf_t *s, char **args, int n) {
    sb_cat(s, "\"args\": [");
    for (int i = 0; i < n; i++) {
        if (i) sb_cat(s, ", ");
        sb_json(s, args[i]);
    }
    sb_cat(s, "]");
}

/* The spec's stdin, stderr and pty fields. The terminal's size is solti-run's
   own (fd 1, else 0) when it runs on one. */
static void sb_stdio(strbuf_t *s, const options_t *o) {
    if (o->pipe_stdin && !o->pty) sb_cat(s, ", \"stdin\": \"pipe\"");
    if (o->merge) sb_cat(s, ", \"stderr\": \"stdout\"");
    if (o->pty) {
        struct winsize ws = {0};
        if ((ioctl(1, TIOCGWINSZ, &ws) != 0 && ioctl(0, TIOCGWINSZ, &ws) != 0) || ws.ws_row == 0 || ws.ws_col == 0) {
            ws.ws_row = 24;
            ws.ws_col = 80;
        }
        sb_printf(s, ", \"pty\": {\"rows\": %u, \"cols\": %u}", (unsigned)ws.ws_row, (unsigned)ws.ws_col);
    }
}

/* --stdin: a thread copies solti-run's stdin to the task's until EOF, then
   closes the task's. A chunk nobody reads (the command closed its stdin, or
   an attempt ended) is dropped; a restarted attempt gets what comes next. */
static void *forward_stdin(void *arg) {
    solti_task_t task = *(solti_task_t *)arg;
    static char buf[65536];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        int rc = solti_task_write(task, buf, (size_t)n, SOLTI_INFINITE, NULL);
        if (rc < 0 && rc != SOLTI_EPIPE) return NULL; /* no stdin any more */
    }
    solti_task_close_stdin(task);
    return NULL;
}

static void start_stdin_forwarder(const options_t *o, solti_task_t *task) {
    if (!o->pipe_stdin) return;
    pthread_t th;
    if (pthread_create(&th, NULL, forward_stdin, task) != 0) fail("--stdin: cannot start a thread");
    pthread_detach(th);
}

static char *task_spec(const options_t *o) {
    strbuf_t s = {0};
    sb_cat(&s, "{\"slot\": \"solti-run\", \"kind\": {\"subprocess\": {\"mode\": ");
    if (o->script != NULL) {
        strbuf_t body = {0};
        read_file(o->script, &body);
        sb_cat(&s, "{\"script\": {\"runtime\": ");
        sb_json(&s, o->runtime);
        sb_cat(&s, ", \"body\": \"");
        sb_base64(&s, (const unsigned char *)(body.p ? body.p : ""), body.len);
        sb_cat(&s, "\", ");
        json_args(&s, o->cmd, o->n_cmd);
        sb_cat(&s, "}}");
        free(body.p);
    } else {
        sb_cat(&s, "{\"command\": {\"command\": ");
        sb_json(&s, o->cmd[0]);
        sb_cat(&s, ", ");
        json_args(&s, o->cmd + 1, o->n_cmd - 1);
        sb_cat(&s, "}}");
    }
    if (o->n_env > 0) {
        sb_cat(&s, ", \"env\": [");
        for (size_t i = 0; i < o->n_env; i++) {
            const char *eq = strchr(o->env[i], '=');
            if (i) sb_cat(&s, ", ");
            sb_cat(&s, "{\"key\": ");
            sb_json_n(&s, o->env[i], (size_t)(eq - o->env[i]));
            sb_cat(&s, ", \"value\": ");
            sb_json(&s, eq + 1);
            sb_cat(&s, "}");
        }
        sb_cat(&s, "]");
    }
    if (o->cwd != NULL) {
        sb_cat(&s, ", \"cwd\": ");
        sb_json(&s, o->cwd);
    }
    sb_stdio(&s, o);
    sb_printf(&s, "}}, \"timeout\": %" PRId64, o->timeout_ms);
    if (o->kill_grace_ms >= 0) sb_printf(&s, ", \"killGraceMs\": %" PRId64, o->kill_grace_ms);
    sb_policy(&s, o);
    sb_output(&s, o);
    sb_cat(&s, "}");
    return s.p;
}

/* ---- Signals: a self-pipe ------------------------------------------------- */

static int signal_pipe[2] = {-1, -1};

static void on_signal(int signo) {
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    ssize_t ignored = write(signal_pipe[1], &b, 1);
    (void)ignored;
    errno = saved;
}

/* --pty: the task whose terminal follows solti-run's own size (SIGWINCH). */
static solti_task_t resized_task;

static void install_signal_handlers(int pty) {
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) fail("pipe: %s", strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* SA_ONSTACK: the signal may land on a Go runtime thread, which must run
       handlers on its signal stack. */
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (pty) sigaction(SIGWINCH, &sa, NULL); /* passed on, never a cancel */
    /* A reader that went away must show as EPIPE from write, so that the
       task's tree is canceled and cleaned up before solti-run exits 141;
       the command itself gets every disposition back to default. */
    signal(SIGPIPE, SIG_IGN);
}

/* --pty: gives the task's terminal solti-run's own terminal size. */
static void pass_window_size(void) {
    struct winsize ws = {0};
    if (resized_task == 0) return;
    if ((ioctl(1, TIOCGWINSZ, &ws) == 0 || ioctl(0, TIOCGWINSZ, &ws) == 0) && ws.ws_row > 0 && ws.ws_col > 0)
        (void)solti_task_resize(resized_task, ws.ws_row, ws.ws_col); /* an ended attempt: nothing to do */
}

/* The first signal received that cancels, or 0; a SIGWINCH resizes the
   task's terminal instead. */
static int take_signal(void) {
    unsigned char b;
    int got = 0;
    while (read(signal_pipe[0], &b, 1) == 1) {
        if (b == SIGWINCH) {
            pass_window_size();
            continue;
        }
        if (got == 0) got = b;
    }
    return got;
}

/* ---- Streaming ------------------------------------------------------------ */

/* How streaming ended, besides the task's own end. */
typedef struct stream_end {
    int signo;  /* the signal that made solti-run cancel the task, or 0 */
    int broken; /* 1: a write to stdout or stderr failed with EPIPE (the
                   reader went away), and the task was canceled */
} stream_end_t;

/* Cancels the task once, for a signal or a reader that went away. */
static void cancel_once(solti_task_t task, stream_end_t *end, int signo, int broken) {
    if (end->signo != 0 || end->broken) return;
    end->signo = signo;
    end->broken = broken;
    int rc = solti_task_cancel(task);
    if (rc < 0) fail_library(rc);
}

/* Sleeps until the task has something (fd readable), a signal came, or a
   second passed; a signal cancels the task. */
static void wait_for_more(solti_task_t task, int fd, stream_end_t *end) {
    struct pollfd p[2] = {{.fd = signal_pipe[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    if (poll(p, fd >= 0 ? 2 : 1, fd >= 0 ? 1000 : 200) < 0 && errno != EINTR)
        fail("poll: %s", strerror(errno));
    int signo = take_signal();
    if (signo != 0) cancel_once(task, end, signo, 0);
}

static void print_warning(const char *data, size_t len) {
    fprintf(stderr, "solti-run: warning: %.*s\n", (int)len, data);
}

/* Lines mode (--lines) --------------------------------------------------------- */

static void print_event(const solti_event_t *e) {
    switch (e->kind) {
    case SOLTI_EVENT_LINE:
        if (e->stream == SOLTI_STDERR) {
            fflush(stdout); /* keep the two streams' relative order on a terminal */
            fputs("[stderr] ", stderr);
            fwrite(e->data, 1, e->len, stderr);
            if (e->flags & SOLTI_LINE_TRUNCATED) fputs(" [truncated]", stderr);
            fputc('\n', stderr);
        } else {
            fwrite(e->data, 1, e->len, stdout);
            if (e->flags & SOLTI_LINE_TRUNCATED) fputs(" [truncated]", stdout);
            fputc('\n', stdout);
        }
        break;
    case SOLTI_EVENT_LAGGED:
        fflush(stdout);
        fprintf(stderr, "solti-run: %" PRId64 " events lost (output ring overflowed)\n", e->value);
        break;
    case SOLTI_EVENT_WARNING:
        fflush(stdout);
        print_warning(e->data, e->len);
        break;
    default: /* STARTED, FINISHED: the exit report says it */
        break;
    }
}

/* Streams the task's line events until SOLTI_EOF. */
static stream_end_t stream_lines(solti_task_t task) {
    size_t cap = 256 * 1024;
    char *buf = xrealloc(NULL, cap);
    solti_event_t events[64];
    uint64_t cursor = 0;
    int fd = solti_task_fd(task); /* < 0: fall back to blocking polls */
    stream_end_t end = {0, 0};
    for (;;) {
        size_t count = 0;
        int rc = solti_task_poll(task, &cursor, events, 64, buf, cap, fd >= 0 ? 0 : 200, &count);
        if (rc == SOLTI_EOF) break;
        if (rc == SOLTI_ERANGE && cap < (64u << 20)) {
            cap *= 2;
            buf = xrealloc(buf, cap);
            continue;
        }
        if (rc < 0) fail_library(rc);
        if (!end.broken) {
            for (size_t i = 0; i < count; i++) print_event(&events[i]);
            if (fflush(stdout) != 0 && errno == EPIPE) cancel_once(task, &end, 0, 1);
        }
        if (count > 0 && fd >= 0) continue; /* there may be more */
        wait_for_more(task, fd, &end);
    }
    free(buf);
    return end;
}

/* Bytes mode (the default) ------------------------------------------------------ */

/* Writes all of data to fd. Returns 0, or the errno of a failed write. */
static int write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The sandbox warnings of the first attempt: the WARNING events before its
   STARTED, which solti_task_spawn has put in the ring by the time it
   returns.  This reader stops at STARTED, before any output, so the bytes
   reader stays the one furthest ahead, whose output block mode keeps. */
static void print_start_warnings(solti_task_t task) {
    char buf[8192];
    solti_event_t ev;
    uint64_t cursor = 0;
    size_t count = 0;
    while (solti_task_poll(task, &cursor, &ev, 1, buf, sizeof buf, 0, &count) == SOLTI_OK && count == 1) {
        if (ev.kind == SOLTI_EVENT_WARNING) print_warning(ev.data, ev.len);
        if (ev.kind != SOLTI_EVENT_WARNING) break; /* STARTED */
    }
}

/* Copies the task's stdout and stderr bytes to solti-run's own, each chunk
   as it comes, until SOLTI_EOF. */
static stream_end_t stream_bytes(solti_task_t task) {
    size_t cap = 1u << 20;
    char *buf = xrealloc(NULL, cap);
    solti_read_cursor_t cursor = {0, 0};
    int fd = solti_task_fd(task);
    stream_end_t end = {0, 0};
    print_start_warnings(task);
    for (;;) {
        size_t n = 0;
        solti_read_info_t info;
        int rc = solti_task_read(task, &cursor, SOLTI_STDOUT | SOLTI_STDERR, buf, cap, fd >= 0 ? 0 : 200, &n,
                                 &info);
        if (rc == SOLTI_EOF) break;
        if (rc < 0) fail_library(rc);
        if (info.lost_bytes > 0 || info.lost_events > 0) /* never in block mode */
            fprintf(stderr, "solti-run: %" PRIu64 " bytes of output lost\n", info.lost_bytes);
        if (n > 0 && !end.broken) {
            int err = write_all(info.stream == SOLTI_STDERR ? STDERR_FILENO : STDOUT_FILENO, buf, n);
            if (err == EPIPE) cancel_once(task, &end, 0, 1);
            else if (err != 0) fail("writing the command's output: %s", strerror(err));
        }
        if (n > 0 && fd >= 0) continue; /* there may be more */
        wait_for_more(task, fd, &end);
    }
    free(buf);
    return end;
}

/* ---- The end ---------------------------------------------------------------- */

/* Opens --json-file before the command runs, so a path that cannot be
   written is solti-run's own error (125) and nothing was started. */
static void open_report(options_t *o) {
    if (o->json_file == NULL || strcmp(o->json_file, "-") == 0) return;
    o->json_fd = open(o->json_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o->json_fd < 0) fail("--json-file %s: %s", o->json_file, strerror(errno));
}

/* The report goes to --json-fd / --json-file, else to stdout after the
   command's output. */
static void write_report(const options_t *o, const char *text, size_t len) {
    if (o->json_fd < 0) { /* plain --json: stderr, never into the command's stdout */
        fflush(stdout);
        fwrite(text, 1, len, stderr);
        fflush(stderr);
        return;
    }
    while (len > 0) {
        ssize_t n = write(o->json_fd, text, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            fprintf(stderr, "solti-run: writing the report to descriptor %d: %s\n", o->json_fd,
                    strerror(errno));
            return;
        }
        text += n;
        len -= (size_t)n;
    }
}

/* One line on stderr when the end is not the command's own doing, so a
   kill by the OOM killer or by --timeout is never silent. */
static void print_end_note(const options_t *o, const solti_exit_t *ex) {
    fflush(stdout);
    if (ex->outcome == SOLTI_OUTCOME_TIMEOUT)
        fprintf(stderr, "solti-run: timed out after %" PRId64 " ms; the command's process tree was killed\n",
                o->timeout_ms);
    else if (ex->oom_kills > 0)
        fprintf(stderr, "solti-run: killed by the kernel's OOM killer (%" PRId64
                        " OOM kill%s in the task's cgroup; memory limit reached)\n",
                ex->oom_kills, ex->oom_kills == 1 ? "" : "s");
}

static const char *outcome_name(int32_t outcome) {
    switch (outcome) {
    case SOLTI_OUTCOME_SUCCESS: return "success";
    case SOLTI_OUTCOME_FAILURE: return "failure";
    case SOLTI_OUTCOME_CANCELED: return "canceled";
    case SOLTI_OUTCOME_TIMEOUT: return "timeout";
    case SOLTI_OUTCOME_FATAL: return "fatal";
    case SOLTI_OUTCOME_LOST: return "lost";
    default: return "unknown";
    }
}

static void print_report(const options_t *o, const solti_exit_t *ex) {
    strbuf_t s = {0};
    sb_printf(&s, "{\"attempt\": %" PRIu32 ", \"outcome\": \"%s\", \"exitCode\": %" PRId32
                  ", \"signal\": %" PRId32 ", \"coreDumped\": %s",
              ex->attempt, outcome_name(ex->outcome), ex->exit_code, ex->signal,
              ex->core_dumped ? "true" : "false");
    int64_t duration = ex->started_ms > 0 && ex->finished_ms >= ex->started_ms
                           ? ex->finished_ms - ex->started_ms
                           : 0;
    sb_printf(&s, ", \"startedMs\": %" PRId64 ", \"finishedMs\": %" PRId64 ", \"durationMs\": %" PRId64,
              ex->started_ms, ex->finished_ms, duration);
    sb_printf(&s, ", \"userUs\": %" PRId64 ", \"systemUs\": %" PRId64 ", \"maxRssKb\": %" PRId64
                  ", \"oomKills\": %" PRId64 ", \"memoryPeakBytes\": %" PRId64
                  ", \"cgroupCpuUs\": %" PRId64 ", \"reason\": ",
              ex->user_us, ex->system_us, ex->max_rss_kb, ex->oom_kills, ex->memory_peak_bytes,
              ex->cgroup_cpu_us);
    sb_json_n(&s, ex->reason, strnlen(ex->reason, sizeof ex->reason));
    sb_cat(&s, "}\n");
    write_report(o, s.p, s.len);
    free(s.p);
}

/* The status for a task that could not start, chosen from the failing step
   and its errno as env(1) and timeout(1) do: the program not found (exec,
   ENOENT) 127; found but not runnable (exec, any other errno) 126; anything
   else, a bad --cwd, a limit that could not be applied or the library's own
   trouble, 125. */
static int spawn_failure_status(solti_task_t task) {
    solti_spawn_failure_t f;
    if (solti_task_spawn_failure(task, &f) != 1 || strcmp(f.step, "exec") != 0) return EXIT_TOOL;
    return f.errnum == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}

/* The shell-style exit status for how the task ended. */
static int exit_status(solti_task_t task, const solti_exit_t *ex, stream_end_t end) {
    if (end.broken) return EXIT_PIPE;
    if (end.signo != 0) return 128 + end.signo;
    switch (ex->outcome) {
    case SOLTI_OUTCOME_SUCCESS:
    case SOLTI_OUTCOME_FAILURE:
        if (ex->signal > 0) return 128 + ex->signal;
        return ex->exit_code >= 0 ? ex->exit_code & 0xff : EXIT_TOOL;
    case SOLTI_OUTCOME_TIMEOUT: return EXIT_TIMEOUT;
    case SOLTI_OUTCOME_CANCELED: return 128 + (ex->signal > 0 ? ex->signal : SIGKILL);
    case SOLTI_OUTCOME_FATAL: /* a restart that could not start */
        fprintf(stderr, "solti-run: %s\n", ex->reason);
        return spawn_failure_status(task);
    default:
        fprintf(stderr, "solti-run: %s\n", ex->reason);
        return EXIT_TOOL;
    }
}

int main(int argc, char **argv) {
    options_t o;
    parse_options(argc, argv, &o);
    open_report(&o);
    char *config = runner_config(&o);
    char *spec = task_spec(&o);
    free(o.keep_caps); /* in config and spec now */
    free(o.env);

    solti_runner_t runner = 0;
    int rc = solti_runner_new(o.name, config, &runner);
    if (rc < 0) fail_library(rc);
    solti_task_t task = 0;
    rc = solti_task_build(runner, spec, &task);
    if (rc < 0) fail_library(rc);
    free(config);
    free(spec);

    install_signal_handlers(o.pty);
    rc = solti_task_spawn(task);
    if (rc < 0) {
        print_library_error(rc);
        int status = spawn_failure_status(task);
        solti_exit_t ex;
        if (o.json && solti_task_wait(task, 0, &ex) == SOLTI_OK) print_report(&o, &ex);
        solti_runner_free(runner);
        return status;
    }

    if (o.pty) {
        resized_task = task;
        pass_window_size(); /* a resize before the spawn */
    }
    start_stdin_forwarder(&o, &task);
    stream_end_t end = o.lines ? stream_lines(task) : stream_bytes(task);
    solti_exit_t ex;
    rc = solti_task_wait(task, SOLTI_INFINITE, &ex);
    if (rc < 0) fail_library(rc);
    if (!end.broken) print_end_note(&o, &ex);
    if (o.json) print_report(&o, &ex);
    int status = exit_status(task, &ex, end);
    solti_runner_free(runner);
    return status;
}
