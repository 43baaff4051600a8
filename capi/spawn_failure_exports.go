package main

/*
#include "solti_exec.h"
*/
import "C"

import (
	"unsafe"

	"github.com/solti-exec/solti-exec/core/runner"
)

//export soltigo_task_spawn_failure
func soltigo_task_spawn_failure(h C.solti_task_t, out *C.solti_spawn_failure_t) (rc C.int) {
	defer guard(&rc)
	if out == nil {
		return fail(invalid("solti_task_spawn_failure: failure_out must not be NULL"))
	}
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	se := t.SpawnFailure()
	if se == nil {
		return 0
	}
	*out = C.solti_spawn_failure_t{errnum: C.int32_t(se.Errno), arg_len: C.size_t(len(se.Arg))}
	if se.IsSandbox() {
		out.sandbox = 1
	}
	cString(unsafe.Slice((*byte)(unsafe.Pointer(&out.step[0])), len(out.step)), se.Step)
	cString(unsafe.Slice((*byte)(unsafe.Pointer(&out.arg[0])), len(out.arg)), se.Arg)
	return 1
}

// cString copies text into dst NUL-terminated, cut to fit.
func cString(dst []byte, text string) {
	n := copy(dst[:len(dst)-1], text)
	dst[n] = 0
}
