package output

// A ring keeps its events in slots. A slot is either one event (a lifecycle
// event, a chunk, or a line appended on its own) or a run: the lines one
// pipe read completed, of one stream and attempt, stamped with one time,
// stored as a single text buffer (each line followed by '\n') with an index
// of where each line ends. A run of ten thousand short lines is then two
// allocations instead of ten thousand, readers of whole runs copy its text in
// one piece (ReadLines), and Poll makes the per-line events from the index
// only when it hands them out. Every line still has its own sequence number:
// a slot holding k events covers k consecutive numbers from start.

// truncBit marks, in a run's end index, a line that was cut. Runs are built
// per pipe read, so no run's text comes near 2 GiB.
const truncBit = 1 << 31

// LineOverhead is what MaxBytes counts for each line of a run beyond its text:
// its newline and its index entry, rounded up. The run itself counts
// EventOverhead once, like any slot.
const LineOverhead = 8

type slot struct {
	// data: a single event's Data; a run's text, lines each ending in '\n',
	// the kept ones from lo on.
	data []byte
	// ends is nil for a single event; for a run, ends[i] is the offset in
	// data just past line i's '\n', with truncBit set for a cut line.
	ends []uint32
	// ref is the pooled memory behind data and ends, nil if none.
	ref *bufRef

	start uint64 // sequence number of the slot's first kept event
	line  uint64 // lines appended to the ring before its first kept event
	off   uint64 // output position (Event.Off) of its first kept byte
	seq   uint64 // Event.Seq of its first kept event
	ts    int64
	value int64

	kind     Kind
	stream   Stream
	attempt  uint32
	flags    uint32 // a run: FlagTruncated if any of its lines was cut
	lo       uint32 // a run: offset in data of its first kept line
	exitCode int32
	signal   int32
}

// count is how many events the slot holds.
func (s *slot) count() int {
	if s.ends == nil {
		return 1
	}
	return len(s.ends)
}

// isRun reports whether the slot is a run of lines.
func (s *slot) isRun() bool { return s.ends != nil }

// outLen is the output bytes the slot holds: a chunk's Data, a line's text
// and its newline, a run's kept text (newlines included), 0 for other
// events.
func (s *slot) outLen() uint64 {
	switch {
	case s.ends != nil:
		return uint64(s.ends[len(s.ends)-1]&^truncBit - s.lo)
	case s.kind == KindLine:
		return uint64(len(s.data)) + 1 // as ReadLines delivers it
	case s.kind == KindChunk:
		return uint64(len(s.data))
	}
	return 0
}

// cost is what the slot counts against MaxBytes.
func (s *slot) cost() int {
	if s.ends == nil {
		return len(s.data) + EventOverhead
	}
	return EventOverhead + s.prefixCost(len(s.ends))
}

// prefixCost is what the first j lines of a run count beyond the run's own
// EventOverhead: their text, newlines included, and LineOverhead each less
// the newline it already counted.
func (s *slot) prefixCost(j int) int {
	if j == 0 {
		return 0
	}
	return int(s.ends[j-1]&^truncBit-s.lo) + j*(LineOverhead-1)
}

// readCost is what the slot's first j events count once read: the prefix of
// a run's lines, or the whole cost when all are read.
func (s *slot) readCost(j int) int {
	if j >= s.count() {
		return s.cost()
	}
	return s.prefixCost(j)
}

// lineAt returns the bounds of the run's line i (text without its newline)
// and whether it was cut.
func (s *slot) lineAt(i int) (begin, end uint32, cut bool) {
	begin = s.lo
	if i > 0 {
		begin = s.ends[i-1] &^ truncBit
	}
	e := s.ends[i]
	return begin, e&^truncBit - 1, e&truncBit != 0
}

// event returns the slot's i-th event as an Event. Line data aliases the
// slot's bytes; its capacity is its length, so appending to it copies.
// Whoever hands it out of the ring's lock marks pooled memory lent.
func (s *slot) event(i int) Event {
	if s.ends == nil {
		return Event{
			Kind: s.kind, Attempt: s.attempt, Stream: s.stream, Flags: s.flags,
			Seq: s.seq, TsMs: s.ts, Value: s.value, ExitCode: s.exitCode, Signal: s.signal,
			Data: s.data[:len(s.data):len(s.data)], Off: s.off,
		}
	}
	b, e, cut := s.lineAt(i)
	var flags uint32
	if cut {
		flags = FlagTruncated
	}
	return Event{
		Kind: KindLine, Attempt: s.attempt, Stream: s.stream, Flags: flags,
		Seq: s.seq + uint64(i), TsMs: s.ts, Data: s.data[b:e:e], Off: s.off + uint64(b-s.lo),
	}
}

// dropFront removes a run's first k lines (0 < k < count).
func (s *slot) dropFront(k int) {
	lo := s.ends[k-1] &^ truncBit
	s.off += uint64(lo - s.lo)
	s.lo = lo
	s.ends = s.ends[k:]
	s.start += uint64(k)
	s.line += uint64(k)
	s.seq += uint64(k)
}

// lines is how many line events the slot holds.
func (s *slot) lines() int {
	switch {
	case s.ends != nil:
		return len(s.ends)
	case s.kind == KindLine:
		return 1
	}
	return 0
}

// singleSlot stores ev as a slot of its own.
func singleSlot(ev *Event) slot {
	return slot{
		data: ev.Data, seq: ev.Seq, ts: ev.TsMs, value: ev.Value,
		kind: ev.Kind, stream: ev.Stream, attempt: ev.Attempt, flags: ev.Flags,
		exitCode: ev.ExitCode, signal: ev.Signal,
	}
}

// Run is the lines of one pipe read, as a LineWriter hands them to the ring:
// Text holds each line followed by '\n', Ends[i] the offset just past line
// i's '\n', marked for a line that was cut. Seq is the first
// line's number in its stream.
type Run struct {
	Attempt uint32
	Stream  Stream
	Seq     uint64
	TsMs    int64
	Text    []byte
	Ends    []uint32
	// Truncated says some line was cut (its end has the truncation mark).
	Truncated bool
	// ref is the pooled memory of Text and Ends, if any; AppendRun takes
	// over the writer's reference.
	ref *bufRef
}
