#!/usr/bin/env bash
# The demonstration behind `make run`: three real tasks through solti-run.
set -u
run=${1:-build/solti-run}
here=$(cd "$(dirname "$0")" && pwd)

# Bold titles on a terminal only: no escape codes in a log or a pipe.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n$ %s\n' "$bold" "$1" "$plain" "$2"; }

step "1. A script streaming its output live, framed in lines (stderr is prefixed)" \
     "solti-run --lines --script examples/countdown.sh --runtime bash --json"
"$run" --lines --script "$here/countdown.sh" --runtime bash --json
echo "exit status: $?"

step "2. A failing command and its exit report" \
     "solti-run --json -- ls /nonexistent-directory"
"$run" --json -- ls /nonexistent-directory
echo "exit status: $? (the task's own exit code)"

step "3. A runaway process tree, cancelled by a timeout" \
     "solti-run --timeout 1s --json -- bash -c 'for i in 1 2 3; do sleep 300 & done; echo spawned 3 sleepers; wait'"
marker=$(mktemp)
"$run" --timeout 1s --json -- bash -c "for i in 1 2 3; do sleep 300 & echo \$! >> $marker; done; echo spawned 3 sleepers; wait"
echo "exit status: $? (124: timed out)"
# A killed process whose parent is gone may linger as a zombie until init
# reaps it; only a process that still runs counts as a survivor.
alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
survivors=0
while read -r pid; do
    if alive "$pid"; then survivors=$((survivors + 1)); fi
done < "$marker"
rm -f "$marker"
echo "sleepers still alive after the timeout: $survivors"
[ "$survivors" -eq 0 ]
