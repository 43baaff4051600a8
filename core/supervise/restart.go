package supervise

import "github.com/solti-exec/solti-exec/core/model"

// End is how an attempt ended, as far as the restart decision cares.
type End int

const (
	EndSuccess End = iota
	EndFailure
	EndTimeout
	EndCanceled
	EndFatal
)

// ShouldRestart says whether another attempt follows an attempt that ended
// with e, given how many restarts already happened. Cancel and fatal errors
// (spawn, sandbox setup) never restart.
func ShouldRestart(p model.RestartPolicy, maxRetries uint32, restartsSoFar uint32, e End) bool {
	if e == EndCanceled || e == EndFatal {
		return false
	}
	if maxRetries != 0 && restartsSoFar >= maxRetries {
		return false
	}
	switch p.Type {
	case "onFailure":
		return e == EndFailure || e == EndTimeout
	case "always":
		return true
	default:
		return false
	}
}
