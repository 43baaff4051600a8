/*
 * Metrics: after tasks, the runner's JSON and Prometheus texts count starts,
 * completions by outcome, durations and spawn errors under the upstream names.
 */
#include "test.h"

static char *metrics(solti_runner_t r, int format) {
    size_t need = 0;
    CHECK_CODE(solti_runner_metrics(r, format, NULL, 0, &need), SOLTI_ERANGE);
    char *buf = (char *)malloc(need + 1);
    size_t len = 0;
    CHECK_OK(solti_runner_metrics(r, format, buf, need + 1, &len));
    CHECK_EQ_INT(len, need);
    CHECK_EQ_INT(strlen(buf), len);
    return buf;
}

static void run(solti_runner_t r, const char *const argv[], int want_spawn) {
    solti_task_t t = test_cmd_task(r, "m", argv, 10000, "", "");
    CHECK_CODE(solti_task_spawn(t), want_spawn);
    solti_exit_t ex;
    CHECK_OK(solti_task_wait(t, 10000, &ex));
    CHECK_OK(solti_task_free(t));
}

int main(void) {
    solti_runner_t r = test_runner("metrics", NULL);

    /* Before any task: zero started. */
    char *prom = metrics(r, SOLTI_METRICS_PROMETHEUS);
    CHECK_STR_CONTAINS(prom, "# TYPE solti_runner_tasks_started_total counter\n");
    CHECK_STR_CONTAINS(prom, "solti_runner_tasks_started_total{runner=\"metrics\"} 0\n");
    free(prom);

    const char *ok[] = {"true", NULL};
    const char *fail[] = {"false", NULL};
    const char *missing[] = {"solti-no-such-binary", NULL};
    run(r, ok, SOLTI_OK);
    run(r, ok, SOLTI_OK);
    run(r, fail, SOLTI_OK);
    run(r, missing, SOLTI_ESPAWN);

    prom = metrics(r, SOLTI_METRICS_PROMETHEUS);
    CHECK_STR_CONTAINS(prom, "solti_runner_tasks_started_total{runner=\"metrics\"} 4\n");
    CHECK_STR_CONTAINS(prom, "# TYPE solti_runner_tasks_completed_total counter\n");
    CHECK_STR_CONTAINS(prom, "solti_runner_tasks_completed_total{runner=\"metrics\",outcome=\"success\"} 2\n");
    CHECK_STR_CONTAINS(prom, "solti_runner_tasks_completed_total{runner=\"metrics\",outcome=\"failure\"} 1\n");
    CHECK_STR_CONTAINS(prom, "# TYPE solti_runner_task_duration_seconds histogram\n");
    CHECK_STR_CONTAINS(prom, "solti_runner_task_duration_seconds_bucket{runner=\"metrics\",outcome=\"success\",le=\"+Inf\"} 2\n");
    CHECK_STR_CONTAINS(prom, "solti_runner_task_duration_seconds_bucket{runner=\"metrics\",outcome=\"success\",le=\"3600\"} 2\n");
    CHECK_STR_CONTAINS(prom, "solti_runner_task_duration_seconds_count{runner=\"metrics\",outcome=\"success\"} 2\n");
    CHECK_STR_CONTAINS(prom, "solti_runner_task_duration_seconds_sum{runner=\"metrics\",outcome=\"success\"} ");
    CHECK_STR_CONTAINS(prom, "solti_runner_errors_total{runner=\"metrics\",error=\"spawn_failed\"} 1\n");
    free(prom);

    char *json = metrics(r, SOLTI_METRICS_JSON);
    CHECK_MSG(json[0] == '{' && json[strlen(json) - 1] == '}', "not a JSON object: %s", json);
    CHECK_STR_CONTAINS(json, "\"runner\":\"metrics\"");
    CHECK_STR_CONTAINS(json, "\"tasksStarted\":4");
    CHECK_STR_CONTAINS(json, "\"success\":2");
    CHECK_STR_CONTAINS(json, "\"failure\":1");
    CHECK_STR_CONTAINS(json, "\"spawn_failed\":1");
    CHECK_STR_CONTAINS(json, "\"durationSeconds\"");
    free(json);

    /* Another runner counts separately. */
    solti_runner_t other = test_runner("metrics-other", NULL);
    prom = metrics(other, SOLTI_METRICS_PROMETHEUS);
    CHECK_STR_CONTAINS(prom, "solti_runner_tasks_started_total{runner=\"metrics-other\"} 0\n");
    free(prom);
    CHECK_OK(solti_runner_free(other));
    CHECK_OK(solti_runner_free(r));
    printf("test_metrics: ok\n");
    return 0;
}
