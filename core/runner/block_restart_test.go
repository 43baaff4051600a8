package runner

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/solti-exec/solti-exec/core/output"
)

// In block mode the lifecycle events of later attempts must not push out
// lines nobody has read yet: lossless holds across restarts.
func TestBlockRestartKeepsUnreadLines(t *testing.T) {
	r := newRunner(t, "")
	// Only the first attempt prints: the later ones add lifecycle events only.
	marker := filepath.Join(t.TempDir(), "printed")
	body := `[ -e "$1" ] && exit 0; touch "$1"; for i in $(seq 1 15); do echo line $i; done`
	task := build(t, r, spec("blockrestart", bashScript(body, marker), map[string]any{
		"output":  map[string]any{"capacity": 16, "whenFull": "block"},
		"restart": map[string]any{"type": "always", "intervalMs": 1},
	}))
	require.NoError(t, task.Spawn())
	time.Sleep(1500 * time.Millisecond) // nobody reads while attempts go on

	evs, _, err := task.Poll(0, 64, 1<<20, time.Second)
	require.NoError(t, err)
	var got []string
	for _, e := range evs {
		require.NotEqual(t, output.KindLagged, e.Kind, "no event is lost to the reader")
		if e.Kind == output.KindLine && e.Attempt == 1 {
			got = append(got, string(e.Data))
		}
	}
	want := make([]string, 15)
	for i := range want {
		want[i] = fmt.Sprintf("line %d", i+1)
	}
	assert.Equal(t, want, got, "every line of the first attempt is kept; events %v", evs)
	assert.Zero(t, task.Ring().Stats().Evicted)
	task.Cancel()
	_, err = task.Wait(5 * time.Second)
	require.NoError(t, err)
}
