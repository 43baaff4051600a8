/*
 * The isolation options that need privilege, proven from inside the child:
 * credentials (Uid, Gid, Groups; a kept capability across the uid change)
 * and new namespaces (every /proc/self/ns link differs from the host's).
 * (cgroup.max.depth: test_isolation_cgroup.)
 *
 * The host stays dumpable through all of it: a process whose uid or gid
 * changes gets undumpable memory, and the shim built into the library
 * shares the host's until its target execs, so such a target must get
 * memory of its own.
 *
 * Not root: each option fails with SOLTI_ESANDBOX naming the step and the
 * missing privilege, which is checked; then the test says why the rest did
 * not run and exits 77 (skipped).
 */
#include <sys/prctl.h>

#include "cgroup_check.h"

static const char *line(const test_events_t *evs, const char *prefix) {
    const char *v = test_line_after(evs, prefix);
    if (v == NULL) {
        test_events_dump(evs);
        FAIL("no line starting \"%s\" in the child's output", prefix);
    }
    return v;
}

/* The value of a /proc/self/status line, trailing blanks cut. */
static const char *status(const test_events_t *evs, const char *key) {
    static char buf[4][256];
    static int next;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s:", key);
    const char *v = line(evs, prefix);
    char *out = buf[next++ % 4];
    snprintf(out, sizeof buf[0], "%s", v + strspn(v, " \t"));
    for (size_t n = strlen(out); n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'); n--) out[n - 1] = '\0';
    return out;
}

static int run_with(const char *config, const char *const argv[], test_events_t *evs, solti_exit_t *ex) {
    return test_try_run_config("isoroot", config, argv, evs, ex);
}

static const char *creds_config =
    "{\"security\": {\"credentials\": {\"uid\": 65534, \"gid\": 65533, \"supplementaryGroups\": [100, 65532]}}}";
static const char *ns_config =
    "{\"security\": {\"namespaces\": {\"mount\": true, \"net\": true, \"ipc\": true, \"uts\": true, "
    "\"cgroup\": true}}}";

/* Not root: the spawn is refused, naming the step and what it lacks. */
static void test_refused_unprivileged(void) {
    const char *argv[] = {"cat", "/proc/self/status", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_ERR(run_with(creds_config, argv, &evs, &ex), SOLTI_ESANDBOX, "groups");
    CHECK_STR_CONTAINS(test_last_error(), "CAP_SETGID");
    CHECK_ERR(run_with("{\"security\": {\"credentials\": {\"uid\": 65534, \"gid\": 65534}}}", argv, &evs, &ex),
              SOLTI_ESANDBOX, "root or CAP_SET");
    CHECK_ERR(run_with(ns_config, argv, &evs, &ex), SOLTI_ESANDBOX, "namespaces \"unshare\"");
    CHECK_STR_CONTAINS(test_last_error(), "CAP_SYS_ADMIN");
    test_events_free(&evs);
}

static void test_credentials(void) {
    const char *argv[] = {"cat", "/proc/self/status", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(run_with(creds_config, argv, &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_STR_EQ(status(&evs, "Uid"), "65534\t65534\t65534\t65534");
    CHECK_STR_EQ(status(&evs, "Gid"), "65533\t65533\t65533\t65533");
    CHECK_STR_EQ(status(&evs, "Groups"), "100 65532");
    CHECK_STR_EQ(status(&evs, "CapEff"), "0000000000000000"); /* lost with uid 0 */
    test_events_free(&evs);

    /* An empty list clears the groups. */
    CHECK_OK(run_with("{\"security\": {\"credentials\": {\"uid\": 65534, \"gid\": 65534, "
                      "\"supplementaryGroups\": []}}}",
                      argv, &evs, &ex));
    CHECK_STR_EQ(status(&evs, "Groups"), "");
    test_events_free(&evs);

    /* A kept capability survives the change to a non-zero uid, in the
       bounding, effective and ambient sets, and nothing else does. */
    CHECK_OK(run_with("{\"security\": {\"credentials\": {\"uid\": 65534, \"gid\": 65534}, "
                      "\"dropAllCaps\": true, \"keepCaps\": [\"NET_BIND_SERVICE\"]}}",
                      argv, &evs, &ex));
    CHECK_STR_EQ(status(&evs, "Uid"), "65534\t65534\t65534\t65534");
    CHECK_STR_EQ(status(&evs, "CapBnd"), "0000000000000400");
    CHECK_STR_EQ(status(&evs, "CapEff"), "0000000000000400");
    CHECK_STR_EQ(status(&evs, "CapAmb"), "0000000000000400");
    test_events_free(&evs);

    solti_runner_t r = 0;
    CHECK_ERR(solti_runner_new("isoroot", "{\"security\": {\"credentials\": {\"gid\": 1}}}", &r), SOLTI_ESPEC,
              "security.credentials.uid is required");
    CHECK_ERR(solti_runner_new("isoroot", "{\"security\": {\"credentials\": {\"uid\": 4294967295, \"gid\": 1}}}", &r),
              SOLTI_ESPEC, "security.credentials.uid");
}

static void test_namespaces(void) {
    const char *names[] = {"mnt", "net", "ipc", "uts", "cgroup"};
    const char *argv[] = {test_helper("isoprobe"), "ns", NULL};
    test_events_t evs = {0};
    solti_exit_t ex;

    /* Without the option the child shares every namespace with the host. */
    for (int with = 0; with < 2; with++) {
        CHECK_OK(run_with(with ? ns_config : NULL, argv, &evs, &ex));
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
        for (int i = 0; i < 5; i++) {
            char path[64], host[128], prefix[32];
            snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
            ssize_t n = readlink(path, host, sizeof host - 1);
            CHECK(n > 0);
            host[n] = '\0';
            snprintf(prefix, sizeof prefix, "ns %s ", names[i]);
            const char *child = line(&evs, prefix);
            CHECK_MSG((strcmp(child, host) != 0) == with, "%s: child %s, host %s, namespaces %s", names[i], child,
                      host, with ? "asked for" : "not asked for");
        }
        test_events_free(&evs);
    }
}

int main(void) {
    if (geteuid() != 0) {
        test_refused_unprivileged();
        test_skip("test_isolation_root", "not root: credentials and namespaces need CAP_SETUID, "
                  "CAP_SETGID, CAP_SYS_ADMIN (their refusal as SOLTI_ESANDBOX was checked)");
    }
    CHECK_EQ_INT(prctl(PR_GET_DUMPABLE), 1);
    test_credentials();
    CHECK_MSG(prctl(PR_GET_DUMPABLE) == 1, "the host became undumpable when a task changed its credentials");
    test_namespaces();
    CHECK_EQ_INT(prctl(PR_GET_DUMPABLE), 1);
    printf("test_isolation_root: ok\n");
    return 0;
}
