package output

import (
	"time"

	"golang.org/x/sys/unix"
)

// Poll reads the events from cursor on; see PollInto, which it calls with a
// nil slice so the returned slice is freshly allocated.
func (r *Ring) Poll(cursor uint64, maxEvents int, maxBytes int, timeout time.Duration, cancel <-chan struct{}) ([]Event, uint64, error) {
	return r.PollInto(nil, cursor, maxEvents, maxBytes, timeout, cancel)
}

// PollInto appends to dst the events from cursor on and returns the extended
// slice and the cursor to pass next time. A cursor is the sequence number of
// the next event to read; a new reader passes 0.
//
// Batch: up to maxEvents events (at least 1) whose summed len(Data) fits
// maxBytes. If the first event's Data alone exceeds maxBytes it returns
// *TooSmallError and does not move the cursor. A reader whose cursor is older
// than the oldest kept event first gets one synthesized KindLagged event
// (Value = events missed) and continues from the oldest in the same batch.
// Data in the returned events aliases the ring's immutable bytes.
//
// When no event is there it waits up to timeout (0: return at once; < 0:
// forever), waking for a new event, Close, or cancel closing. Timeout and
// cancel both return (dst, cursor, nil). A caught-up reader of a closed ring
// gets ErrEOF; a cursor beyond the head gets ErrBadCursor.
//
// Every return records the cursor as read for Block mode, and a return that
// has caught up with the head of an open ring clears the readiness fd.
func (r *Ring) PollInto(dst []Event, cursor uint64, maxEvents int, maxBytes int, timeout time.Duration, cancel <-chan struct{}) ([]Event, uint64, error) {
	return r.poll(dst, nil, false, cursor, maxEvents, maxBytes, timeout, cancel)
}

// PollCopy is PollInto that copies the events' bytes into data, packed in
// order, while it holds the ring's lock: the returned events' Data alias
// data, never the ring, so the ring keeps reusing the memory of what it
// drops (memory PollInto hands out is left to the collector, as its caller
// may keep it). len(data) is the byte budget, maxBytes of PollInto.
func (r *Ring) PollCopy(dst []Event, data []byte, cursor uint64, maxEvents int, timeout time.Duration, cancel <-chan struct{}) ([]Event, uint64, error) {
	return r.poll(dst, data, true, cursor, maxEvents, len(data), timeout, cancel)
}

// poll is PollInto, copying Data into data if copyOut.
func (r *Ring) poll(dst []Event, data []byte, copyOut bool, cursor uint64, maxEvents int, maxBytes int, timeout time.Duration, cancel <-chan struct{}) ([]Event, uint64, error) {
	maxEvents = max(maxEvents, 1)
	var w dataWait
	defer w.done()

	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		switch {
		case cursor > r.head:
			return dst, cursor, ErrBadCursor
		case cursor < r.head:
			return r.read(dst, data, copyOut, cursor, maxEvents, maxBytes)
		case r.closed:
			r.advance(cursor)
			return dst, cursor, ErrEOF
		case timeout == 0 || w.stopped:
			r.advance(cursor)
			r.readiness.clear()
			return dst, cursor, nil
		}
		r.waitData(&w, timeout, cancel)
	}
}

// read copies the batch starting at cursor (< head), and the events' bytes
// into data if copyOut. Called with r.mu held.
func (r *Ring) read(dst []Event, data []byte, copyOut bool, cursor uint64, maxEvents, maxBytes int) ([]Event, uint64, error) {
	oldest := r.oldest()
	if dst == nil {
		avail := int(r.head - max(cursor, oldest))
		if cursor < oldest {
			avail++ // the lagged event
		}
		dst = make([]Event, 0, min(maxEvents, avail))
	}
	start := len(dst)
	if cursor < oldest {
		lag := Event{Kind: KindLagged, Value: int64(oldest - cursor), TsMs: time.Now().UnixMilli()}
		if r.nslots > 0 {
			lag.Attempt = r.slotAt(0).attempt
		}
		dst = append(dst, lag)
		cursor = oldest
	}
	budget := max(maxBytes, 0)
	for i := r.find(cursor); i < r.nslots && len(dst)-start < maxEvents; i++ {
		s := r.slotAt(i)
		for j := int(cursor - s.start); j < s.count() && len(dst)-start < maxEvents; j++ {
			ev := s.event(j)
			if len(ev.Data) > budget {
				if len(dst) == start {
					return dst, cursor, &TooSmallError{Needed: len(ev.Data)}
				}
				goto done
			}
			budget -= len(ev.Data)
			if copyOut {
				n := copy(data, ev.Data)
				ev.Data, data = data[:n:n], data[n:]
			} else if s.ref != nil {
				s.ref.lent = true // the caller may keep ev.Data
			}
			dst = append(dst, ev)
			cursor++
		}
	}
done:
	r.advance(cursor)
	if cursor == r.head && !r.closed {
		r.readiness.clear()
	}
	return dst, cursor, nil
}

// advance records that a reader has read everything before cursor; the
// furthest such cursor bounds what Block mode may evict.
func (r *Ring) advance(cursor uint64) {
	if cursor > r.furthest {
		if r.whenFull == Block {
			r.unreadBytes -= r.costBetween(r.furthest, cursor)
		}
		r.furthest = cursor
		r.wakeProducers()
	}
}

// costBetween is what reading the kept events [from, to) moves from unread
// to read in MaxBytes' count: for a slot read to its end all of its cost not
// counted yet, for one read in part the cost of the lines read (its own
// overhead goes with its last line).
func (r *Ring) costBetween(from, to uint64) int {
	from = max(from, r.oldest())
	if from >= to || r.nslots == 0 {
		return 0
	}
	total := 0
	for i := r.find(from); i < r.nslots; i++ {
		s := r.slotAt(i)
		if s.start >= to {
			break
		}
		j1 := 0
		if from > s.start {
			j1 = int(from - s.start)
		}
		j2 := min(int(to-s.start), s.count())
		total += s.readCost(j2) - s.readCost(j1)
	}
	return total
}

// dataWait is the waiting state of one blocking read: its timer or
// deadline, made on the first wait, and whether the timeout passed or cancel
// closed.
type dataWait struct {
	timer    *time.Timer
	expired  <-chan time.Time
	deadline time.Time // waitDataFD's; zero until its first wait with a timeout
	stopped  bool      // the next pass returns what it has
}

// waitData releases r.mu until data is appended, the timeout passes or
// cancel closes. Called with r.mu held; returns with it held.
//
// A read without a cancel channel (every read from the C ABI) waits in the
// kernel on an eventfd of its own, which the producer writes: the host
// thread that called in is woken by the kernel directly, where a channel
// would wake it through the Go scheduler, which also wakes an idle thread
// to look for work each time (a third of the context switches of a
// streaming reader, measured). With a cancel channel, or if no eventfd can
// be made, it waits on a channel.
func (r *Ring) waitData(w *dataWait, timeout time.Duration, cancel <-chan struct{}) {
	if cancel == nil && r.waitDataFD(w, timeout) {
		return
	}
	if timeout > 0 && w.timer == nil {
		w.timer = time.NewTimer(timeout)
		w.expired = w.timer.C
	}
	if r.dataCh == nil {
		r.dataCh = make(chan struct{})
	}
	ch := r.dataCh
	r.mu.Unlock()
	select {
	case <-ch:
	case <-w.expired:
		w.stopped = true
	case <-cancel:
		w.stopped = true
	}
	r.mu.Lock()
}

// waitDataFD is waitData on an eventfd registered in r.waiters; false if
// none could be had (nothing was waited for). The eventfd is the ring's to
// keep for the next wait (see takeWaitFD): a streaming reader waits once
// per pipe read, and making and closing one each time would be two more
// system calls on that path.
func (r *Ring) waitDataFD(w *dataWait, timeout time.Duration) bool {
	fd := r.takeWaitFD()
	if fd < 0 {
		return false
	}
	if timeout > 0 && w.deadline.IsZero() {
		w.deadline = time.Now().Add(timeout)
	}
	ms := -1
	if timeout > 0 {
		left := time.Until(w.deadline)
		ms = int((left + time.Millisecond - 1) / time.Millisecond)
		if left <= 0 {
			ms = 0
		}
	}
	r.waiters = append(r.waiters, fd)
	r.mu.Unlock()
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, ms); err != unix.EINTR {
			break
		}
	}
	r.mu.Lock()
	for i, f := range r.waiters {
		if f == fd {
			r.waiters = append(r.waiters[:i], r.waiters[i+1:]...)
			break
		}
	}
	r.giveWaitFD(fd)
	if timeout > 0 && !time.Now().Before(w.deadline) {
		w.stopped = true
	}
	return true
}

// maxIdleWaitFDs bounds the eventfds a ring keeps between waits: one per
// reader that waits at the same time, which is rarely more than a few.
const maxIdleWaitFDs = 4

// takeWaitFD returns an eventfd for one wait: one the ring kept, or a new
// one; -1 if none can be made. Called with r.mu held.
func (r *Ring) takeWaitFD() int {
	if n := len(r.idleFDs); n > 0 {
		fd := r.idleFDs[n-1]
		r.idleFDs = r.idleFDs[:n-1]
		return fd
	}
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return -1
	}
	return fd
}

// giveWaitFD takes back a wait's eventfd, no longer in r.waiters so nobody
// writes it now: it is reset and kept, or closed once the ring is released
// or keeps enough. Called with r.mu held.
func (r *Ring) giveWaitFD(fd int) {
	if r.released || len(r.idleFDs) >= maxIdleWaitFDs {
		unix.Close(fd)
		return
	}
	var buf [8]byte
	unix.Read(fd, buf[:]) // EAGAIN: it was not written
	r.idleFDs = append(r.idleFDs, fd)
}

func (w *dataWait) done() {
	if w.timer != nil {
		w.timer.Stop()
	}
}
