/*
 * Thread safety: 8 threads at once each build, spawn, read to EOF, wait and
 * free 50 tasks on one shared runner; every task succeeds with all its lines.
 */
#include <pthread.h>

#include "test.h"

enum { THREADS = 8, TASKS = 50 };

static solti_runner_t runner;
static pthread_barrier_t start;
static const char *printer;

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    pthread_barrier_wait(&start);
    for (int k = 0; k < TASKS; k++) {
        char out0[64], out1[64], err0[64];
        snprintf(out0, sizeof out0, "out:t%d-k%d-a", id, k);
        snprintf(out1, sizeof out1, "out:t%d-k%d-b", id, k);
        snprintf(err0, sizeof err0, "err:t%d-k%d-e", id, k);
        const char *argv[] = {printer, out0, out1, err0, NULL};
        solti_task_t t = test_cmd_task(runner, "threads", argv, 30000, "", "");
        CHECK_OK(solti_task_spawn(t));
        uint64_t cursor = 0;
        test_events_t evs = {0};
        test_read_all(t, &cursor, &evs, 30000);
        solti_exit_t ex = test_wait(t, 10000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
        CHECK_LINES(&evs, SOLTI_STDOUT, out0 + 4, out1 + 4);
        CHECK_LINES(&evs, SOLTI_STDERR, err0 + 4);
        CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_STARTED, 0), 1);
        CHECK_EQ_INT(test_count(&evs, SOLTI_EVENT_FINISHED, 0), 1);
        test_events_free(&evs);
        CHECK_OK(solti_task_free(t));
        CHECK_CODE(solti_task_free(t), SOLTI_EBADF);
    }
    return NULL;
}

int main(void) {
    runner = test_runner("threads", NULL);
    printer = test_helper("printer");
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t th[THREADS];
    int64_t t0 = test_now_ms();
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ_INT(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++) CHECK_EQ_INT(pthread_join(th[i], NULL), 0);
    printf("%d tasks in %lld ms\n", THREADS * TASKS, (long long)(test_now_ms() - t0));

    /* The runner counted every one. */
    char buf[8192];
    size_t len = 0;
    CHECK_OK(solti_runner_metrics(runner, SOLTI_METRICS_PROMETHEUS, buf, sizeof buf, &len));
    CHECK_STR_CONTAINS(buf, "solti_runner_tasks_started_total{runner=\"threads\"} 400\n");
    CHECK_STR_CONTAINS(buf, "solti_runner_tasks_completed_total{runner=\"threads\",outcome=\"success\"} 400\n");
    CHECK_OK(solti_runner_free(runner));
    printf("test_threads: ok\n");
    return 0;
}
