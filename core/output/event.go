package output

// Kind says what an Event records. The values are part of the C ABI
// (SOLTI_EVENT_*), so they never change.
type Kind uint32

const (
	KindLine     Kind = 1 // one line of a child's stdout or stderr
	KindStarted  Kind = 2 // an attempt's process started; Value is its pid
	KindFinished Kind = 3 // an attempt ended; Value is the outcome
	KindLagged   Kind = 4 // synthesized per reader: Value events were lost to it
	KindWarning  Kind = 5 // a message from the engine itself, in Data
	KindChunk    Kind = 6 // bytes mode: exactly the bytes of one pipe read
)

// String returns a short lower-case name, for logs and test failures.
func (k Kind) String() string {
	switch k {
	case KindLine:
		return "line"
	case KindStarted:
		return "started"
	case KindFinished:
		return "finished"
	case KindLagged:
		return "lagged"
	case KindWarning:
		return "warning"
	case KindChunk:
		return "chunk"
	}
	return "unknown"
}

// Stream identifies which pipe a line came from (SOLTI_STDOUT, SOLTI_STDERR).
type Stream uint32

const (
	Stdout Stream = 1
	Stderr Stream = 2
)

// String returns "stdout" or "stderr".
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return "unknown"
}

// FlagTruncated marks a line that was shortened: cut at the byte cap, at the
// character cap, or both (SOLTI_LINE_TRUNCATED).
const FlagTruncated uint32 = 1 << 0

// Event is one record in a task's ring. Data is immutable once appended:
// readers receive copies of the struct that alias the same bytes, which is
// what lets Poll hand out events without copying line text.
type Event struct {
	Kind     Kind
	Attempt  uint32
	Stream   Stream // KindLine only
	Flags    uint32
	Seq      uint64 // KindLine, KindChunk: per stream per attempt, from 0
	TsMs     int64  // Unix ms
	Value    int64  // Started: pid; Finished: outcome; Lagged: events missed
	ExitCode int32  // Finished: -1 if none
	Signal   int32  // Finished: 0 if none
	Data     []byte // Line text (valid UTF-8, no newline); Chunk: raw bytes; Warning: message text

	// Off is the ring's output position at this event: the line and chunk
	// bytes appended before it. The ring sets it; it is what lets ReadBytes
	// keep a position inside a chunk and count lag in bytes.
	Off uint64
}

// isOutput reports whether ev carries child output (counted in Off).
func (ev *Event) isOutput() bool { return ev.Kind == KindLine || ev.Kind == KindChunk }
