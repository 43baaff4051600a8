package output

import (
	"encoding/binary"
	"time"
)

// LineCursor is a bulk lines reader's place in a ring: Seq is the next event
// to look at; Line and Pos are how many lines and output bytes came before
// it, which is what lets a reader that fell behind learn its loss in lines
// and in bytes. The zero value starts at the beginning.
type LineCursor struct {
	Seq  uint64
	Line uint64
	Pos  uint64
}

// LinesRead describes what one ReadLines call copied.
type LinesRead struct {
	N     int // bytes of dst used
	Lines int // lines copied
	Runs  int // run records copied
	// LostLines and LostBytes are what this reader missed because the ring
	// dropped them first (DropOldest): lines of either stream, and their
	// bytes as ReadLines would have given them (each line with its newline).
	LostLines uint64
	LostBytes uint64
}

// RunHeaderSize is the size of the header before each run record's text.
// Its layout is the C ABI's solti_line_run_t (host byte order):
//
//	uint32 stream, uint32 attempt, uint64 seq, int64 ts_ms,
//	uint32 count, uint32 flags, uint64 len
//
// then len bytes of text (count lines, each ending in '\n'), then padding to
// a multiple of 8, where the next record starts.
const RunHeaderSize = 40

// recordSize is the room a record of textLen bytes takes, padding included.
func recordSize(textLen int) int { return RunHeaderSize + (textLen+7)&^7 }

// ReadLines copies into dst the lines from cur on whose stream is in
// streams, as run records (see RunHeaderSize): consecutive lines of one pipe
// read of one stream and attempt, all cut or none cut, share a record, and
// their text is copied in one piece. Lifecycle events, chunks and lines of
// other streams are passed over. It returns the cursor for the next call.
//
// It fills dst as far as whole lines fit. If the first line it would copy
// does not fit an empty dst, it returns *TooSmallError with the room that
// record needs and does not move the cursor. It waits like PollInto while
// nothing is there (timeout 0: no wait; < 0: forever; cancel ends the wait)
// and returns N == 0 then. A caught-up reader of a closed ring gets ErrEOF;
// a cursor beyond the head ErrBadCursor. A reader behind the oldest kept
// event resumes there and learns the loss in LostLines and LostBytes. Every
// return records the cursor as read for Block mode.
func (r *Ring) ReadLines(cur LineCursor, streams Stream, dst []byte, timeout time.Duration, cancel <-chan struct{}) (LinesRead, LineCursor, error) {
	var res LinesRead
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.waitRead(timeout, cancel, func() (uint64, bool, error) {
		if cur.Seq > r.head {
			return cur.Seq, false, ErrBadCursor
		}
		var err error
		cur, err = r.copyLines(&res, cur, streams, dst)
		return cur.Seq, res.Lines > 0 || res.LostLines > 0 || res.LostBytes > 0, err
	})
	return res, cur, err
}

// copyLines is ReadLines' scan with r.mu held.
func (r *Ring) copyLines(res *LinesRead, cur LineCursor, streams Stream, dst []byte) (LineCursor, error) {
	if cur.Seq < r.oldest() {
		s := r.slotAt(0)
		if s.line > cur.Line {
			res.LostLines += s.line - cur.Line
		}
		if s.off > cur.Pos {
			res.LostBytes += s.off - cur.Pos
		}
		cur = LineCursor{Seq: s.start, Line: s.line, Pos: s.off}
	}
	if cur.Seq == r.head {
		return r.linesCaughtUp(cur), nil
	}
	for i := r.find(cur.Seq); i < r.nslots; i++ {
		s := r.slotAt(i)
		if s.lines() == 0 || s.stream&streams == 0 {
			cur = LineCursor{Seq: s.start + uint64(s.count()), Line: s.line + uint64(s.lines()), Pos: s.off + s.outLen()}
			continue
		}
		next, full, err := r.copyRun(res, s, cur, dst)
		cur = next
		if err != nil || full {
			return cur, err
		}
	}
	return r.linesCaughtUp(cur), nil
}

// copyRun copies what fits of slot s's lines from cur on, in records, and
// reports whether dst is full (a line did not fit).
func (r *Ring) copyRun(res *LinesRead, s *slot, cur LineCursor, dst []byte) (LineCursor, bool, error) {
	j := int(cur.Seq - s.start)
	for j < s.count() {
		begin, text, cut := s.textFrom(j)
		k := s.count() - j // lines of the record: all the rest if they fit
		if s.flags&FlagTruncated != 0 {
			k = s.sameCut(j, cut)
		}
		room := len(dst) - res.N - RunHeaderSize
		if room < 0 {
			room = 0
		}
		if textEnd := s.textEnd(j + k - 1); int(textEnd-begin) > room {
			k = s.linesWithin(j, k, begin, room)
		}
		if k == 0 {
			if res.N == 0 {
				_, first, _ := s.textFrom(j)
				return cur, true, &TooSmallError{Needed: recordSize(s.lineLen(j, first))}
			}
			return cur, true, nil
		}
		n := int(s.textEnd(j+k-1) - begin)
		var flags uint32
		if cut {
			flags = FlagTruncated
		}
		putRunHeader(dst[res.N:], s, j, k, flags, n)
		if s.ends == nil { // a line appended on its own: add its newline
			copy(dst[res.N+RunHeaderSize:], text)
			dst[res.N+RunHeaderSize+n-1] = '\n'
		} else {
			copy(dst[res.N+RunHeaderSize:], text[:n])
		}
		res.N += recordSize(n)
		if res.N > len(dst) {
			res.N = len(dst) // the padding of the last record may pass the end
		}
		res.Lines += k
		res.Runs++
		cur = LineCursor{Seq: cur.Seq + uint64(k), Line: cur.Line + uint64(k), Pos: cur.Pos + uint64(n)}
		j += k
	}
	return cur, false, nil
}

// textFrom returns the offset in s.data where line j begins, the data from
// there, and whether line j was cut. A single line event is one line.
func (s *slot) textFrom(j int) (uint32, []byte, bool) {
	if s.ends == nil {
		return 0, s.data, s.flags&FlagTruncated != 0
	}
	b, _, cut := s.lineAt(j)
	return b, s.data[b:], cut
}

// textEnd returns the offset in s.data just past line i's newline (a single
// line event: its length plus the newline it is given).
func (s *slot) textEnd(i int) uint32 {
	if s.ends == nil {
		return uint32(len(s.data)) + 1
	}
	return s.ends[i] &^ truncBit
}

// lineLen is line j's size with its newline.
func (s *slot) lineLen(j int, from []byte) int {
	if s.ends == nil {
		return len(from) + 1
	}
	b, _, _ := s.lineAt(j)
	return int(s.textEnd(j) - b)
}

// sameCut returns how many lines from j on share line j's truncation mark.
func (s *slot) sameCut(j int, cut bool) int {
	k := 1
	for j+k < s.count() && (s.ends[j+k]&truncBit != 0) == cut {
		k++
	}
	return k
}

// linesWithin returns how many of the k lines from j fit in room bytes of
// text (ends grow with the index, so a binary search finds it).
func (s *slot) linesWithin(j, k int, begin uint32, room int) int {
	if s.ends == nil {
		return 0 // the one line did not fit
	}
	lo, hi := 0, k
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if int(s.textEnd(j+mid-1)-begin) <= room {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// putRunHeader writes the header of a record of k lines of s from line j.
func putRunHeader(b []byte, s *slot, j, k int, flags uint32, n int) {
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(s.stream))
	ne.PutUint32(b[4:], s.attempt)
	ne.PutUint64(b[8:], s.seq+uint64(j))
	ne.PutUint64(b[16:], uint64(s.ts))
	ne.PutUint32(b[24:], uint32(k))
	ne.PutUint32(b[28:], flags)
	ne.PutUint64(b[32:], uint64(n))
}

// linesCaughtUp clears the readiness flag if cur has reached the head of an
// open ring, and returns cur.
func (r *Ring) linesCaughtUp(cur LineCursor) LineCursor {
	if cur.Seq == r.head && !r.closed {
		r.readiness.clear()
	}
	return cur
}
