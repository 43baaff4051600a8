#!/usr/bin/env bash
# Runs the README's C example as written: its C block saved as demo.c, then
# the shell block after it (make install PREFIX=/tmp/x, pkg-config, cc with
# the rpath, ./demo), with /tmp/x replaced by a fresh directory. The demo
# must print "hi" and "exit code 0".
#   tests/install/readme_example.sh          (from the top of a checkout)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "readme_example.sh: FAIL: $*" >&2; exit 1; }

# The first ```c block after "## A C example", and the first ```sh block after it.
awk '/^## A C example/{on=1} on && /^```c$/{c=1; next} c && /^```$/{exit} c{print}' \
    "$root/README.md" >"$work/demo.c"
awk '/^## A C example/{on=1} on && /^```c$/{seen=1} seen && /^```sh$/{s=1; next} s && /^```$/{exit} s{print}' \
    "$root/README.md" >"$work/build.sh"
[ -s "$work/demo.c" ] || fail "no C block in the README's C example"
grep -q '^make install PREFIX=/tmp/x$' "$work/build.sh" || fail "the README's build lines lack 'make install PREFIX=/tmp/x'"
sed -i "s#/tmp/x#$work/prefix#g; s#^make install#make -C $root install#" "$work/build.sh"
out=$(cd "$work" && bash -euo pipefail build.sh 2>&1) || { echo "$out" >&2; fail "the README's build lines failed"; }
demo=$(echo "$out" | tail -n 2)
[ "$demo" = "$(printf 'hi\nexit code 0')" ] || { echo "$out" >&2; fail "./demo printed: $demo"; }
echo "ok: the README's C example builds and runs as written"
