package runner

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/solti-exec/solti-exec/core/metrics"
	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/solti-exec/solti-exec/core/sandbox"
	"golang.org/x/sys/unix"
)

// forcedDrain bounds how long the pipe readers may take after the group was
// killed at the end of the drain grace: a descendant that left the process
// group (setsid) and holds a pipe is cut off then.
const forcedDrain = 200 * time.Millisecond

// endBound bounds how long the end of an attempt waits for the shim to have
// killed and reaped the rest of the tree (a process stuck in the kernel
// cannot be hurried); the shim carries on alone after it.
const endBound = 5 * time.Second

// attempt runs one attempt to its end and reports it. first says whether the
// Spawn call is waiting for this attempt's start.
func (t *Task) attempt(rn *run, first bool) *ExitReport {
	return t.supervise(rn, t.launch(rn, first))
}

// launched is an attempt that was just started: its report so far, its
// cgroup and its process. proc is nil when it could not start, and rep is
// then final.
type launched struct {
	rep  *ExitReport
	cg   *sandbox.CgroupSet
	proc *proc.Process
}

// launch starts one attempt, up to its STARTED event. Spawn runs it on the
// caller's goroutine for the first attempt of a run, so the call returns as
// soon as the child runs, without waiting for the run's goroutine to be
// scheduled and then for the caller's to be woken.
func (t *Task) launch(rn *run, first bool) launched {
	m := t.runner.metrics
	m.TaskStarted()
	rep := &ExitReport{ExitCode: -1, OOMKills: -1, MemoryPeakBytes: -1, CPUUsageUs: -1, Started: time.Now()}

	// The cgroup, with its limits, exists before the spawn; the child is in
	// it before its first instruction.
	cg, err := t.runner.cgroups.Prepare(t.cgroupName)
	if err != nil {
		return launched{rep: t.fatal(rn, rep, err, first)}
	}
	t.reportUnapplied(rep, cg)
	p, err := t.start(cg)
	if err != nil {
		cg.Remove()
		return launched{rep: t.fatal(rn, rep, err, first)}
	}
	t.reportWarnings(p)
	rep.Attempt = t.nextAttempt()
	rn.setProc(p)
	callHook(&hookLaunched)
	t.runner.debugf("task %s: attempt %d started, pid %d", t.id, rep.Attempt, p.Pid)
	if err := t.appendControl(output.Event{Kind: output.KindStarted, Attempt: rep.Attempt, TsMs: nowMs(), Value: int64(p.Pid)}); err != nil {
		// The child runs: it must not be left unsupervised. Its tree dies
		// now, and the attempt ends as any start that failed.
		rn.setProc(nil)
		p.End(endBound)
		p.Close()
		cg.Remove()
		return launched{rep: t.fatal(rn, rep, err, first)}
	}
	t.feedInput(p)
	if first {
		rn.firstErr <- nil
	}
	return launched{rep: rep, cg: cg, proc: p}
}

// supervise follows a launched attempt to its end: timeout, cancel, drain,
// reap, cgroup clean-up, and reports it.
func (t *Task) supervise(rn *run, l launched) *ExitReport {
	rep, cg, p := l.rep, l.cg, l.proc
	if p == nil {
		return rep
	}
	reported := false
	defer func() {
		if !reported {
			rn.closeProc() // p, set by launch
		}
	}()

	stop := make(chan struct{}) // discards unread output in block mode once the attempt is being killed
	stopReaders := sync.OnceFunc(func() { close(stop) })
	var blocked atomic.Int32 // readers waiting for room in a "block" ring
	var fault atomic.Pointer[InternalError]
	readersDone := t.startReaders(p, rep.Attempt, stop, &blocked, &fault)
	callHook(&hookSupervising)

	killedAs, killReason := Outcome(-1), ""
	timeout := time.NewTimer(t.spec.Timeout())
	select {
	case <-readersDone:
		if fault.Load() != nil {
			killedAs = OutcomeFatal
			break
		}
		select {
		case <-p.Exited():
		case <-rn.canceled:
			killedAs, killReason = OutcomeCanceled, "canceled"
		case <-timeout.C:
			killedAs, killReason = OutcomeTimeout, fmt.Sprintf("timed out after %d ms", t.spec.TimeoutMs)
		}
	case <-p.Exited():
	case <-rn.canceled:
		killedAs, killReason = OutcomeCanceled, "canceled"
	case <-timeout.C:
		killedAs, killReason = OutcomeTimeout, fmt.Sprintf("timed out after %d ms", t.spec.TimeoutMs)
	}
	timeout.Stop()
	if killedAs < 0 && rn.isCanceled() {
		// Cancel's own signal may have ended the child before the select
		// saw the cancel (both ready, select picks at random).
		killedAs, killReason = OutcomeCanceled, "canceled"
	}
	if killedAs >= 0 {
		stopReaders()
		// A timeout gives the tree the spec's kill grace, as a cancel does.
		grace := rn.killGrace()
		if killedAs == OutcomeTimeout {
			grace = t.spec.KillGrace()
		}
		killTree(p, cg, grace)
	}
	t.drain(p, cg, readersDone, &blocked, rn.canceled, stopReaders)

	st, err := p.Reap()
	if err != nil {
		// The status is unknown, so the attempt is not a failure either:
		// it is lost, and nothing restarts it. When the library was ending
		// the attempt anyway, that is what it was.
		rep.Err = err
		rep.Reason = err.Error()
		rep.Outcome = OutcomeLost
		if killedAs >= 0 {
			rep.Outcome = killedAs
		}
	} else {
		evaluate(rep, st, t.failOnNonZero, killedAs, killReason)
	}
	if f := fault.Load(); f != nil {
		rep.Outcome, rep.Reason, rep.Err = OutcomeFatal, f.Error(), f
	}
	// Whatever is left of the tree (a daemon that closed its pipes, a setsid
	// escapee) dies with the attempt: the shim kills and reaps it before it
	// exits. The cgroup goes once it is empty.
	p.End(endBound)
	if !p.TreeGone() {
		// With the tree gone the cgroup holds nobody (only the tree joins
		// it), and Remove kills what a busy cgroup still holds anyway.
		cg.Kill()
	}
	cs := cg.Stats()
	rep.OOMKills, rep.MemoryPeakBytes, rep.CPUUsageUs = cs.OOMKills, cs.MemoryPeakBytes, cs.CPUUsageUs
	cg.Remove()
	// The process stays with the run, closed once the run's end is told
	// (see run.proc).
	reported = true
	rep.Finished = time.Now()
	if err := t.appendFinished(output.Event{
		Kind: output.KindFinished, Attempt: rep.Attempt, TsMs: rep.Finished.UnixMilli(),
		Value: int64(rep.Outcome), ExitCode: rep.ExitCode, Signal: rep.Signal,
	}); err != nil && rep.Err == nil {
		rep.Outcome, rep.Reason, rep.Err = OutcomeFatal, err.Error(), err
	}
	t.runner.metrics.TaskCompleted(rep.Outcome.String(), rep.Duration())
	t.runner.debugf("task %s: attempt %d ended: %s (%s) after %v", t.id, rep.Attempt, rep.Outcome, rep.Reason, rep.Duration())
	return rep
}

// reportUnapplied tells readers, before the attempt starts, which cgroup
// limits it runs without (failOnError false), and records them in the report.
func (t *Task) reportUnapplied(rep *ExitReport, cg *sandbox.CgroupSet) {
	if cg == nil {
		return
	}
	for _, u := range cg.Unapplied {
		rep.Unapplied = append(rep.Unapplied, u.Limit)
		t.ring.AppendControl(output.Event{Kind: output.KindWarning, TsMs: nowMs(), Data: []byte(u.String())})
	}
}

// reportWarnings tells readers, before STARTED, which sandbox steps the
// shim could not apply and was allowed to skip (failOnCapError false).
func (t *Task) reportWarnings(p *proc.Process) {
	for _, w := range p.Warnings {
		t.ring.AppendControl(output.Event{Kind: output.KindWarning, TsMs: nowMs(), Data: []byte(w.Error())})
	}
}

// start builds the plan, with the host environment read now, and spawns.
func (t *Task) start(cg *sandbox.CgroupSet) (*proc.Process, error) {
	sp, err := t.runner.spawnerFor()
	if err != nil {
		return nil, err
	}
	pl := &proc.Plan{
		Path:  t.program,
		Args:  t.args,
		Env:   policyEnv(t.runner.opts.Environ(), t.env, t.envPolicy),
		Dir:   t.cwd,
		Argv0: t.argv0,
	}
	t.mu.Lock()
	size := t.ptySize
	t.mu.Unlock()
	t.stdio.apply(pl, size)
	t.sandbox.apply(pl)
	pl.Isolation = t.isolation
	if pl.Seccomp != "" {
		pl.NoNewPrivs = true // the filter needs it (upstream sets it too)
	}
	applyCgroups(pl, cg)
	p, err := sp.Start(pl)
	var se *proc.ExecSizeError
	if errors.As(err, &se) {
		return nil, &model.SpecError{Field: se.What, Msg: err.Error() + " (ARG_MAX): shorten it or pass it another way (a file, stdin)"}
	}
	return p, err
}

// fatal ends an attempt that could not start. It counts in the metrics like
// any other end, and readers see the cause as a warning event.
func (t *Task) fatal(rn *run, rep *ExitReport, err error, first bool) *ExitReport {
	kind := metrics.ErrSpawnFailed
	var se *proc.SpawnError
	var ce *sandbox.Error
	switch {
	case errors.As(err, &ce):
		kind = metrics.ErrCgroupPrepareFailed
	case errors.As(err, &se) && se.IsSandbox():
		kind = metrics.ErrBackendConfigFailed
	}
	t.runner.metrics.RunnerError(kind)
	t.runner.debugf("task %s: could not start: %v", t.id, err)
	rep.Outcome, rep.Reason, rep.Err = OutcomeFatal, err.Error(), err
	rep.Finished = time.Now()
	t.appendControl(output.Event{Kind: output.KindWarning, TsMs: nowMs(), Data: []byte(err.Error())})
	t.runner.metrics.TaskCompleted(OutcomeFatal.String(), rep.Duration())
	if first {
		rn.firstErr <- err
	}
	return rep
}

// killTree kills the attempt's process group and cgroup (which holds the
// descendants that left the group with setsid): at once with SIGKILL, or
// with SIGTERM first and SIGKILL after grace (or as soon as the leader is
// gone, to take the rest of the tree with it).
func killTree(p *proc.Process, cg *sandbox.CgroupSet, grace time.Duration) {
	if grace > 0 {
		p.SignalGroup(unix.SIGTERM)
		cg.Signal(unix.SIGTERM)
		tm := time.NewTimer(grace)
		select {
		case <-p.Exited():
		case <-tm.C:
		}
		tm.Stop()
	}
	p.SignalGroup(unix.SIGKILL)
	cg.Kill()
	<-p.Exited()
}

// drain waits for both pipes to reach EOF after the leader exited. A
// background descendant holding a pipe cannot hang the attempt: after the
// drain grace the group and the cgroup are killed, and after a short extra
// bound the pipes are cut (a descendant that escaped both). Time a reader
// spends waiting for room in a "block" ring does not count: that output is
// the reader's to take, and the attempt ends only once it is read.
//
// A cancel during the drain ends it at once (the grace may be long), and
// lets block-mode readers discard what is unread, as a cancel before the
// leader's exit does.
func (t *Task) drain(p *proc.Process, cg *sandbox.CgroupSet, readersDone <-chan struct{}, blocked *atomic.Int32,
	canceled <-chan struct{}, stopReaders func()) {
	for {
		if waitChanOrCancel(readersDone, t.drainGrace, canceled) {
			return
		}
		if isClosed(canceled) {
			stopReaders()
			break
		}
		if blocked.Load() == 0 {
			break
		}
	}
	t.runner.debugf("task %s: drain grace of %v passed with the pipes open; killing the tree", t.id, t.drainGrace)
	p.SignalGroup(unix.SIGKILL)
	cg.Kill()
	if waitChan(readersDone, forcedDrain) {
		return
	}
	t.runner.debugf("task %s: a descendant outside the group holds a pipe; cutting the pipes", t.id)
	now := time.Now()
	p.Stdout.SetReadDeadline(now)
	p.Stderr.SetReadDeadline(now)
	<-readersDone
}

// startReaders streams both pipes into the ring and returns a channel closed
// when both have ended.
func (t *Task) startReaders(p *proc.Process, attempt uint32, stop <-chan struct{}, blocked *atomic.Int32, fault *atomic.Pointer[InternalError]) <-chan struct{} {
	done := make(chan struct{})
	var left atomic.Int32
	// Stderr is nil when merged into stdout and under a pty: one stream.
	left.Store(2)
	if p.Stderr == nil {
		left.Store(1)
	}
	end := func() {
		if left.Add(-1) == 0 {
			close(done)
		}
	}
	go t.pump(p.Stdout, output.Stdout, attempt, stop, blocked, fault, end)
	if p.Stderr != nil {
		go t.pump(p.Stderr, output.Stderr, attempt, stop, blocked, fault, end)
	}
	return done
}

// pump turns one pipe into line or chunk events (the task's output mode) until EOF, or until drain cuts it
// with a read deadline. All lines of one read share a timestamp: one clock
// read per chunk, not per line.
func (t *Task) pump(f *os.File, stream output.Stream, attempt uint32, stop <-chan struct{}, blocked *atomic.Int32, fault *atomic.Pointer[InternalError], end func()) {
	defer end()
	defer func() {
		// A panic here would take the host down: it fails the attempt
		// instead (supervise kills the tree and reports it).
		if r := recover(); r != nil {
			fault.CompareAndSwap(nil, internalError("reading "+stream.String(), r))
		}
	}()
	var waiting *atomic.Int32 // only a "block" ring makes a reader wait
	if t.blockOutput {
		waiting = blocked
	}
	w := output.NewPipeWriter(t.ring, t.frame, attempt, stream, stop, waiting)
	w.ReadPipe(f)
	w.Close(nowMs())
}

// appendControl appends a control event; a panic of the ring becomes an
// *InternalError, so that the attempt still ends and its tree is killed.
func (t *Task) appendControl(ev output.Event) error {
	return t.appendControlTo(ev, t.ring.AppendControl)
}

// appendFinished appends an attempt's FINISHED without waking waiting
// readers: the run wakes them once it has decided what comes next (the
// ring's close, or a restart; see loop).
func (t *Task) appendFinished(ev output.Event) error {
	return t.appendControlTo(ev, t.ring.AppendControlQuiet)
}

func (t *Task) appendControlTo(ev output.Event, appendTo func(output.Event)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = internalError("output ring", r)
		}
	}()
	if hook := testHookAppendControl.Load(); hook != nil {
		(*hook)(ev)
	}
	appendTo(ev)
	return nil
}

// testHookAppendControl, set by tests only, runs before each control event
// is appended: it stands in for a ring that fails after the child started.
var testHookAppendControl atomic.Pointer[func(output.Event)]

func nowMs() int64 { return time.Now().UnixMilli() }
