package main

/*
#include <stdlib.h>
#include "host.h"

extern char **environ;

// environ_count and environ_at read the C environment, which setenv in the
// host changes; Go's os.Environ is a snapshot taken at load.
static size_t environ_count(void) {
    size_t n = 0;
    if (environ != NULL)
        while (environ[n] != NULL) n++;
    return n;
}
static const char *environ_at(size_t i) { return environ[i]; }
*/
import "C"

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/solti-exec/solti-exec/core/runner"
)

// hostOptions are the runner options that come from the host process.
func hostOptions() runner.Options {
	o := runner.Options{ShimPath: hostGetenv("SOLTI_EXEC_SHIM"), Launch: launchShim, Environ: hostEnviron}
	if hostGetenv("SOLTI_EXEC_LOG") == "debug" {
		o.Debugf = debugToStderr
	}
	return o
}

// debugToStderr is the only way the library writes to the host's stderr:
// the host asked for it with SOLTI_EXEC_LOG=debug when making the runner.
func debugToStderr(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "solti-exec: "+format+"\n", args...)
}

// hostEnviron copies the C environ at spawn time.
func hostEnviron() []string {
	n := int(C.environ_count())
	env := make([]string, 0, n)
	for i := 0; i < n; i++ {
		env = append(env, C.GoString(C.environ_at(C.size_t(i))))
	}
	return env
}

// hostGetenv reads the C environment, not Go's snapshot, and only when the
// process may trust it (soltic_trusted_getenv): these variables choose the
// program every child is started through, and where the library writes.
func hostGetenv(key string) string {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	if v := C.soltic_trusted_getenv(ck); v != nil {
		return C.GoString(v)
	}
	return ""
}
