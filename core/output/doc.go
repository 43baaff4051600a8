// Package output turns a child's raw pipe bytes into line events and keeps
// them, with the task's lifecycle events, in a bounded ring that any number
// of readers consume through their own cursors (SPEC section 5).
//
// It owns three things:
//
//   - framing (Framer): splitting a byte stream into lines, stripping CR LF,
//     cutting over-long physical lines without losing the lines after them,
//     replacing invalid UTF-8 and shortening lines with too many characters;
//   - the ring (Ring): a per-task event buffer bounded by a count and a byte
//     budget, with two policies when full (drop the oldest, or make the
//     producer wait for the furthest reader), independent reader cursors,
//     lag reporting and blocking reads with a timeout;
//   - readiness (Ring.ReadyFD): an eventfd per ring so hosts can wait with
//     poll/epoll/asyncio instead of parking a thread in Poll.
//
// It does not own the pipes, the processes, the attempt numbering or the
// clock used for line timestamps: the pipe readers in the supervisor feed a
// Framer, stamp each line (attempt, stream, seq, time) and append it to the
// ring; the supervisor appends started/finished events and closes the ring
// when the task is done. Nothing here uses cgo.
//
// Performance shapes the code: a chatty child can print millions of lines a
// second, so the framer does one allocation per emitted line and no per-byte
// work on the common path, and the ring's append path costs one lock and a
// few branches when nobody is waiting. Idle tasks are cheap: a ring allocates
// its slots lazily, and a framer drops a large partial-line buffer after use.
package output
