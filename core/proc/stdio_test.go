package proc

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestStdinPipeRoundTrip(t *testing.T) {
	sp := setup(t)
	p := sh("cat")
	p.Stdin = StdinPipe
	pr, err := sp.Start(p)
	require.NoError(t, err)
	defer pr.Close()
	require.GreaterOrEqual(t, pr.StdinFD(), 3)
	// 1 MiB is more than the pipe holds: the write waits for cat while the
	// test reads its output.
	in := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(pr.Stdout); got <- b }()
	n, err := pr.Write(in, time.Now().Add(10*time.Second))
	require.NoError(t, err)
	assert.Equal(t, len(in), n)
	require.NoError(t, pr.CloseStdin())
	assert.Equal(t, in, <-got)
	_, err = pr.Write([]byte("x"), time.Now().Add(time.Second))
	assert.ErrorIs(t, err, ErrStdinClosed)
	st, err := pr.Reap()
	require.NoError(t, err)
	assert.Equal(t, 0, st.ExitCode)
}

func TestStdinPipeDeadlineAndEPIPE(t *testing.T) {
	sp := setup(t)
	// The child does not read, then closes its stdin and waits.
	p := sh("sleep 0.3; exec 0<&-; sleep 5")
	p.Stdin = StdinPipe
	pr, err := sp.Start(p)
	require.NoError(t, err)
	defer pr.Close()
	big := make([]byte, 1<<20)
	n, err := pr.Write(big, time.Time{})
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "a zero deadline writes what fits")
	assert.Greater(t, n, 0)
	assert.Less(t, n, len(big))
	start := time.Now()
	_, err = pr.Write(big, time.Now().Add(50*time.Millisecond))
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
	// The write's SIGPIPE is taken back on its thread: a handler of the
	// process (here the test's) never sees it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGPIPE)
	defer signal.Stop(sigs)
	_, err = pr.Write(big, time.Now().Add(5*time.Second))
	assert.ErrorIs(t, err, unix.EPIPE, "the child closed its end")
	_, err = pr.Write(big[:1], time.Time{})
	assert.ErrorIs(t, err, unix.EPIPE)
	select {
	case s := <-sigs:
		t.Errorf("the host got %v", s)
	case <-time.After(100 * time.Millisecond):
	}
	require.NoError(t, pr.Signal(unix.SIGKILL))
	pr.Reap()
}

func TestNoStdinPipe(t *testing.T) {
	sp := setup(t)
	pr, err := sp.Start(sh("true"))
	require.NoError(t, err)
	defer pr.Close()
	_, err = pr.Write([]byte("x"), time.Time{})
	assert.ErrorIs(t, err, ErrNoStdin)
	assert.ErrorIs(t, pr.CloseStdin(), ErrNoStdin)
	assert.Equal(t, -1, pr.StdinFD())
	pr.Reap()
}

func TestMergeStderrKeepsOrder(t *testing.T) {
	sp := setup(t)
	p := sh(`i=0; while [ $i -lt 200 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done`)
	p.MergeStderr = true
	r := run(t, sp, p)
	var want strings.Builder
	for i := 0; i < 200; i++ {
		want.WriteString("o" + strconv.Itoa(i) + "\ne" + strconv.Itoa(i) + "\n")
	}
	assert.Equal(t, want.String(), r.stdout)
	assert.Empty(t, r.stderr)
}

func TestPtyIsTerminal(t *testing.T) {
	sp := setup(t)
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		t.Skip("no /dev/ptmx here: ", err)
	}
	p := sh(`test -t 0 -a -t 1 -a -t 2 && echo tty; stty size; ps -o sid= -p $$ | tr -d ' '; echo $$`)
	p.Pty = &Winsize{Rows: 33, Cols: 101}
	pr, err := sp.Start(p)
	require.NoError(t, err)
	defer pr.Close()
	assert.Nil(t, pr.Stderr)
	b, rerr := io.ReadAll(pr.Stdout)
	require.True(t, rerr == nil || errors.Is(rerr, unix.EIO), "%v", rerr)
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n")
	require.Len(t, lines, 4, "%q", b)
	assert.Equal(t, "tty", lines[0])
	assert.Equal(t, "33 101", lines[1])
	assert.Equal(t, lines[3], lines[2], "the target leads its own session")
	st, err := pr.Reap()
	require.NoError(t, err)
	assert.Equal(t, 0, st.ExitCode)
}

func TestSignalLeaderOnly(t *testing.T) {
	sp := setup(t)
	// The child traps USR1 and reports; a grandchild in its group would die
	// of USR1 if the signal reached the group.
	p := sh(`sleep 5 & g=$!; trap 'echo got; kill -0 $g && echo alive; kill $g; exit 0' USR1; echo ready; while :; do sleep 0.05; done`)
	pr, err := sp.Start(p)
	require.NoError(t, err)
	defer pr.Close()
	buf := make([]byte, 6)
	_, err = io.ReadFull(pr.Stdout, buf)
	require.NoError(t, err)
	require.Equal(t, "ready\n", string(buf))
	require.NoError(t, pr.SignalLeader(unix.SIGUSR1))
	rest, _ := io.ReadAll(pr.Stdout)
	assert.Equal(t, "got\nalive\n", string(rest))
	st, err := pr.Reap()
	require.NoError(t, err)
	assert.Equal(t, 0, st.ExitCode)
	assert.ErrorIs(t, pr.SignalLeader(0), unix.EINVAL)
}
