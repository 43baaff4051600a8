package main

/*
#include <stdlib.h>

// The shim built into the library (shim_in_library.c, the shim's own source
// built with SOLTI_SHIM_IN_LIBRARY).
unsigned long solti_shim_data_size(long argc, long envc, unsigned long string_bytes);
void *solti_shim_map(unsigned long data, unsigned long *size);
void solti_shim_release(void *region, unsigned long size);
int solti_shim_reusable(void *region);
int solti_shim_target_pid(void *region);
long solti_shim_start(char *const *argv, long argc, char *const *envp, long envc, const int *fds, int n_fds,
                      int *pidfd, void *region, unsigned long size);
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/solti-exec/solti-exec/core/proc"
)

// A region is the memory one resident runs in: its stack and its copy of
// the plan's strings.
type region struct {
	mem  unsafe.Pointer
	size C.ulong
}

// pooledData is the data part of pooled regions: any plan whose strings fit
// (most do) reuses a region of a resident that has exited, already mapped
// and faulted in. The pool holds a few, for as many spawns at once.
const (
	pooledData = 64 << 10
	poolSize   = 16
)

var regions = make(chan region, poolSize)

func takeRegion(data C.ulong) (region, bool) {
	if data <= pooledData {
		select {
		case r := <-regions:
			return r, true
		default:
		}
		data = pooledData
	}
	var r region
	r.mem = C.solti_shim_map(data, &r.size)
	return r, r.mem != nil
}

// giveRegion takes back the region of a resident that has exited. A
// resident killed while its target had not left the stack in the region yet
// leaves it mapped and unused for good: the target may still run there.
func giveRegion(r region, data C.ulong) {
	if C.solti_shim_reusable(r.mem) == 0 {
		return
	}
	if data <= pooledData {
		select {
		case regions <- r:
			return
		default:
		}
	}
	C.solti_shim_release(r.mem, r.size)
}

// launchShim is the runners' proc.Launcher: it starts the shim built into
// the library as a clone of the calling thread that shares the host's memory
// until the shim exits, so no spawn execs the shim. The argument and
// environment strings are copied into one C block for the call; the shim
// copies them again into its region, which release gives back.
func launchShim(argv, env []string, files []int) (proc.Launched, error) {
	ptrSize := int(unsafe.Sizeof(uintptr(0)))
	stringBytes := 0
	for _, s := range argv {
		stringBytes += len(s) + 1
	}
	for _, s := range env {
		stringBytes += len(s) + 1
	}
	size := (len(argv)+len(env)+2)*ptrSize + stringBytes
	block := C.malloc(C.size_t(size))
	if block == nil {
		return proc.Launched{PidFD: -1}, unix.ENOMEM
	}
	defer C.free(block)
	ptrs := unsafe.Slice((**C.char)(block), len(argv)+len(env)+2)
	strs := unsafe.Slice((*byte)(unsafe.Add(block, len(ptrs)*ptrSize)), size-len(ptrs)*ptrSize)
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
	cargv, cenv := &ptrs[0], &ptrs[len(argv)+1]

	data := C.solti_shim_data_size(C.long(len(argv)), C.long(len(env)), C.ulong(stringBytes))
	reg, ok := takeRegion(data)
	if !ok {
		return proc.Launched{PidFD: -1}, unix.ENOMEM
	}
	cfds := make([]C.int, len(files))
	for i, fd := range files {
		cfds[i] = C.int(fd)
	}
	var cpidfd C.int
	r := C.solti_shim_start(cargv, C.long(len(argv)), cenv, C.long(len(env)), &cfds[0], C.int(len(cfds)), &cpidfd,
		reg.mem, reg.size)
	if r < 0 {
		giveRegion(reg, data) // no resident ever ran in it
		return proc.Launched{PidFD: -1}, unix.Errno(-r)
	}
	return proc.Launched{
		Pid:       int(r),
		PidFD:     int(cpidfd),
		TargetPid: func() int { return int(C.solti_shim_target_pid(reg.mem)) },
		Release:   func() { giveRegion(reg, data) },
	}, nil
}
