#!/usr/bin/env bash
# solti-run in a pipeline: as faithful as the command run directly.
#  - byte-exact and complete on stdout and stderr (bytes mode, block);
#  - a reader that goes away (`| head -1`) cancels the task: exit 141, no
#    process and no cgroup left;
#  - exit statuses as env(1) and timeout(1) users expect, chosen from the
#    failing step and errno, never from the message text.
#   test_solti_run_pipe.sh PATH/TO/solti-run
set -u
set -o pipefail
run=${1:?usage: test_solti_run_pipe.sh SOLTI_RUN}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

ok() { echo "ok   $1"; }
bad() {
    failures=$((failures + 1))
    echo "FAIL $1"
}

# ---- Byte-exact and complete ---------------------------------------------------

head -c 200000000 /dev/urandom >"$tmp/random"
want=$(sha256sum <"$tmp/random" | cut -d' ' -f1)
got=$(timeout 120 "$run" -- cat "$tmp/random" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "200 MB of random bytes through a pipe, byte-exact" \
    || bad "200 MB random: sha256 $got, want $want"

got=$(timeout 120 "$run" -- sh -c 'cat "$1" >&2' sh "$tmp/random" 2>&1 >/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "200 MB of random bytes on stderr, byte-exact" \
    || bad "200 MB random on stderr: sha256 $got, want $want"
rm -f "$tmp/random"

want=$(sh -c 'yes | head -n 2000000' | sha256sum | cut -d' ' -f1)
got=$(timeout 60 "$run" -- sh -c 'yes | head -n 2000000' | sha256sum | cut -d' ' -f1)
lines=$(timeout 60 "$run" -- sh -c 'yes | head -n 2000000' 2>"$tmp/err" | wc -l)
if [ "$got" = "$want" ] && [ "$lines" = 2000000 ] && [ ! -s "$tmp/err" ]; then
    ok "yes | head -n 2000000: line-exact, nothing on stderr"
else
    bad "yes | head -n 2000000: $lines lines, sha256 $got (want $want), stderr: $(head -3 "$tmp/err")"
fi

got=$("$run" -- seq 1 10000000 | head -1)
[ "$got" = 1 ] && ok "seq 1 10000000 | head -1 gives 1" || bad "seq | head -1 gave '$got'"

printf 'no newline at the end\r\n\tand invalid UTF-8: \377\376 then NUL \000 end' >"$tmp/odd"
"$run" -- cat "$tmp/odd" >"$tmp/odd.out"
cmp -s "$tmp/odd" "$tmp/odd.out" && ok "CR, NUL, invalid UTF-8, no final newline: unchanged" \
    || bad "odd bytes changed: $(od -c "$tmp/odd.out" | head -3)"

"$run" -- sh -c 'printf "%s\n" one; printf "%s\n" two >&2; printf three' >"$tmp/o" 2>"$tmp/e"
if [ "$(cat "$tmp/o")" = "$(printf 'one\nthree')" ] && [ "$(cat "$tmp/e")" = two ]; then
    ok "stdout and stderr each to their own, nothing added"
else
    bad "streams: stdout '$(cat "$tmp/o")', stderr '$(cat "$tmp/e")'"
fi

# The sandbox warnings the line view shows (a capability drop the host
# refuses, failOnCapError off) are on stderr in bytes mode too.
"$run" --lines --drop-caps --no-fail-on-cap-error -- true 2>"$tmp/w-lines" >/dev/null
"$run" --drop-caps --no-fail-on-cap-error -- true 2>"$tmp/w-bytes" >/dev/null
if grep -q '^solti-run: warning: ' "$tmp/w-lines"; then
    cmp -s "$tmp/w-lines" "$tmp/w-bytes" && ok "bytes mode prints the sandbox warnings" \
        || bad "warnings: lines mode '$(cat "$tmp/w-lines")', bytes mode '$(cat "$tmp/w-bytes")'"
else
    echo "skip sandbox warnings: this host lets solti-run drop every capability (no warning to show)"
fi

# ---- A reader that goes away ---------------------------------------------------

# The tree (a background child and a setsid one included) writes its pids
# and cgroup to a file of this run; after solti-run exits, none may run and
# the task's cgroup (named after the runner, unique to this run) must be gone.
cgroot=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -1 | cut -d' ' -f5)
pipe_check() { # NAME OPTIONS...
    local name=$1
    shift
    local pids="$tmp/pids-$name" runner="pipetest-$$-$name"
    : >"$pids"
    local script='grep "^0::" /proc/self/cgroup >> "$1"; sleep 60 & echo $! >> "$1"; setsid sleep 61 & echo $! >> "$1"; echo $$ >> "$1"; seq 1 100000000; sleep 104'
    local start=$SECONDS status=0
    timeout 60 "$run" --name "$runner" "$@" -- sh -c "$script" sh "$pids" | head -1 >"$tmp/head-$name" || status=$?
    local took=$((SECONDS - start))
    local left=""
    for p in $(grep -E '^[0-9]+$' "$pids"); do
        if [ -e "/proc/$p" ] && ! grep -q '^State:[[:space:]]*[ZX]' "/proc/$p/status" 2>/dev/null; then
            left="$left $p"
        fi
    done
    if [ "$status" = 141 ] && [ -z "$left" ] && [ "$(cat "$tmp/head-$name")" = 1 ] && [ "$took" -lt 30 ] &&
        [ "$(grep -cE '^[0-9]+$' "$pids")" = 3 ]; then
        ok "$name: | head -1 exits 141, no process left"
    else
        bad "$name: | head -1: status $status (want 141), took ${took}s, head '$(cat "$tmp/head-$name")', left [$left], pids [$(tr '\n' ' ' <"$pids")]"
        for p in $left; do kill -9 "$p" 2>/dev/null; done
    fi
    local cg
    cg=$(sed -n 's/^0:://p' "$pids" | head -1)
    case "$cg" in
    *"$runner"*)
        if [ -n "$cgroot" ] && [ ! -e "$cgroot$cg" ]; then
            ok "$name: the task's cgroup $cg is gone"
        else
            bad "$name: the task's cgroup $cg is still there"
        fi
        ;;
    *) echo "skip $name: cgroup check: the task ran without a cgroup of its own here ($cg)" ;;
    esac
}
pipe_check bytes
pipe_check lines --lines
# Where this host lets root make cgroups, once more in one of a parent of
# this run's own (a task left in the default place may run without one).
if [ "$(id -u)" = 0 ] && [ -n "$cgroot" ]; then
    parent="solti-run-pipe-test-$$"
    pipe_check cgroup --cgroup-parent "$parent"
    rmdir "$cgroot/$parent" 2>/dev/null
else
    echo "skip cgroup: not root or no cgroup2 mount"
fi

# ---- Exit statuses ---------------------------------------------------------------

# status NAME WANT STDERR_REGEX -- CMD... (a regex of - checks nothing)
status() {
    local name=$1 want=$2 err=$3
    shift 4
    local got=0
    timeout 30 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || got=$?
    if [ "$got" = "$want" ] && { [ "$err" = - ] || grep -Eq -- "$err" "$tmp/err"; }; then
        ok "exit $want: $name"
    else
        bad "exit $want: $name: got $got; stderr: $(cat "$tmp/err")"
    fi
}

mkdir -p "$tmp/no such file or directory"
printf 'echo hi\n' >"$tmp/plain"
chmod 644 "$tmp/plain"
cp "$tmp/plain" "$tmp/no such file or directory/plain"
printf '\000\001\002\003' >"$tmp/junk"
chmod 755 "$tmp/junk"

status "success"               0   -  -- "$run" -- true
status "the command's code"    42  -  -- "$run" -- sh -c 'exit 42'
status "code 255"              255 -  -- "$run" -- sh -c 'exit 255'
status "killed by SIGTERM"     143 -  -- "$run" -- sh -c 'kill -TERM $$'
status "killed by SIGKILL"     137 -  -- "$run" -- sh -c 'kill -KILL $$'
status "timeout"               124 '^solti-run: timed out' -- "$run" --timeout 200ms -- sleep 5
status "bad option"            125 'unknown option'       -- "$run" --bogus -- true
status "bad --cwd"             125 'chdir "/nonexistent-solti-dir"' -- "$run" --cwd /nonexistent-solti-dir -- true
# Chosen from the step and errno: message texts that would mislead a search.
status "bad --cwd named like ENOENT" 125 'chdir' -- "$run" --cwd "/nonexistent/no such file or directory" -- true
status "not executable"        126 'permission denied'    -- "$run" -- "$tmp/plain"
status "not executable, in a directory named like ENOENT" 126 'permission denied' \
    -- "$run" -- "$tmp/no such file or directory/plain"
status "a directory"           126 -                      -- "$run" -- "$tmp"
status "not a program (ENOEXEC)" 126 'exec format error'  -- "$run" -- "$tmp/junk"
# A PATH of readable directories: like env(1), a search that met a directory
# it may not enter (EACCES) ends in 126, not 127.
status "not found"             127 'no such file or directory' -- env PATH=/usr/bin:/bin "$run" -- solti-no-such-program
status "not found, by path"    127 -                      -- "$run" -- "$tmp/nonexistent"
status "script runtime"        0   -  -- "$run" --script "$tmp/plain" --runtime bash
status "lines mode, code"      7   -  -- "$run" --lines -- sh -c 'exit 7'
status "lines mode, not found" 127 -  -- env PATH=/usr/bin:/bin "$run" --lines -- solti-no-such-program

if [ $failures -gt 0 ]; then
    echo "test_solti_run_pipe: $failures failed"
    exit 1
fi
echo "test_solti_run_pipe: ok"
