/*
 * bench_tree.h: the cancel benchmarks' view of a `tree` process (see
 * helpers/tree.c): its pids, read from its output, each held through a pidfd
 * so "gone" is exact and immune to pid reuse.
 */
#ifndef SOLTI_BENCH_TREE_H
#define SOLTI_BENCH_TREE_H

#include <poll.h>
#include <sys/syscall.h>

#define BENCH_TREE_MAX 1024

typedef struct bench_tree {
    int pidfd[BENCH_TREE_MAX];
    int n;
    int ready; /* the tree printed "ready" */
    char partial[64];
    size_t partial_len;
} bench_tree_t;

static inline void bench_tree_add(bench_tree_t *t, pid_t pid) {
    if (t->n == BENCH_TREE_MAX) bench_die("too many processes in the tree");
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) bench_die("pidfd_open %d: %s", (int)pid, strerror(errno));
    t->pidfd[t->n++] = fd;
}

/* One line of the tree's output: a child's pid, or "ready". */
static inline void bench_tree_line(bench_tree_t *t, const char *data, size_t len) {
    char line[64];
    if (len >= sizeof line) bench_die("unexpected line from tree");
    memcpy(line, data, len);
    line[len] = '\0';
    if (strcmp(line, "ready") == 0) t->ready = 1;
    else bench_tree_add(t, (pid_t)atoi(line));
}

/* Waits until every process of the tree has exited (its pidfd polls
   readable); fails after 10 s. */
static inline void bench_tree_wait_gone(bench_tree_t *t) {
    struct pollfd fds[BENCH_TREE_MAX];
    for (int i = 0; i < t->n; i++) fds[i] = (struct pollfd){t->pidfd[i], POLLIN, 0};
    int left = t->n;
    double deadline = bench_now() + 10;
    while (left > 0) {
        int rc = poll(fds, (nfds_t)t->n, 100);
        if (rc < 0 && errno != EINTR) bench_die("poll: %s", strerror(errno));
        for (int i = 0; i < t->n && rc > 0; i++) {
            if (fds[i].fd >= 0 && fds[i].revents != 0) {
                fds[i].fd = -1; /* poll ignores negative fds */
                left--;
            }
        }
        if (bench_now() > deadline) bench_die("%d processes still alive after 10 s", left);
    }
}

static inline void bench_tree_close(bench_tree_t *t) {
    for (int i = 0; i < t->n; i++) close(t->pidfd[i]);
    t->n = 0;
}

#endif
