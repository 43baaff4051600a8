package main

/*
#include "solti_exec.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/runner"
)

//export soltigo_runner_new
func soltigo_runner_new(name, configJSON *C.char, out *C.solti_runner_t) (rc C.int) {
	defer guard(&rc)
	if name == nil || out == nil {
		return fail(invalid("solti_runner_new: name and runner_out must not be NULL"))
	}
	var cfg *model.RunnerConfig
	if configJSON != nil {
		c, err := model.ParseRunnerConfig([]byte(C.GoString(configJSON)))
		if err != nil {
			return fail(err)
		}
		cfg = c
	}
	r, err := runner.New(C.GoString(name), cfg, hostOptions())
	if err != nil {
		return fail(err)
	}
	*out = C.solti_runner_t(handles.add(kindRunner, r))
	return C.SOLTI_OK
}

//export soltigo_runner_free
func soltigo_runner_free(h C.solti_runner_t) (rc C.int) {
	defer guard(&rc)
	r, err := remove[*runner.Runner](uint64(h), kindRunner)
	if err != nil {
		return fail(err)
	}
	tasks := removeWhere(kindTask, func(t *runner.Task) bool { return t.Runner() == r })
	r.Close()
	for _, t := range tasks {
		untrackScript(t)
	}
	return C.SOLTI_OK
}

//export soltigo_runner_metrics
func soltigo_runner_metrics(h C.solti_runner_t, format C.int, buf *C.char, n C.size_t, lenOut *C.size_t) (rc C.int) {
	defer guard(&rc)
	if lenOut == nil || (buf == nil && n > 0) {
		return fail(invalid("solti_runner_metrics: len_out must not be NULL, nor buf when len > 0"))
	}
	r, err := lookup[*runner.Runner](uint64(h), kindRunner)
	if err != nil {
		return fail(err)
	}
	snap := r.Metrics().Snapshot()
	var text []byte
	switch format {
	case C.SOLTI_METRICS_JSON:
		text = snap.JSON()
	case C.SOLTI_METRICS_PROMETHEUS:
		text = snap.Prometheus()
	default:
		return fail(invalid("solti_runner_metrics: unknown format %d", int(format)))
	}
	*lenOut = C.size_t(len(text))
	return copyText(text, buf, n, "metrics text")
}

// copyText copies text plus a NUL into buf, or fails with SOLTI_ERANGE
// naming the size needed.
func copyText(text []byte, buf *C.char, n C.size_t, what string) C.int {
	if int(n) < len(text)+1 {
		return failCode(C.SOLTI_ERANGE, fmt.Sprintf("buffer too small for the %s: %d bytes needed", what, len(text)+1))
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))
	copy(dst, text)
	dst[len(text)] = 0
	return C.SOLTI_OK
}
