package testutil

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// ShimEnv names the environment variable that points at a prebuilt shim.
const ShimEnv = "SOLTI_EXEC_SHIM"

// ShimCFlags is the shim's build command line after the compiler, as the
// Makefile has it: a freestanding static executable without the C library's
// start-up.
var ShimCFlags = []string{
	"-Os", "-static", "-nostdlib", "-nostartfiles", "-ffreestanding", "-fno-builtin",
	"-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-no-pie",
	"-Wall", "-Wextra", "-Werror",
}

var builtShim struct {
	once sync.Once
	path string
	err  error
}

// RepoRoot is the root of the source tree, found from this file's location.
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testutil: cannot locate the source tree")
	}
	// file is <root>/core/internal/testutil/shim.go
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// ShimPath gives an exec shim for tests: $SOLTI_EXEC_SHIM if set; else
// <root>/build/solti-exec-shim if it is newer than shim/solti-exec-shim.c;
// else one built with gcc, once per test binary, into a temporary directory
// named after the source's hash (so test binaries share it). It never skips:
// a shim that cannot be built fails the test with the compiler's output.
func ShimPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(ShimEnv); p != "" {
		return p
	}
	root := RepoRoot()
	src := filepath.Join(root, "shim", "solti-exec-shim.c")
	srcInfo, err := os.Stat(src)
	if err != nil {
		t.Fatalf("exec shim source: %v", err)
	}
	prebuilt := filepath.Join(root, "build", "solti-exec-shim")
	if fi, err := os.Stat(prebuilt); err == nil && fi.ModTime().After(srcInfo.ModTime()) {
		return prebuilt
	}
	builtShim.once.Do(func() { builtShim.path, builtShim.err = buildShim(src) })
	if builtShim.err != nil {
		t.Fatalf("cannot build the exec shim (install gcc, or set %s to a built shim): %v", ShimEnv, builtShim.err)
	}
	return builtShim.path
}

// buildShim compiles src into os.TempDir()/solti-exec-shim-<hash>/, reusing
// an earlier build of the same source. It builds into a temporary name and
// renames, so concurrent test binaries never see half a file.
func buildShim(src string) (string, error) {
	code, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(code)
	h.Write([]byte(strings.Join(ShimCFlags, " ")))
	dir := filepath.Join(os.TempDir(), "solti-exec-shim-"+hex.EncodeToString(h.Sum(nil))[:16])
	out := filepath.Join(dir, "solti-exec-shim")
	if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "build-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args := append(append([]string{}, ShimCFlags...), "-o", tmp.Name(), src)
	cmd := exec.Command("gcc", args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", err
	}
	return out, nil
}
