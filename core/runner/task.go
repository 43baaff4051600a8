package runner

import (
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/solti-exec/solti-exec/core/supervise"
)

// Task is one built spec: a command or script, its policies, and the ring its
// attempts write to. Every method is safe for concurrent use.
type Task struct {
	runner        *Runner
	id            string
	cgroupName    string
	spec          model.TaskSpec
	program       string
	args          []string
	script        *scriptFile  // the body's file, nil with a memfd
	memfd         *scriptMemfd // the body's memfd, nil with a file
	env           []model.EnvVar
	cwd           string
	stdio         stdio // stdin, stderr and pty (stdio.go)
	failOnNonZero bool
	frame         output.FrameConfig
	drainGrace    time.Duration
	sandbox       sandboxPlan
	isolation     proc.Isolation   // session, namespaces, credentials, seccomp, umask, fds
	envPolicy     *model.EnvPolicy // nil: inherit
	argv0         string
	ring          *output.Ring
	blockOutput   bool // the ring's whenFull is "block"

	mu       sync.Mutex
	run      *run          // the active run, nil when idle
	lastRun  *run          // the last run started: Close waits for its end
	queued   bool          // admission "queue": one more run after this one
	done     chan struct{} // closed when no run is active or queued
	attempts uint32        // successful spawns so far, over all runs
	last     *ExitReport   // the last attempt's report
	spawned  bool          // Spawn was called at least once
	ptySize  proc.Winsize  // the terminal's size for the next attempt (Resize)
	closed   bool
}

// ID is the run id, "{runner}-{slot}-{seq}".
func (t *Task) ID() string { return t.id }

// CgroupName is the name the task's cgroup gets when it has one.
func (t *Task) CgroupName() string { return t.cgroupName }

// ScriptPath is the path the runtime is given: the script file's, or
// /proc/self/fd/N for a memfd; "" in command mode.
func (t *Task) ScriptPath() string {
	switch {
	case t.memfd != nil:
		return t.memfd.path()
	case t.script != nil:
		return t.script.path
	}
	return ""
}

// ScriptStorage is where the script body is: "memfd", "file", or "" in
// command mode.
func (t *Task) ScriptStorage() model.ScriptStorage {
	switch {
	case t.memfd != nil:
		return model.ScriptMemfd
	case t.script != nil:
		return model.ScriptFile
	}
	return ""
}

// ScriptDir is the private directory holding the script file, "" in command
// mode. Close removes it.
func (t *Task) ScriptDir() string {
	if t.script == nil {
		return ""
	}
	return t.script.dir
}

// Attempts is how many attempts have started so far.
func (t *Task) Attempts() uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.attempts
}

// Spawn starts the task per its policies and returns once the first attempt
// is running or has failed to start. While a run is active, the spec's
// admission decides: dropIfRunning refuses with a *StateError, replace
// cancels the run and starts a new one, queue starts one more run after the
// active one ends (and returns at once).
func (t *Task) Spawn() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	if rn := t.run; rn != nil {
		switch t.spec.Admission {
		case model.AdmissionReplace:
			t.mu.Unlock()
			t.cancelRun(rn)
			<-rn.ended
			t.mu.Lock()
			if t.closed {
				t.mu.Unlock()
				return ErrClosed
			}
			if t.run != nil { // another caller started one meanwhile
				t.mu.Unlock()
				return &StateError{Msg: "task is already running"}
			}
		case model.AdmissionQueue:
			if t.queued {
				t.mu.Unlock()
				return &StateError{Msg: "task is running and a run is already queued"}
			}
			t.queued = true
			t.mu.Unlock()
			return nil
		default:
			t.mu.Unlock()
			return &StateError{Msg: "task is already running (admission dropIfRunning)"}
		}
	}
	rn := t.startRunLocked()
	t.mu.Unlock()
	first, ok := t.launchFirst(rn)
	if !ok {
		return <-rn.firstErr
	}
	if first.proc == nil && !supervise.ShouldRestart(t.spec.Restart, t.spec.MaxRetries, 0, endOf(first.rep.Outcome)) {
		// The spawn failed and nothing will retry it: the task is done when
		// Spawn returns, so a Wait(0) right after it has the report.
		t.record(first.rep)
		t.runEnded(rn)
		close(rn.ended)
		return <-rn.firstErr
	}
	go t.loop(rn, &first)
	return <-rn.firstErr
}

// launchFirst is launch for the first attempt, on Spawn's goroutine. A panic
// there ends the run (see abortRun) rather than leaving it registered with
// nobody to end it; ok is false then, and firstErr holds the error.
func (t *Task) launchFirst(rn *run) (l launched, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			t.abortRun(rn, "spawn", r)
			t.runEnded(rn)
			close(rn.ended)
			ok = false
		}
	}()
	return t.launch(rn, true), true
}

// startRunLocked registers a new run, whose loop the caller starts; t.mu is
// held.
func (t *Task) startRunLocked() *run {
	rn := newRun()
	t.run = rn
	t.lastRun = rn
	t.spawned = true
	if t.done == nil || isClosed(t.done) {
		t.done = make(chan struct{})
	}
	t.ring.Reopen()
	return rn
}

// runEnded is called by the loop when a run is over.
func (t *Task) runEnded(rn *run) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Readers not woken by the ring's close (a queued run starts) learn of
	// the last FINISHED now (see appendFinished).
	defer t.ring.Wake()
	if t.run == rn {
		t.run = nil
	}
	if t.queued && !t.closed {
		t.queued = false
		next := t.startRunLocked()
		go func() {
			// After this run's end (its attempt's process closed), so that
			// Close, which waits for the last run, waits for both.
			<-rn.ended
			t.loop(next, nil)
		}()
		return
	}
	t.queued = false
	if t.run == nil {
		t.ring.Close()
		close(t.done)
	}
}

// Cancel kills the whole tree of the running attempt, stops any restart or
// queued run for good, and returns without waiting for the reap. It is
// idempotent and valid in any state.
func (t *Task) Cancel() {
	t.mu.Lock()
	rn := t.run
	t.queued = false
	t.mu.Unlock()
	if rn != nil {
		t.cancelRun(rn)
	}
}

func (t *Task) cancelRun(rn *run) {
	rn.cancel(t.spec.KillGrace())
}

// Wait blocks until no attempt runs or is scheduled, up to timeout (< 0 waits
// forever, 0 does not wait), and reports the last attempt. A fatal attempt is
// a report like any other (Spawn already returned its error); only a lost
// exit status is an error here, since the report then lacks the status.
func (t *Task) Wait(timeout time.Duration) (ExitReport, error) {
	t.mu.Lock()
	if !t.spawned {
		t.mu.Unlock()
		return ExitReport{}, &StateError{Msg: "task was never spawned"}
	}
	done := t.done
	t.mu.Unlock()

	if !waitChan(done, timeout) {
		return ExitReport{}, ErrTimeout
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		return ExitReport{}, &StateError{Msg: "task has no finished attempt"}
	}
	var ie *InternalError
	if errors.Is(t.last.Err, proc.ErrStatusLost) || errors.As(t.last.Err, &ie) {
		return *t.last, t.last.Err
	}
	return *t.last, nil
}

// Poll reads events after cursor; see output.Ring.Poll.
func (t *Task) Poll(cursor uint64, maxEvents, maxBytes int, timeout time.Duration) ([]output.Event, uint64, error) {
	return t.ring.Poll(cursor, maxEvents, maxBytes, timeout, nil)
}

// ReadyFD is a descriptor that polls readable when events or the end may be
// there. The task owns it.
func (t *Task) ReadyFD() (int, error) { return t.ring.ReadyFD() }

// Ring gives direct access to the task's output ring.
func (t *Task) Ring() *output.Ring { return t.ring }

// Close cancels the task if it runs, waits for the attempt to be reaped and
// drained (bounded by the drain grace), then releases the ring and removes
// the script file. Idempotent.
func (t *Task) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	t.queued = false
	rn, last := t.run, t.lastRun
	t.mu.Unlock()
	if rn != nil {
		t.cancelRun(rn)
	}
	if last != nil {
		// Wait may return before the last run's attempt process is
		// closed (see run.proc); Close returns after it.
		<-last.ended
	}
	t.ring.Release()
	t.script.remove()
	t.memfd.close()
	t.runner.untrack(t)
	liveTasks.Add(-1)
}

func (t *Task) record(rep *ExitReport) {
	t.mu.Lock()
	t.last = rep
	t.mu.Unlock()
}

func (t *Task) nextAttempt() uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.attempts++
	return t.attempts
}

func (t *Task) randFloat() float64 {
	if f := t.runner.opts.Rand; f != nil {
		return f()
	}
	return rand.Float64()
}

// waitChan waits for ch up to timeout (< 0 forever, 0 not at all).
func waitChan(ch <-chan struct{}, timeout time.Duration) bool {
	return waitChanOrCancel(ch, timeout, nil)
}

// waitChanOrCancel is waitChan that also gives up when canceled closes (a
// nil canceled never does).
func waitChanOrCancel(ch <-chan struct{}, timeout time.Duration, canceled <-chan struct{}) bool {
	if timeout == 0 {
		return isClosed(ch)
	}
	var expired <-chan time.Time // nil: no timer when waiting forever
	if timeout > 0 {
		tm := time.NewTimer(timeout)
		defer tm.Stop()
		expired = tm.C
	}
	select {
	case <-ch:
		return true
	case <-canceled:
		return isClosed(ch)
	case <-expired:
		return false
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Labels are the spec's labels, as given (nil when none).
func (t *Task) Labels() model.Labels { return t.spec.Labels }

// Runner is the runner that built the task.
func (t *Task) Runner() *Runner { return t.runner }
