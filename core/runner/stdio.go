package runner

import (
	"errors"
	"os"
	"time"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/proc"
	"golang.org/x/sys/unix"
)

// Talking to the running attempt: its stdin pipe or terminal, its size, and
// signals. Each call goes to the attempt running now; between attempts, and
// once the task is done, there is none.

// ErrBrokenPipe is returned by Write when nothing reads the stdin any more:
// the child closed its end, or its attempt ended (each attempt has a pipe of
// its own). The C layer gives it as SOLTI_EPIPE.
var ErrBrokenPipe = errors.New("stdin: broken pipe: the child closed its stdin or its attempt ended")

// stdio is what a task's spec asks of the child's descriptors.
type stdio struct {
	stdin  proc.StdinMode
	merge  bool          // stderr into stdout
	pty    *proc.Winsize // nil: no terminal
	input  []byte        // written to each attempt's pipe, then closed
	hasIn  bool          // the spec has an input (maybe empty)
	stdinF string        // the spec's stdin, for messages
}

func planStdio(sub *model.SubprocessSpec) (stdio, error) {
	s := stdio{stdin: proc.StdinNull, merge: sub.Stderr == model.StderrStdout, stdinF: string(sub.Stdin)}
	switch sub.Stdin {
	case model.StdinInherit:
		s.stdin = proc.StdinInherit
	case model.StdinPipe:
		s.stdin = proc.StdinPipe
	}
	if sub.Pty != nil {
		s.stdin = proc.StdinNull // the terminal is the child's stdin
		s.pty = &proc.Winsize{Rows: uint16(sub.Pty.Rows), Cols: uint16(sub.Pty.Cols)}
	}
	if sub.Input != nil {
		in, err := sub.DecodeInput()
		if err != nil {
			return s, err
		}
		s.input, s.hasIn = in, true
	}
	return s, nil
}

// apply sets the plan's descriptors; a terminal gets size (the latest
// Resize, else the spec's).
func (s *stdio) apply(pl *proc.Plan, size proc.Winsize) {
	pl.Stdin, pl.MergeStderr = s.stdin, s.merge
	if s.pty != nil {
		pl.Pty = &size
	}
}

// writable says whether the host may write: a pipe without an input, or a pty.
func (t *Task) writable() error {
	switch {
	case t.stdio.pty != nil:
		return nil
	case t.stdio.stdin != proc.StdinPipe:
		name := t.stdio.stdinF
		if name == "" {
			name = string(model.StdinNull)
		}
		return &StateError{Msg: "stdin is not a pipe (kind.subprocess.stdin is \"" + name + "\")"}
	case t.stdio.hasIn:
		return &StateError{Msg: "stdin is written by the spec's input (kind.subprocess.input) and closed after it"}
	}
	return nil
}

// current is the running attempt's process, or an error saying why there is
// none: never spawned (a *StateError), or between attempts or done (noneErr).
func (t *Task) current(noneErr error) (*proc.Process, error) {
	t.mu.Lock()
	rn, spawned := t.run, t.spawned
	t.mu.Unlock()
	if !spawned {
		return nil, &StateError{Msg: "task was never spawned"}
	}
	if rn != nil {
		rn.mu.Lock()
		p := rn.proc
		rn.mu.Unlock()
		if p != nil {
			return p, nil
		}
	}
	return nil, noneErr
}

// Write writes b to the running attempt's stdin, waiting up to timeout (< 0
// forever, 0 not at all) for room, and returns how much it wrote: all of b,
// or less with ErrTimeout, ErrBrokenPipe, or a *StateError (no pipe, an
// input in the spec, or CloseStdin was called for this attempt).
func (t *Task) Write(b []byte, timeout time.Duration) (int, error) {
	if err := t.writable(); err != nil {
		return 0, err
	}
	p, err := t.current(ErrBrokenPipe)
	if err != nil {
		return 0, err
	}
	var deadline time.Time // zero: only what fits now
	switch {
	case timeout < 0:
		deadline = time.Now().Add(100 * 365 * 24 * time.Hour)
	case timeout > 0:
		deadline = time.Now().Add(timeout)
	}
	n, err := p.Write(b, deadline)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, ErrTimeout
	case errors.Is(err, unix.EPIPE):
		return n, ErrBrokenPipe
	case errors.Is(err, proc.ErrStdinClosed):
		return n, &StateError{Msg: "stdin was closed (close_stdin) for this attempt"}
	}
	return n, err
}

// CloseStdin closes the running attempt's stdin (under a pty: writes its
// end-of-file character), so the child reads EOF. Idempotent; a no-op
// between attempts and once the task is done.
func (t *Task) CloseStdin() error {
	if err := t.writable(); err != nil {
		return err
	}
	p, err := t.current(nil)
	if p == nil {
		return err
	}
	p.CloseStdin()
	return nil
}

// StdinFD is the running attempt's stdin descriptor, for a poll for
// POLLOUT. It is valid until CloseStdin or the end of that attempt.
func (t *Task) StdinFD() (int, error) {
	if err := t.writable(); err != nil {
		return -1, err
	}
	p, err := t.current(ErrBrokenPipe)
	if err != nil {
		return -1, err
	}
	fd := p.StdinFD()
	if fd < 0 {
		return -1, &StateError{Msg: "stdin was closed (close_stdin) for this attempt"}
	}
	return fd, nil
}

// Resize sets the running attempt's terminal size (kind.subprocess.pty);
// later attempts start at the new size too.
func (t *Task) Resize(rows, cols uint16) error {
	if t.stdio.pty == nil {
		return &StateError{Msg: "task has no terminal (kind.subprocess.pty)"}
	}
	if rows == 0 || cols == 0 {
		return &StateError{Msg: "terminal rows and cols must be greater than zero"}
	}
	t.mu.Lock()
	t.ptySize = proc.Winsize{Rows: rows, Cols: cols}
	t.mu.Unlock()
	p, err := t.current(&StateError{Msg: "task is not running"})
	if err != nil {
		return err
	}
	return p.Resize(proc.Winsize{Rows: rows, Cols: cols})
}

// Signal sends sig to the running attempt: its process group and every
// orphaned descendant (as cancel's kill reaches them), or with leaderOnly
// the leader alone. The shim, the leader's parent, sends it, so a pid is
// never reused under it. A *StateError when no attempt runs.
func (t *Task) Signal(sig unix.Signal, leaderOnly bool) error {
	p, err := t.current(&StateError{Msg: "task is not running"})
	if err != nil {
		return err
	}
	if leaderOnly {
		return p.SignalLeader(sig)
	}
	return p.Signal(sig)
}

// feedInput writes the spec's input to a new attempt's stdin, then closes
// it. It runs beside the attempt: a child that reads nothing blocks it
// until the attempt ends and closes the pipe.
func (t *Task) feedInput(p *proc.Process) {
	if !t.stdio.hasIn || p.Stdin == nil {
		return
	}
	go func() {
		defer func() { _ = recover() }() // nothing here may take the host down
		if len(t.stdio.input) > 0 {
			p.Write(t.stdio.input, time.Now().Add(100*365*24*time.Hour))
		}
		p.CloseStdin()
	}()
}
