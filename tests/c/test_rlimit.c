/*
 * Loading the library leaves the host's RLIMIT_NOFILE alone (the Go runtime
 * raises the soft limit at start; the library must undo it).  This test does
 * not link the library: it lowers its own soft limit, then dlopen()s it, and
 * compares before, just after loading, after a first call, and later.
 * It never dlclose()s the library (unsupported).
 */
#include <dlfcn.h>
#include <sys/resource.h>

#define TEST_NO_LIBRARY
#include "test.h"

typedef int (*runner_new_fn)(const char *, const char *, solti_runner_t *);
typedef int (*runner_free_fn)(solti_runner_t);

static struct rlimit nofile(void) {
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    return rl;
}

#define CHECK_SAME_LIMIT(when, want)                                                     \
    do {                                                                                 \
        struct rlimit got_ = nofile();                                                   \
        CHECK_MSG(got_.rlim_cur == (want).rlim_cur && got_.rlim_max == (want).rlim_max,  \
                  "%s: RLIMIT_NOFILE is %llu/%llu, the host had %llu/%llu", when,        \
                  (unsigned long long)got_.rlim_cur, (unsigned long long)got_.rlim_max,  \
                  (unsigned long long)(want).rlim_cur, (unsigned long long)(want).rlim_max); \
    } while (0)

int main(void) {
    /* Make soft < hard - 1, the case Go raises. */
    struct rlimit host = nofile();
    if (host.rlim_max == RLIM_INFINITY || host.rlim_max > 512) {
        host.rlim_cur = 512;
    } else if (host.rlim_max > 3) {
        host.rlim_cur = host.rlim_max / 2;
    } else {
        printf("hard RLIMIT_NOFILE %llu too low to test: skipped\n",
               (unsigned long long)host.rlim_max);
        return 0;
    }
    CHECK(setrlimit(RLIMIT_NOFILE, &host) == 0);
    host = nofile();

    void *lib = dlopen(SOLTI_TEST_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(lib != NULL, "dlopen %s: %s", SOLTI_TEST_LIBRARY, dlerror());
    /* The runtime starts on its own thread during dlopen: a read now may fall
       in the instant between Go's raise and the library's undo, so this one
       is only reported. */
    struct rlimit just_loaded = nofile();
    if (just_loaded.rlim_cur != host.rlim_cur)
        printf("note: just after dlopen the soft limit was %llu (host %llu)\n",
               (unsigned long long)just_loaded.rlim_cur, (unsigned long long)host.rlim_cur);

    runner_new_fn runner_new = (runner_new_fn)(uintptr_t)dlsym(lib, "solti_runner_new");
    runner_free_fn runner_free = (runner_free_fn)(uintptr_t)dlsym(lib, "solti_runner_free");
    CHECK_MSG(runner_new != NULL && runner_free != NULL, "dlsym: %s", dlerror());

    /* A first call waits for the runtime's initialisation to finish. */
    solti_runner_t r = 0;
    CHECK_EQ_INT(runner_new("rlimit", NULL, &r), SOLTI_OK);
    CHECK_SAME_LIMIT("after the first call", host);
    test_sleep_ms(200);
    CHECK_SAME_LIMIT("200 ms later", host);
    CHECK_EQ_INT(runner_free(r), SOLTI_OK);
    CHECK_SAME_LIMIT("after solti_runner_free", host);

    /* Only solti_* symbols are exported. */
    CHECK_MSG(dlsym(lib, "_cgo_topofstack") == NULL && dlsym(lib, "crosscall2") == NULL,
              "Go runtime symbols are exported: the version script was not applied");
    printf("test_rlimit: ok\n");
    return 0; /* no dlclose: the Go runtime cannot be unloaded */
}
