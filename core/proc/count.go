package proc

import "sync/atomic"

// What the package holds right now, for leak checks (DebugStats in the C
// ABI): every descriptor it opens is counted when opened and uncounted when
// closed, and every Process from Start until Close.
var (
	openFDs   atomic.Int64
	liveProcs atomic.Int64
)

// OpenFDs is how many descriptors the package holds: the pipes, /dev/null
// and pidfds of spawns in progress and of Processes not yet closed.
func OpenFDs() int { return int(openFDs.Load()) }

// LiveProcesses is how many Processes were started and not yet closed.
func LiveProcesses() int { return int(liveProcs.Load()) }
