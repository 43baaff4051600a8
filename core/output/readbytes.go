package output

import "time"

// ByteCursor is a bytes reader's place in a ring: Seq is the next event to
// look at and Pos the output position (Event.Off scale) within it, so a chunk
// bigger than the caller's buffer is read across calls without loss. The zero
// value starts at the beginning.
type ByteCursor struct {
	Seq uint64
	Pos uint64
}

// ByteRead describes what one ReadBytes call copied.
type ByteRead struct {
	N       int    // bytes copied
	Stream  Stream // their stream (0 when N is 0)
	Attempt uint32 // their attempt (0 when N is 0)
	// LostEvents and LostBytes are what this reader missed because the ring
	// dropped them first (DropOldest): events of any kind, and output bytes.
	LostEvents uint64
	LostBytes  uint64
}

// ReadBytes copies into dst the bytes of the chunk events from cur on whose
// stream is in streams (a mask of Stdout|Stderr), and returns the cursor for
// the next call. Lifecycle events, line events and chunks of other streams
// are passed over. One call copies bytes of one stream and attempt only: it
// stops before a chunk of another, so the caller always knows whose bytes it
// holds.
//
// It waits like PollInto while nothing is there (timeout 0: no wait; < 0:
// forever; cancel ends the wait) and returns N == 0 then. A caught-up reader
// of a closed ring gets ErrEOF; a cursor beyond the head ErrBadCursor. A
// reader behind the oldest kept event resumes there and learns the loss in
// LostEvents and LostBytes. Every return records the cursor as read for
// Block mode; a chunk only partly copied is not yet read.
func (r *Ring) ReadBytes(cur ByteCursor, streams Stream, dst []byte, timeout time.Duration, cancel <-chan struct{}) (ByteRead, ByteCursor, error) {
	var res ByteRead
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.waitRead(timeout, cancel, func() (uint64, bool, error) {
		if cur.Seq > r.head {
			return cur.Seq, false, ErrBadCursor
		}
		cur = r.copyBytes(&res, cur, streams, dst)
		return cur.Seq, res.N > 0 || res.LostEvents > 0 || (len(dst) == 0 && cur.Seq < r.head), nil
	})
	return res, cur, err
}

// waitRead is the loop of a bulk read, with r.mu held: step copies what it
// can and returns the reader's next sequence number and whether it got
// anything (bytes, lines or news of a loss). waitRead returns when it did,
// when a closed ring has nothing more for the reader (ErrEOF), or when the
// timeout passes or cancel closes first (nil), and records the reader's
// place for Block mode each time. Between steps it waits like PollInto.
func (r *Ring) waitRead(timeout time.Duration, cancel <-chan struct{}, step func() (uint64, bool, error)) error {
	var w dataWait
	defer w.done()
	for {
		next, got, err := step()
		switch {
		case err != nil:
			return err
		case got:
			r.advance(next)
			return nil
		case r.closed && next == r.head:
			r.advance(next)
			return ErrEOF
		case timeout == 0 || w.stopped:
			r.advance(next)
			r.readiness.clear()
			return nil
		}
		r.waitData(&w, timeout, cancel)
	}
}

// copyBytes is ReadBytes' scan with r.mu held: it passes over what the reader
// does not want and copies what fits of the rest, returning the new cursor.
// On return cur.Seq < head only if dst is full or the next wanted chunk is of
// another stream or attempt.
func (r *Ring) copyBytes(res *ByteRead, cur ByteCursor, streams Stream, dst []byte) ByteCursor {
	oldest := r.oldest()
	if cur.Seq < oldest {
		res.LostEvents += oldest - cur.Seq
		off := r.slotAt(0).off
		if off > cur.Pos {
			res.LostBytes += off - cur.Pos
		}
		cur = ByteCursor{Seq: oldest, Pos: off}
	}
	if cur.Seq == r.head {
		return r.caughtUp(cur)
	}
	for i := r.find(cur.Seq); cur.Seq < r.head; i++ {
		s := r.slotAt(i)
		end := s.off + s.outLen()
		if s.kind != KindChunk || s.stream&streams == 0 {
			cur = ByteCursor{Seq: s.start + uint64(s.count()), Pos: end}
			continue
		}
		if cur.Pos < s.off {
			cur.Pos = s.off
		}
		if res.N > 0 && (s.stream != res.Stream || s.attempt != res.Attempt) {
			break
		}
		if res.N == len(dst) {
			break
		}
		n := copy(dst[res.N:], s.data[cur.Pos-s.off:])
		res.N += n
		res.Stream, res.Attempt = s.stream, s.attempt
		cur.Pos += uint64(n)
		if cur.Pos < end {
			break // dst is full inside this chunk
		}
		cur.Seq++
	}
	return r.caughtUp(cur)
}

// caughtUp clears the readiness flag if cur has reached the head of an open
// ring, and returns cur.
func (r *Ring) caughtUp(cur ByteCursor) ByteCursor {
	if cur.Seq == r.head && !r.closed {
		r.readiness.clear()
	}
	return cur
}
