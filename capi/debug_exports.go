package main

/*
#include "solti_exec.h"
*/
import "C"

import "github.com/solti-exec/solti-exec/core/runner"

//export soltigo_debug_stats
func soltigo_debug_stats(out *C.solti_debug_stats_t) (rc C.int) {
	defer guard(&rc)
	if out == nil {
		return fail(invalid("solti_debug_stats: stats_out must not be NULL"))
	}
	s := runner.Debug()
	*out = C.solti_debug_stats_t{
		goroutines: C.int64_t(s.Goroutines),
		runners:    C.int64_t(s.Runners),
		tasks:      C.int64_t(s.Tasks),
		processes:  C.int64_t(s.Processes),
		fds:        C.int64_t(s.FDs),
	}
	return C.SOLTI_OK
}
