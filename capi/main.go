// Command capi is the cgo layer of libsolti_exec.so (built with
// -buildmode=c-shared). It stays thin: handles, argument checks, copying into
// caller memory, error codes and the host-process guards. Every behaviour
// lives in core.
package main

/*
#cgo CFLAGS: -DSOLTI_SHIM_IN_LIBRARY -I${SRCDIR}/../include -Wall -Wextra -Werror -Wno-unused-parameter
#include "solti_exec.h"
#include "host.h"
*/
import "C"

func init() {
	// The Go runtime raised the soft RLIMIT_NOFILE while starting; the host
	// process must not see its limits change because it loaded a library.
	C.soltic_restore_nofile()
}

func main() {}
