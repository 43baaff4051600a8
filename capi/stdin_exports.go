package main

/*
#include "solti_exec.h"
*/
import "C"

import (
	"unsafe"

	"github.com/solti-exec/solti-exec/core/runner"
	"golang.org/x/sys/unix"
)

// The exports that talk to a running child: its stdin or terminal, the
// terminal's size, signals.

//export soltigo_task_write
func soltigo_task_write(h C.solti_task_t, buf unsafe.Pointer, n C.size_t, timeoutMs C.int, writtenOut *C.size_t) (rc C.int) {
	defer guard(&rc)
	if buf == nil && n > 0 {
		return fail(invalid("solti_task_write: buf must not be NULL when len > 0"))
	}
	if !bufFits((*C.char)(buf), n) {
		return fail(invalid("solti_task_write: len %d is not a possible buffer length", uint64(n)))
	}
	timeout, err := timeoutOf("solti_task_write", timeoutMs)
	if err != nil {
		return fail(err)
	}
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	var data []byte
	if n > 0 {
		data = unsafe.Slice((*byte)(buf), int(n))
	}
	written, err := t.Write(data, timeout)
	if writtenOut != nil && (err == nil || err == runner.ErrTimeout || err == runner.ErrBrokenPipe) {
		*writtenOut = C.size_t(written)
	}
	if err != nil {
		return fail(err)
	}
	return C.SOLTI_OK
}

//export soltigo_task_close_stdin
func soltigo_task_close_stdin(h C.solti_task_t) (rc C.int) {
	defer guard(&rc)
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	if err := t.CloseStdin(); err != nil {
		return fail(err)
	}
	return C.SOLTI_OK
}

//export soltigo_task_stdin_fd
func soltigo_task_stdin_fd(h C.solti_task_t) (rc C.int) {
	defer guard(&rc)
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	fd, err := t.StdinFD()
	if err != nil {
		return fail(err)
	}
	return C.int(fd)
}

//export soltigo_task_resize
func soltigo_task_resize(h C.solti_task_t, rows, cols C.uint32_t) (rc C.int) {
	defer guard(&rc)
	if rows == 0 || cols == 0 || rows > 65535 || cols > 65535 {
		return fail(invalid("solti_task_resize: rows %d and cols %d must be 1..65535", uint32(rows), uint32(cols)))
	}
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	if err := t.Resize(uint16(rows), uint16(cols)); err != nil {
		return fail(err)
	}
	return C.SOLTI_OK
}

//export soltigo_task_signal
func soltigo_task_signal(h C.solti_task_t, sig C.int, flags C.uint32_t) (rc C.int) {
	defer guard(&rc)
	if sig < 1 || sig > 64 {
		return fail(invalid("solti_task_signal: sig %d is not a signal (1..64)", int(sig)))
	}
	if flags&^C.SOLTI_SIGNAL_LEADER != 0 {
		return fail(invalid("solti_task_signal: unknown flags 0x%x", uint32(flags)))
	}
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	if err := t.Signal(unix.Signal(sig), flags&C.SOLTI_SIGNAL_LEADER != 0); err != nil {
		return fail(err)
	}
	return C.SOLTI_OK
}
