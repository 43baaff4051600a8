package runner

import (
	"errors"

	"github.com/solti-exec/solti-exec/core/proc"
)

// SpawnFailure gives the spawn step that failed, with its errno and what it
// worked on, when the task's last run ended because its attempt could not
// start (outcome fatal with a *proc.SpawnError cause); nil otherwise: never
// spawned, running, or ended any other way. Callers choose from it what a
// message would only say in words: a missing program (exec, ENOENT) from a
// bad directory (chdir) or the library's own trouble (shim, fork).
func (t *Task) SpawnFailure() *proc.SpawnError {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.run != nil || t.last == nil || t.last.Outcome != OutcomeFatal {
		return nil
	}
	var se *proc.SpawnError
	if errors.As(t.last.Err, &se) {
		return se
	}
	return nil
}
