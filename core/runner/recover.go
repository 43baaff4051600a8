package runner

import (
	"sync/atomic"
	"time"

	"github.com/solti-exec/solti-exec/core/output"
)

// Test hooks: a test sets one to inject a panic at that point of a run. They
// are unset outside the tests (atomic: goroutines of earlier tests may still
// pass the point while a test sets them).
var (
	hookLaunched    atomic.Pointer[func()] // in launch, right after the child started
	hookSupervising atomic.Pointer[func()] // in supervise, while the attempt runs
)

func callHook(h *atomic.Pointer[func()]) {
	if f := h.Load(); f != nil {
		(*f)()
	}
}

// abortRun ends a run whose goroutine panicked: a panic that leaves a
// goroutine the library started takes the whole host down, so each of them
// recovers and comes here. The running attempt's tree dies (closing the
// shim's socket without an end makes it kill the tree and remove the
// attempt's cgroups), and the run's last report is a FATAL one carrying an
// *InternalError, which Wait returns (SOLTI_EINTERNAL in C).
func (t *Task) abortRun(rn *run, where string, r any) *InternalError {
	ie := internalError(where+" panicked", r)
	rn.closeProc()
	now := time.Now()
	rep := &ExitReport{
		Attempt: t.Attempts(), Outcome: OutcomeFatal, ExitCode: -1,
		OOMKills: -1, MemoryPeakBytes: -1, CPUUsageUs: -1,
		Started: now, Finished: now, Reason: ie.Error(), Err: ie,
	}
	t.record(rep)
	t.appendControl(output.Event{Kind: output.KindWarning, TsMs: now.UnixMilli(), Data: []byte(ie.Error())})
	t.appendControl(output.Event{Kind: output.KindFinished, Attempt: rep.Attempt, TsMs: now.UnixMilli(), Value: int64(OutcomeFatal), ExitCode: -1})
	t.runner.metrics.TaskCompleted(OutcomeFatal.String(), 0)
	// A Spawn still waiting for the first attempt gets the error; the
	// channel has room for one value and nothing else is sent after this.
	select {
	case rn.firstErr <- ie:
	default:
	}
	return ie
}
