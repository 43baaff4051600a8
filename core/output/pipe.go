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

// A pipe's 64 KiB make a stream printing flat out wake its reader for every
// few kilobytes. Once a read finds a pipe full, readPipe grows it to bigPipe
// (F_SETPIPE_SZ), so each wake-up moves up to 1 MiB: for `head -c 1G`
// through solti_task_read about 0.66 -> 0.8 of a plain read(2) loop here.
// Pipe memory is charged to the user (fs.pipe-user-pages-soft, 64 MiB by
// default, past which the kernel gives every new pipe of the user a single
// page), so at most maxBigPipes pipes are grown at a time in the process,
// 16 MiB in all; the others keep their 64 KiB. A refusal (EPERM past the
// user's limit or fs.pipe-max-size) leaves the pipe as it is.
const (
	bigPipe     = 1 << 20
	maxBigPipes = 16
)

// bigPipes counts the pipes grown now, process-wide.
var bigPipes atomic.Int32

// growPipe tries to give fd bigPipe bytes, within maxBigPipes; it reports
// whether it did.
func growPipe(fd int) bool {
	if bigPipes.Add(1) > maxBigPipes {
		bigPipes.Add(-1)
		return false
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, bigPipe); err != nil {
		bigPipes.Add(-1)
		return false
	}
	return true
}

// readPipe hands write what f gives, each read stamped with its time, until EOF
// (it returns nil), an error, or f's read deadline (os.ErrDeadlineExceeded).
// f is a pipe's read end in Go's poller (non-blocking), so a deadline or a
// Close ends the wait for data. p is the start of buf, a buffer from
// getReadBuf: write returns true if it kept buf (it then owns it; the next
// read takes a new one), false if it copied what it needs. bigReads lets a
// read of a grown pipe take up to bigPipe bytes; without it reads stay at
// 64 KiB while the pipe still grows (lines mode: a run of 1 MiB, 130,000
// short lines, no longer fits the caches while it is indexed and read, nor
// a ring of 65,536 lines whole; with 64 KiB runs `solti_task_poll` went
// from 16 to 19 M lines/s here, the bulk read from 30 to 33).
func readPipe(f *os.File, bigReads bool, write func(p []byte, buf *[]byte, tsMs int64) (kept bool)) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var grown, tried bool
	defer func() {
		if grown {
			bigPipes.Add(-1)
		}
	}()
	for {
		var bp *[]byte
		var n int
		var rerr error
		err := conn.Read(func(fd uintptr) bool {
			if bp == nil {
				bp = getReadBuf(grown && bigReads)
			}
			for {
				n, rerr = unix.Read(int(fd), *bp)
				if rerr != unix.EINTR {
					break
				}
			}
			if rerr == unix.EAGAIN {
				bufs.put(bp) // not held while waiting for data
				bp = nil
				return false
			}
			if n == len(*bp) && !tried {
				tried = true // one try a pipe: a refusal stays a refusal
				grown = growPipe(int(fd))
			}
			return true
		})
		if bp != nil {
			kept := n > 0 && write((*bp)[:n], bp, time.Now().UnixMilli())
			if !kept {
				bufs.put(bp)
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
