#!/usr/bin/env bash
# The shim built into the library runs in a process that shares the host's
# memory but not its threads (see "in the library" in the shim): it must call
# nothing outside itself and never read the thread pointer, whatever the
# compiler's defaults. This compiles it as the library does, with the stack
# protector forced on as hardened distributions have it, and checks the
# object: no undefined symbol, no thread-pointer access, no mutable globals.
#
#   tests/shim/check_in_library.sh [CC] [NM] [OBJDUMP]
set -euo pipefail
cd "$(dirname "$0")/../.."
cc=${1:-gcc} nm=${2:-nm} objdump=${3:-objdump}
obj=$(mktemp /tmp/solti-shim-in-library.XXXXXX.o)
trap 'rm -f "$obj"' EXIT

"$cc" -O2 -g -fPIC -fstack-protector-all -DSOLTI_SHIM_IN_LIBRARY -Wall -Wextra -Werror \
    -c -o "$obj" shim/solti-exec-shim.c
fail=0
undefined=$("$nm" -u "$obj")
if [ -n "$undefined" ]; then
    echo "check_in_library: the shim calls outside itself:"; echo "$undefined"; fail=1
fi
tp=$("$objdump" -d "$obj" | grep -E '%fs:|tpidr_el0' || true)
if [ -n "$tp" ]; then
    echo "check_in_library: the shim reads the thread pointer:"; echo "$tp"; fail=1
fi
globals=$("$nm" "$obj" | grep -E ' [bBdD] ' || true)
if [ -n "$globals" ]; then
    echo "check_in_library: the shim has mutable globals:"; echo "$globals"; fail=1
fi
[ "$fail" = 0 ] && echo "check_in_library: $cc: self-contained, no thread pointer, no mutable globals"
exit "$fail"
