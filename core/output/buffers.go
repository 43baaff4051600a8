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
// Only big reads use pooled memory, and each takes the smallest size class
// that fits it, so a buffer is never more than twice what the ring counts
// for it: a quiet stream's small reads keep being allocated to their size.

// classPool keeps slices of T in size classes of powers of two, from min to
// max elements.
type classPool[T any] struct {
	min, max int
	classes  []sync.Pool
}

func newClassPool[T any](min, max int) *classPool[T] {
	p := &classPool[T]{min: min, max: max}
	for size := min; size <= max; size *= 2 {
		p.classes = append(p.classes, sync.Pool{New: func() any { b := make([]T, size); return &b }})
	}
	return p
}

// class returns the index of the smallest class holding n elements, or -1
// when n is outside the pooled sizes.
func (p *classPool[T]) class(n int) int {
	if n < p.min || n > p.max {
		return -1
	}
	i := 0
	for p.min<<i < n {
		i++
	}
	return i
}

// get returns a pooled slice of at least n elements (its whole length is
// usable), or nil when n is outside the pooled sizes.
func (p *classPool[T]) get(n int) *[]T {
	i := p.class(n)
	if i < 0 {
		return nil
	}
	return p.classes[i].Get().(*[]T)
}

// put returns b, taken from get, to its class.
func (p *classPool[T]) put(b *[]T) {
	if i := p.class(cap(*b)); i >= 0 && p.min<<i == cap(*b) {
		*b = (*b)[:cap(*b)]
		p.classes[i].Put(b)
	}
}

const (
	minPooled = 4 << 10  // bytes: smaller reads are allocated to fit
	readSize  = 64 << 10 // a pipe's default capacity
	// minEndsPooled is the fewest lines whose index is pooled: a class is
	// then at most 8 bytes a line, what MaxBytes counts (LineOverhead).
	minEndsPooled = 1 << 10
)

// bufs are the byte buffers, 4 KiB to 1 MiB. Pipe reads go into the 64 KiB
// class, or the 1 MiB one for a grown pipe (readPipe), so a full read
// stored as a chunk keeps its read buffer without a copy.
var bufs = newClassPool[byte](minPooled, bigPipe)

// endsBufs are line indexes, for runs of 1 Ki to 1 Mi lines.
var endsBufs = newClassPool[uint32](minEndsPooled, bigPipe)

// getReadBuf returns a buffer for one pipe read: a grown pipe's size if big,
// else a default pipe's. A reader borrows one only from the moment its pipe
// is readable to the end of storing what it read, so a quiet pipe holds
// none: thousands of running tasks that print little do not pin 64 KiB per
// stream.
func getReadBuf(big bool) *[]byte {
	if big {
		return bufs.get(bigPipe)
	}
	return bufs.get(readSize)
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
		bufs.put(b.data)
		b.data = nil
	}
	if b.ends != nil {
		endsBufs.put(b.ends)
		b.ends = nil
	}
}

// holds reports whether s is still the memory of box: an append past its
// capacity moved it elsewhere.
func holds[T any](box *[]T, s []T) bool {
	return box != nil && cap(s) > 0 && cap(s) == cap(*box) && &s[:1][0] == &(*box)[:1][0]
}
