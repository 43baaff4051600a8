package model

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

// MaxScriptBodyBytes caps a decoded script body at 2 MiB, as upstream. The
// body travels inside the spec and is held in memory, so it has to be
// bounded; real programs belong in a file and command mode.
const MaxScriptBodyBytes = 2097152

// maxEncodedBodyLen is the longest base64 text that can decode to at most
// MaxScriptBodyBytes (4 characters per 3 bytes, rounded up to a full
// quantum). Anything longer is refused before decoding, so an oversized
// body costs no allocation.
const maxEncodedBodyLen = (MaxScriptBodyBytes + 2) / 3 * 4

const bodyField = "kind.subprocess.mode.script.body"

// DecodeBody checks the body and returns its bytes: standard base64 with
// padding and canonical trailing bits (as Rust's STANDARD engine, the
// upstream decoder), at most MaxScriptBodyBytes once decoded, valid UTF-8.
// Errors are *SpecError with SPEC's messages. ParseTaskSpec has already run
// these checks; the build step calls DecodeBody again for the bytes.
func (s *ScriptMode) DecodeBody() ([]byte, error) {
	body, ferr := decodeBody(s.Body)
	if ferr != nil {
		return nil, ferr.specError()
	}
	return body, nil
}

func decodeBody(text string) ([]byte, *fieldError) {
	if text == "" {
		return nil, errorf(bodyField, "script body cannot be empty")
	}
	if len(text) > maxEncodedBodyLen {
		return nil, bodySizeError(encodedSize(text))
	}
	// Go's decoder skips '\r' and '\n' even in strict mode; the upstream
	// one does not, and a line-wrapped body is not the single standard
	// base64 string the wire format promises.
	if i := strings.IndexAny(text, "\r\n"); i >= 0 {
		return nil, errorf(bodyField, "invalid base64 body: %s", base64.CorruptInputError(i).Error())
	}
	body, err := base64.StdEncoding.Strict().DecodeString(text)
	if err != nil {
		// Go blames the start of a short last quantum; say what is wrong.
		var ce base64.CorruptInputError
		if tail := len(text) % 4; tail != 0 && errors.As(err, &ce) && int(ce) >= len(text)-tail {
			return nil, errorf(bodyField, "invalid base64 body: length %d is not a multiple of 4 (padding is required)", len(text))
		}
		return nil, errorf(bodyField, "invalid base64 body: %s", err.Error())
	}
	// The encoded cap admits up to two bytes more than the limit.
	if len(body) > MaxScriptBodyBytes {
		return nil, bodySizeError(len(body))
	}
	if off, ok := firstInvalidUTF8(body); !ok {
		return nil, errorf(bodyField, "script body is not valid UTF-8: invalid byte 0x%02x at offset %d", body[off], off)
	}
	return body, nil
}

func bodySizeError(n int) *fieldError {
	return errorf(bodyField, "script body is %d bytes (decoded), maximum allowed is %d bytes", n, MaxScriptBodyBytes)
}

// encodedSize is the size text would decode to, for the message about a
// body refused before decoding.
func encodedSize(text string) int {
	n := len(text) / 4 * 3
	switch {
	case strings.HasSuffix(text, "=="):
		n -= 2
	case strings.HasSuffix(text, "="):
		n--
	}
	return n
}

func firstInvalidUTF8(b []byte) (int, bool) {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i, false
		}
		i += size
	}
	return 0, true
}

// validateScript runs the script-mode rules in SPEC's order: the body, then
// the runtime, then the arguments.
func validateScript(s *ScriptMode) *fieldError {
	if _, ferr := decodeBody(s.Body); ferr != nil {
		return ferr
	}
	const rt = "kind.subprocess.mode.script.runtime"
	switch s.Runtime.Name {
	case RuntimeBash, RuntimePython, RuntimeNode:
	case RuntimeCustom:
		switch {
		case strings.TrimSpace(s.Runtime.Command) == "":
			return errorf(rt+".custom.command", "script runtime custom command cannot be empty")
		case containsNUL(s.Runtime.Command):
			return errorf(rt+".custom.command", "script runtime custom command must not contain NUL")
		case strings.TrimSpace(s.Runtime.Flag) == "": // upstream trims both
			return errorf(rt+".custom.flag", "script runtime custom flag cannot be empty")
		}
	case RuntimeInterpreter:
		const ip = "workload.spec.mode.script.interpreter"
		switch {
		case strings.TrimSpace(s.Runtime.Command) == "":
			return errorf(ip, "script interpreter cannot be empty")
		case containsNUL(s.Runtime.Command):
			return errorf(ip, "script interpreter must not contain NUL")
		}
	default:
		return runtimeError(rt)
	}
	return validateArgs(s.Args, "kind.subprocess.mode.script.args")
}

func validateArgs(args []string, path string) *fieldError {
	for i, a := range args {
		if containsNUL(a) {
			return errorf(indexPath(path, i), "args[%d] must not contain NUL", i)
		}
	}
	return nil
}
