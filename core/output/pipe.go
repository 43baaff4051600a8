package output

import (
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// PipeWriter turns one pipe of one attempt into events in a ring: a
// LineWriter in lines mode, a ChunkWriter in bytes mode.
type PipeWriter interface {
	// ReadPipe consumes f until EOF (nil), an error, or f's read deadline.
	ReadPipe(f *os.File) error
	// Close ends the stream at tsMs.
	Close(tsMs int64)
}

// NewPipeWriter returns the writer cfg's output mode asks for; the arguments
// are those of NewLineWriter.
func NewPipeWriter(r *Ring, cfg FrameConfig, attempt uint32, stream Stream, stop <-chan struct{}, waiting *atomic.Int32) PipeWriter {
	if cfg.Bytes {
		return NewChunkWriter(r, attempt, stream, stop, waiting)
	}
	return NewLineWriter(r, cfg, attempt, stream, stop, waiting)
}

// readPipe hands write what f gives, each read stamped with its time, until EOF
// (it returns nil), an error, or f's read deadline (os.ErrDeadlineExceeded).
// f is a pipe's read end in Go's poller (non-blocking), so a deadline or a
// Close ends the wait for data. p is the start of buf, a buffer from
// getReadBuf: write returns true if it kept buf (it then owns it; the next
// read takes a new one), false if it copied what it needs.
func readPipe(f *os.File, write func(p []byte, buf *[]byte, tsMs int64) (kept bool)) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	for {
		var bp *[]byte
		var n int
		var rerr error
		err := conn.Read(func(fd uintptr) bool {
			if bp == nil {
				bp = getReadBuf()
			}
			for {
				n, rerr = unix.Read(int(fd), *bp)
				if rerr != unix.EINTR {
					break
				}
			}
			if rerr == unix.EAGAIN {
				putBuf(bp) // not held while waiting for data
				bp = nil
				return false
			}
			return true
		})
		if bp != nil {
			kept := n > 0 && write((*bp)[:n], bp, time.Now().UnixMilli())
			if !kept {
				putBuf(bp)
			}
		}
		switch {
		case err != nil:
			return err
		case rerr != nil:
			return &os.SyscallError{Syscall: "read", Err: rerr}
		case n == 0:
			return nil
		}
	}
}
