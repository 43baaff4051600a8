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

// InternalError is a fault of the library inside an attempt (a panic in one
// of its goroutines, recovered there): the attempt ends as FATAL, its tree
// killed, and Wait returns this error with the report, which the C layer
// gives as SOLTI_EINTERNAL.
type InternalError struct{ Msg string }

func (e *InternalError) Error() string { return "internal error: " + e.Msg }

// internalError makes the error for a recovered panic value.
func internalError(where string, r any) *InternalError {
	return &InternalError{Msg: fmt.Sprintf("%s: %v", where, r)}
}
