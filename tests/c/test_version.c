/* solti_version, solti_strerror (from the one error table), solti_last_error. */
#include <pthread.h>

#include "test.h"

static void test_version_string(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SOLTI_EXEC_VERSION_MAJOR, SOLTI_EXEC_VERSION_MINOR,
             SOLTI_EXEC_VERSION_PATCH);
    CHECK(solti_version() != NULL);
    CHECK_STR_EQ(solti_version(), want);
    CHECK_STR_EQ(solti_version(), "0.1.0");
}

static void test_strerror_matches_table(void) {
    int n = 0;
#define CHECK_ENTRY(name, value, message)                                                \
    CHECK_EQ_INT(name, value);                                                           \
    CHECK_STR_EQ(solti_strerror(name), message);                                         \
    n++;
    SOLTI_ERRNO_MAP(CHECK_ENTRY)
#undef CHECK_ENTRY
    CHECK_EQ_INT(n, 15); /* SOLTI_OK .. SOLTI_EINTERNAL, SOLTI_EPIPE */
    CHECK_STR_EQ(solti_strerror(SOLTI_EBADF), "bad handle");
    CHECK_STR_EQ(solti_strerror(SOLTI_EFORKED), "called in a forked child of the host process");
    /* Unknown codes still give a string. */
    CHECK(solti_strerror(-999) != NULL);
    CHECK(solti_strerror(12345) != NULL);
    CHECK(strlen(solti_strerror(-999)) > 0);
}

static void test_last_error_is_snprintf_like(void) {
    solti_runner_t r = 0;
    /* Make a failure with a known message. */
    CHECK_CODE(solti_runner_new("last-error", "{\"cgroups\": {\"pids\": 0}}", &r), SOLTI_ESPEC);
    char full[1024];
    int n = solti_last_error(full, sizeof full);
    CHECK_MSG(n > 0, "solti_last_error returned %d", n);
    CHECK_EQ_INT((size_t)n, strlen(full));
    CHECK_STR_CONTAINS(full, "cgroups.pids cannot be zero");

    /* Truncated copies still return the full length and are NUL-terminated. */
    char small[8];
    memset(small, 'Z', sizeof small);
    CHECK_EQ_INT(solti_last_error(small, sizeof small), n);
    CHECK_EQ_INT(strlen(small), sizeof small - 1);
    CHECK(strncmp(small, full, sizeof small - 1) == 0);

    char one[1] = {'Z'};
    CHECK_EQ_INT(solti_last_error(one, 1), n);
    CHECK_EQ_INT(one[0], '\0');

    /* len 0: only the length, buf untouched (it may be NULL). */
    CHECK_EQ_INT(solti_last_error(NULL, 0), n);
    char untouched[2] = {'Q', 'Q'};
    CHECK_EQ_INT(solti_last_error(untouched, 0), n);
    CHECK_EQ_INT(untouched[0], 'Q');

    /* Successful calls leave the message alone (like errno). */
    CHECK_OK(solti_runner_new("last-error-ok", NULL, &r));
    CHECK_EQ_INT(solti_last_error(NULL, 0), n);
    CHECK_OK(solti_runner_free(r));
}

static void *other_thread(void *arg) {
    (void)arg;
    /* The message is per thread: a fresh thread has none, its failures are its own. */
    char buf[256] = "x";
    int n = solti_last_error(buf, sizeof buf);
    if (n != 0 || buf[0] != '\0') {
        fprintf(stderr, "fresh thread sees last error \"%s\" (%d)\n", buf, n);
        return (void *)1;
    }
    if (solti_task_spawn(0) != SOLTI_EBADF) return (void *)2;
    if (solti_last_error(NULL, 0) <= 0) return (void *)3;
    return NULL;
}

static void test_last_error_is_per_thread(void) {
    char before[1024];
    solti_last_error(before, sizeof before);
    pthread_t th;
    void *res = (void *)99;
    CHECK_EQ_INT(pthread_create(&th, NULL, other_thread, NULL), 0);
    CHECK_EQ_INT(pthread_join(th, &res), 0);
    CHECK_MSG(res == NULL, "other thread failed with step %ld", (long)(intptr_t)res);
    char after[1024];
    solti_last_error(after, sizeof after);
    CHECK_STR_EQ(after, before);
}

int main(void) {
    test_version_string();
    test_strerror_matches_table();
    test_last_error_is_snprintf_like();
    test_last_error_is_per_thread();
    printf("test_version: ok\n");
    return 0;
}
