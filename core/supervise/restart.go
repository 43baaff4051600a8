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
	EndLost // the exit status is unknown (the shim was killed from outside)
)

// ShouldRestart says whether another attempt follows an attempt that ended
// with e, given how many restarts already happened. Cancel, fatal errors
// (spawn, sandbox setup) and a lost exit status never restart: a lost
// status says nothing about the task, and its target may still run.
func ShouldRestart(p model.RestartPolicy, maxRetries uint32, restartsSoFar uint32, e End) bool {
	if e == EndCanceled || e == EndFatal || e == EndLost {
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
