package output

import (
	"sync"

	"golang.org/x/sys/unix"
)

// WhenFull is what a ring does with a line that does not fit (SPEC
// section 5, output.whenFull).
type WhenFull int

const (
	// DropOldest evicts the oldest events; the producer never waits.
	DropOldest WhenFull = iota
	// Block makes the producer wait until the furthest reader has read the
	// events that would have to go, so that reader loses nothing.
	Block
)

const (
	// DefaultCapacity and DefaultMaxBytes are the SPEC's output defaults.
	DefaultCapacity = 1024
	DefaultMaxBytes = 4 << 20

	// ControlSlack is how many events beyond Capacity lifecycle events may
	// take in Block mode. A started or finished event must never wait (the
	// supervisor appends it, not a pipe reader) and should not push out a
	// line the reader has not seen; a few extra slots cover both.
	ControlSlack = 64

	// firstSlots is the slot count allocated by the first append.
	firstSlots = 8

	// EventOverhead is what MaxBytes counts for each kept slot on top of its
	// bytes: at least the slot's own struct (120 bytes on 64-bit Linux), so
	// a flood of empty lines or one-byte chunks is bounded by MaxBytes too,
	// not only by Capacity. A slot is one event, or the lines of one pipe
	// read (each line then counts LineOverhead more). A fixed number, as the
	// docs give it.
	EventOverhead = 128
)

// RingConfig bounds a ring. Zero or negative limits take the defaults.
type RingConfig struct {
	Capacity int // events kept at most (default 1024)
	MaxBytes int // bytes kept at most, as slot.cost counts them (default 4 MiB)
	WhenFull WhenFull
}

// RingStats is a snapshot of a ring's counters.
type RingStats struct {
	Appended  uint64 // events appended since creation
	Evicted   uint64 // events dropped before the furthest reader read them
	Discarded uint64 // events refused: ring closed, or Block-mode wait stopped
	Len       uint64 // events kept now
	Bytes     uint64 // bytes kept now, as MaxBytes counts them
	Head      uint64 // global sequence number the next event will get
}

// Ring is a task's bounded event buffer. Every event gets a global sequence
// number (its index since the ring was created); readers hold cursors into
// that sequence, so any number of them read independently and a reader that
// falls behind the oldest kept event learns exactly how many it missed.
// Lines are stored a pipe read at a time (see slot.go); they are still
// events one by one for the bounds, the cursors and the lag counts.
//
// All methods are safe for concurrent use. Producers and readers share one
// mutex; critical sections are short and never include a system call except
// the eventfd write/read that keeps readiness exact (see readiness.go).
type Ring struct {
	mu sync.Mutex

	capacity int
	maxBytes int
	whenFull WhenFull
	maxSlots int // capacity, plus ControlSlack in Block mode

	// slots is a circular buffer grown by doubling up to maxSlots, so a ring
	// that never sees output costs a few words, not Capacity slots.
	slots  []slot
	first  int // index in slots of the oldest kept slot
	nslots int // kept slots
	n      int // kept events
	bytes  int // sum of cost of kept slots
	// unreadBytes is, in Block mode, the part of bytes the furthest reader
	// has not read (a slot read in part keeps its overhead there). Block
	// mode never evicts an unread event, so only appends and the reader's
	// advance change it.
	unreadBytes int

	head     uint64 // sequence number of the next event
	lines    uint64 // line events ever appended (the next slot's line)
	outBytes uint64 // output bytes ever appended (the next slot's off)
	furthest uint64 // largest cursor any read has returned (Block mode's reader)

	closed   bool
	released bool

	// Wait channels are created by the first waiter and closed (then
	// cleared) by whoever changes what it waits for. When nobody waits they
	// are nil and cost the append path a single comparison.
	dataCh  chan struct{} // readers: an event was appended or the ring closed
	waiters []int         // eventfds of readers waiting in the kernel (waitDataFD)
	wakeDue bool          // a quiet append has not woken them yet (Wake)
	idleFDs []int         // such eventfds kept between waits; closed by Release
	spaceCh chan struct{} // Block producers: the furthest reader advanced or the ring closed

	readiness

	appended  uint64
	evicted   uint64
	discarded uint64
}

// NewRing returns an empty, open ring.
func NewRing(cfg RingConfig) *Ring {
	r := &Ring{capacity: cfg.Capacity, maxBytes: cfg.MaxBytes, whenFull: cfg.WhenFull}
	if r.capacity <= 0 {
		r.capacity = DefaultCapacity
	}
	if r.maxBytes <= 0 {
		r.maxBytes = DefaultMaxBytes
	}
	if r.whenFull != Block {
		r.whenFull = DropOldest
	}
	r.maxSlots = r.capacity
	if r.whenFull == Block {
		r.maxSlots += ControlSlack
	}
	r.readiness.init()
	return r
}

// Append adds a line or chunk event. In DropOldest mode it never waits: it
// evicts the oldest events until the ring holds at most Capacity events and
// MaxBytes bytes (an event bigger than MaxBytes on its own is kept alone;
// the framer has already capped it). In Block mode it waits while making
// room would evict an event the furthest reader has not read.
//
// It returns false, and counts the event in Stats().Discarded, if the ring
// is closed or if stop is closed while waiting.
func (r *Ring) Append(ev Event, stop <-chan struct{}) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.appendLocked(&ev, stop)
}

// AppendBatch appends evs in order, exactly as Append would one by one, but
// under one acquisition of the lock while there is room. It returns how
// many were appended.
func (r *Ring) AppendBatch(evs []Event, stop <-chan struct{}) int {
	return r.appendPooled(evs, nil, stop)
}

// appendPooled is AppendBatch of events whose Data is the pooled memory of
// ref (or ref is nil), whose reference the call takes over from the caller.
func (r *Ring) appendPooled(evs []Event, ref *bufRef, stop <-chan struct{}) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer ref.release()
	n := 0
	for i := range evs {
		if r.appendSlot(singleSlot(&evs[i]), ref, stop) {
			n++
		}
	}
	return n
}

// appendLocked is Append with r.mu held (waitSpace releases it while
// waiting).
func (r *Ring) appendLocked(ev *Event, stop <-chan struct{}) bool {
	return r.appendSlot(singleSlot(ev), nil, stop)
}

// appendSlot stores s, a single event whose pooled memory is ref (or nil),
// with r.mu held.
func (r *Ring) appendSlot(s slot, ref *bufRef, stop <-chan struct{}) bool {
	s.ref = ref
	size := s.cost()
	for {
		if r.closed {
			r.discarded++
			return false
		}
		k := r.evictionsFor(1, size, r.capacity, r.maxBytes)
		if r.whenFull == DropOldest || k <= r.readKept() {
			r.evict(k)
			r.push(s)
			return true
		}
		if !r.waitSpace(stop) {
			r.discarded++
			return false
		}
	}
}

// AppendRun adds the lines of one pipe read, in order, as Append would one
// by one: in DropOldest mode at once, evicting the oldest events (the run's
// own first lines too, if it alone is over the bounds); in Block mode as many
// as fit without evicting an unread event, waiting for the furthest reader
// for the rest. The ring keeps run.Text and run.Ends: the caller must not
// change them afterwards. It returns how many lines were appended; the rest
// (ring closed, or stop closed while waiting) count in Stats().Discarded.
func (r *Ring) AppendRun(run *Run, stop <-chan struct{}) int {
	total := len(run.Ends)
	if total == 0 {
		run.ref.release()
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defer run.ref.release() // the writer's reference; each part stored holds one
	s := slot{
		data: run.Text, ends: run.Ends, seq: run.Seq, ts: run.TsMs,
		kind: KindLine, stream: run.Stream, attempt: run.Attempt, ref: run.ref,
	}
	if run.Truncated {
		s.flags = FlagTruncated
	}
	done := 0
	for done < total {
		if r.closed {
			r.discarded += uint64(total - done)
			return done
		}
		m := len(s.ends)
		if r.whenFull == Block {
			m = r.roomFor(&s)
			if m == 0 {
				if !r.waitSpace(stop) {
					r.discarded += uint64(total - done)
					return done
				}
				continue
			}
		}
		part := s
		if m < len(s.ends) {
			part.ends = s.ends[:m:m]
			s.dropFront(m)
		}
		r.push(part)
		done += m
		r.fit()
	}
	return done
}

// roomFor returns how many of the run's first lines a Block ring can take
// now, evicting only events the furthest reader has read: 0 means wait. A
// ring holding nothing unread takes at least one line, as it takes a lone
// event bigger than MaxBytes.
func (r *Ring) roomFor(s *slot) int {
	read := r.readKept()
	unread := r.n - read
	if unread == 0 {
		// Everything kept may go; the run alone must fit the bounds.
		m := min(len(s.ends), r.capacity)
		for m > 1 && EventOverhead+s.prefixCost(m) > r.maxBytes {
			m = r.fitLines(s, r.maxBytes-EventOverhead, m)
		}
		return max(m, 1)
	}
	m := min(len(s.ends), r.capacity-unread)
	if m <= 0 {
		return 0
	}
	budget := r.maxBytes - r.unreadBytes - EventOverhead
	if budget <= 0 {
		return 0
	}
	return r.fitLines(s, budget, m)
}

// fitLines returns the largest j <= m whose first j lines of s cost at most
// budget (prefixCost grows with j, so a binary search finds it).
func (r *Ring) fitLines(s *slot, budget, m int) int {
	lo, hi := 0, m
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if s.prefixCost(mid) <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// fit evicts the oldest events until the ring is within its bounds, keeping
// at least the newest event; in Block mode it evicts only read events (the
// appends have made sure that suffices).
func (r *Ring) fit() {
	k := r.evictionsFor(0, 0, r.capacity, r.maxBytes)
	k = min(k, r.n-1)
	if r.whenFull == Block {
		k = min(k, r.readKept())
	}
	r.evict(k)
}

// AppendControl adds a lifecycle event (started, finished, warning). It never
// waits, and it is accepted after Close (the supervisor may record how an
// attempt ended after the pipes are done) but not after Release. In Block
// mode it evicts only events the furthest reader has read and never an
// unread one: past Capacity it takes the ControlSlack room, and past that it
// overflows. WaitControlRoom, which the supervisor calls before each
// attempt, is what bounds that overflow to one attempt's lifecycle events.
func (r *Ring) AppendControl(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.appendControlLocked(ev, true)
}

// AppendControlQuiet is AppendControl without waking waiting readers: the
// caller wakes them with Wake or Close soon after. A supervisor ending an
// attempt appends FINISHED so, then closes the ring (or wakes it for a
// restart) once its decision is made: a reader waiting for the end is woken
// once, when everything is there, rather than once for FINISHED and again
// for the close. Readers that poll without waiting see the event at once.
func (r *Ring) AppendControlQuiet(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.appendControlLocked(ev, false) {
		r.wakeDue = true
	}
}

// Wake wakes the readers a quiet append did not, if any.
func (r *Ring) Wake() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wakeDue {
		r.wakeDue = false
		r.wakeReaders()
	}
}

// appendControlLocked stores a control event, waking the readers if wake,
// and reports whether it was stored: a released ring drops it.
func (r *Ring) appendControlLocked(ev Event, wake bool) bool {
	if r.released {
		r.discarded++
		return false
	}
	sl := singleSlot(&ev)
	k := r.evictionsFor(1, sl.cost(), r.capacity, r.maxBytes)
	if r.whenFull == Block {
		k = min(k, r.readKept())
	}
	r.evict(k)
	if wake {
		r.push(sl)
	} else {
		r.store(sl)
	}
	return true
}

// controlReserve is the part of ControlSlack WaitControlRoom keeps free for
// one attempt's lifecycle events (a started, warnings, a finished).
const controlReserve = ControlSlack / 2

// WaitControlRoom is called by the supervisor before it starts an attempt.
// In Block mode it waits until the events the furthest reader has not read
// leave controlReserve slots of the ControlSlack room free, so the
// attempt's lifecycle events never have to push out an unread line; a
// restarting task nobody reads stops there, as a producer does. It returns
// false if stop closed first, and true at once in DropOldest mode or when
// the ring is closed.
func (r *Ring) WaitControlRoom(stop <-chan struct{}) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.whenFull == Block && !r.closed && r.n-r.readKept() > r.maxSlots-controlReserve {
		if !r.waitSpace(stop) {
			return false
		}
	}
	return true
}

// Close marks the ring done for now: no more events will come, so a
// caught-up Poll returns ErrEOF, Block-mode producers give up, and every
// waiter wakes. The readiness fd becomes (and stays) readable. Idempotent.
func (r *Ring) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
}

func (r *Ring) closeLocked() {
	if r.closed {
		return
	}
	r.closed = true
	r.wakeReaders()
	r.wakeProducers()
}

// Reopen undoes Close for a new attempt (a restart, or a second spawn of the
// same task): events are accepted again and caught-up readers wait instead of
// getting ErrEOF. Kept events and cursors are unaffected. No effect after
// Release.
func (r *Ring) Reopen() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.released {
		r.closed = false
	}
}

// Release is the task's end: it closes the readiness fd, if one was created,
// and the eventfds kept for waiting readers, and Closes the ring for good (Reopen no longer applies). Readers may still
// drain what is kept. Idempotent. Callers must stop using the fd number
// returned by ReadyFD before calling it, as the number may be reused.
func (r *Ring) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.released {
		return
	}
	r.released = true
	r.closeLocked()
	r.readiness.release()
	for _, fd := range r.idleFDs {
		unix.Close(fd)
	}
	r.idleFDs = nil
}

// Stats returns a snapshot of the ring's counters.
func (r *Ring) Stats() RingStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RingStats{
		Appended:  r.appended,
		Evicted:   r.evicted,
		Discarded: r.discarded,
		Len:       uint64(r.n),
		Bytes:     uint64(r.bytes),
		Head:      r.head,
	}
}

// oldest returns the sequence number of the oldest kept event (== head when
// the ring is empty).
func (r *Ring) oldest() uint64 { return r.head - uint64(r.n) }

// readKept returns how many of the oldest kept events the furthest reader
// has already read: those a Block-mode ring may evict freely.
func (r *Ring) readKept() int {
	if o := r.oldest(); r.furthest > o {
		return int(r.furthest - o)
	}
	return 0
}

// evictionsFor returns how many of the oldest events must go for add more
// events costing size bytes to fit within maxCount events and maxBytes
// bytes. Evicting all of them always suffices: a lone event is kept
// whatever its size.
func (r *Ring) evictionsFor(add, size, maxCount, maxBytes int) int {
	k := max(r.n+add-maxCount, 0)
	over := r.bytes + size - maxBytes
	if k >= r.n {
		return r.n
	}
	if over <= 0 {
		return k
	}
	// Whole slots first, then lines of a run.
	k2, freed := 0, 0
	for i := 0; i < r.nslots; i++ {
		s := r.slotAt(i)
		c := s.cost()
		if freed+c < over {
			freed += c
			k2 += s.count()
			continue
		}
		if s.isRun() && s.count() > 1 {
			// The fewest lines whose removal frees enough; removing them
			// all also frees the run's own overhead.
			need := over - freed
			j := r.fitLines(s, need-1, s.count()) + 1
			if j >= s.count() {
				j = s.count()
			}
			k2 += j
		} else {
			k2 += s.count()
		}
		break
	}
	return min(max(k, k2), r.n)
}

// slotAt returns the i-th oldest kept slot, in place.
func (r *Ring) slotAt(i int) *slot {
	j := r.first + i
	if j >= len(r.slots) {
		j -= len(r.slots)
	}
	return &r.slots[j]
}

// find returns the index (for slotAt) of the kept slot holding event seq,
// oldest() <= seq < head.
func (r *Ring) find(seq uint64) int {
	lo, hi := 0, r.nslots-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if r.slotAt(mid).start <= seq {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// evict drops the k oldest events: whole slots, then the first lines of a
// run.
func (r *Ring) evict(k int) {
	for k > 0 {
		s := &r.slots[r.first]
		c := s.count()
		j := min(c, k)
		if end := s.start + uint64(j); end > r.furthest {
			r.evicted += end - max(s.start, r.furthest)
		}
		if j < c {
			before := s.cost()
			s.dropFront(j)
			r.bytes -= before - s.cost()
		} else {
			r.bytes -= s.cost()
			s.ref.release()
			*s = slot{} // let the bytes be collected
			r.first++
			if r.first == len(r.slots) {
				r.first = 0
			}
			r.nslots--
		}
		r.n -= j
		k -= j
	}
}

// push appends s as the newest slot (room has been made) and wakes the
// readers.
func (r *Ring) push(s slot) {
	r.store(s)
	r.wakeReaders()
}

// store is push without waking the readers.
func (r *Ring) store(s slot) {
	if r.nslots == len(r.slots) {
		r.grow()
	}
	j := r.first + r.nslots
	if j >= len(r.slots) {
		j -= len(r.slots)
	}
	c := s.count()
	s.start = r.head
	s.line = r.lines
	s.off = r.outBytes
	r.lines += uint64(s.lines())
	r.outBytes += s.outLen()
	if s.ref != nil {
		s.ref.refs++
	}
	r.slots[j] = s
	r.nslots++
	r.n += c
	r.bytes += s.cost()
	if r.whenFull == Block {
		r.unreadBytes += s.cost() // a new event is unread
	}
	r.head += uint64(c)
	r.appended += uint64(c)
}

// grow doubles the slot buffer (up to maxSlots, or by one past it for a
// Block-mode control overflow) and unrolls it so the oldest slot is at
// index 0.
func (r *Ring) grow() {
	size := max(2*len(r.slots), firstSlots)
	size = max(min(size, r.maxSlots), r.nslots+1) // past maxSlots: a control overflow
	slots := make([]slot, size)
	for i := range r.nslots {
		slots[i] = *r.slotAt(i)
	}
	r.slots = slots
	r.first = 0
}

// wakeReaders tells Poll waiters and the readiness fd that something changed
// for a caught-up reader: a new event or the close.
func (r *Ring) wakeReaders() {
	r.wakeDue = false
	if r.dataCh != nil {
		close(r.dataCh)
		r.dataCh = nil
	}
	one := [8]byte{1}
	for _, fd := range r.waiters {
		unix.Write(fd, one[:]) // EAGAIN only if it is readable already
	}
	r.readiness.signal()
}

// wakeProducers tells Block-mode producers that room may have appeared.
func (r *Ring) wakeProducers() {
	if r.spaceCh != nil {
		close(r.spaceCh)
		r.spaceCh = nil
	}
}

// waitSpace releases the lock until the furthest reader advances, the ring
// closes, or stop closes; it reports false for stop. Called with r.mu held,
// returns with it held.
func (r *Ring) waitSpace(stop <-chan struct{}) bool {
	if r.spaceCh == nil {
		r.spaceCh = make(chan struct{})
	}
	ch := r.spaceCh
	r.mu.Unlock()
	defer r.mu.Lock()
	select {
	case <-ch:
		return true
	case <-stop:
		return false
	}
}
