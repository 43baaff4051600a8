/*
 * A host with 500 descriptors open without close-on-exec (files, pipes,
 * sockets, an eventfd, some at high numbers): every child sees only 0, 1 and
 * 2, also when many spawn at once, and the host's descriptors are left as
 * they were (open, and still without close-on-exec). Nothing the library
 * starts holds the host's descriptors either: a pipe the host closes while
 * tasks run reaches EOF at once, not when the tasks end.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "test.h"
#include "holdings.h"

#define HOST_FDS 500

static solti_runner_t runner;
static int host_fds[HOST_FDS + 8];
static int n_host_fds;

static void add(int fd) {
    CHECK_MSG(fd >= 0, "opening a host descriptor: %s", strerror(errno));
    CHECK_MSG((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0, "fd %d is close-on-exec", fd);
    host_fds[n_host_fds++] = fd;
}

static void open_host_fds(void) {
    int devnull = open("/dev/null", O_RDWR);
    add(devnull);
    while (n_host_fds < HOST_FDS - 12) {
        int p[2];
        CHECK(pipe(p) == 0);
        add(p[0]);
        add(p[1]);
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        add(sv[0]);
        add(sv[1]);
        add(eventfd(0, 0));
        add(open("/proc/self/status", O_RDONLY));
        add(dup(devnull));
    }
    /* A few at high numbers, where a close loop up to some bound would miss
       them (the soft limit allows; dup2 does not set close-on-exec). */
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    int top = rl.rlim_cur > 4096 ? 4000 : (int)rl.rlim_cur - 1;
    for (int fd = top; fd > top - 3; fd--) add(dup2(devnull, fd));
    while (n_host_fds < HOST_FDS) add(dup(devnull));
    printf("the host holds %d descriptors without close-on-exec (highest %d)\n", n_host_fds, top);
}

static void check_child_sees_012(solti_task_t t) {
    uint64_t cursor = 0;
    test_events_t evs = {0};
    test_read_all(t, &cursor, &evs, 20000);
    CHECK_LINES(&evs, SOLTI_STDOUT, "0", "1", "2");
    test_events_free(&evs);
    solti_exit_t ex = test_wait(t, 5000);
    CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
}

static void *spawner(void *arg) {
    (void)arg;
    const char *argv[] = {test_helper("fdlister"), NULL};
    for (int i = 0; i < 10; i++) {
        solti_task_t t = test_cmd_task(runner, "fds", argv, 20000, "", "");
        CHECK_OK(solti_task_spawn(t));
        check_child_sees_012(t);
        CHECK_OK(solti_task_free(t));
    }
    return NULL;
}

/* The shim starts with a copy of the host's descriptor table: it must close
   the host's descriptors before the target starts, or a host pipe would stay
   open for as long as the task runs. */
static void check_host_pipe_not_held(void) {
    int p[2];
    CHECK(pipe(p) == 0); /* without close-on-exec */
    const char *argv[] = {"sleep", "30", NULL};
    solti_task_t t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = test_cmd_task(runner, "holder", argv, 60000, "", "");
        CHECK_OK(solti_task_spawn(t[i]));
    }
    close(p[1]);
    struct pollfd pfd = {p[0], POLLIN, 0};
    int64_t t0 = test_now_ms();
    CHECK_MSG(poll(&pfd, 1, 5000) == 1, "the host's pipe did not reach EOF while tasks ran");
    char b;
    CHECK_EQ_INT((int)read(p[0], &b, 1), 0);
    CHECK_MSG(test_now_ms() - t0 < 1000, "EOF took %lld ms", (long long)(test_now_ms() - t0));
    close(p[0]);
    for (int i = 0; i < 4; i++) {
        CHECK_OK(solti_task_cancel(t[i]));
        solti_exit_t ex = test_wait(t[i], 10000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_CANCELED);
        CHECK_OK(solti_task_free(t[i]));
    }
}

int main(void) {
    runner = test_runner("hostile-fds", NULL);
    open_host_fds();

    /* One, with stdin inherited too (still only 0, 1, 2). */
    const char *argv[] = {test_helper("fdlister"), NULL};
    solti_task_t t = test_cmd_task(runner, "fds", argv, 20000, "\"stdin\": \"inherit\"", "");
    CHECK_OK(solti_task_spawn(t));
    check_child_sees_012(t);
    CHECK_OK(solti_task_free(t));

    check_host_pipe_not_held();

    /* Eight threads spawning at once. */
    pthread_t th[8];
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(pthread_create(&th[i], NULL, spawner, NULL), 0);
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(pthread_join(th[i], NULL), 0);

    /* The host's descriptors are untouched. */
    for (int i = 0; i < n_host_fds; i++) {
        int flags = fcntl(host_fds[i], F_GETFD);
        CHECK_MSG(flags >= 0, "host fd %d was closed: %s", host_fds[i], strerror(errno));
        CHECK_MSG((flags & FD_CLOEXEC) == 0, "host fd %d became close-on-exec", host_fds[i]);
    }
    for (int i = 0; i < n_host_fds; i++) close(host_fds[i]);

    /* The host's fd 0 closed, and the number reused by a close-on-exec file
       (as the Go runtime's cgroup CPU file is when the host closed 0 before
       loading the library): "inherit" gives the child /dev/null. */
    int saved0 = dup(0);
    CHECK(saved0 >= 0);
    close(0);
    int reused = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    CHECK_EQ_INT(reused, 0);
    const char *link0[] = {"readlink", "/proc/self/fd/0", NULL};
    t = test_cmd_task(runner, "stdin0", link0, 20000, "\"stdin\": \"inherit\"", "");
    test_events_t evs = {0};
    solti_exit_t ex;
    CHECK_OK(test_spawn_to_end(t, &evs, &ex));
    CHECK_LINES(&evs, SOLTI_STDOUT, "/dev/null");
    test_events_free(&evs);
    CHECK_OK(solti_task_free(t));
    CHECK(dup2(saved0, 0) == 0);
    close(saved0);
    CHECK_OK(solti_runner_free(runner));
    printf("test_hostile_fds: ok (81 children saw only 0, 1, 2)\n");
    return 0;
}
