/*
 * memory: figure 5. Loads the library with dlopen() (so the host's RSS
 * before and after is measured), builds N idle tasks, then runs F tasks that
 * print as fast as they can for S seconds with nobody reading, sampling the
 * RSS every 250 ms.
 *
 *   memory --library PATH --flood PATH [--tasks 1000] [--floods 50]
 *          [--seconds 10] [--line 100] [--capacity 1024] [--max-bytes 4194304]
 *
 * The ring bounds default to the library's (1024 events, 4 MiB). Prints
 * three results: the load growth (KiB), the growth per idle task (KiB), and
 * the flood: RSS growth over the pre-flood RSS at its peak and averaged over
 * the second and the last quarter of the flood, with the rings' bound.
 */
#define BENCH_NO_LIBRARY
#include "bench.h"

#include <dlfcn.h>
#include <stdint.h>

#include "solti_exec.h"

static int (*runner_new)(const char *, const char *, solti_runner_t *);
static int (*runner_free)(solti_runner_t);
static int (*task_build)(solti_runner_t, const char *, solti_task_t *);
static int (*task_spawn)(solti_task_t);
static int (*task_free)(solti_task_t);
static int (*last_error)(char *, size_t);

/* Stores dlsym(lib, name) in the function pointer at fn (the POSIX way to
   convert, which ISO C does not allow directly). */
static void sym(void *lib, const char *name, void *fn) {
    void *p = dlsym(lib, name);
    if (p == NULL) bench_die("dlsym %s: %s", name, dlerror());
    memcpy(fn, &p, sizeof p);
}

static void check(int rc, const char *what) {
    if (rc < 0) {
        char msg[512] = "";
        last_error(msg, sizeof msg);
        bench_die("%s: %d: %s", what, rc, msg);
    }
}

int main(int argc, char **argv) {
    const char *library = bench_opt_str(argc, argv, "--library", NULL);
    const char *flood = bench_opt_str(argc, argv, "--flood", NULL);
    long tasks = bench_opt(argc, argv, "--tasks", 1000);
    long floods = bench_opt(argc, argv, "--floods", 50);
    long seconds = bench_opt(argc, argv, "--seconds", 10);
    long line = bench_opt(argc, argv, "--line", 100);
    long capacity = bench_opt(argc, argv, "--capacity", 1024);
    long max_bytes = bench_opt(argc, argv, "--max-bytes", 4194304);
    if (library == NULL || flood == NULL) bench_die("--library and --flood are required");

    /* Load: the library, its Go runtime, and a first runner (the runtime's
       threads and heap arenas come up at load and first use). */
    long rss0 = bench_rss_kib();
    void *lib = dlopen(library, RTLD_NOW | RTLD_GLOBAL);
    if (lib == NULL) bench_die("dlopen: %s", dlerror());
    sym(lib, "solti_runner_new", &runner_new);
    sym(lib, "solti_runner_free", &runner_free);
    sym(lib, "solti_task_build", &task_build);
    sym(lib, "solti_task_spawn", &task_spawn);
    sym(lib, "solti_task_free", &task_free);
    sym(lib, "solti_last_error", &last_error);
    char config[256];
    snprintf(config, sizeof config, "{\"output\": {\"capacity\": %ld, \"maxBytes\": %ld}}", capacity,
             max_bytes);
    solti_runner_t runner = 0;
    check(runner_new("bench", config, &runner), "solti_runner_new");
    bench_sleep_ms(200); /* let the runtime's start-up settle */
    long rss_loaded = bench_rss_kib();
    bench_result("mem_load", (double)(rss_loaded - rss0), "KiB", ", \"rss_before_kib\": %ld", rss0);

    /* Idle tasks: built, never spawned. */
    const char *const argv_true[] = {"/bin/true", NULL};
    solti_task_t *idle = calloc((size_t)tasks, sizeof *idle);
    char slot[32];
    for (long i = 0; i < tasks; i++) {
        snprintf(slot, sizeof slot, "idle-%ld", i);
        check(task_build(runner, bench_spec(slot, argv_true, ""), &idle[i]), "solti_task_build");
    }
    bench_sleep_ms(200);
    long rss_idle = bench_rss_kib();
    bench_result("mem_idle_task", (double)(rss_idle - rss_loaded) / (double)tasks, "KiB/task",
                 ", \"tasks\": %ld", tasks);
    for (long i = 0; i < tasks; i++) check(task_free(idle[i]), "solti_task_free");
    free(idle);

    /* Flood: F tasks print as fast as they can, nobody reads. */
    bench_sleep_ms(200);
    long rss_pre = bench_rss_kib();
    char len[32];
    snprintf(len, sizeof len, "%ld", line);
    const char *const argv_flood[] = {flood, len, NULL};
    solti_task_t *fl = calloc((size_t)floods, sizeof *fl);
    for (long i = 0; i < floods; i++) {
        snprintf(slot, sizeof slot, "flood-%ld", i);
        check(task_build(runner, bench_spec(slot, argv_flood, ""), &fl[i]), "solti_task_build");
        check(task_spawn(fl[i]), "solti_task_spawn");
    }
    /* The collector makes RSS a sawtooth, so "flat" compares averages: the
       second quarter of the flood against the last one. */
    long samples = seconds * 4, peak = 0;
    double q2 = 0, q4 = 0;
    for (long s = 0; s < samples; s++) {
        bench_sleep_ms(250);
        long rss = bench_rss_kib();
        if (rss > peak) peak = rss;
        if (s * 4 / samples == 1) q2 += (double)rss;
        if (s * 4 / samples == 3) q4 += (double)rss;
    }
    q2 /= (double)(samples / 4);
    q4 /= (double)(samples / 4);
    for (long i = 0; i < floods; i++) check(task_free(fl[i]), "solti_task_free");
    check(runner_free(runner), "solti_runner_free");
    free(fl);
    /* The rings may hold max_bytes of lines and capacity events each. */
    long bound_kib = floods * (max_bytes + capacity * 72) / 1024;
    bench_result("mem_flood", (double)(peak - rss_pre), "KiB",
                 ", \"q2_kib\": %.0f, \"q4_kib\": %.0f, \"rings_kib\": %ld, \"floods\": %ld, "
                 "\"seconds\": %ld, \"line\": %ld",
                 q2 - (double)rss_pre, q4 - (double)rss_pre, bound_kib, floods, seconds, line);
    return 0;
}
