package main

/*
#include <string.h>
#include "solti_exec.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
	"unsafe"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/solti-exec/solti-exec/core/runner"
)

//export soltigo_task_build
func soltigo_task_build(rh C.solti_runner_t, specJSON *C.char, out *C.solti_task_t) (rc C.int) {
	defer guard(&rc)
	if specJSON == nil || out == nil {
		return fail(invalid("solti_task_build: spec_json and task_out must not be NULL"))
	}
	r, err := lookup[*runner.Runner](uint64(rh), kindRunner)
	if err != nil {
		return fail(err)
	}
	spec, err := model.ParseTaskSpec([]byte(C.GoString(specJSON)))
	if err != nil {
		return fail(err)
	}
	t, err := r.Build(spec)
	if err != nil {
		return fail(err)
	}
	trackScript(t)
	*out = C.solti_task_t(handles.add(kindTask, t))
	return C.SOLTI_OK
}

//export soltigo_task_id
func soltigo_task_id(h C.solti_task_t, buf *C.char, n C.size_t) (rc C.int) {
	defer guard(&rc)
	if buf == nil && n > 0 {
		return fail(invalid("solti_task_id: buf must not be NULL when len > 0"))
	}
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	id := t.ID()
	if n == 0 {
		return C.int(len(id)) // a size query, as with snprintf
	}
	if rc := copyText([]byte(id), buf, n, "task id"); rc != C.SOLTI_OK {
		return rc
	}
	return C.int(len(id))
}

//export soltigo_task_labels
func soltigo_task_labels(h C.solti_task_t, buf *C.char, n C.size_t) (rc C.int) {
	defer guard(&rc)
	if buf == nil && n > 0 {
		return fail(invalid("solti_task_labels: buf must not be NULL when len > 0"))
	}
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	text := t.Labels().JSON()
	if n == 0 { // a size query, as snprintf
		return C.int(len(text))
	}
	if rc := copyText(text, buf, n, "task labels"); rc != C.SOLTI_OK {
		return rc
	}
	return C.int(len(text))
}

//export soltigo_task_spawn
func soltigo_task_spawn(h C.solti_task_t) (rc C.int) {
	defer guard(&rc)
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	if err := t.Spawn(); err != nil {
		return fail(err)
	}
	return C.SOLTI_OK
}

//export soltigo_task_cancel
func soltigo_task_cancel(h C.solti_task_t) (rc C.int) {
	defer guard(&rc)
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	t.Cancel()
	return C.SOLTI_OK
}

//export soltigo_task_wait
func soltigo_task_wait(h C.solti_task_t, timeoutMs C.int, out *C.solti_exit_t) (rc C.int) {
	defer guard(&rc)
	timeout, err := timeoutOf("solti_task_wait", timeoutMs)
	if err != nil {
		return fail(err)
	}
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	rep, err := t.Wait(timeout)
	if err != nil && !errors.Is(err, proc.ErrStatusLost) {
		return fail(err)
	}
	if out != nil {
		fillExit(out, &rep)
	}
	if err != nil {
		return fail(err)
	}
	return C.SOLTI_OK
}

// timeoutOf converts a timeout_ms argument: SOLTI_INFINITE is -1 (forever),
// any other negative value is refused naming the function.
func timeoutOf(fn string, ms C.int) (time.Duration, error) {
	switch {
	case ms == C.SOLTI_INFINITE:
		return -1, nil
	case ms < 0:
		return 0, invalid("%s: timeout_ms %d is negative (use SOLTI_INFINITE)", fn, int(ms))
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func fillExit(out *C.solti_exit_t, r *runner.ExitReport) {
	*out = C.solti_exit_t{}
	out.attempt = C.uint32_t(r.Attempt)
	out.outcome = C.int32_t(r.Outcome)
	out.exit_code = C.int32_t(r.ExitCode)
	out.signal = C.int32_t(r.Signal)
	if r.CoreDumped {
		out.core_dumped = 1
	}
	out.started_ms = C.int64_t(r.Started.UnixMilli())
	out.finished_ms = C.int64_t(r.Finished.UnixMilli())
	out.user_us = C.int64_t(r.UserUs)
	out.system_us = C.int64_t(r.SystemUs)
	out.max_rss_kb = C.int64_t(r.MaxRSSKb)
	out.oom_kills = C.int64_t(r.OOMKills)
	out.memory_peak_bytes = C.int64_t(r.MemoryPeakBytes)
	out.cgroup_cpu_us = C.int64_t(r.CPUUsageUs)
	reason := unsafe.Slice((*byte)(unsafe.Pointer(&out.reason[0])), len(out.reason))
	n := copy(reason[:len(reason)-1], r.Reason)
	reason[n] = 0
}

//export soltigo_task_poll
func soltigo_task_poll(h C.solti_task_t, cursor *C.uint64_t, events *C.solti_event_t, maxEvents C.size_t,
	buf *C.char, bufLen C.size_t, timeoutMs C.int, countOut *C.size_t) (rc C.int) {
	defer guard(&rc)
	switch {
	case cursor == nil || events == nil || countOut == nil:
		return fail(invalid("solti_task_poll: cursor, events and count_out must not be NULL"))
	case maxEvents == 0:
		return fail(invalid("solti_task_poll: max_events must be at least 1"))
	case buf == nil && bufLen > 0:
		return fail(invalid("solti_task_poll: buf must not be NULL when buf_len > 0"))
	case !bufFits(buf, bufLen):
		// Checked before the ring is read: an error consumes no event.
		return fail(invalid("solti_task_poll: buf_len %d is larger than any buffer can be (at most PTRDIFF_MAX, within the address space)", uint64(bufLen)))
	}
	timeout, err := timeoutOf("solti_task_poll", timeoutMs)
	if err != nil {
		return fail(err)
	}
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	var data []byte
	if bufLen > 0 {
		data = unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(bufLen))
	}
	bp := pollBufs.Get().(*[]output.Event)
	defer putPollBuf(bp)
	// The ring packs the events' bytes into buf itself, under its lock.
	evs, next, err := t.Ring().PollCopy((*bp)[:0], data, uint64(*cursor), int(maxEvents), timeout, nil)
	*bp = evs
	if err != nil {
		return fail(err)
	}
	copyEvents(evs, events, buf, bufLen)
	*cursor = C.uint64_t(next)
	*countOut = C.size_t(len(evs))
	return C.SOLTI_OK
}

// bufFits reports whether buf_len bytes from buf can be a real buffer: a
// length Go can slice (at most PTRDIFF_MAX) that does not wrap the address
// space.
func bufFits(buf *C.char, bufLen C.size_t) bool {
	if uint64(bufLen) > math.MaxInt {
		return false
	}
	p := uintptr(unsafe.Pointer(buf))
	return p+uintptr(bufLen) >= p
}

// pollBufs recycles the event slices a poll copies out of the ring, so a busy
// reader does not allocate one per call.
var pollBufs = sync.Pool{New: func() any { return new([]output.Event) }}

// maxPooledEvents caps the slices kept for reuse (about 300 KiB each).
const maxPooledEvents = 4096

func putPollBuf(bp *[]output.Event) {
	if cap(*bp) > maxPooledEvents {
		return
	}
	clear(*bp) // the events alias line bytes: do not keep those alive
	*bp = (*bp)[:0]
	pollBufs.Put(bp)
}

// copyEvents fills the caller's array; the events' bytes are already in buf
// (PollCopy), so only their addresses are taken.
func copyEvents(evs []output.Event, events *C.solti_event_t, buf *C.char, bufLen C.size_t) {
	dst := unsafe.Slice(events, len(evs))
	for i := range evs {
		ev := &evs[i]
		d := &dst[i]
		d.kind = C.uint32_t(ev.Kind)
		d.attempt = C.uint32_t(ev.Attempt)
		d.stream = C.uint32_t(ev.Stream)
		d.flags = C.uint32_t(ev.Flags)
		d.seq = C.uint64_t(ev.Seq)
		d.ts_ms = C.int64_t(ev.TsMs)
		d.value = C.int64_t(ev.Value)
		d.exit_code = C.int32_t(ev.ExitCode)
		d.signal = C.int32_t(ev.Signal)
		d.data = nil
		d.len = C.size_t(len(ev.Data))
		if len(ev.Data) > 0 {
			d.data = (*C.char)(unsafe.Pointer(&ev.Data[0]))
		} else if bufLen > 0 {
			d.data = buf // a valid pointer for zero-length lines
		}
	}
}

//export soltigo_task_read
func soltigo_task_read(h C.solti_task_t, cursor *C.solti_read_cursor_t, streams C.uint32_t, buf *C.char,
	bufLen C.size_t, timeoutMs C.int, nOut *C.size_t, info *C.solti_read_info_t) (rc C.int) {
	defer guard(&rc)
	t, dst, timeout, err := readArgs("solti_task_read", h, cursor != nil && nOut != nil, buf, bufLen, 1, streams, timeoutMs)
	if err != nil {
		return fail(err)
	}
	*nOut = 0 // also on SOLTI_EOF
	cur := output.ByteCursor{Seq: uint64(cursor.seq), Pos: uint64(cursor.pos)}
	res, next, err := t.Ring().ReadBytes(cur, output.Stream(streams), dst, timeout, nil)
	if err != nil {
		return fail(err)
	}
	cursor.seq, cursor.pos = C.uint64_t(next.Seq), C.uint64_t(next.Pos)
	*nOut = C.size_t(res.N)
	if info != nil {
		*info = C.solti_read_info_t{
			stream: C.uint32_t(res.Stream), attempt: C.uint32_t(res.Attempt),
			lost_events: C.uint64_t(res.LostEvents), lost_bytes: C.uint64_t(res.LostBytes),
		}
	}
	return C.SOLTI_OK
}

// readArgs checks what the bulk reads (solti_task_read, _read_lines) share,
// before anything is read, and returns the task, the caller's buffer and
// the timeout. ptrsOK says the call's cursor and n_out are not NULL;
// minLen is the smallest buf_len the call takes.
func readArgs(fn string, h C.solti_task_t, ptrsOK bool, buf *C.char, bufLen, minLen C.size_t, streams C.uint32_t,
	timeoutMs C.int) (*runner.Task, []byte, time.Duration, error) {
	switch {
	case !ptrsOK || buf == nil:
		return nil, nil, 0, invalid("%s: cursor, buf and n_out must not be NULL", fn)
	case bufLen < minLen:
		return nil, nil, 0, invalid("%s: buf_len must be at least %d", fn, uint64(minLen))
	case !bufFits(buf, bufLen):
		return nil, nil, 0, invalid("%s: buf_len %d is larger than any buffer can be (at most PTRDIFF_MAX, within the address space)", fn, uint64(bufLen))
	case streams == 0 || streams&^C.uint32_t(output.Stdout|output.Stderr) != 0:
		return nil, nil, 0, invalid("%s: streams %#x must be SOLTI_STDOUT, SOLTI_STDERR or both", fn, uint32(streams))
	}
	timeout, err := timeoutOf(fn, timeoutMs)
	if err != nil {
		return nil, nil, 0, err
	}
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return nil, nil, 0, err
	}
	return t, unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(bufLen)), timeout, nil
}

//export soltigo_task_fd
func soltigo_task_fd(h C.solti_task_t) (rc C.int) {
	defer guard(&rc)
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	fd, err := t.ReadyFD()
	if errors.Is(err, output.ErrReleased) {
		// Freed by another thread since the lookup.
		return fail(&errBadHandle{fmt.Sprintf("task handle %d was freed", uint64(h))})
	}
	if err != nil {
		return failCode(C.SOLTI_EINTERNAL, fmt.Sprintf("solti_task_fd: %v", err))
	}
	return C.int(fd)
}

//export soltigo_task_attempts
func soltigo_task_attempts(h C.solti_task_t, out *C.uint32_t) (rc C.int) {
	defer guard(&rc)
	if out == nil {
		return fail(invalid("solti_task_attempts: attempts_out must not be NULL"))
	}
	t, err := lookup[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	*out = C.uint32_t(t.Attempts())
	return C.SOLTI_OK
}

//export soltigo_task_free
func soltigo_task_free(h C.solti_task_t) (rc C.int) {
	defer guard(&rc)
	t, err := remove[*runner.Task](uint64(h), kindTask)
	if err != nil {
		return fail(err)
	}
	t.Close()
	untrackScript(t)
	return C.SOLTI_OK
}
