#!/usr/bin/env bash
# solti-run end to end: output streaming, exit statuses, options, --json, and
# SIGTERM forwarded as a cancel of the whole tree.
#   test_solti_run.sh PATH/TO/solti-run HELPERS_DIR
set -u
run=${1:?usage: test_solti_run.sh SOLTI_RUN HELPERS_DIR}
helpers=${2:?usage: test_solti_run.sh SOLTI_RUN HELPERS_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# check NAME WANT_STATUS WANT_STDOUT_REGEX WANT_STDERR_REGEX -- CMD...
# (a regex of - checks nothing)
check() {
    local name=$1 want_status=$2 want_out=$3 want_err=$4
    shift 5
    local status=0
    timeout 30 "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
    local ok=1
    [ "$status" = "$want_status" ] || ok=0
    [ "$want_out" = - ] || grep -Eq -- "$want_out" "$tmp/out" || ok=0
    [ "$want_err" = - ] || grep -Eq -- "$want_err" "$tmp/err" || ok=0
    if [ $ok = 1 ]; then
        echo "ok   $name"
    else
        failures=$((failures + 1))
        echo "FAIL $name: status $status (want $want_status)"
        echo "  stdout (want /$want_out/):"; sed 's/^/    /' "$tmp/out"
        echo "  stderr (want /$want_err/):"; sed 's/^/    /' "$tmp/err"
    fi
}

check "echo"            0   '^hello world$'         -  -- "$run" -- echo hello world
check "no --"           0   '^hi$'                  -  -- "$run" echo hi
check "streams"         3   '^out$'                 '^err$' \
      -- "$run" -- sh -c 'echo out; echo err >&2; exit 3'
check "streams lines"   3   '^out$'                 '^\[stderr\] err$' \
      -- "$run" --lines -- sh -c 'echo out; echo err >&2; exit 3'
check "exit code"       42  -                  -  -- "$run" -- sh -c 'exit 42'
check "killed"          143 -                  -  -- "$run" -- sh -c 'kill -TERM $$'
check "timeout"         124 '^before$'              -  -- "$run" --timeout 300ms -- sh -c 'echo before; sleep 5'
check "not found"       127 -                  '^solti-run: process could not be started: .*no such file or directory' \
      -- "$run" -- solti-no-such-binary
check "bad option"      125 -                  'unknown option --bogus'  -- "$run" --bogus -- true
check "bad duration"    125 -                  'invalid duration'        -- "$run" --timeout 5x -- true
check "no command"      125 -                  'no command given'        -- "$run"
check "help"            0   'usage: solti-run'      -  -- "$run" --help
check "version"         0   '^solti-run 0\.1\.0$'   -  -- "$run" --version
check "env"             0   '^1 two words$'         -  -- "$run" --env A=1 --env 'B=two words' -- sh -c 'echo "$A $B"'
check "cwd"             0   '^/tmp$'                -  -- "$run" --cwd /tmp -- pwd
check "nofile"          0   '^64$'                  -  -- "$run" --nofile 64 -- sh -c 'ulimit -n'
check "no-new-privs"    0   '^NoNewPrivs:[[:space:]]+1$' - -- "$run" --no-new-privs -- grep NoNewPrivs /proc/self/status
check "stdin null"      0   '^done$'                -  -- "$run" -- sh -c 'cat; echo done'
check "stdin piped"     0   '^piped$'               -  -- sh -c "echo piped | '$run' --stdin -- cat"
# --stdin through a pipe, --merge, --pty.
check "stdin is a pipe" 0   '^p$'                   -  -- sh -c "echo x | '$run' --stdin -- sh -c 'test -p /dev/stdin && echo p'"
check "stdin big"       0   '^1000000$'             -  -- sh -c "seq 1000000 | '$run' --stdin -- wc -l"
check "merge"           0   '^o1 e1 o2 e2$'         -  -- sh -c "'$run' --merge -- sh -c 'echo o1; echo e1 >&2; echo o2; echo e2 >&2' | tr '\\n' ' ' | sed 's/ \$//'"
check "merge stderr"    0   '^e$'                   -  -- "$run" --merge -- sh -c 'echo e >&2'
check "pty"             0   '^tty 24 80$'           -  -- sh -c "'$run' --pty -- sh -c 'test -t 0 -a -t 1 && echo tty \$(stty size)' </dev/null | tr -d '\\r'"
# --pty follows solti-run's own terminal: resizing it reaches the command.
if python3 - "$run" <<'PY'
import fcntl, os, pty, select, struct, sys, termios, time
run = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    script = "trap 'echo size $(stty size); exit 0' WINCH; echo ready; while :; do sleep 0.05; done"
    os.execv(run, [run, "--pty", "--timeout", "20s", "--", "sh", "-c", script])
def read_until(word, limit=10.0):
    buf, end = b"", time.time() + limit
    while word not in buf and time.time() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                break
    return buf
ready = read_until(b"ready")
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))  # SIGWINCH to solti-run
out = read_until(b"size 33 111")
_, status = os.waitpid(pid, 0)
sys.exit(0 if b"ready" in ready and b"size 33 111" in out and status == 0 else 1)
PY
then
    echo "ok   pty resize"
else
    failures=$((failures + 1)); echo "FAIL pty resize: the command did not see solti-run's new terminal size"
fi
check "pty stdin"       0   '^got kiwi$'            -  -- sh -c "echo kiwi | '$run' --pty --stdin -- sh -c 'read l; echo got \$l' | tr -d '\\r'"
check "merge and pty"   125 -                  '--merge with --pty'      -- "$run" --merge --pty -- true
check "library error"   125 -                  '^solti-run: invalid task spec or runner configuration: .*timeout' \
      -- "$run" --timeout 0 -- true
check "keep-cap alone"  125 -                  '--keep-cap needs --drop-caps' -- "$run" --keep-cap CHOWN -- true

printf '#!/bin/bash\necho "script $1 $2"\necho "line with \\"quotes\\" and \\\\ backslash"\n' >"$tmp/script.sh"
check "script"          0   '^script a b$'          -  -- "$run" --script "$tmp/script.sh" -- a b
check "script quoting"  0   '^line with "quotes" and \\ backslash$' - -- "$run" --script "$tmp/script.sh"
check "json"            0   - '"outcome": "success", "exitCode": 0, "signal": 0' -- "$run" --json -- true
check "json failure"    3   - '"outcome": "failure", "exitCode": 3.*"reason": "process exited with non-zero code: 3"' \
      -- "$run" --json -- sh -c 'exit 3'
check "json timeout"    124 - '"outcome": "timeout"'  -- "$run" --json --timeout 200ms -- sleep 5
check "json not in stdout" 0 '^only-output$' '"outcome": "success"' -- "$run" --json -- echo only-output
if grep -q outcome "$tmp/out"; then failures=$((failures + 1)); echo "FAIL json not in stdout"; fi

# The report where asked, never mixed into the command's output.
check "json-file"       0   '^only-output$'         -  -- "$run" --json-file "$tmp/r.json" -- echo only-output
if [ "$(cat "$tmp/out")" = only-output ] && grep -q '"outcome": "success"' "$tmp/r.json"; then
    echo "ok   json-file: the report is in the file and not on stdout"
else
    failures=$((failures + 1)); echo "FAIL json-file: stdout $(cat "$tmp/out"), file $(cat "$tmp/r.json" 2>&1)"
fi
check "json-fd"         3   '^x$'                   -  -- sh -c "'$run' --json-fd 3 -- sh -c 'echo x; exit 3' 3>'$tmp/fd.json'"
if grep -q '"exitCode": 3' "$tmp/fd.json" && ! grep -q outcome "$tmp/out"; then
    echo "ok   json-fd: the report went to descriptor 3"
else
    failures=$((failures + 1)); echo "FAIL json-fd: descriptor 3 got $(cat "$tmp/fd.json")"
fi
check "json-file bad"   125 -                  '^solti-run: --json-file /nonexistent/r.json: No such file' \
      -- "$run" --json-file /nonexistent/r.json -- sh -c "touch '$tmp/ran'"
if [ -e "$tmp/ran" ]; then failures=$((failures + 1)); echo "FAIL json-file bad: the command ran"; fi
check "json-fd closed"  125 -                  'json-fd: 9 is not an open descriptor' -- "$run" --json-fd 9 -- true
# Restart policy and the capability-error switch.
check "restart on-failure" 4 -                  -  -- "$run" --restart on-failure --max-retries 1 -- sh -c 'echo try; exit 4'
if [ "$(grep -c '^try$' "$tmp/out")" = 2 ]; then echo "ok   restart on-failure: two attempts"
else failures=$((failures + 1)); echo "FAIL restart on-failure: $(grep -c '^try$' "$tmp/out") attempts, want 2"; fi
check "restart always"  124 '^again$'             -  -- "$run" --timeout 1s --restart always --restart-interval 100ms -- echo again
if [ "$(grep -c '^again$' "$tmp/out")" -ge 2 ]; then echo "ok   restart always: restarted"
else failures=$((failures + 1)); echo "FAIL restart always: $(grep -c '^again$' "$tmp/out") attempts"; fi
check "restart bad"     125 -                  "--restart: 'sometimes' is not never, on-failure or always" -- "$run" --restart sometimes -- true
check "interval alone"  125 -                  '--restart-interval needs --restart always' -- "$run" --restart-interval 1s -- true
check "cap error off"   0   '^CapEff'               -  -- "$run" --drop-caps --no-fail-on-cap-error -- grep ^CapEff /proc/self/status
# A one-line note when the end is not the command's own doing.
check "timeout note"    124 -                  '^solti-run: timed out after 300 ms' -- "$run" --timeout 300ms -- sleep 5

# The sandbox knobs reach the child (rlimits and no_new_privs anywhere).
check "fsize"           0   '^2048$'                -  -- "$run" --fsize 1M -- sh -c 'ulimit -f'
check "fsize exceeded"  153 -                  -  -- "$run" --fsize 64K --cwd "$tmp" -- dd if=/dev/zero of=big bs=64k count=4
check "no-core"         0   '^0$'                   -  -- "$run" --no-core -- sh -c 'ulimit -c'
check "as"              0   '^1048576$'             -  -- "$run" --as 1G -- sh -c 'ulimit -v'
check "cpu-seconds"     0   '^7$'                   -  -- "$run" --cpu-seconds 7 -- sh -c 'ulimit -t'
check "nproc"           0   '^4242$'                -  -- "$run" --nproc 4242 -- sh -c 'ulimit -p'
check "bad cpu"         125 -                  'invalid CPU limit'       -- "$run" --cpu 5x -- true
check "cpu over 100%"   125 -                  'not 1% to 100%'          -- "$run" --cpu 150% -- true
check "bad size"        125 -                  'invalid size'            -- "$run" --fsize 1Q -- true
check "no cgroup name"  125 -                  'needs a value'           -- "$run" --cgroup-parent

# Cgroup limits, where this host lets root enforce them (else the library
# refuses with SOLTI_ESANDBOX: status 125 and a message naming the controller).
if [ "$(id -u)" = 0 ] && grep -q ' - cgroup2\? ' /proc/self/mountinfo; then
    check "pids"        124 '^forked 2$'          - -- "$run" --timeout 500ms --pids 3 -- "$helpers/forkloop" 10
    check "cpu"         0   '^0::/.+$'              -  -- "$run" --cpu 50% -- grep '^0::' /proc/self/cgroup
    check "cgroup parent" 0 '^0::/solti-run-test-'"$$"'/' - -- "$run" --cgroup-parent "solti-run-test-$$" -- grep '^0::' /proc/self/cgroup
    if "$run" --memory 64M -- true >/dev/null 2>&1; then
        check "oom note" 137 - '^solti-run: killed by the kernel.s OOM killer' \
              -- "$run" --memory 32M -- python3 -c 'b = bytearray(512 << 20); b[::4096] = b"x" * len(b[::4096])'
    else
        echo "skip oom note: no memory controller for the task's cgroup"
    fi
else
    echo "skip cgroup limits: not root or no cgroup mount"
fi

# solti-run killed by SIGPIPE (`| head -1`): its task's tree, background
# children and a setsid one included, dies with it (the tree writes its pids
# to a file of this run, which is all that is checked).
pids="$tmp/pipe-pids"
( "$run" -- sh -c 'echo first; sleep 60 & echo $! >> '"$pids"'; setsid sleep 61 & echo $! >> '"$pids"'; sleep 0.3; while :; do echo more; sleep 0.01; done' | head -1 ) >"$tmp/out" 2>&1
sleep 1
left=""
if [ -s "$pids" ]; then
    for p in $(cat "$pids"); do
        if [ -e "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null; then left="$left $p"; fi
    done
fi
if [ -s "$pids" ] && [ -z "$left" ] && grep -q '^first$' "$tmp/out"; then
    echo "ok   tree dies with solti-run on SIGPIPE"
else
    failures=$((failures + 1))
    echo "FAIL tree dies with solti-run on SIGPIPE: left [$left], pids [$(cat "$pids" 2>/dev/null)]"
    for p in $left; do kill -9 "$p" 2>/dev/null; done
fi

# The JSON report is valid JSON (when python3 is around to say so).
if command -v python3 >/dev/null 2>&1; then
    "$run" --json -- true 2>&1 >/dev/null | tail -n 1 | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["attempt"]==1 and r["durationMs"]>=0, r' \
        && echo "ok   json parses" || { failures=$((failures + 1)); echo "FAIL json parses"; }
fi

# SIGTERM to solti-run cancels the task's whole tree; status 128+15.
"$run" -- "$helpers/forker" 30 >"$tmp/fork.out" 2>"$tmp/fork.err" &
pid=$!
for _ in $(seq 100); do grep -q grandchild "$tmp/fork.out" && break; sleep 0.1; done
grandchild=$(sed -n 's/^grandchild \([0-9]*\)$/\1/p' "$tmp/fork.out")
kill -TERM "$pid"
status=0
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
wait "$pid" || status=$?
alive=no
if [ -n "$grandchild" ] && [ -e "/proc/$grandchild" ] && ! grep -q '^State:.*Z' "/proc/$grandchild/status" 2>/dev/null; then
    alive=yes
    kill -KILL "$grandchild" 2>/dev/null
fi
if [ "$status" = 143 ] && [ -n "$grandchild" ] && [ $alive = no ]; then
    echo "ok   SIGTERM cancels the tree"
else
    failures=$((failures + 1))
    echo "FAIL SIGTERM cancels the tree: status $status (want 143), grandchild '$grandchild' alive: $alive"
    sed 's/^/    /' "$tmp/fork.out" "$tmp/fork.err"
fi

if [ $failures -gt 0 ]; then
    echo "test_solti_run: $failures failed"
    exit 1
fi
echo "test_solti_run: ok"
