package output

import (
	"errors"
	"strconv"
)

// ErrEOF is returned by Poll to a reader that has every event of a closed
// ring: no more events will come (SOLTI_EOF). It is final only as long as the
// ring stays closed; a restart Reopens it.
var ErrEOF = errors.New("no more events")

// ErrBadCursor is returned by Poll for a cursor beyond the ring's head: such
// a cursor was never handed out by this ring, so it belongs to a bug or to
// another task.
var ErrBadCursor = errors.New("invalid cursor: beyond the last event of the ring")

// ErrReleased is returned by ReadyFD once the ring has been released: its
// eventfd is closed and must not be recreated behind the owner's back.
var ErrReleased = errors.New("output ring released")

// TooSmallError is returned by Poll when the next event's data alone does not
// fit the caller's byte budget, so no progress is possible without a larger
// buffer (SOLTI_ERANGE). Needed is the byte size that would fit it.
type TooSmallError struct {
	Needed int
}

func (e *TooSmallError) Error() string {
	return "buffer too small: the next event needs " + strconv.Itoa(e.Needed) + " bytes"
}
