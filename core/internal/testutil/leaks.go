package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Snapshot is what a process test must give back: open descriptors, running
// goroutines, children of this process (zombies included) and the library's
// script directories in the temporary directory.
type Snapshot struct {
	FDs        map[int]string // descriptor → what it points at
	Goroutines int            // not counting the ones that live for good
	Children   map[int]string // pid → "comm (state)"
	ScriptDirs map[string]bool
}

// Things that legitimately appear once and stay for the life of the process,
// so that a snapshot taken before the first spawn still compares equal: the
// Go runtime's poller descriptors (one epoll, one eventfd: a second eventfd
// is a leaked ring readiness fd); and os/signal's loop, which the fuzzing
// engine starts in a -fuzz run (core never calls signal.Notify, so it cannot
// hide a leak of ours).
var (
	permanentFDs        = []string{"anon_inode:[eventpoll]", "anon_inode:[eventfd]"}
	permanentGoroutines = []string{"os/signal.loop("}
)

// TakeSnapshot records the current state.
func TakeSnapshot() Snapshot {
	return Snapshot{FDs: openFDs(), Goroutines: countGoroutines(), Children: children(), ScriptDirs: scriptDirs()}
}

// scriptDirs lists the private directories the runner makes for script files.
func scriptDirs() map[string]bool {
	dirs := map[string]bool{}
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "solti-exec-*"))
	for _, m := range matches {
		base := filepath.Base(m)
		if strings.HasPrefix(base, "solti-exec-shim-") || strings.HasPrefix(base, "solti-exec-test-tmp-") {
			continue // the test shim's build cache and RunChecked's own directory
		}
		if fi, err := os.Stat(m); err == nil && fi.IsDir() {
			dirs[m] = true
		}
	}
	return dirs
}

// settle is how long a leak check waits for things that end asynchronously
// (a watcher goroutine returning, a child being reaped).
const settle = 3 * time.Second

// LeakReport returns nil if no descriptor, goroutine or child exists now
// that did not in before, or an error listing them. It retries for a few
// seconds first. For TestMain, where there is no testing.TB.
func LeakReport(before Snapshot) error {
	deadline := time.Now().Add(settle)
	for {
		problems := leaks(before)
		if len(problems) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("leaks:\n" + strings.Join(problems, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CheckNoLeaks fails t if descriptors, goroutines or children exist now that
// did not in before (see LeakReport).
func CheckNoLeaks(t testing.TB, before Snapshot) {
	t.Helper()
	if err := LeakReport(before); err != nil {
		t.Errorf("after the test: %v", err)
	}
}

func leaks(before Snapshot) []string {
	var problems []string
	now := openFDs()
	allowed := map[string]int{}
	for _, p := range permanentFDs {
		allowed[p] = 1
	}
	for _, target := range before.FDs {
		if _, ok := allowed[target]; ok {
			allowed[target] = 0 // already there before: no new one is permanent
		}
	}
	for _, fd := range sortedKeys(now) {
		if _, ok := before.FDs[fd]; ok {
			continue
		}
		if allowed[now[fd]] > 0 {
			allowed[now[fd]]--
			continue
		}
		problems = append(problems, fmt.Sprintf("descriptor %d open (%s)", fd, now[fd]))
	}
	for dir := range scriptDirs() {
		if !before.ScriptDirs[dir] {
			problems = append(problems, "script directory left: "+dir)
		}
	}
	kids := children()
	for _, pid := range sortedKeys(kids) {
		if _, ok := before.Children[pid]; !ok {
			problems = append(problems, fmt.Sprintf("child %d left: %s", pid, kids[pid]))
		}
	}
	if n := countGoroutines(); n > before.Goroutines {
		problems = append(problems, fmt.Sprintf("%d goroutines, %d before:\n%s", n, before.Goroutines, allStacks()))
	}
	return problems
}

func openFDs() map[int]string {
	fds := map[int]string{}
	dir, err := os.Open("/proc/self/fd")
	if err != nil {
		return fds
	}
	defer dir.Close()
	names, _ := dir.Readdirnames(-1)
	self := int(dir.Fd())
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd == self {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + name)
		if err != nil {
			continue // closed meanwhile
		}
		fds[fd] = target
	}
	return fds
}

func countGoroutines() int {
	n := 0
	for _, g := range strings.Split(allStacks(), "\n\n") {
		if !hasAny(g, permanentGoroutines, strings.Contains) {
			n++
		}
	}
	return n
}

func allStacks() string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

func hasAny(s string, list []string, match func(string, string) bool) bool {
	for _, x := range list {
		if match(s, x) {
			return true
		}
	}
	return false
}

// children lists this process's children from /proc/*/stat.
func children() map[int]string {
	kids := map[int]string{}
	self := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return kids
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		start, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if start < 0 || end < start {
			continue
		}
		fields := strings.Fields(string(stat[end+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == self {
			kids[pid] = string(stat[start+1:end]) + " (" + fields[0] + ")"
		}
	}
	return kids
}

func sortedKeys(m map[int]string) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// RunChecked runs a package's tests for TestMain in a private TMPDIR (so the
// script-directory check sees only this test binary, even when packages run
// in parallel), then fails the run if anything leaked. It returns the exit
// code for os.Exit.
func RunChecked(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "solti-exec-test-tmp-")
	if err != nil {
		os.Stderr.WriteString("cannot make a private TMPDIR: " + err.Error() + "\n")
		return 1
	}
	defer os.RemoveAll(tmp)
	os.Setenv("TMPDIR", tmp)

	before := TakeSnapshot()
	code := m.Run()
	if code == 0 {
		if err := LeakReport(before); err != nil {
			os.Stderr.WriteString("leak check after the suite: " + err.Error() + "\n")
			code = 1
		}
	}
	return code
}
