package sandbox

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Cgroup interface files are small and read or written in one call each.

func readFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}

// readKeyed finds "KEY VALUE" among the lines of a flat-keyed file
// (memory.events, cpu.stat, memory.oom_control).
func readKeyed(p, key string) (int64, bool) {
	s, err := readFile(p)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, " ")
		if ok && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// readInt reads a file holding one integer.
func readInt(p string) (int64, bool) {
	s, err := readFile(p)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}

// hasWord reports whether a space-separated list (cgroup.controllers,
// cgroup.subtree_control) holds w.
func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if f == w {
			return true
		}
	}
	return false
}

// mkdirParents makes dir and the missing directories above it, and returns
// the ones it made, deepest last, so they can be removed again.
func mkdirParents(fsys cgroupFS, dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if d == "/" || d == "." {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := fsys.Mkdir(missing[i])
		switch {
		case err == nil:
			made = append(made, missing[i])
		case errors.Is(err, fs.ErrExist): // made meanwhile by another runner or process
		default:
			return made, err
		}
	}
	return made, nil
}

// pathCause is the errno inside an *os.PathError, so a message does not
// repeat the path; other errors are returned as they are.
func pathCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// errnoText is an error's errno text ("permission denied") without the path
// an *os.PathError would repeat.
func errnoText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
