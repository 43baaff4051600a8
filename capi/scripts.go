package main

/*
#include "host.h"
*/
import "C"

import (
	"unsafe"

	"github.com/solti-exec/solti-exec/core/runner"
)

// trackScript hands a task's script directory to the C side, which removes
// it at process exit if the host never frees the task.
func trackScript(t *runner.Task) {
	if dir := t.ScriptDir(); dir != "" {
		C.soltic_script_track((*C.char)(unsafe.Pointer(unsafe.StringData(dir))), C.size_t(len(dir)))
	}
}

// untrackScript is called once the task is closed and its directory gone.
func untrackScript(t *runner.Task) {
	if dir := t.ScriptDir(); dir != "" {
		C.soltic_script_untrack((*C.char)(unsafe.Pointer(unsafe.StringData(dir))), C.size_t(len(dir)))
	}
}
