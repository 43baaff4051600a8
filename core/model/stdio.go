package model

import (
	"encoding/base64"
	"strings"
)

// The fields that let a host talk to its child: a stdin pipe with optional
// initial input, stderr merged into stdout, a pseudo-terminal.

// StdinPipe gives the child a pipe the host writes to (solti_task_write) and
// closes (solti_task_close_stdin); each attempt gets a pipe of its own.
const StdinPipe StdinMode = "pipe"

var stdinModes = []string{string(StdinNull), string(StdinInherit), string(StdinPipe)}

// StderrMode is where a subprocess's fd 2 goes.
type StderrMode string

const (
	// StderrPipe is a pipe of its own (the default). Two pipes keep no order
	// between them: a line of stdout and one of stderr written close
	// together may be read either way round.
	StderrPipe StderrMode = "pipe"
	// StderrStdout is the stdout pipe itself (2>&1): one stream, in the
	// child's own order, every line marked stdout.
	StderrStdout StderrMode = "stdout"
)

// PtySize asks for a pseudo-terminal of that many rows and columns on the
// child's 0, 1 and 2.
type PtySize struct {
	Rows, Cols uint32
}

// Bounds of the fields here.
const (
	// MaxInputBytes bounds a decoded "input": it is held in memory for
	// every attempt. Bigger input goes through solti_task_write.
	MaxInputBytes = 16 << 20
	// maxEncodedInputLen is the longest base64 text that can decode to at
	// most MaxInputBytes; a longer one is refused before decoding.
	maxEncodedInputLen = (MaxInputBytes + 2) / 3 * 4
	// MaxPtySize bounds pty.rows and pty.cols: the kernel's winsize fields
	// are 16 bits.
	MaxPtySize = 65535
	// Default pty size, the classic terminal's.
	DefaultPtyRows = 24
	DefaultPtyCols = 80
)

const (
	inputField  = "kind.subprocess.input"
	stderrField = "kind.subprocess.stderr"
	ptyField    = "kind.subprocess.pty"
)

// decodeStdio reads input, stderr and pty. An input without a stdin means
// stdin "pipe".
func decodeStdio(obj *object, s *SubprocessSpec) *fieldError {
	if f, p := obj.get("input"); f != nil {
		text, ferr := asString(f, p)
		if ferr != nil {
			return ferr
		}
		s.Input = &text
		if f, _ := obj.get("stdin"); f == nil {
			s.Stdin = StdinPipe
		}
	}
	if f, p := obj.get("stderr"); f != nil {
		mode, ferr := asEnum(f, p, string(StderrPipe), string(StderrStdout))
		if ferr != nil {
			return ferr
		}
		s.Stderr = StderrMode(mode)
	}
	if f, p := obj.get("pty"); f != nil {
		po, ferr := openObject(f, p, p, "rows", "cols")
		if ferr != nil {
			return ferr
		}
		size := PtySize{Rows: DefaultPtyRows, Cols: DefaultPtyCols}
		if f, p := po.get("rows"); f != nil {
			if size.Rows, ferr = asUint32(f, p); ferr != nil {
				return ferr
			}
		}
		if f, p := po.get("cols"); f != nil {
			if size.Cols, ferr = asUint32(f, p); ferr != nil {
				return ferr
			}
		}
		s.Pty = &size
	}
	return nil
}

// validateStdio checks the fields against each other and their bounds.
func validateStdio(s *SubprocessSpec) *fieldError {
	if s.Input != nil {
		if s.Stdin != StdinPipe {
			return errorf(inputField, "input needs stdin \"pipe\", got %q", s.Stdin)
		}
		if s.Pty != nil {
			return errorf(inputField, "input is not taken with pty: write to the terminal instead")
		}
		if _, ferr := decodeInput(*s.Input); ferr != nil {
			return ferr
		}
	}
	switch s.Stderr {
	case "", StderrPipe, StderrStdout: // "": a spec built in Go, the default
	default:
		return enumError(stderrField, string(StderrPipe), string(StderrStdout))
	}
	if p := s.Pty; p != nil {
		switch {
		case s.Stdin == StdinInherit:
			return errorf(ptyField, "pty is the child's stdin: stdin must be \"pipe\" or unset, got \"inherit\"")
		case s.Stderr == StderrStdout:
			return errorf(ptyField, "pty is the child's stdout and stderr: stderr must be unset")
		case p.Rows == 0:
			return errorf(ptyField+".rows", "pty.rows must be greater than zero")
		case p.Cols == 0:
			return errorf(ptyField+".cols", "pty.cols must be greater than zero")
		case p.Rows > MaxPtySize:
			return atMost(ptyField+".rows", uint64(p.Rows), MaxPtySize)
		case p.Cols > MaxPtySize:
			return atMost(ptyField+".cols", uint64(p.Cols), MaxPtySize)
		}
	}
	return nil
}

// DecodeInput gives the initial input's bytes (nil without one); the spec
// was validated, so it does not fail then.
func (s *SubprocessSpec) DecodeInput() ([]byte, error) {
	if s.Input == nil {
		return nil, nil
	}
	b, ferr := decodeInput(*s.Input)
	if ferr != nil {
		return nil, ferr.specError()
	}
	return b, nil
}

// decodeInput is strict standard base64 with padding, like a script body,
// at most MaxInputBytes decoded; any bytes (it need not be text).
func decodeInput(text string) ([]byte, *fieldError) {
	if len(text) > maxEncodedInputLen {
		return nil, errorf(inputField, "input is %d bytes (decoded), maximum allowed is %d bytes", encodedSize(text), MaxInputBytes)
	}
	if i := strings.IndexAny(text, "\r\n"); i >= 0 {
		return nil, errorf(inputField, "invalid base64 input: %s", base64.CorruptInputError(i).Error())
	}
	b, err := base64.StdEncoding.Strict().DecodeString(text)
	if err != nil {
		return nil, errorf(inputField, "invalid base64 input: %s", err.Error())
	}
	if len(b) > MaxInputBytes {
		return nil, errorf(inputField, "input is %d bytes (decoded), maximum allowed is %d bytes", len(b), MaxInputBytes)
	}
	return b, nil
}
