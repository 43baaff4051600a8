package model

// TaskSpec is one task as the caller describes it (SPEC section 2). Build
// it with ParseTaskSpec; a TaskSpec put together in Go must pass Validate
// before use, and its zero value does not (no slot, no kind, no timeout).
type TaskSpec struct {
	Slot string
	Kind TaskKind
	// TimeoutMs is "timeout" on the wire (upstream's name, milliseconds),
	// or its alias "timeoutMs"; per attempt, required, never 0.
	TimeoutMs uint64
	Restart   RestartPolicy
	Backoff   BackoffPolicy
	Admission Admission
	// MaxRetries bounds restarts after the first attempt; 0 = unlimited.
	MaxRetries uint32
	// KillGraceMs is the SIGTERM-to-SIGKILL grace on cancel and timeout;
	// 0 = SIGKILL at once, as upstream.
	KillGraceMs uint64
	// Output replaces the runner's output config for this task; nil = none.
	Output *OutputConfig
	// Labels are the task's metadata; they label its metrics series.
	Labels Labels
	// RunnerSelector, when set, must match the runner's labels at build.
	RunnerSelector *RunnerSelector
	// FailureRetries is set for a 0.0.4-shaped spec: MaxRetries then counts
	// consecutive failures (a success starts it again), as upstream 0.0.4;
	// else it counts every restart.
	FailureRetries bool
}

// RestartType says after which endings a task starts again.
type RestartType string

const (
	RestartNever     RestartType = "never"
	RestartOnFailure RestartType = "onFailure" // after failure or timeout
	RestartAlways    RestartType = "always"    // after any end but cancel
)

// RestartPolicy is {"type": "never"}, {"type": "onFailure"} or
// {"type": "always", "intervalMs": N}. IntervalMs, the pause before an
// always-restart, belongs to "always" only; 0 = none.
type RestartPolicy struct {
	Type       RestartType
	IntervalMs uint64
}

// Jitter randomises restart delays so that many tasks failing together do
// not restart in lockstep.
type Jitter string

const (
	JitterNone         Jitter = "none"
	JitterFull         Jitter = "full"
	JitterEqual        Jitter = "equal"
	JitterDecorrelated Jitter = "decorrelated"
)

// BackoffPolicy is the delay between restarts: FirstMs × Factor^n, capped at
// MaxMs, then jittered.
type BackoffPolicy struct {
	Jitter  Jitter
	FirstMs uint64
	MaxMs   uint64
	Factor  float64
}

// DefaultBackoff is upstream's default: full jitter from 1 s up to 30 s,
// doubling.
func DefaultBackoff() BackoffPolicy {
	return BackoffPolicy{Jitter: JitterFull, FirstMs: 1000, MaxMs: 30000, Factor: 2.0}
}

// Admission says what spawn does while an attempt of the task still runs.
type Admission string

const (
	AdmissionDropIfRunning Admission = "dropIfRunning" // refuse the spawn
	AdmissionReplace       Admission = "replace"       // cancel the running attempt, then start
	AdmissionQueue         Admission = "queue"         // start after it ends
)

var (
	restartTypes = []string{string(RestartNever), string(RestartOnFailure), string(RestartAlways)}
	jitters      = []string{string(JitterNone), string(JitterFull), string(JitterEqual), string(JitterDecorrelated)}
	admissions   = []string{string(AdmissionDropIfRunning), string(AdmissionReplace), string(AdmissionQueue)}
)

// ParseTaskSpec decodes a task spec, fills the defaults and validates it.
// Every error is a *SpecError.
func ParseTaskSpec(data []byte) (*TaskSpec, error) {
	root, ferr := parseJSON(data)
	if ferr != nil {
		return nil, ferr.specError()
	}
	spec, ferr := decodeTaskSpec(root)
	if ferr != nil {
		return nil, ferr.specError()
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return spec, nil
}

func decodeTaskSpec(v *jsonValue) (*TaskSpec, *fieldError) {
	if v.kind != jsonObject {
		return nil, errorf("", "task spec must be a JSON object, got %s", describe(v))
	}
	obj, ferr := openObject(v, "", "task spec", "slot", "kind", "timeout", "timeoutMs", "restart",
		"backoff", "admission", "maxRetries", "killGraceMs", "output", "labels", "runnerSelector", "workload")
	if ferr != nil {
		return nil, ferr
	}
	spec := &TaskSpec{
		Restart:   RestartPolicy{Type: RestartNever},
		Backoff:   DefaultBackoff(),
		Admission: AdmissionDropIfRunning,
	}
	// Missing required values (slot, kind, timeoutMs) are left zero here and
	// reported by Validate, so they come out in SPEC's order.
	if f, p := obj.get("slot"); f != nil {
		if spec.Slot, ferr = asString(f, p); ferr != nil {
			return nil, ferr
		}
	}
	fk, pk := obj.get("kind")
	fw, pw := obj.get("workload")
	switch {
	case fk != nil && fw != nil:
		return nil, mixedShapes()
	case fk != nil:
		if spec.Kind, ferr = decodeKind(fk, pk); ferr != nil {
			return nil, ferr
		}
	case fw != nil:
		if spec.Kind, ferr = decodeWorkload(fw, pw); ferr != nil {
			return nil, ferr
		}
		spec.FailureRetries = true
	}
	// "timeout" is upstream's name; "timeoutMs" is this project's older one,
	// kept as an alias. Both at once would leave one silently unused.
	ft, pt := obj.get("timeout")
	fa, pa := obj.get("timeoutMs")
	switch {
	case ft != nil && fa != nil:
		return nil, errorf("timeout", `"timeout" and "timeoutMs" are the same field: give only one`)
	case ft != nil:
		if spec.TimeoutMs, ferr = asUint64(ft, pt); ferr != nil {
			return nil, ferr
		}
	case fa != nil:
		if spec.TimeoutMs, ferr = asUint64(fa, pa); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("labels"); f != nil {
		if spec.Labels, ferr = decodeLabels(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("runnerSelector"); f != nil {
		if spec.RunnerSelector, ferr = decodeSelector(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("restart"); f != nil {
		if spec.Restart, ferr = decodeRestart(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("backoff"); f != nil {
		if spec.Backoff, ferr = decodeBackoff(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("admission"); f != nil {
		a, ferr := asEnum(f, p, admissions...)
		if ferr != nil {
			return nil, ferr
		}
		spec.Admission = Admission(a)
	}
	if f, p := obj.get("maxRetries"); f != nil {
		if spec.MaxRetries, ferr = asUint32(f, p); ferr != nil {
			return nil, ferr
		}
		// 0.0.4's NonZeroU32: absent is unlimited, 0 cannot be written.
		if spec.FailureRetries && spec.MaxRetries == 0 {
			return nil, errorf(p, "maxRetries must be greater than zero (leave it out for unlimited)")
		}
	}
	if f, p := obj.get("killGraceMs"); f != nil {
		if spec.KillGraceMs, ferr = asUint64(f, p); ferr != nil {
			return nil, ferr
		}
	}
	if f, p := obj.get("output"); f != nil {
		out, ferr := decodeOutput(f, p)
		if ferr != nil {
			return nil, ferr
		}
		spec.Output = &out
	}
	return spec, nil
}

func decodeRestart(v *jsonValue, path string) (RestartPolicy, *fieldError) {
	var r RestartPolicy
	obj, ferr := openObject(v, path, path, "type", "intervalMs")
	if ferr != nil {
		return r, ferr
	}
	// Type is internally tagged ({"type": ...}); a missing one is as wrong
	// as a misspelt one.
	f, p := obj.get("type")
	if f == nil {
		return r, enumError(p, restartTypes...)
	}
	t, ferr := asEnum(f, p, restartTypes...)
	if ferr != nil {
		return r, ferr
	}
	r.Type = RestartType(t)
	if f, p := obj.get("intervalMs"); f != nil {
		if r.IntervalMs, ferr = asUint64(f, p); ferr != nil {
			return r, ferr
		}
		if r.Type != RestartAlways {
			return r, intervalError()
		}
	}
	return r, nil
}

// intervalError: an interval on a never or onFailure policy would be
// silently ignored, so it is refused (upstream only has it on always).
func intervalError() *fieldError {
	return errorf("restart.intervalMs", `restart.intervalMs is only allowed with type "always"`)
}

// decodeBackoff starts from DefaultBackoff, so a partial object changes only
// what it names.
func decodeBackoff(v *jsonValue, path string) (BackoffPolicy, *fieldError) {
	b := DefaultBackoff()
	obj, ferr := openObject(v, path, path, "jitter", "firstMs", "maxMs", "factor")
	if ferr != nil {
		return b, ferr
	}
	if f, p := obj.get("jitter"); f != nil {
		j, ferr := asEnum(f, p, jitters...)
		if ferr != nil {
			return b, ferr
		}
		b.Jitter = Jitter(j)
	}
	if f, p := obj.get("firstMs"); f != nil {
		if b.FirstMs, ferr = asUint64(f, p); ferr != nil {
			return b, ferr
		}
	}
	if f, p := obj.get("maxMs"); f != nil {
		if b.MaxMs, ferr = asUint64(f, p); ferr != nil {
			return b, ferr
		}
	}
	if f, p := obj.get("factor"); f != nil {
		if b.Factor, ferr = asFloat(f, p); ferr != nil {
			return b, ferr
		}
	}
	return b, nil
}
