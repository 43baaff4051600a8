/*
 * Validation: each class of invalid task spec or runner configuration gives
 * SOLTI_ESPEC with a message naming the field; unsupported kinds give
 * SOLTI_EUNSUPPORTED; valid full examples are accepted.
 */
#include "test.h"

static solti_runner_t runner;

#define CMD_KIND "\"kind\": {\"subprocess\": {\"mode\": {\"command\": {\"command\": \"true\"}}}}"

/* A spec is rejected with `code` and a message containing `needle`. */
static void reject_spec(const char *spec, int code, const char *needle, int line) {
    solti_task_t t = 0;
    int rc = solti_task_build(runner, spec, &t);
    const char *msg = test_last_error();
    if (getenv("SOLTI_TEST_VERBOSE")) printf("line %d: %s\n", line, msg);
    if (rc != code || strstr(msg, needle) == NULL)
        test_fail(__FILE__, line, "spec %s\n  gave %d (%s), message \"%s\"\n  want %d (%s) with \"%s\"",
                  spec, rc, test_code_name(rc), msg, code, test_code_name(code), needle);
    CHECK_EQ_INT(t, 0);
}
#define REJECT(spec, needle) reject_spec((spec), SOLTI_ESPEC, (needle), __LINE__)

static void reject_config(const char *config, const char *needle, int line) {
    solti_runner_t r = 0;
    int rc = solti_runner_new("config-r", config, &r);
    const char *msg = test_last_error();
    if (getenv("SOLTI_TEST_VERBOSE")) printf("line %d: %s\n", line, msg);
    if (rc != SOLTI_ESPEC || strstr(msg, needle) == NULL)
        test_fail(__FILE__, line, "config %s\n  gave %d (%s), message \"%s\"\n  want SOLTI_ESPEC with \"%s\"",
                  config, rc, test_code_name(rc), msg, needle);
    CHECK_EQ_INT(r, 0);
}
#define REJECT_CONFIG(config, needle) reject_config((config), (needle), __LINE__)

static void test_malformed_json(void) {
    REJECT("", "invalid specification");
    REJECT("{", "invalid specification");
    REJECT("[1, 2]", "invalid specification");
    REJECT("{\"slot\": \"a\", " CMD_KIND ", \"timeout\": 100} trailing", "invalid specification");
    REJECT("{\"slot\": 5, " CMD_KIND ", \"timeout\": 100}", "slot");
    REJECT("{\"slot\": \"a\", " CMD_KIND ", \"timeout\": \"soon\"}", "timeout");
}

static void test_slot(void) {
    REJECT("{\"slot\": \"\", " CMD_KIND ", \"timeout\": 100}", "slot must not be empty");
    REJECT("{\"slot\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", " CMD_KIND
           ", \"timeout\": 100}",
           "slot length 70 exceeds max 64");
    REJECT("{\"slot\": \".\", " CMD_KIND ", \"timeout\": 100}", "slot cannot be '.' or '..'");
    REJECT("{\"slot\": \"..\", " CMD_KIND ", \"timeout\": 100}", "slot cannot be '.' or '..'");
    REJECT("{\"slot\": \"abc/d\", " CMD_KIND ", \"timeout\": 100}",
           "slot contains forbidden byte 0x2f at position 3 (allowed: [A-Za-z0-9._-])");
    REJECT("{" CMD_KIND ", \"timeout\": 100}", "slot");
}

static void test_timeout(void) {
    REJECT("{\"slot\": \"a\", " CMD_KIND ", \"timeout\": 0}", "timeout must be greater than zero");
    REJECT("{\"slot\": \"a\", " CMD_KIND "}", "timeout");
    REJECT("{\"slot\": \"a\", " CMD_KIND ", \"timeout\": -5}", "timeout");
}

static void test_command(void) {
    REJECT("{\"slot\": \"a\", \"kind\": {\"subprocess\": {\"mode\": {\"command\": {\"command\": \"  \"}}}},"
           " \"timeout\": 100}",
           "subprocess command cannot be empty");
    REJECT("{\"slot\": \"a\", \"kind\": {\"subprocess\": {\"mode\": {\"command\": {\"command\": \"\"}}}},"
           " \"timeout\": 100}",
           "subprocess command cannot be empty");
    REJECT("{\"slot\": \"a\", \"kind\": {\"subprocess\": {}}, \"timeout\": 100}", "mode");
}

#define SCRIPT(runtime, body)                                                            \
    "{\"slot\": \"a\", \"kind\": {\"subprocess\": {\"mode\": {\"script\": {\"runtime\": " runtime \
    ", \"body\": \"" body "\"}}}}, \"timeout\": 100}"

static void test_script(void) {
    REJECT(SCRIPT("\"bash\"", ""), "script body cannot be empty");
    REJECT(SCRIPT("\"bash\"", "!!!!"), "invalid base64 body");
    REJECT(SCRIPT("\"bash\"", "ZWNobyBoaQ"), "invalid base64 body"); /* missing padding */
    REJECT(SCRIPT("\"bash\"", "ZWNo\\nbyBoaQ=="), "invalid base64 body");  /* not strict */
    REJECT(SCRIPT("\"bash\"", "//79"), "script body is not valid UTF-8");
    REJECT(SCRIPT("\"cobol\"", "ZWNobyBoaQ=="), "runtime");
    REJECT(SCRIPT("{\"custom\": {\"command\": \"\", \"flag\": \"-c\"}}", "ZWNobyBoaQ=="),
           "custom command");
    REJECT(SCRIPT("{\"custom\": {\"command\": \"sh\", \"flag\": \"\"}}", "ZWNobyBoaQ=="),
           "custom flag");

    /* 2 MiB + 1 decoded bytes ("AAA..."): over the limit by one. */
    size_t decoded = 2097152 + 1, encoded = (decoded + 2) / 3 * 4;
    test_str_t s = {0};
    test_str_cat(&s, "{\"slot\": \"a\", \"kind\": {\"subprocess\": {\"mode\": {\"script\": "
                     "{\"runtime\": \"bash\", \"body\": \"");
    char *body = (char *)malloc(encoded + 1);
    for (size_t i = 0; i < encoded; i += 4) memcpy(body + i, "QUFB", 4); /* "AAA" */
    body[encoded] = '\0';
    test_str_cat(&s, body);
    test_str_cat(&s, "\"}}}}, \"timeout\": 100}");
    REJECT(s.p, "maximum allowed is 2097152 bytes");
    free(body);
    free(s.p);

    /* Valid scripts, with each runtime, are accepted. */
    const char *ok[] = {SCRIPT("\"bash\"", "ZWNobyBoaQ=="), SCRIPT("\"python\"", "cHJpbnQoMSk="),
                        SCRIPT("\"node\"", "MQ=="),
                        SCRIPT("{\"custom\": {\"command\": \"sh\", \"flag\": \"-c\"}}", "ZWNobyBoaQ==")};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        solti_task_t t = test_task(runner, ok[i]);
        CHECK_OK(solti_task_free(t));
    }
}

#define WITH_TOP(extra) "{\"slot\": \"a\", " CMD_KIND ", \"timeout\": 100, " extra "}"

static void test_backoff_restart_admission(void) {
    REJECT(WITH_TOP("\"backoff\": {\"jitter\": \"none\", \"firstMs\": 0, \"maxMs\": 10, \"factor\": 2.0}"),
           "backoff first_ms must be greater than zero");
    REJECT(WITH_TOP("\"backoff\": {\"jitter\": \"none\", \"firstMs\": 100, \"maxMs\": 10, \"factor\": 2.0}"),
           "backoff max_ms must be >= first_ms");
    REJECT(WITH_TOP("\"backoff\": {\"jitter\": \"none\", \"firstMs\": 10, \"maxMs\": 100, \"factor\": 0.5}"),
           "backoff factor must be finite and >= 1.0");
    REJECT(WITH_TOP("\"backoff\": {\"jitter\": \"sometimes\", \"firstMs\": 10, \"maxMs\": 100, \"factor\": 2.0}"),
           "jitter");
    REJECT(WITH_TOP("\"restart\": {\"type\": \"sometimes\"}"), "restart");
    REJECT(WITH_TOP("\"admission\": \"whenever\""), "admission");
}

#define WITH_SUB(extra)                                                                  \
    "{\"slot\": \"a\", \"kind\": {\"subprocess\": {\"mode\": {\"command\": {\"command\": \"true\"}}, " \
    extra "}}, \"timeout\": 100}"

static void test_env(void) {
    REJECT(WITH_SUB("\"env\": [{\"key\": \"\", \"value\": \"v\"}]"), "env[0].key");
    REJECT(WITH_SUB("\"env\": [{\"key\": \"OK\", \"value\": \"v\"}, {\"key\": \"A=B\", \"value\": \"v\"}]"),
           "env[1].key");
    REJECT(WITH_SUB("\"env\": [{\"key\": \"A\\u0000B\", \"value\": \"v\"}]"), "env[0].key");
    REJECT(WITH_SUB("\"env\": [{\"key\": \"A\", \"value\": \"v\\u0000w\"}]"), "env[0].value");
    REJECT(WITH_SUB("\"stdin\": \"keyboard\""), "stdin");
}

static void test_unknown_fields(void) {
    REJECT(WITH_TOP("\"timeoutMss\": 5"), "timeoutMss");
    REJECT(WITH_SUB("\"failOnNonzero\": false"), "failOnNonzero");
    REJECT("{\"slot\": \"a\", \"kind\": {\"subprocess\": {\"mode\": {\"command\": {\"command\": \"true\", "
           "\"argz\": []}}}}, \"timeout\": 100}",
           "argz");
    REJECT(WITH_TOP("\"backoff\": {\"jitter\": \"none\", \"firstMs\": 1, \"maxMs\": 10, \"factor\": 2.0, "
                    "\"capMs\": 3}"),
           "capMs");
}

static void test_unsupported_kinds(void) {
    reject_spec("{\"slot\": \"a\", \"kind\": \"embedded\", \"timeout\": 100}", SOLTI_EUNSUPPORTED,
                "unsupported task kind for runner 'spec-r': embedded", __LINE__);
    reject_spec("{\"slot\": \"a\", \"kind\": {\"wasm\": {}}, \"timeout\": 100}", SOLTI_EUNSUPPORTED,
                "unsupported task kind for runner 'spec-r'", __LINE__);
    reject_spec("{\"slot\": \"a\", \"kind\": {\"container\": {}}, \"timeout\": 100}",
                SOLTI_EUNSUPPORTED, "unsupported task kind for runner 'spec-r'", __LINE__);
}

static void test_valid_full_spec(void) {
    /* SPEC's example, every field: builds (not spawned). */
    const char *spec =
        "{\"slot\": \"nightly-backup\", \"kind\": {\"subprocess\": {"
        "\"mode\": {\"command\": {\"command\": \"tar\", \"args\": [\"-czf\", \"/tmp/x.tgz\", \"/etc\"]}},"
        "\"env\": [{\"key\": \"LANG\", \"value\": \"C\"}], \"cwd\": \"/tmp\", \"failOnNonZero\": true,"
        "\"stdin\": \"null\"}},"
        "\"timeout\": 60000, \"restart\": {\"type\": \"never\"},"
        "\"backoff\": {\"jitter\": \"full\", \"firstMs\": 1000, \"maxMs\": 30000, \"factor\": 2.0},"
        "\"admission\": \"dropIfRunning\", \"maxRetries\": 3, \"killGraceMs\": 100}";
    solti_task_t t = test_task(runner, spec);
    char id[128];
    int n = CHECK_OK(solti_task_id(t, id, sizeof id));
    CHECK_EQ_INT((size_t)n, strlen(id));
    CHECK(strncmp(id, "spec-r-nightly-backup-", 22) == 0);
    CHECK_OK(solti_task_free(t));

    const char *restarts[] = {"{\"type\": \"onFailure\"}", "{\"type\": \"always\"}",
                              "{\"type\": \"always\", \"intervalMs\": 50}"};
    for (size_t i = 0; i < 3; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, WITH_TOP("\"restart\": %s, \"admission\": \"queue\""), restarts[i]);
        CHECK_OK(solti_task_free(test_task(runner, buf)));
    }
    CHECK_OK(solti_task_free(test_task(runner, WITH_TOP("\"admission\": \"replace\""))));
    const char *jitters[] = {"none", "full", "equal", "decorrelated"};
    for (size_t i = 0; i < 4; i++) {
        char buf[512];
        snprintf(buf, sizeof buf,
                 WITH_TOP("\"backoff\": {\"jitter\": \"%s\", \"firstMs\": 5, \"maxMs\": 5, \"factor\": 1.0}"),
                 jitters[i]);
        CHECK_OK(solti_task_free(test_task(runner, buf)));
    }
}

static void reject_name(const char *name, const char *needle, int line) {
    solti_runner_t r = 0;
    int rc = solti_runner_new(name, NULL, &r);
    const char *msg = test_last_error();
    if (rc != SOLTI_ESPEC || strstr(msg, needle) == NULL)
        test_fail(__FILE__, line, "runner name \"%s\" gave %d (%s), message \"%s\"; want SOLTI_ESPEC with \"%s\"",
                  name, rc, test_code_name(rc), msg, needle);
    CHECK_EQ_INT(r, 0);
}

static void test_runner_names(void) {
    reject_name("", "runner name must not be empty", __LINE__);
    reject_name("my runner", "runner name contains forbidden byte 0x20 at position 2", __LINE__);
    reject_name("..", "runner name cannot be '.' or '..'", __LINE__);
    reject_name("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                "runner name length 65 exceeds max 64", __LINE__);
    CHECK_OK(solti_runner_free(test_runner("a.B_c-9", NULL)));
}

static void test_runner_configs(void) {
    REJECT_CONFIG("{", "invalid runner configuration");
    REJECT_CONFIG("[]", "invalid runner configuration");
    REJECT_CONFIG("{\"bogus\": 1}", "bogus");
    REJECT_CONFIG("{\"cgroups\": {\"cpu\": {\"quota\": 50000, \"period\": 0}}}",
                  "cgroups.cpu.period cannot be zero");
    REJECT_CONFIG("{\"cgroups\": {\"cpu\": {\"quota\": 0, \"period\": 100000}}}",
                  "cgroups.cpu.quota cannot be zero (process would get no CPU)");
    REJECT_CONFIG("{\"cgroups\": {\"memory\": 0}}", "cgroups.memory cannot be zero");
    REJECT_CONFIG("{\"cgroups\": {\"pids\": 0}}", "cgroups.pids cannot be zero");
    REJECT_CONFIG("{\"rlimits\": {\"maxFileSizeBytes\": 0}}", "rlimits.max_file_size_bytes cannot be zero");
    REJECT_CONFIG("{\"rlimits\": {\"maxOpenFiles\": 0}}", "max_open_files");
    REJECT_CONFIG("{\"log\": {\"maxLineLength\": 0}}", "log_config.max_line_length cannot be zero");
    REJECT_CONFIG("{\"log\": {\"maxLineBytes\": 0}}", "max_line_bytes");
    REJECT_CONFIG("{\"output\": {\"capacity\": 0}}", "output.capacity");
    REJECT_CONFIG("{\"output\": {\"maxBytes\": 0}}", "output.max_bytes");
    REJECT_CONFIG("{\"output\": {\"whenFull\": \"sometimes\"}}", "whenFull");
    REJECT_CONFIG("{\"security\": {\"keepCaps\": [\"NET_BIND_SERVICE\"]}}", "keepCaps");
    REJECT_CONFIG("{\"security\": {\"dropAllCaps\": true, \"keepCaps\": [\"NOT_A_CAP\"]}}", "NOT_A_CAP");
    REJECT_CONFIG("{\"env\": [{\"key\": \"A=B\", \"value\": \"x\"}]}", "env[0].key");

    /* SPEC's example configuration is valid (nothing is applied until a spawn). */
    const char *full =
        "{\"env\": [{\"key\": \"PATH\", \"value\": \"/usr/bin:/bin\"}],"
        "\"rlimits\": {\"maxOpenFiles\": 256, \"maxFileSizeBytes\": 1048576, \"disableCoreDumps\": true},"
        "\"cgroups\": {\"cpu\": {\"quota\": 50000, \"period\": 100000}, \"memory\": 268435456,"
        " \"pids\": 64, \"failOnError\": true},"
        "\"security\": {\"dropAllCaps\": true, \"keepCaps\": [\"NET_BIND_SERVICE\", \"CHOWN\", \"SETFCAP\"],"
        " \"noNewPrivs\": true, \"failOnCapError\": true},"
        "\"log\": {\"maxLineLength\": 4096, \"maxLineBytes\": 65536},"
        "\"output\": {\"capacity\": 1024, \"maxBytes\": 4194304, \"whenFull\": \"dropOldest\"},"
        "\"drainGraceMs\": 2000}";
    solti_runner_t r = test_runner("config-full", full);
    CHECK_OK(solti_runner_free(r));
    CHECK_OK(solti_runner_free(test_runner("config-empty", "{}")));
    CHECK_OK(solti_runner_free(test_runner("config-block", "{\"output\": {\"whenFull\": \"block\"}}")));
}

static void test_failed_build_consumes_no_run_number(void) {
    /* Two good builds around failures: run numbers are consecutive. */
    char a[128], b[128];
    solti_task_t t1 = test_task(runner, "{\"slot\": \"seq\", " CMD_KIND ", \"timeout\": 100}");
    REJECT(SCRIPT("\"bash\"", "!!!!"), "invalid base64 body");
    REJECT("{\"slot\": \"seq\", " CMD_KIND ", \"timeout\": 0}", "timeout");
    solti_task_t t2 = test_task(runner, "{\"slot\": \"seq\", " CMD_KIND ", \"timeout\": 100}");
    CHECK_OK(solti_task_id(t1, a, sizeof a));
    CHECK_OK(solti_task_id(t2, b, sizeof b));
    CHECK(strcmp(a, b) != 0);
    CHECK(strncmp(a, "spec-r-seq-", 11) == 0 && strncmp(b, "spec-r-seq-", 11) == 0);
    long na = strtol(a + 11, NULL, 10), nb = strtol(b + 11, NULL, 10);
    CHECK_MSG(nb == na + 1, "run ids %s then %s: a failed build used a number", a, b);
    CHECK_OK(solti_task_free(t1));
    CHECK_OK(solti_task_free(t2));
}

/* Upstream 0.0.2's spelling: "timeout", labels (read back with
 * solti_task_labels) and a runnerSelector matched against the runner's
 * labels (runner-name = its name). */
static void test_upstream_format(void) {
    solti_task_t t = 0;
    CHECK_OK(solti_task_build(runner, "{\"slot\": \"up\", \"timeout\": 1000, " CMD_KIND ", "
             "\"labels\": {\"tier\": \"prod\", \"a&b\": \"<x>\"}, "
             "\"runnerSelector\": {\"matchLabels\": {\"runner-name\": \"spec-r\"}}}", &t));
    char buf[128];
    const char *want = "{\"a&b\":\"<x>\",\"tier\":\"prod\"}";
    CHECK_EQ_INT(solti_task_labels(t, NULL, 0), (int)strlen(want));
    CHECK_EQ_INT(solti_task_labels(t, buf, sizeof buf), (int)strlen(want));
    CHECK_STR_EQ(buf, want);
    CHECK_OK(solti_task_free(t));
    REJECT("{\"slot\": \"up\", \"timeout\": 1000, " CMD_KIND ", "
           "\"runnerSelector\": {\"matchExpressions\": [{\"key\": \"gpu\", \"operator\": \"Exists\"}]}}",
           "runnerSelector term matchExpressions[0] gpu Exists does not match runner \"spec-r\" with labels {runner-name=spec-r}");
    REJECT("{\"slot\": \"up\", \"timeout\": 1000, \"timeoutMs\": 1000, " CMD_KIND "}",
           "\"timeout\" and \"timeoutMs\" are the same field");
    REJECT("{\"slot\": \"up\", \"timeout\": 1000, \"labels\": {\"a\": \"\xff\"}, " CMD_KIND "}",
           "labels.a: invalid UTF-8 at byte");
}

int main(void) {
    runner = test_runner("spec-r", NULL);
    test_upstream_format();
    test_malformed_json();
    test_slot();
    test_timeout();
    test_command();
    test_script();
    test_backoff_restart_admission();
    test_env();
    test_unknown_fields();
    test_unsupported_kinds();
    test_valid_full_spec();
    test_runner_names();
    test_runner_configs();
    test_failed_build_consumes_no_run_number();
    CHECK_OK(solti_runner_free(runner));
    printf("test_spec: ok\n");
    return 0;
}
