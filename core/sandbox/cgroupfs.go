package sandbox

import (
	"os"

	"golang.org/x/sys/unix"
)

// cgroupFS is the few calls that change a cgroup hierarchy. Reads are plain
// file reads; tests swap this for a fake that gives plain directories the
// behaviour of cgroupfs (interface files appear on mkdir, subtree_control
// takes "+controller", rmdir refuses a populated cgroup).
type cgroupFS interface {
	Mkdir(dir string) error
	Rmdir(dir string) error
	WriteFile(path, value string) error
}

// kernelFS is the real thing.
type kernelFS struct{}

func (kernelFS) Mkdir(dir string) error {
	if err := unix.Mkdir(dir, 0o755); err != nil {
		return &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	return nil
}

func (kernelFS) Rmdir(dir string) error { return unix.Rmdir(dir) }

// WriteFile is writeFile (files.go): one write(2), never creating the file.
func (kernelFS) WriteFile(path, value string) error { return writeFile(path, value) }
