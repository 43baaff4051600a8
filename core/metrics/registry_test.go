package metrics

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistogramBuckets(t *testing.T) {
	cases := []struct {
		d      time.Duration
		bucket int
	}{
		{0, 0},
		{10 * time.Millisecond, 0}, // le is inclusive
		{11 * time.Millisecond, 1},
		{700 * time.Millisecond, 6},
		{2 * time.Hour, len(Buckets)},
	}
	for _, c := range cases {
		r := New("r")
		r.TaskCompleted("success", c.d)
		h := r.Snapshot().Durations["success"]
		require.NotNil(t, h)
		assert.Equal(t, uint64(1), h.Counts[c.bucket], "duration %v", c.d)
		assert.Equal(t, uint64(1), h.Count)
	}
}

func TestPrometheusText(t *testing.T) {
	r := New(`we"ird`)
	r.TaskStarted()
	r.TaskStarted()
	r.TaskCompleted("success", 20*time.Millisecond)
	r.TaskCompleted("failure", 2*time.Second)
	r.RunnerError(ErrSpawnFailed)
	text := string(r.Snapshot().Prometheus())

	for _, want := range []string{
		"# TYPE solti_runner_tasks_started_total counter\n",
		`solti_runner_tasks_started_total{runner="we\"ird"} 2`,
		`solti_runner_tasks_completed_total{runner="we\"ird",outcome="success"} 1`,
		`solti_runner_tasks_completed_total{runner="we\"ird",outcome="failure"} 1`,
		`solti_runner_task_duration_seconds_bucket{runner="we\"ird",outcome="success",le="0.01"} 0`,
		`solti_runner_task_duration_seconds_bucket{runner="we\"ird",outcome="success",le="0.025"} 1`,
		`solti_runner_task_duration_seconds_bucket{runner="we\"ird",outcome="success",le="+Inf"} 1`,
		`solti_runner_task_duration_seconds_count{runner="we\"ird",outcome="failure"} 1`,
		`solti_runner_errors_total{runner="we\"ird",error="spawn_failed"} 1`,
	} {
		assert.Contains(t, text, want)
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			assert.Regexp(t, `^solti_runner_[a-z_]+\{.*\} [0-9.e+-]+$`, line)
		}
	}
}

func TestJSON(t *testing.T) {
	r := New("r")
	r.TaskStarted()
	r.TaskCompleted("timeout", 50*time.Millisecond)
	var got map[string]any
	require.NoError(t, json.Unmarshal(r.Snapshot().JSON(), &got))
	assert.Equal(t, "r", got["runner"])
	assert.Equal(t, float64(1), got["tasksStarted"])
	assert.Equal(t, map[string]any{"timeout": float64(1)}, got["tasksCompleted"])
	d := got["durationSeconds"].(map[string]any)["timeout"].(map[string]any)
	assert.Equal(t, float64(1), d["count"])
	buckets := d["buckets"].([]any)
	assert.Len(t, buckets, len(Buckets)+1)
	assert.Equal(t, "+Inf", buckets[len(buckets)-1].(map[string]any)["le"])
}

func TestConcurrentRecording(t *testing.T) {
	r := New("r")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				r.TaskStarted()
				r.TaskCompleted("success", time.Millisecond)
				_ = r.Snapshot().Prometheus()
			}
		}()
	}
	wg.Wait()
	s := r.Snapshot()
	assert.Equal(t, uint64(8000), s.Started)
	assert.Equal(t, uint64(8000), s.Completed["success"])
}
