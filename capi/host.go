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
	"path/filepath"
	"unsafe"

	"github.com/solti-exec/solti-exec/core/runner"
	"golang.org/x/sys/unix"
)

// shimName is the exec shim's file name beside the library, or in a
// solti-exec directory beside it (the installed layout).
const shimName = "solti-exec-shim"

// hostOptions are the runner options that come from the host process.
func hostOptions() runner.Options {
	o := runner.Options{ShimPath: findShim(), Environ: hostEnviron}
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

// findShim looks, in order, at SOLTI_EXEC_SHIM, then beside the library, then
// in the solti-exec directory beside it. The runner config's shimPath, when
// set, wins over all of these.
func findShim() string {
	if p := hostGetenv("SOLTI_EXEC_SHIM"); p != "" {
		return p
	}
	var buf [4096]C.char
	if C.soltic_library_dir(&buf[0], C.size_t(len(buf))) != 0 {
		return ""
	}
	dir := C.GoString(&buf[0])
	for _, p := range []string{filepath.Join(dir, shimName), filepath.Join(dir, "solti-exec", shimName)} {
		if unix.Access(p, unix.X_OK) == nil {
			return p
		}
	}
	return filepath.Join(dir, shimName) // reported as missing at spawn, by path
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
