package runner

import (
	"errors"
	"strconv"
	"testing"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
)

// The Go side of the C benchmarks in bench/, for pprof:
//
//	go test -run '^$' -bench . -cpuprofile cpu.out ./core/runner
//	go tool pprof -top cpu.out

func benchRunner(b *testing.B, cfgJSON string) *Runner {
	b.Helper()
	var cfg *model.RunnerConfig
	if cfgJSON != "" {
		c, err := model.ParseRunnerConfig([]byte(cfgJSON))
		if err != nil {
			b.Fatal(err)
		}
		cfg = c
	}
	r, err := New("bench", cfg, Options{ShimPath: testutil.ShimPath(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Close)
	return r
}

// benchRun builds a task from specJSON, spawns it, polls it to EOF, waits
// and closes it; it returns the line events read.
func benchRun(b *testing.B, r *Runner, specJSON []byte) int {
	s, err := model.ParseTaskSpec(specJSON)
	if err != nil {
		b.Fatal(err)
	}
	task, err := r.Build(s)
	if err != nil {
		b.Fatal(err)
	}
	defer task.Close()
	if err := task.Spawn(); err != nil {
		b.Fatal(err)
	}
	buf := make([]output.Event, 0, 1024)
	var cursor uint64
	lines := 0
	for {
		var err error
		buf, cursor, err = task.Ring().PollInto(buf[:0], cursor, 1024, 1<<20, -1, nil)
		if errors.Is(err, output.ErrEOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range buf {
			if ev.Kind == output.KindLine {
				lines++
			}
		}
	}
	rep, err := task.Wait(-1)
	if err != nil || rep.Outcome != OutcomeSuccess {
		b.Fatal(rep.Reason, err)
	}
	return lines
}

// BenchmarkRunTrue is figure 1's loop: one op is a whole run of /bin/true
// (parse, build, spawn, poll to EOF, wait, close).
func BenchmarkRunTrue(b *testing.B) {
	r := benchRunner(b, "")
	specJSON := spec("true", command("/bin/true"), nil)
	for b.Loop() {
		benchRun(b, r, specJSON)
	}
}

// BenchmarkStreamSeq is figure 3's path: `seq 1 N` through a "block" ring,
// read in batches of 1024; one op is one line.
func BenchmarkStreamSeq(b *testing.B) {
	r := benchRunner(b, `{"output": {"whenFull": "block"}}`)
	n := max(b.N, 1)
	b.ResetTimer()
	if got := benchRun(b, r, spec("seq", command("seq", "1", strconv.Itoa(n)), nil)); got != n {
		b.Fatalf("%d lines of %d", got, n)
	}
}
