package runner

import (
	"sync"
	"time"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/solti-exec/solti-exec/core/supervise"
	"golang.org/x/sys/unix"
)

// run is one Spawn's worth of attempts: the first one and the restarts the
// policy asks for, until success, give-up or cancel.
type run struct {
	firstErr chan error    // the first attempt's spawn result, sent once
	ended    chan struct{} // closed after the run is over and the task updated

	cancelOnce sync.Once
	canceled   chan struct{}

	mu sync.Mutex
	// proc is the attempt's process, for Cancel. An attempt that ended and
	// was reported leaves it here, and closeProc closes it before the next
	// attempt or once the run's end is told (the ring closed, Wait
	// released): closing its descriptors and reaping its shim (30-45 us)
	// is then off the path between the child's exit and a waiting host's
	// EOF. A Cancel meanwhile reaches a shim with nothing left to signal.
	proc  *proc.Process
	grace time.Duration
}

func newRun() *run {
	return &run{
		firstErr: make(chan error, 1),
		ended:    make(chan struct{}),
		canceled: make(chan struct{}),
	}
}

// cancel signals the running attempt's group at once (SIGKILL, or SIGTERM
// when a grace is set) so the tree is being killed when Cancel returns; the
// attempt loop does the rest (escalation, reap, drain). canceled is closed
// before the signal goes, so an attempt that sees its child die of it also
// sees the cancel and reports it as such.
func (rn *run) cancel(grace time.Duration) {
	rn.cancelOnce.Do(func() {
		rn.mu.Lock()
		rn.grace = grace
		p := rn.proc
		rn.mu.Unlock()
		close(rn.canceled)
		if p != nil {
			sig := unix.SIGKILL
			if grace > 0 {
				sig = unix.SIGTERM
			}
			p.SignalGroup(sig)
		}
	})
}

func (rn *run) isCanceled() bool { return isClosed(rn.canceled) }

func (rn *run) setProc(p *proc.Process) {
	rn.mu.Lock()
	rn.proc = p
	rn.mu.Unlock()
}

// closeProc takes the attempt's process from the run and closes it, if
// there is one.
func (rn *run) closeProc() {
	rn.mu.Lock()
	p := rn.proc
	rn.proc = nil
	rn.mu.Unlock()
	if p != nil {
		p.Close()
	}
}

func (rn *run) killGrace() time.Duration {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.grace
}

// loop runs attempts until the restart policy says stop or the run is
// canceled, sleeping the backoff between them (a cancel cuts the sleep).
//
// first is the run's first attempt when Spawn launched it already, else nil.
func (t *Task) loop(rn *run, first *launched) {
	defer func() {
		if r := recover(); r != nil {
			t.abortRun(rn, "supervision loop", r)
		}
		t.runEnded(rn) // closes the ring, or wakes it for a queued run
		rn.closeProc()
		close(rn.ended)
	}()
	bo := supervise.NewBackoff(t.spec.Backoff, t.randFloat)
	// restarts counts every restart, after a success too: maxRetries bounds
	// the restarts after the first attempt, whatever their ends. A 0.0.4
	// spec's maxRetries is upstream's budget of consecutive failure
	// retries instead: only failures count, and a success resets it.
	var restarts uint32
	for n := 0; ; n++ {
		var rep *ExitReport
		if n == 0 && first != nil {
			rep = t.supervise(rn, *first)
		} else {
			rep = t.attempt(rn, n == 0)
		}
		t.record(rep)
		end := endOf(rep.Outcome)
		if end == supervise.EndSuccess {
			bo.Reset()
			if t.spec.FailureRetries {
				restarts = 0
			}
		}
		if rn.isCanceled() || !supervise.ShouldRestart(t.spec.Restart, t.spec.MaxRetries, restarts, end) {
			return
		}
		// A restart: the readers learn of FINISHED now, not after the backoff.
		t.ring.Wake()
		rn.closeProc()
		var delay time.Duration
		if end == supervise.EndSuccess && t.spec.Restart.Type == model.RestartAlways && t.spec.Restart.IntervalMs > 0 {
			delay = t.spec.Restart.Interval()
		} else {
			delay = bo.Next()
		}
		if !t.spec.FailureRetries || end != supervise.EndSuccess {
			restarts++
		}
		tm := time.NewTimer(delay)
		select {
		case <-rn.canceled:
			tm.Stop()
			return
		case <-tm.C:
		}
		// In block mode, wait for the reader before the next attempt's
		// lifecycle events, so they never push out a line it has not read.
		if !t.ring.WaitControlRoom(rn.canceled) {
			return
		}
	}
}

func endOf(o Outcome) supervise.End {
	switch o {
	case OutcomeSuccess:
		return supervise.EndSuccess
	case OutcomeTimeout:
		return supervise.EndTimeout
	case OutcomeCanceled:
		return supervise.EndCanceled
	case OutcomeFatal:
		return supervise.EndFatal
	case OutcomeLost:
		return supervise.EndLost
	default:
		return supervise.EndFailure
	}
}
