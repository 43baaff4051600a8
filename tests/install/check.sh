#!/usr/bin/env bash
# Checks an installed solti_exec from a consumer's side: builds
# tests/install/consumer.c once with pkg-config and once with CMake's
# find_package, runs both, and checks they print "installed-ok".
#   tests/install/check.sh PREFIX        (after: make install PREFIX=PREFIX)
set -eu

prefix=${1:?usage: tests/install/check.sh PREFIX}
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(cd "$prefix" 2>/dev/null && pwd) || { echo "check.sh: FAIL: no such prefix: $1" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "check.sh: FAIL: $*" >&2; exit 1; }

# The library directory: lib, or lib64 / lib/<multiarch> per GNUInstallDirs.
pcdir=""
for d in "$prefix"/lib/pkgconfig "$prefix"/lib64/pkgconfig "$prefix"/lib/*/pkgconfig; do
    if [ -f "$d/solti_exec.pc" ]; then pcdir=$d; break; fi
done
[ -n "$pcdir" ] || fail "no solti_exec.pc under $prefix/lib*/pkgconfig"
libdir=$(dirname "$pcdir")

# What the install must hold.
[ -f "$prefix/include/solti_exec.h" ] || fail "missing $prefix/include/solti_exec.h"
for f in libsolti_exec.so libsolti_exec.so.0 libsolti_exec.so.0.1.0; do
    [ -e "$libdir/$f" ] || fail "missing $libdir/$f"
done
[ -L "$libdir/libsolti_exec.so" ] && [ -L "$libdir/libsolti_exec.so.0" ] \
    || fail "libsolti_exec.so and libsolti_exec.so.0 must be symlinks"
[ -x "$libdir/solti-exec/solti-exec-shim" ] || fail "missing $libdir/solti-exec/solti-exec-shim"
[ -f "$libdir/cmake/solti_exec/solti_execConfig.cmake" ] || fail "missing the CMake package config"
command -v pkg-config >/dev/null || fail "pkg-config is not installed"
command -v cmake >/dev/null || fail "cmake is not installed"

run_consumer() { # NAME BINARY
    local out
    out=$(LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" timeout 30 "$2" 2>&1) \
        || { echo "$out" >&2; fail "$1 consumer exited with an error"; }
    echo "$out" | grep -qx 'installed-ok' || { echo "$out" >&2; fail "$1 consumer did not print installed-ok"; }
    echo "ok: $1 consumer: $(echo "$out" | tr '\n' ' ')"
}

# 1. pkg-config
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs solti_exec) \
    || fail "pkg-config --cflags --libs solti_exec"
# shellcheck disable=SC2086 # the flags are words
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$work/consumer-pkgconfig" "$here/consumer.c" $flags \
    || fail "compiling with pkg-config flags: $flags"
run_consumer pkg-config "$work/consumer-pkgconfig"

# 2. CMake find_package
cmake -S "$here" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log" 2>&1 \
    || { cat "$work/cmake.log" >&2; fail "cmake configure with find_package(solti_exec)"; }
cmake --build "$work/cmake" >>"$work/cmake.log" 2>&1 \
    || { cat "$work/cmake.log" >&2; fail "cmake build of the consumer"; }
run_consumer find_package "$work/cmake/consumer"

echo "check.sh: the install at $prefix works for pkg-config and CMake consumers"
