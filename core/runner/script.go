package runner

import (
	"os"
	"path/filepath"
	"strings"
)

// scriptFile is a script body on disk. It sits alone in a private 0700
// directory with an unpredictable name, is created O_EXCL with mode 0600 (it
// may carry secrets) and fsynced, and lives as long as its task.
type scriptFile struct {
	dir  string
	path string
}

// writeScript puts body in a new private directory under tmp. The path is
// made absolute now: a relative TMPDIR would otherwise be resolved after
// the child's chdir to the spec's cwd.
func writeScript(tmp string, body []byte) (*scriptFile, error) {
	dir, err := os.MkdirTemp(tmp, "solti-exec-")
	if err == nil && !filepath.IsAbs(dir) {
		var abs string
		if abs, err = filepath.Abs(dir); err != nil {
			os.Remove(dir)
		}
		dir = abs
	}
	if err != nil {
		return nil, &BuildError{Step: "script file", Err: err}
	}
	s := &scriptFile{dir: dir, path: filepath.Join(dir, "script")}
	if err := s.write(body); err != nil {
		s.remove()
		return nil, &BuildError{Step: "script file", Err: err}
	}
	return s, nil
}

func (s *scriptFile) write(body []byte) error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *scriptFile) remove() {
	if s != nil {
		os.RemoveAll(s.dir)
	}
}

// tempDir is where script directories go: TMPDIR as the host environment has
// it now, else /tmp. Not os.TempDir: inside a C host, Go's environment is a
// copy taken when the library was loaded, and a host that sets TMPDIR later
// (Python's os.environ does) must be obeyed.
func (r *Runner) tempDir() string {
	for _, kv := range r.opts.Environ() {
		if v, ok := strings.CutPrefix(kv, "TMPDIR="); ok && v != "" {
			return v
		}
	}
	return "/tmp"
}
