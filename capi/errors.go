package main

/*
#include "solti_exec.h"
#include "host.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/debug"
	"unsafe"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/solti-exec/solti-exec/core/runner"
	"github.com/solti-exec/solti-exec/core/sandbox"
)

// errInvalid is a bad argument: NULL, out of range.
type errInvalid struct{ msg string }

func (e *errInvalid) Error() string { return e.msg }

func invalid(format string, args ...any) error { return &errInvalid{fmt.Sprintf(format, args...)} }

// codeOf maps a core error to its C code. It is the only place that knows
// both sides.
func codeOf(err error) C.int {
	var (
		inval     *errInvalid
		badHandle *errBadHandle
		specErr   *model.SpecError
		cfgErr    *model.ConfigError
		kindErr   *runner.UnsupportedKindError
		stateErr  *runner.StateError
		buildErr  *runner.BuildError
		spawnErr  *proc.SpawnError
		cgroupErr *sandbox.Error
		tooSmall  *output.TooSmallError
	)
	switch {
	case err == nil:
		return C.SOLTI_OK
	case errors.As(err, &inval), errors.Is(err, output.ErrBadCursor):
		return C.SOLTI_EINVAL
	case errors.As(err, &badHandle), errors.Is(err, runner.ErrClosed):
		return C.SOLTI_EBADF
	case errors.As(err, &specErr), errors.As(err, &cfgErr):
		return C.SOLTI_ESPEC
	case errors.As(err, &kindErr):
		return C.SOLTI_EUNSUPPORTED
	case errors.As(err, &stateErr):
		return C.SOLTI_ESTATE
	case errors.As(err, &cgroupErr):
		return C.SOLTI_ESANDBOX
	case errors.As(err, &spawnErr):
		if spawnErr.IsSandbox() {
			return C.SOLTI_ESANDBOX
		}
		return C.SOLTI_ESPAWN
	case errors.As(err, &buildErr):
		return C.SOLTI_ESPAWN
	case errors.Is(err, runner.ErrTimeout):
		return C.SOLTI_ETIMEDOUT
	case errors.As(err, &tooSmall):
		return C.SOLTI_ERANGE
	case errors.Is(err, output.ErrEOF):
		return C.SOLTI_EOF
	case errors.Is(err, proc.ErrStatusLost): // the task's shim was killed before it reported
		return C.SOLTI_ECHILD
	case errors.Is(err, runner.ErrBrokenPipe): // nothing reads the task's stdin any more
		return C.SOLTI_EPIPE
	default:
		return C.SOLTI_EINTERNAL
	}
}

// fail records err as the calling thread's last error and returns its code.
func fail(err error) C.int {
	setLastError(err.Error())
	return codeOf(err)
}

func failCode(code C.int, msg string) C.int {
	setLastError(msg)
	return code
}

func setLastError(msg string) {
	if msg == "" {
		C.soltic_set_last_error(nil, 0)
		return
	}
	C.soltic_set_last_error((*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
}

// guard is deferred by every export: a panic must never cross into the host.
// It becomes SOLTI_EINTERNAL with the panic and stack in the last error.
func guard(rc *C.int) {
	if p := recover(); p != nil {
		setLastError(fmt.Sprintf("internal error: %v\n%s", p, debug.Stack()))
		*rc = C.SOLTI_EINTERNAL
	}
}
