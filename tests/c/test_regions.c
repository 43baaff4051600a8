/*
 * The memory a resident runs in (its stack, where the target also runs until
 * its exec) is reused once the resident has exited: spawn after spawn, with
 * targets that exec and targets whose exec fails, the host's mappings do not
 * grow. A region is left mapped for good while the library cannot tell that
 * its target has left the stack, so a broken hand-over would add mappings
 * at every spawn.
 */
#include "test.h"

enum { WARM = 20, RUNS = 300 };

static int mappings(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static void run(solti_runner_t runner, int i) {
    const char *ok[] = {"/bin/true", NULL};
    const char *missing[] = {"/nonexistent/solti-regions", NULL};
    solti_task_t t = test_cmd_task(runner, "regions", i % 3 == 2 ? missing : ok, 30000, "", "");
    if (i % 3 == 2) {
        CHECK_CODE(solti_task_spawn(t), SOLTI_ESPAWN);
    } else {
        CHECK_OK(solti_task_spawn(t));
        solti_exit_t ex = test_wait(t, 10000);
        CHECK_OUTCOME(ex, SOLTI_OUTCOME_SUCCESS);
    }
    CHECK_OK(solti_task_free(t));
}

int main(void) {
    solti_runner_t runner = test_runner("regions", NULL);
    for (int i = 0; i < WARM; i++) run(runner, i);
    int before = mappings();
    for (int i = 0; i < RUNS; i++) run(runner, i);
    int after = mappings();
    printf("mappings: %d after %d spawns, %d after %d more\n", before, WARM, after, RUNS);
    /* The Go heap may map an arena or two; each leaked region would add its
       data, its guard page and its stack: hundreds of mappings here. */
    CHECK(after - before <= 16);
    CHECK_OK(solti_runner_free(runner));
    printf("test_regions: ok\n");
    return 0;
}
