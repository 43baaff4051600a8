package output

import "sync"

// The memory of big pipe reads is reused. A stream printing as fast as it
// can stores a pipe read every few microseconds (a chunk in bytes mode, a
// run's text and line index in lines mode); allocating each afresh made the
// collector zero, fault in and later sweep a gigabyte for every gigabyte
// printed, about a tenth of the reading thread's time. A slot holding
// pooled memory refers to a bufRef, and when the ring drops the last slot
// using it, its buffers go back to their pools for the next read.
//
// Only reads of at least minPooled bytes use pooled memory, and each takes
// the smallest size class that fits it, so a buffer is never more than
// twice what the ring counts for it: a quiet stream's small reads keep
// being allocated to their size.

const (
	minPooled   = 4 << 10  // smaller reads are allocated to fit
	maxPooled   = 64 << 10 // the biggest class: a pipe's default capacity
	endsPooled  = 16 << 10 // line index entries of a pooled index
	minEndsPool = 4 << 10  // fewer lines get an index allocated to fit
)

// bufClasses are the byte buffers: 4, 8, 16, 32 and 64 KiB. The 64 KiB class
// is also what pipe reads go into (readPipe), so a full read stored as a
// chunk keeps its read buffer without a copy.
var bufClasses [5]sync.Pool

// endsBufs are pooled line indexes of endsPooled entries.
var endsBufs = sync.Pool{New: func() any { e := make([]uint32, endsPooled); return &e }}

func init() {
	for i := range bufClasses {
		size := minPooled << i
		bufClasses[i].New = func() any { b := make([]byte, size); return &b }
	}
}

// classOf returns the index of the smallest class holding n bytes, or -1
// when n is outside the pooled sizes.
func classOf(n int) int {
	if n < minPooled || n > maxPooled {
		return -1
	}
	i := 0
	for minPooled<<i < n {
		i++
	}
	return i
}

// getBuf returns a pooled buffer of at least n bytes (its whole length is
// usable), or nil when n is outside the pooled sizes.
func getBuf(n int) *[]byte {
	i := classOf(n)
	if i < 0 {
		return nil
	}
	return bufClasses[i].Get().(*[]byte)
}

// getReadBuf returns a buffer for one pipe read (a pipe holds 64 KiB). A
// reader borrows one only from the moment its pipe is readable to the end
// of storing what it read, so a quiet pipe holds none: thousands of running
// tasks that print little do not pin 64 KiB per stream.
func getReadBuf() *[]byte { return bufClasses[len(bufClasses)-1].Get().(*[]byte) }

// putBuf returns b, taken from getBuf or getReadBuf, to its class.
func putBuf(b *[]byte) {
	if i := classOf(cap(*b)); i >= 0 && minPooled<<i == cap(*b) {
		*b = (*b)[:cap(*b)]
		bufClasses[i].Put(b)
	}
}

// bufRef is the pooled memory behind the slots of one pipe read: its byte
// buffer and, for a run, its line index (either may be nil). It is changed
// only with the ring's lock held, or by the writer before the append.
type bufRef struct {
	data *[]byte
	ends *[]uint32
	// refs counts the slots in the ring using it, plus one for the append
	// that is storing it (a Block-mode run may be stored in parts, the
	// first ones evicted while the append waits to store the rest).
	refs int32
	// lent is set when Poll handed out an Event whose Data aliases data:
	// the caller may keep it, so the buffers are left to the collector.
	lent bool
}

// release drops one reference; the last one returns the buffers to their
// pools unless they were lent.
func (b *bufRef) release() {
	if b == nil {
		return
	}
	b.refs--
	if b.refs > 0 || b.lent {
		return
	}
	if b.data != nil {
		putBuf(b.data)
		b.data = nil
	}
	if b.ends != nil {
		*b.ends = (*b.ends)[:cap(*b.ends)]
		endsBufs.Put(b.ends)
		b.ends = nil
	}
}

// holds reports whether s is still the memory of box: an append past its
// capacity moved it elsewhere.
func holds[T any](box *[]T, s []T) bool {
	return box != nil && cap(s) > 0 && cap(s) == cap(*box) && &s[:1][0] == &(*box)[:1][0]
}
