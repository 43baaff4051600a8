package main

/*
#include <stdlib.h>
#include "host.h"

extern char **environ;

#include <string.h>

// environ_copy copies the C environment, which setenv in the host changes
// (Go's os.Environ is a snapshot taken at load): each string with its NUL,
// into buf of cap bytes. It returns the bytes they take and their number in
// *count; buf holds them all only when that is at most cap. One call reads
// the array once, so a setenv between two calls cannot send it past the end.
static size_t environ_copy(char *buf, size_t cap, size_t *count) {
    size_t used = 0, n = 0;
    char **e = environ;
    if (e != NULL)
        for (; e[n] != NULL; n++) {
            size_t len = strlen(e[n]) + 1;
            if (used + len <= cap) memcpy(buf + used, e[n], len);
            used += len;
        }
    *count = n;
    return used;
}
*/
import "C"

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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

// envBytes is the size of the last environment copied: the next copy's
// first guess.
var envBytes atomic.Int64

// hostEnviron copies the C environ at spawn time, in one call to C: the
// strings share one buffer, which nothing writes after.
func hostEnviron() []string {
	size := max(int(envBytes.Load()), 1024)
	for {
		buf := make([]byte, size)
		var n C.size_t
		used := int(C.environ_copy((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n))
		if used > len(buf) {
			size = used + used/4 // a setenv may come before the next call
			continue
		}
		envBytes.Store(int64(used))
		env := make([]string, 0, int(n))
		for at := 0; at < used; {
			end := at + bytes.IndexByte(buf[at:used], 0)
			env = append(env, unsafe.String(&buf[at], end-at))
			at = end + 1
		}
		return env
	}
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
