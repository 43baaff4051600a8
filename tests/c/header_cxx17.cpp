// The public header compiles as C++17 with -Wall -Wextra -Werror -pedantic,
// its declarations link, and the error table works from C++ as from C.
#include "solti_exec.h"

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>

static_assert(std::is_same<solti_runner_t, std::uint64_t>::value, "handles are uint64_t");
static_assert(std::is_same<solti_task_t, std::uint64_t>::value, "handles are uint64_t");
static_assert(SOLTI_INFINITE == -1, "SOLTI_INFINITE");
static_assert(SOLTI_OK == 0 && SOLTI_EINVAL == -1 && SOLTI_EINTERNAL == -13, "error values");
static_assert(SOLTI_EVENT_LINE == 1 && SOLTI_EVENT_WARNING == 5, "event kinds");
static_assert(SOLTI_STDOUT == 1 && SOLTI_STDERR == 2, "streams");
static_assert(SOLTI_LINE_TRUNCATED == 1u, "flags");
static_assert(SOLTI_OUTCOME_SUCCESS == 0 && SOLTI_OUTCOME_FATAL == 4, "outcomes");
static_assert(SOLTI_METRICS_JSON == 0 && SOLTI_METRICS_PROMETHEUS == 1, "formats");
static_assert(std::is_standard_layout<solti_event_t>::value, "C layout");
static_assert(std::is_standard_layout<solti_exit_t>::value, "C layout");
static_assert(sizeof(solti_exit_t{}.reason) == 256, "reason[256]");
static_assert(offsetof(solti_event_t, kind) == 0, "kind first");

// Every function has the documented signature.
static_assert(std::is_same<decltype(&solti_version), const char *(*)()>::value, "");
static_assert(std::is_same<decltype(&solti_strerror), const char *(*)(int)>::value, "");
static_assert(std::is_same<decltype(&solti_last_error), int (*)(char *, std::size_t)>::value, "");
static_assert(std::is_same<decltype(&solti_runner_new),
                           int (*)(const char *, const char *, solti_runner_t *)>::value, "");
static_assert(std::is_same<decltype(&solti_runner_free), int (*)(solti_runner_t)>::value, "");
static_assert(std::is_same<decltype(&solti_runner_metrics),
                           int (*)(solti_runner_t, int, char *, std::size_t, std::size_t *)>::value, "");
static_assert(std::is_same<decltype(&solti_task_build),
                           int (*)(solti_runner_t, const char *, solti_task_t *)>::value, "");
static_assert(std::is_same<decltype(&solti_task_id), int (*)(solti_task_t, char *, std::size_t)>::value, "");
static_assert(std::is_same<decltype(&solti_task_spawn), int (*)(solti_task_t)>::value, "");
static_assert(std::is_same<decltype(&solti_task_cancel), int (*)(solti_task_t)>::value, "");
static_assert(std::is_same<decltype(&solti_task_wait), int (*)(solti_task_t, int, solti_exit_t *)>::value, "");
static_assert(std::is_same<decltype(&solti_task_poll),
                           int (*)(solti_task_t, std::uint64_t *, solti_event_t *, std::size_t, char *,
                                   std::size_t, int, std::size_t *)>::value, "");
static_assert(std::is_same<decltype(&solti_task_fd), int (*)(solti_task_t)>::value, "");
static_assert(std::is_same<decltype(&solti_task_attempts), int (*)(solti_task_t, std::uint32_t *)>::value, "");
static_assert(std::is_same<decltype(&solti_task_free), int (*)(solti_task_t)>::value, "");
static_assert(std::is_same<decltype(&solti_task_spawn_failure),
                           int (*)(solti_task_t, solti_spawn_failure_t *)>::value, "");
static_assert(std::is_same<decltype(&solti_debug_stats), int (*)(solti_debug_stats_t *)>::value, "");

namespace {
struct Entry {
    int code;
    const char *message;
};
#define ENTRY(name, value, message) Entry{name, message},
constexpr Entry kTable[] = {SOLTI_ERRNO_MAP(ENTRY)};
#undef ENTRY
}  // namespace

int main() {
    const std::string want = std::to_string(SOLTI_EXEC_VERSION_MAJOR) + "." +
                             std::to_string(SOLTI_EXEC_VERSION_MINOR) + "." +
                             std::to_string(SOLTI_EXEC_VERSION_PATCH);
    if (want != solti_version()) {
        std::fprintf(stderr, "solti_version() is %s, the header says %s\n", solti_version(), want.c_str());
        return 1;
    }
    for (const Entry &e : kTable) {
        if (std::strcmp(solti_strerror(e.code), e.message) != 0) {
            std::fprintf(stderr, "solti_strerror(%d) is \"%s\", the table says \"%s\"\n", e.code,
                         solti_strerror(e.code), e.message);
            return 1;
        }
    }
    solti_runner_t r = 0;
    if (solti_runner_new("cxx", nullptr, &r) != SOLTI_OK || solti_runner_free(r) != SOLTI_OK) return 1;
    std::printf("header_cxx17: ok\n");
    return 0;
}
