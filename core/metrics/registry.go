package metrics

import (
	"sort"
	"sync"
	"time"
)

// Runner error kinds, as upstream labels them.
const (
	ErrCgroupPrepareFailed = "cgroup_prepare_failed"
	ErrBackendConfigFailed = "backend_config_failed"
	ErrSpawnFailed         = "spawn_failed"
)

// Buckets are the upper bounds, in seconds, of the duration histogram.
var Buckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600}

// Histogram counts durations per bucket; Counts[i] is not cumulative.
type Histogram struct {
	Counts []uint64 // len(Buckets)+1: the last one is +Inf
	Sum    float64
	Count  uint64
}

// Registry holds one runner's metrics. It is safe for concurrent use.
type Registry struct {
	runner string

	mu        sync.Mutex
	started   uint64
	completed map[string]uint64
	durations map[string]*Histogram
	errors    map[string]uint64
}

// New returns an empty registry labelled with the runner's name.
func New(runner string) *Registry {
	return &Registry{
		runner:    runner,
		completed: map[string]uint64{},
		durations: map[string]*Histogram{},
		errors:    map[string]uint64{},
	}
}

// Runner is the name every series is labelled with.
func (r *Registry) Runner() string { return r.runner }

// TaskStarted counts one attempt that began (before its spawn is tried, as upstream).
func (r *Registry) TaskStarted() {
	r.mu.Lock()
	r.started++
	r.mu.Unlock()
}

// TaskCompleted counts one attempt that ended, on every path, with its outcome.
func (r *Registry) TaskCompleted(outcome string, d time.Duration) {
	secs := d.Seconds()
	if secs < 0 {
		secs = 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.completed[outcome]++
	h := r.durations[outcome]
	if h == nil {
		h = &Histogram{Counts: make([]uint64, len(Buckets)+1)}
		r.durations[outcome] = h
	}
	i := sort.SearchFloat64s(Buckets, secs) // first bound >= secs: le semantics
	h.Counts[i]++
	h.Sum += secs
	h.Count++
}

// RunnerError counts one runner error of the given kind.
func (r *Registry) RunnerError(kind string) {
	r.mu.Lock()
	r.errors[kind]++
	r.mu.Unlock()
}

// Snapshot is a consistent copy of the registry.
type Snapshot struct {
	Runner    string                `json:"runner"`
	Started   uint64                `json:"tasksStarted"`
	Completed map[string]uint64     `json:"tasksCompleted"`
	Durations map[string]*Histogram `json:"-"`
	Errors    map[string]uint64     `json:"errors"`
}

// Snapshot copies the current values under the lock.
func (r *Registry) Snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Snapshot{
		Runner:    r.runner,
		Started:   r.started,
		Completed: make(map[string]uint64, len(r.completed)),
		Durations: make(map[string]*Histogram, len(r.durations)),
		Errors:    make(map[string]uint64, len(r.errors)),
	}
	for k, v := range r.completed {
		s.Completed[k] = v
	}
	for k, h := range r.durations {
		c := *h
		c.Counts = append([]uint64(nil), h.Counts...)
		s.Durations[k] = &c
	}
	for k, v := range r.errors {
		s.Errors[k] = v
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
