package runner

import (
	"fmt"
	"testing"
	"time"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
	"github.com/solti-exec/solti-exec/core/model"
)

// FuzzSpawnValidNumbers feeds the numbers of a runner config and a task spec
// that validation accepts into a real spawn of a short child (sh printing a
// line and a partial one), and checks the task reaches its end: values that
// pass validation must neither panic, hang, nor leave the child unsupervised.
// Inputs that validation refuses are skipped: the parser fuzz targets in
// core/model cover those.
func FuzzSpawnValidNumbers(f *testing.F) {
	// Seeds: ordinary values, the smallest accepted, and large ones.
	f.Add(uint64(5000), uint64(0), int64(4096), int64(1024), int64(1<<20), uint64(64), uint64(100), false)
	f.Add(uint64(1), uint64(1), int64(1), int64(1), int64(1), uint64(16), uint64(1), true)
	f.Add(uint64(60000), uint64(10), int64(65536), int64(4096), int64(1<<20), uint64(1024), uint64(5000), true)
	// Every number at its edges: the largest each type holds, zero and -1.
	// Validation refuses most of them; what it accepts must run and end.
	const maxU, maxI = ^uint64(0), int64(1<<63 - 1)
	f.Add(maxU, maxU, maxI, maxI, maxI, maxU, maxU, true)
	f.Add(maxU, maxU, maxI, maxI, maxI, maxU, maxU, false)
	f.Add(uint64(1<<63-1), uint64(1<<63-1), maxI, int64(16), int64(1<<20), uint64(64), uint64(1<<63-1), true)
	f.Add(uint64(0), uint64(0), int64(0), int64(0), int64(0), uint64(0), uint64(0), false)
	f.Add(uint64(5000), uint64(0), int64(-1), int64(-1), int64(-1), uint64(64), uint64(0), true)
	f.Add(maxU, uint64(0), int64(4096), int64(1024), int64(1<<20), uint64(64), uint64(100), true)
	f.Fuzz(func(t *testing.T, timeoutMs, killGraceMs uint64, maxLineBytes, capacity, maxBytes int64,
		maxOpenFiles, drainGraceMs uint64, block bool) {
		whenFull := "dropOldest"
		if block {
			whenFull = "block"
		}
		cfgJSON := fmt.Sprintf(`{"rlimits": {"maxOpenFiles": %d}, "log": {"maxLineBytes": %d},`+
			` "output": {"capacity": %d, "maxBytes": %d, "whenFull": %q}, "drainGraceMs": %d}`,
			maxOpenFiles, maxLineBytes, capacity, maxBytes, whenFull, drainGraceMs)
		cfg, err := model.ParseRunnerConfig([]byte(cfgJSON))
		if err != nil {
			t.Logf("refused: %v", err)
			return
		}
		specJSON := fmt.Sprintf(`{"slot": "fuzz", "timeout": %d, "killGraceMs": %d, "kind": {"subprocess":`+
			` {"mode": {"command": {"command": "sh", "args": ["-c", "echo line; printf partial"]}}}}}`,
			timeoutMs, killGraceMs)
		spec, err := model.ParseTaskSpec([]byte(specJSON))
		if err != nil {
			t.Logf("refused: %v", err)
			return
		}
		r, err := New("fuzz", cfg, Options{ShimPath: testutil.ShimPath(t)})
		if err != nil {
			t.Fatalf("runner refused an accepted config %s: %v", cfgJSON, err)
		}
		defer r.Close()
		task, err := r.Build(spec)
		if err != nil {
			t.Logf("build: %v", err)
			return // a build error names its field; not what this target looks for
		}
		defer task.Close()
		if err := task.Spawn(); err != nil {
			t.Logf("spawn: %v", err)
			return // a spawn error (a limit the host refuses) is a clean end
		}
		readAll(t, task) // fails the input if the task never reaches its end
		if _, err := task.Wait(20 * time.Second); err != nil {
			t.Fatalf("config %s, spec %s: wait: %v", cfgJSON, specJSON, err)
		}
	})
}
