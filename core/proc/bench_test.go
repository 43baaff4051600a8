package proc

import (
	"io"
	"os/exec"
	"syscall"
	"testing"

	"github.com/solti-exec/solti-exec/core/internal/testutil"
)

// BenchmarkSpawnTrue is the whole cost of one child through the shim: Start
// (fork on the spawn thread, shim, exec, status pipe EOF), draining both
// pipes, Reap and Close.
func BenchmarkSpawnTrue(b *testing.B) {
	sp, err := NewSpawner(testutil.ShimPath(b))
	if err != nil {
		b.Fatal(err)
	}
	p := &Plan{Path: "/bin/true", Env: testEnv}
	for b.Loop() {
		spawnTrue(b, sp, p)
	}
}

// BenchmarkSpawnTrueParallel is the same from many goroutines: forks are
// serialised on the spawn thread, the rest overlaps.
func BenchmarkSpawnTrueParallel(b *testing.B) {
	sp, err := NewSpawner(testutil.ShimPath(b))
	if err != nil {
		b.Fatal(err)
	}
	p := &Plan{Path: "/bin/true", Env: testEnv}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			spawnTrue(b, sp, p)
		}
	})
}

func spawnTrue(b *testing.B, sp *Spawner, p *Plan) {
	pr, err := sp.Start(p)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, pr.Stdout)
	io.Copy(io.Discard, pr.Stderr)
	st, err := pr.Reap()
	pr.Close()
	if err != nil || !st.Success() {
		b.Fatal(st, err)
	}
}

// BenchmarkForkExecTrue is the floor: Go's plain syscall.ForkExec of
// /bin/true and wait4, with no shim, pipes or pidfd.
func BenchmarkForkExecTrue(b *testing.B) {
	attr := &syscall.ProcAttr{Env: testEnv}
	for b.Loop() {
		pid, err := syscall.ForkExec("/bin/true", []string{"true"}, attr)
		if err != nil {
			b.Fatal(err)
		}
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
			b.Fatal(ws, err)
		}
	}
}

// BenchmarkOSExecTrue is what os/exec costs for the same, for comparison.
func BenchmarkOSExecTrue(b *testing.B) {
	for b.Loop() {
		cmd := exec.Command("/bin/true")
		cmd.Env = testEnv
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}
