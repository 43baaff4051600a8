package main

/*
#include "solti_exec.h"
*/
import "C"

import (
	"unsafe"

	"github.com/solti-exec/solti-exec/core/output"
)

// The records ReadLines writes are solti_line_run_t headers: the sizes must
// agree (both array lengths below are zero only if they do).
var (
	_ [output.RunHeaderSize - unsafe.Sizeof(C.solti_line_run_t{})]byte
	_ [unsafe.Sizeof(C.solti_line_run_t{}) - output.RunHeaderSize]byte
)

//export soltigo_task_read_lines
func soltigo_task_read_lines(h C.solti_task_t, cursor *C.solti_lines_cursor_t, streams C.uint32_t, buf *C.char,
	bufLen C.size_t, timeoutMs C.int, nOut *C.size_t, info *C.solti_lines_info_t) (rc C.int) {
	defer guard(&rc)
	if uintptr(unsafe.Pointer(buf))%8 != 0 {
		return fail(invalid("solti_task_read_lines: buf must be aligned to 8 bytes"))
	}
	t, dst, timeout, err := readArgs("solti_task_read_lines", h, cursor != nil && nOut != nil, buf, bufLen, 0, streams, timeoutMs)
	if err != nil {
		return fail(err)
	}
	*nOut = 0 // also on SOLTI_EOF
	cur := output.LineCursor{Seq: uint64(cursor.seq), Line: uint64(cursor.line), Pos: uint64(cursor.pos)}
	res, next, err := t.Ring().ReadLines(cur, output.Stream(streams), dst, timeout, nil)
	if err != nil {
		return fail(err)
	}
	*cursor = C.solti_lines_cursor_t{seq: C.uint64_t(next.Seq), line: C.uint64_t(next.Line), pos: C.uint64_t(next.Pos)}
	*nOut = C.size_t(res.N)
	if info != nil {
		*info = C.solti_lines_info_t{
			lines: C.uint64_t(res.Lines), runs: C.uint64_t(res.Runs),
			lost_lines: C.uint64_t(res.LostLines), lost_bytes: C.uint64_t(res.LostBytes),
		}
	}
	return C.SOLTI_OK
}
