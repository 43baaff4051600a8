package main

/*
#include <stdlib.h>

// The shim built into the library (shim_in_library.c, the shim's own source
// built with SOLTI_SHIM_IN_LIBRARY).
long solti_shim_start(char *const *argv, char *const *envp, const int *fds, int n_fds, int *pidfd,
                      void **region, unsigned long *region_size);
void solti_shim_release(void *region, unsigned long region_size);
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// launchShim is the runners' proc.Launcher: it starts the shim built into
// the library as a clone of the calling thread that shares the host's memory
// until the shim exits, so no spawn execs the shim. The argument and
// environment strings are copied into one C block for the call; the shim
// copies them again into memory of its own, which release unmaps.
func launchShim(argv, env []string, files []int) (pid, pidfd int, release func(), err error) {
	size := (len(argv) + len(env) + 2) * int(unsafe.Sizeof(uintptr(0)))
	for _, s := range argv {
		size += len(s) + 1
	}
	for _, s := range env {
		size += len(s) + 1
	}
	block := C.malloc(C.size_t(size))
	if block == nil {
		return 0, -1, nil, unix.ENOMEM
	}
	defer C.free(block)
	ptrs := unsafe.Slice((**C.char)(block), len(argv)+len(env)+2)
	strs := unsafe.Slice((*byte)(unsafe.Add(block, len(ptrs)*int(unsafe.Sizeof(uintptr(0))))), size-len(ptrs)*int(unsafe.Sizeof(uintptr(0))))
	at := 0
	put := func(i int, s string) {
		ptrs[i] = (*C.char)(unsafe.Pointer(&strs[at]))
		at += copy(strs[at:], s)
		strs[at] = 0
		at++
	}
	for i, s := range argv {
		put(i, s)
	}
	ptrs[len(argv)] = nil
	for i, s := range env {
		put(len(argv)+1+i, s)
	}
	ptrs[len(ptrs)-1] = nil

	cfds := make([]C.int, len(files))
	for i, fd := range files {
		cfds[i] = C.int(fd)
	}
	var cpidfd C.int
	var region unsafe.Pointer
	var regionSize C.ulong
	r := C.solti_shim_start(&ptrs[0], &ptrs[len(argv)+1], &cfds[0], C.int(len(cfds)), &cpidfd, &region, &regionSize)
	if r < 0 {
		return 0, -1, nil, unix.Errno(-r)
	}
	release = func() { C.solti_shim_release(region, regionSize) }
	return int(r), int(cpidfd), release, nil
}
