#!/usr/bin/env bash
# The library's dynamic interface: only solti_* symbols are exported (the
# version script hides cgo and Go runtime symbols), and the SONAME is
# libsolti_exec.so.0 so consumers link against the ABI version.
set -eu
lib=${1:?usage: test_exports.sh LIBRARY}

fail() { echo "test_exports: FAILED: $*" >&2; exit 1; }

symbols=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
[ -n "$symbols" ] || fail "nm listed no defined symbols in $lib"
others=$(printf '%s\n' "$symbols" | grep -v '^solti_' || true)
[ -z "$others" ] || fail "symbols outside solti_* are exported: $(echo $others)"
for want in solti_version solti_strerror solti_last_error solti_runner_new solti_runner_free \
            solti_runner_metrics solti_task_build solti_task_id solti_task_labels solti_task_spawn solti_task_cancel \
            solti_task_wait solti_task_poll solti_task_fd solti_task_free \
            solti_task_write solti_task_close_stdin solti_task_stdin_fd solti_task_resize solti_task_signal; do
    printf '%s\n' "$symbols" | grep -qx "$want" || fail "$want is not exported"
done
types=$(nm -D --defined-only "$lib" | awk '{print $2}' | sort -u | tr -d '\n')
[ "$types" = T ] || fail "exported symbols that are not functions (types: $types)"

soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libsolti_exec.so.0 ] || fail "SONAME is '$soname', want libsolti_exec.so.0"

echo "test_exports: ok ($(printf '%s\n' "$symbols" | wc -l) solti_* functions, SONAME $soname)"
