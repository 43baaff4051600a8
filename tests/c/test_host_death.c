/*
 * The tree dies with its host.  A host program (helpers/lifetime_host)
 * spawns a task whose tree has a background child, a setsid child with a
 * child of its own, and a double-forked daemon; then the host is killed with
 * SIGKILL, or returns from main without freeing anything.  Within 1 s every
 * process of the tree is gone and, where the task had cgroups (root with the
 * pids controller), no task cgroup directory is left.  The legs without a
 * cgroup run for any user.
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test.h"

#define TREE_LINES 7 /* sh, sleep 777, the setsid sh (twice), sleep 778, sleep 779, ready */

static const char script[] =
    "F=$1\n"
    "echo $$ >> $F\n"
    "sleep 777 & echo $! >> $F\n"
    "setsid sh -c 'echo $$ >> \"$0\"; sleep 778 & echo $! >> \"$0\"; wait' \"$F\" &\n"
    "echo $! >> $F\n"
    "( sleep 779 </dev/null >/dev/null 2>&1 & echo $! >> $F )\n"
    "while [ $(wc -l < $F) -lt 6 ]; do sleep 0.01; done\n"
    "echo ready >> $F\n"
    "wait\n";

static char dir[256], script_path[300], pids_path[300];

/* Reads the pid lines of FILE once it says "ready"; returns how many. */
static int read_tree(pid_t *pids, int max, int timeout_ms) {
    int64_t deadline = test_now_ms() + timeout_ms;
    while (test_now_ms() < deadline) {
        FILE *f = fopen(pids_path, "r");
        int n = 0, ready = 0;
        char line[64];
        if (f) {
            while (fgets(line, sizeof line, f)) {
                if (strncmp(line, "ready", 5) == 0) ready = 1;
                else if (n < max) pids[n++] = (pid_t)atoi(line);
            }
            fclose(f);
        }
        if (ready) return n;
        test_sleep_ms(5);
    }
    test_fail(__FILE__, __LINE__, "the task's tree never said ready");
    return 0;
}

/* The mount point of a cgroup hierarchy: v2 when controller is "", else the
 * v1 hierarchy with that controller.  "" if none. */
static void cgroup_mount(const char *controller, char *out, size_t len) {
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[4096];
    out[0] = 0;
    CHECK(f != NULL);
    while (fgets(line, sizeof line, f)) {
        char *sep = strstr(line, " - ");
        char mnt[1024], fstype[64], source[256], opts[1024];
        if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1) continue;
        if (sscanf(sep + 3, "%63s %255s %1023s", fstype, source, opts) != 3) continue;
        if (*controller == 0 && strcmp(fstype, "cgroup2") == 0) {
            snprintf(out, len, "%s", mnt);
            break;
        }
        if (*controller && strcmp(fstype, "cgroup") == 0) {
            char *tok, *save = NULL;
            for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                if (strcmp(tok, controller) == 0) {
                    snprintf(out, len, "%s", mnt);
                    break;
                }
            if (out[0]) break;
        }
    }
    fclose(f);
}

/* The task cgroup directories pid is in (those under a solti-exec parent). */
static int task_cgroups(pid_t pid, char dirs[][1024], int max) {
    char path[64], line[2048];
    int n = 0;
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    while (fgets(line, sizeof line, f) && n < max) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        char mnt[1024];
        if (!c2 || !strstr(c2, "/solti-exec/")) continue;
        *c2 = 0;
        c2[1 + strcspn(c2 + 1, "\n")] = 0;
        cgroup_mount(c1 + 1, mnt, sizeof mnt);
        if (!mnt[0]) continue;
        snprintf(dirs[n++], 1024, "%s%s", mnt, c2 + 1);
    }
    fclose(f);
    return n;
}

static int dir_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void leg(const char *mode, const char *config, int want_cgroups) {
    pid_t pids[16];
    char dirs[8][1024];
    int out[2], in[2];
    unlink(pids_path);
    CHECK(pipe(out) == 0);
    CHECK(pipe(in) == 0); /* the "exit" host returns once this closes */
    pid_t host = fork();
    CHECK(host >= 0);
    if (host == 0) {
        dup2(out[1], 1);
        dup2(in[0], 0);
        close(out[0]);
        close(out[1]);
        close(in[0]);
        close(in[1]);
        execl(test_helper("lifetime_host"), "lifetime_host", mode, config, script_path, pids_path,
              (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    char word[16] = {0};
    CHECK_MSG(read(out[0], word, sizeof word - 1) > 0 && strncmp(word, "spawned", 7) == 0,
              "the host did not spawn its task");
    close(out[0]);

    int n = read_tree(pids, 16, 10000);
    CHECK_EQ_INT(n, TREE_LINES - 1);
    for (int i = 0; i < n; i++) CHECK_MSG(pid_alive(pids[i]), "tree process %d alive", pids[i]);
    int nd = task_cgroups(pids[1], dirs, 8);
    if (want_cgroups) CHECK_MSG(nd > 0, "the task has cgroups");
    for (int i = 0; i < nd; i++) CHECK_MSG(dir_exists(dirs[i]), "%s exists", dirs[i]);

    if (strcmp(mode, "wait") == 0) CHECK(kill(host, SIGKILL) == 0);
    close(in[1]); /* the tree was seen alive: the "exit" host may return now */
    int st;
    CHECK(waitpid(host, &st, 0) == host);
    int64_t died = test_now_ms();
    for (int i = 0; i < n; i++)
        CHECK_MSG(test_wait_pid_gone(pids[i], 1000 - (int)(test_now_ms() - died)),
                  "%s: tree process %d outlived its host by 1 s", mode, pids[i]);
    for (int i = 0; i < nd; i++) {
        while (dir_exists(dirs[i]) && test_now_ms() - died < 1000) test_sleep_ms(5);
        CHECK_MSG(!dir_exists(dirs[i]), "%s: cgroup %s outlived its host by 1 s", mode, dirs[i]);
    }
    printf("ok   %s, %s: %d processes and %d cgroups gone %lld ms after the host\n", mode,
           *config ? config : "default config", n, nd, (long long)(test_now_ms() - died));
}

int main(void) {
    snprintf(dir, sizeof dir, "%s/solti-host-death-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(script_path, sizeof script_path, "%s/tree.sh", dir);
    snprintf(pids_path, sizeof pids_path, "%s/pids", dir);
    FILE *f = fopen(script_path, "w");
    CHECK(f != NULL);
    fputs(script, f);
    fclose(f);

    leg("wait", "{}", 0);
    leg("exit", "{}", 0);
    char pids_mnt[1024];
    cgroup_mount("pids", pids_mnt, sizeof pids_mnt);
    if (geteuid() == 0 && (pids_mnt[0] || access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)) {
        leg("wait", "{\"cgroups\":{\"pids\":100}}", 1);
        leg("exit", "{\"cgroups\":{\"pids\":100}}", 1);
    } else {
        printf("skip the cgroup legs: they need root and the pids controller\n");
    }
    unlink(pids_path);
    unlink(script_path);
    rmdir(dir);
    printf("test_host_death: ok\n");
    return 0;
}
