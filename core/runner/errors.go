package runner

import (
	"errors"
	"fmt"
)

// UnsupportedKindError is returned by Build for a task kind this runner
// cannot run (wasm, container, embedded).
type UnsupportedKindError struct {
	Runner string
	Kind   string
}

func (e *UnsupportedKindError) Error() string {
	return fmt.Sprintf("unsupported task kind for runner '%s': %s", e.Runner, e.Kind)
}

// StateError says an operation is not allowed in the task's current state.
type StateError struct{ Msg string }

func (e *StateError) Error() string { return e.Msg }

// BuildError is a failure while preparing a task that is not the spec's
// fault, such as an unwritable temporary directory for the script file.
type BuildError struct {
	Step string
	Err  error
}

func (e *BuildError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *BuildError) Unwrap() error { return e.Err }

// ErrTimeout is returned by Wait when its timeout expires first.
var ErrTimeout = errors.New("timed out waiting for the task")

// ErrClosed is returned for a task or runner that was freed.
var ErrClosed = errors.New("task is closed")
