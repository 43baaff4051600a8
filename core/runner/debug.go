package runner

import (
	"runtime"
	"sync/atomic"

	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/proc"
)

// Live runners and tasks in the process, for DebugStats. Counting them is all
// these do; no behaviour depends on them.
var liveRunners, liveTasks atomic.Int64

// DebugStats is what the engine holds right now in this process. A host or a
// stress test compares two snapshots to find leaks: after every task and
// runner is freed, Runners, Tasks, Processes and FDs are zero and Goroutines
// is back to what it was before the first task.
type DebugStats struct {
	Goroutines int // all goroutines of the Go runtime in the process
	Runners    int // made by New and not yet closed
	Tasks      int // built and not yet closed
	Processes  int // children started and not yet reaped and released
	FDs        int // descriptors held: pipes, pidfds, readiness eventfds
}

// Debug takes a DebugStats snapshot. The counts are read one after the
// other, not atomically together.
func Debug() DebugStats {
	return DebugStats{
		Goroutines: runtime.NumGoroutine(),
		Runners:    int(liveRunners.Load()),
		Tasks:      int(liveTasks.Load()),
		Processes:  proc.LiveProcesses(),
		FDs:        proc.OpenFDs() + output.OpenFDs(),
	}
}
