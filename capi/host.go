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
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/solti-exec/solti-exec/core/runner"
	"golang.org/x/sys/unix"
)

// shimName is the exec shim's file name beside the library, or in a
// solti-exec directory beside it (the installed layout).
const shimName = "solti-exec-shim"

// hostOptions are the runner options that come from the host process. The
// shim built into the library starts each attempt, unless SOLTI_EXEC_SHIM
// names an executable one, or the host runs under valgrind, which runs no
// clone(CLONE_VM) but a thread's: the shim installed beside the library is
// exec'd then. A runner config's shimPath wins over all of these.
func hostOptions() runner.Options {
	o := runner.Options{Environ: hostEnviron}
	switch p := hostGetenv("SOLTI_EXEC_SHIM"); {
	case p != "":
		o.ShimPath = p
	case underValgrind():
		o.ShimPath = shimBesideLibrary()
	default:
		o.Launch = launchShim
	}
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

// shimBesideLibrary is the shim installed beside the library, or in the
// solti-exec directory beside it; a missing one is reported at spawn, by
// its path.
func shimBesideLibrary() string {
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
	return filepath.Join(dir, shimName)
}

// underValgrind reports whether the process runs under valgrind, whose
// preload libraries are then mapped in it. Read once: valgrind is there
// from the start or not at all.
var underValgrind = sync.OnceValue(func() bool {
	maps, err := os.ReadFile("/proc/self/maps")
	return err == nil && bytes.Contains(maps, []byte("/vgpreload_"))
})

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
