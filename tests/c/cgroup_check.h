/*
 * cgroup_check.h: what the cgroup tests share, on top of test.h: saying
 * what a test needs and skipping (CTest's code 77) with the reason when the
 * host lacks it; reading the cgroup mounts from /proc/self/mountinfo the way
 * the library does; finding a task's cgroup directories by name; checking
 * that none is left behind.
 */
#ifndef SOLTI_CGROUP_CHECK_H
#define SOLTI_CGROUP_CHECK_H

#include <ftw.h>

#include "test.h"

#define TEST_SKIP_CODE 77 /* SKIP_RETURN_CODE of the cgroup tests in CTest */

/* Says why the test cannot run here and ends it as skipped. */
static inline void test_skip(const char *test, const char *fmt, ...) {
    va_list ap;
    printf("%s: SKIPPED: ", test);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    exit(TEST_SKIP_CODE);
}

/* ---- The cgroup mounts ------------------------------------------------------ */

typedef struct cg_mount {
    char point[1024];
    char options[512]; /* v1: the super options (rw,memory); v2: "" */
    int v2;
} cg_mount_t;

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static inline void cg_unescape(char *s) {
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* Fills out[] with the cgroup and cgroup2 mounts; returns how many. */
static inline int cg_mounts(cg_mount_t *out, int max) {
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[4096];
    int n = 0;
    if (f == NULL) return 0;
    while (n < max && fgets(line, sizeof line, f) != NULL) {
        char point[1024], fstype[64], source[256], options[512];
        char *sep = strstr(line, " - ");
        if (sep == NULL) continue;
        if (sscanf(line, "%*s %*s %*s %*s %1023s", point) != 1) continue;
        if (sscanf(sep + 3, "%63s %255s %511s", fstype, source, options) != 3) continue;
        int v2 = strcmp(fstype, "cgroup2") == 0;
        if (!v2 && strcmp(fstype, "cgroup") != 0) continue;
        cg_unescape(point);
        snprintf(out[n].point, sizeof out[n].point, "%s", point);
        snprintf(out[n].options, sizeof out[n].options, "%s", v2 ? "" : options);
        out[n].v2 = v2;
        n++;
    }
    fclose(f);
    return n;
}

/* 1 if the comma-separated list has word. */
static inline int cg_has_option(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0')) return 1;
    return 0;
}

/* The cgroup v2 mount point, or NULL. */
static inline const char *cg_v2_mount(void) {
    static cg_mount_t m[64];
    int n = cg_mounts(m, 64);
    for (int i = 0; i < n; i++)
        if (m[i].v2) return m[i].point;
    return NULL;
}

/* 1 if the v2 hierarchy mounted at mount offers controller (its root's
   cgroup.controllers lists it). */
static inline int cg_v2_offers(const char *mount, const char *controller) {
    char path[1100], list[512] = " ", word[80];
    snprintf(path, sizeof path, "%.1000s/cgroup.controllers", mount);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(list + 1, sizeof list - 2, f) == NULL) list[1] = '\0';
        fclose(f);
    }
    list[strcspn(list, "\n")] = '\0';
    strcat(list, " ");
    snprintf(word, sizeof word, " %s ", controller);
    return strstr(list, word) != NULL;
}

/*
 * Whether the library can enforce `controller` here, by the host's own
 * account: root (to create cgroups), and the controller in the v2 root's
 * cgroup.controllers or a v1 hierarchy of it mounted.  Writes what it found
 * into why.
 */
static inline int host_has_controller(const char *controller, char *why, size_t len) {
    cg_mount_t m[64];
    int n = cg_mounts(m, 64);
    if (geteuid() != 0) {
        snprintf(why, len, "not root (a delegated cgroup is not set up for the tests)");
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (m[i].v2 && cg_v2_offers(m[i].point, controller)) {
            snprintf(why, len, "v2 controller %s at %.400s", controller, m[i].point);
            return 1;
        }
    }
    for (int i = 0; i < n; i++) {
        if (!m[i].v2 && cg_has_option(m[i].options, controller)) {
            snprintf(why, len, "v1 %s hierarchy at %.400s (v2 lacks it)", controller, m[i].point);
            return 1;
        }
    }
    snprintf(why, len, "no %s controller: not in cgroup v2's cgroup.controllers and no v1 hierarchy mounted",
             controller);
    return 0;
}

/* Skips the test unless the host can enforce controller. */
static inline void need_controller(const char *test, const char *controller) {
    char why[512];
    if (!host_has_controller(controller, why, sizeof why))
        test_skip(test, "needs root and the %s cgroup controller (v2 or v1): %s", controller, why);
    printf("%s: uses the %s controller: %s\n", test, controller, why);
}

/* Skips the test unless the library can make a tracking cgroup (root and a
   cgroup v2 mount). */
static inline void need_tracking(const char *test) {
    const char *v2 = cg_v2_mount();
    if (geteuid() != 0) test_skip(test, "needs root to create the task's cgroup");
    if (v2 == NULL) test_skip(test, "needs a cgroup v2 mount for the task's tracking cgroup");
    printf("%s: tracking cgroups under the v2 mount %s\n", test, v2);
}

/* ---- Finding cgroup directories -------------------------------------------- */

/* Directories, in every cgroup hierarchy, whose name starts with a prefix. */
typedef struct cg_found {
    char dirs[32][1100];
    int n;
} cg_found_t;

static _Thread_local const char *cg_scan_prefix_;
static _Thread_local cg_found_t *cg_scan_out_;

static inline int cg_scan_visit_(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    if (type == FTW_D && strncmp(path + ftw->base, cg_scan_prefix_, strlen(cg_scan_prefix_)) == 0 &&
        cg_scan_out_->n < 32)
        snprintf(cg_scan_out_->dirs[cg_scan_out_->n++], sizeof cg_scan_out_->dirs[0], "%s", path);
    return 0;
}

/* Fills found with the cgroup directories named prefix... in any hierarchy. */
static inline void cg_find(const char *prefix, cg_found_t *found) {
    cg_mount_t m[64];
    int n = cg_mounts(m, 64);
    found->n = 0;
    cg_scan_prefix_ = prefix;
    cg_scan_out_ = found;
    for (int i = 0; i < n; i++) nftw(m[i].point, cg_scan_visit_, 16, FTW_PHYS);
    cg_scan_out_ = NULL;
}

/* Fails the test if a cgroup directory named prefix... is left anywhere. */
static inline void check_no_cgroup_left(const char *prefix) {
    cg_found_t found;
    cg_find(prefix, &found);
    for (int i = 0; i < found.n; i++) fprintf(stderr, "left behind: %s\n", found.dirs[i]);
    CHECK_MSG(found.n == 0, "%d cgroup directories of the library named %s... remain", found.n, prefix);
}

/* Reads the first integer in dir/file, or -1. */
static inline long long cg_read_int(const char *dir, const char *file) {
    char path[1200];
    long long v = -1;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    if (fscanf(f, "%lld", &v) != 1) v = -1;
    fclose(f);
    return v;
}

/* ---- Events ------------------------------------------------------------------ */

/* Polls until a stdout line starting with prefix arrives (appending every
   event read to evs); returns that line's text after the prefix. */
static inline const char *wait_line(solti_task_t t, uint64_t *cursor, test_events_t *evs,
                                    const char *prefix, int timeout_ms) {
    int64_t deadline = test_now_ms() + timeout_ms;
    size_t seen = 0;
    for (;;) {
        for (; seen < evs->n; seen++) {
            const test_event_t *e = &evs->v[seen];
            if (e->kind == SOLTI_EVENT_LINE && e->stream == SOLTI_STDOUT &&
                strncmp(e->text, prefix, strlen(prefix)) == 0)
                return e->text + strlen(prefix);
        }
        if (test_now_ms() > deadline) {
            test_events_dump(evs);
            FAIL("no \"%s\" line within %d ms", prefix, timeout_ms);
        }
        char buf[8192];
        solti_event_t batch[16];
        size_t count = 0;
        int rc = solti_task_poll(t, cursor, batch, 16, buf, sizeof buf, 200, &count);
        if (rc == SOLTI_EOF) {
            test_events_dump(evs);
            FAIL("the task ended before printing \"%s\"", prefix);
        }
        CHECK_OK(rc);
        for (size_t i = 0; i < count; i++) test_events_push(evs, &batch[i]);
    }
}

#endif /* SOLTI_CGROUP_CHECK_H */
