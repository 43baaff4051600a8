/*
 * Script mode: the body travels base64-encoded, is written to a private file
 * passed to the runtime as a path with the extra args after it, and the file
 * is removed when the task is freed, or at process exit when the host never
 * frees it.
 */
#include "test.h"
#include "holdings.h"

#include <dirent.h>
#include <sys/wait.h>

/* Standard base64 with padding; malloc'd. */
static char *base64(const char *data) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(data);
    char *out = (char *)malloc((n + 2) / 3 * 4 + 1), *o = out;
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        *o++ = abc[v >> 18 & 63];
        *o++ = abc[v >> 12 & 63];
        *o++ = i + 1 < n ? abc[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? abc[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static solti_task_t script_task(solti_runner_t r, const char *runtime, const char *body,
                                const char *args_json) {
    char *b64 = base64(body);
    test_str_t s = {0};
    test_str_printf(&s, "{\"slot\": \"script\", \"kind\": {\"subprocess\": {\"mode\": {\"script\": "
                        "{\"runtime\": %s, \"body\": \"", runtime);
    test_str_cat(&s, b64);
    test_str_printf(&s, "\", \"args\": %s}}}}, \"timeout\": 20000}", args_json);
    solti_task_t t = test_task(r, s.p);
    free(s.p);
    free(b64);
    return t;
}

static void test_bash_script(solti_runner_t r) {
    const char *body = "#!/bin/bash\n"
                       "echo script-ok\n"
                       "echo \"args: $# $1|$2\"\n"
                       "echo \"path: $0\"\n"
                       "echo \"bash: ${BASH_VERSION:+yes}\"\n"
                       "echo to-stderr >&2\n";
    solti_task_t t = script_task(r, "\"bash\"", body, "[\"one\", \"two words\"]");
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_spawn_to_end(t, &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT), 4);
    CHECK_STR_EQ(test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 0)->text, "script-ok");
    CHECK_STR_EQ(test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 1)->text, "args: 2 one|two words");
    CHECK_STR_EQ(test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 3)->text, "bash: yes");
    CHECK_LINES(&evs, SOLTI_STDERR, "to-stderr");

    /* The script lives in a file while the task lives, and goes with it. */
    const char *path = test_nth(&evs, SOLTI_EVENT_LINE, SOLTI_STDOUT, 2)->text + strlen("path: ");
    CHECK_MSG(path[0] == '/', "script path \"%s\" is not absolute", path);
    CHECK_MSG(access(path, F_OK) == 0, "script file %s is gone before the task is freed", path);
    char *copy = strdup(path);
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
    CHECK_MSG(access(copy, F_OK) != 0 && errno == ENOENT,
              "script file %s still exists after solti_task_free", copy);
    free(copy);
}

static void test_script_exit_code(solti_runner_t r) {
    solti_task_t t = script_task(r, "\"bash\"", "echo failing\nexit 3\n", "[]");
    CHECK_OK(solti_task_spawn(t));
    solti_exit_t ex = test_wait(t, 20000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_FAILURE);
    CHECK_EQ_INT(ex.exit_code, 3);
    CHECK_STR_EQ(ex.reason, "process exited with non-zero code: 3");
    CHECK_OK(solti_task_free(t));
}

static void test_custom_runtime(solti_runner_t r) {
    solti_task_t t = script_task(r, "{\"custom\": {\"command\": \"sh\", \"flag\": \"-c\"}}",
                                 "echo \"custom $1\"\n", "[\"arg\"]");
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_spawn_to_end(t, &evs, &ex));
    CHECK_LINES(&evs, SOLTI_STDOUT, "custom arg");
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

static void test_python_if_present(solti_runner_t r) {
    if (system("command -v python3 >/dev/null 2>&1") != 0) {
        printf("python3 not found: python runtime not tested\n");
        return;
    }
    solti_task_t t = script_task(r, "\"python\"", "import sys\nprint('py', sys.argv[1:])\n",
                                 "[\"x\"]");
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_spawn_to_end(t, &evs, &ex));
    CHECK_LINES(&evs, SOLTI_STDOUT, "py ['x']");
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
}

/* The default: the body is in a sealed memfd the runtime reads as
   /proc/self/fd/3, and nothing is written to TMPDIR: not after the build,
   not while the script runs (it lists TMPDIR itself), not after. */
static void test_memfd_script(solti_runner_t r) {
    char dir[64];
    hold_private_tmpdir(dir, "script-memfd");
    solti_task_t t = script_task(r, "\"bash\"",
                                 "echo \"path: $0\"\nls -A \"$TMPDIR\"\necho \"args: $*\"\n", "[\"x\"]");
    CHECK_EQ_INT(hold_script_dirs(), 0);
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_spawn_to_end(t, &evs, &ex));
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    CHECK_LINES(&evs, SOLTI_STDOUT, "path: /proc/self/fd/3", "args: x"); /* ls printed nothing */
    CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_WARNING, 0), 0);        /* no fallback to a file */
    test_events_free(&evs);
    CHECK_EQ_INT(hold_script_dirs(), 0);
    CHECK_OK(solti_task_free(t));
    hold_private_tmpdir_done(dir);
    unsetenv("TMPDIR");
}

/* Child mode: build and run a script task, then exit without freeing it. */
static int leave_script(void) {
    solti_runner_t r = test_runner("script-exit", "{\"scriptStorage\": \"file\"}");
    solti_task_t t = script_task(r, "\"bash\"", "echo left", "[]");
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_spawn_to_end(t, &evs, &ex));
    test_events_free(&evs);
    exit(0); /* no solti_task_free, no solti_runner_free */
}

/* A host that exits without freeing its tasks leaves no script file behind:
   the library removes their directories at exit. The child runs with a
   private TMPDIR, which must be empty once it has exited. (A memfd needs no
   such care: the kernel frees it with the host.) */
static void test_script_removed_at_exit(void) {
    char dir[] = "/tmp/solti-script-exit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        setenv("TMPDIR", dir, 1);
        execl("/proc/self/exe", "test_script", "leave-script", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child ended with status 0x%x", status);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int left = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            fprintf(stderr, "left behind: %s/%s\n", dir, e->d_name);
            left++;
        }
    closedir(d);
    CHECK_MSG(left == 0, "%d entries left in the exited host's TMPDIR", left);
    CHECK(rmdir(dir) == 0);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "leave-script") == 0)
        return leave_script();
    test_script_removed_at_exit();
    solti_runner_t files = test_runner("script-file", "{\"scriptStorage\": \"file\"}");
    test_bash_script(files);
    CHECK_OK(solti_runner_free(files));
    solti_runner_t r = test_runner("script", NULL);
    test_memfd_script(r);
    test_script_exit_code(r);
    test_custom_runtime(r);
    test_python_if_present(r);
    CHECK_OK(solti_runner_free(r));
    printf("test_script: ok\n");
    return 0;
}
