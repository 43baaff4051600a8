package runner

import (
	"errors"
	"os"
	"sync"

	"github.com/solti-exec/solti-exec/core/metrics"
	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/solti-exec/solti-exec/core/sandbox"
)

// Options are the host-facing choices a Runner cannot take from its JSON
// config.
type Options struct {
	// ShimPath is where the exec shim is when the config does not say.
	ShimPath string
	// Launch, when set, starts the shim built into the host's library when
	// neither the config nor ShimPath names an executable one.
	Launch proc.Launcher
	// Environ returns the host environment at spawn time. The C layer reads
	// the C environ here; nil means os.Environ.
	Environ func() []string
	// Rand returns uniform floats in [0, 1) for backoff jitter; nil means
	// math/rand/v2.
	Rand func() float64
	// Debugf, when set, receives a line for each step of a task's life
	// (start, end, forced kills). nil means silent: the library is a guest
	// in the host process and prints nothing unless asked.
	Debugf func(format string, args ...any)
	// CgroupSources are where the cgroup mounts and the host's own cgroups
	// are read; the zero value reads /proc/self.
	CgroupSources sandbox.Sources
}

// Runner builds and owns tasks that share one configuration and one set of
// metrics.
type Runner struct {
	name    string
	cfg     model.RunnerConfig
	opts    Options
	metrics *metrics.Registry

	spawnerMu sync.Mutex
	spawner   *proc.Spawner // nil until a spawn found the shim

	cgroups *sandbox.Parent // where task cgroups go and how limits are enforced

	isolation proc.Isolation // credentials, namespaces, seccomp: the config's, built once

	mu     sync.Mutex
	tasks  map[*Task]struct{}
	closed bool
}

// New makes a runner. cfg may be nil for a runner without backend settings.
func New(name string, cfg *model.RunnerConfig, opts Options) (*Runner, error) {
	if err := model.ValidateRunnerName(name); err != nil {
		return nil, err
	}
	c := model.DefaultRunnerConfig()
	if cfg != nil {
		c = *cfg
	}
	if opts.Environ == nil {
		opts.Environ = os.Environ
	}
	iso, err := runnerIsolation(&c)
	if err != nil {
		return nil, err
	}
	// Before any task can take the host's pids (threads.go).
	reserveThreads(threadsWanted())
	liveRunners.Add(1)
	return &Runner{
		name:      name,
		cfg:       c,
		opts:      opts,
		metrics:   metrics.New(name),
		cgroups:   sandbox.NewParent(c.Cgroups, opts.CgroupSources),
		isolation: iso,
		tasks:     map[*Task]struct{}{},
	}, nil
}

// Labels are the runner's labels: runner-name = its name, as upstream's
// registration attaches it, plus the config's labels. A fresh copy.
func (r *Runner) Labels() model.Labels {
	l := model.Labels{model.RunnerLabelName: r.name}
	for k, v := range r.cfg.Labels {
		l[k] = v
	}
	return l
}

// Name is the runner's name, part of every run id.
func (r *Runner) Name() string { return r.name }

// Metrics is the runner's metrics registry.
func (r *Runner) Metrics() *metrics.Registry { return r.metrics }

// builtinShimName is argv[0] of the shim a Launcher starts.
const builtinShimName = "solti-exec-shim"

// spawnerFor finds the shim; a missing shim is reported at spawn, where the
// caller can act on it, rather than making every runner unusable. Only a
// shim found is kept: once the host installs or fixes it, the next spawn
// works without a new runner.
func (r *Runner) spawnerFor() (*proc.Spawner, error) {
	r.spawnerMu.Lock()
	defer r.spawnerMu.Unlock()
	if r.spawner != nil {
		return r.spawner, nil
	}
	path := r.cfg.ShimPath
	if path == "" {
		path = r.opts.ShimPath
	}
	if path == "" && r.opts.Launch != nil {
		r.spawner = proc.NewLaunchingSpawner(builtinShimName, r.opts.Launch)
		return r.spawner, nil
	}
	if path == "" {
		return nil, &proc.SpawnError{Step: "shim", Err: errors.New("no exec shim configured (set shimPath or SOLTI_EXEC_SHIM)")}
	}
	sp, err := proc.NewSpawner(path)
	if err != nil {
		return nil, err
	}
	r.spawner = sp
	return sp, nil
}

// Close cancels and frees every task of the runner, then removes the cgroup
// parent directories it made, if empty. Idempotent.
func (r *Runner) Close() {
	r.mu.Lock()
	if !r.closed {
		liveRunners.Add(-1)
	}
	r.closed = true
	tasks := make([]*Task, 0, len(r.tasks))
	for t := range r.tasks {
		tasks = append(tasks, t)
	}
	r.mu.Unlock()
	for _, t := range tasks {
		t.Close()
	}
	r.cgroups.Close()
}

func (r *Runner) track(t *Task) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	r.tasks[t] = struct{}{}
	return nil
}

func (r *Runner) untrack(t *Task) {
	r.mu.Lock()
	delete(r.tasks, t)
	r.mu.Unlock()
}

// debugf forwards to Options.Debugf when the host asked for it.
func (r *Runner) debugf(format string, args ...any) {
	if r.opts.Debugf != nil {
		r.opts.Debugf(format, args...)
	}
}
