package model

// WhenFull is what a task's output ring does when it is full.
type WhenFull string

const (
	// WhenFullDropOldest drops the oldest events: the child is never slowed
	// and a slow reader gets a lagged event (upstream behaviour).
	WhenFullDropOldest WhenFull = "dropOldest"
	// WhenFullBlock stops reading the pipes until the furthest reader
	// catches up, so the child blocks like on a plain pipe and nothing is
	// lost. A task nobody reads then stalls.
	WhenFullBlock WhenFull = "block"
)

// OutputMode is how a task's output is stored and delivered.
type OutputMode string

const (
	// OutputModeLines frames output into line events: CRLF handling, byte
	// and character caps, UTF-8 repair, truncation flag (the default).
	OutputModeLines OutputMode = "lines"
	// OutputModeBytes keeps each pipe read as one chunk of exactly the bytes
	// the child wrote, for binary output and byte-exact copies.
	OutputModeBytes OutputMode = "bytes"
)

// Output ring defaults: enough for a burst of short lines while bounding a
// task's memory at a few MiB whatever the child prints.
const (
	DefaultOutputCapacity = 1024
	DefaultOutputMaxBytes = 4194304
)

// OutputConfig bounds a task's output ring by both an event count and a byte
// total, and says what happens when either is reached.
type OutputConfig struct {
	Capacity int
	MaxBytes int
	WhenFull WhenFull
	Mode     OutputMode
}

// DefaultOutputConfig is the runner's output config when none is given.
func DefaultOutputConfig() OutputConfig {
	return OutputConfig{Capacity: DefaultOutputCapacity, MaxBytes: DefaultOutputMaxBytes, WhenFull: WhenFullDropOldest, Mode: OutputModeLines}
}

// decodeOutput reads an output object. Absent fields take the package
// defaults; this holds for a task's override too, which replaces the
// runner's output config as a whole (the model cannot know the runner's
// values when it parses a task spec).
func decodeOutput(v *jsonValue, path string) (OutputConfig, *fieldError) {
	out := DefaultOutputConfig()
	obj, ferr := openObject(v, path, path, "capacity", "maxBytes", "whenFull", "mode")
	if ferr != nil {
		return out, ferr
	}
	if f, p := obj.get("capacity"); f != nil {
		if out.Capacity, ferr = asInt(f, p); ferr != nil {
			return out, ferr
		}
	}
	if f, p := obj.get("maxBytes"); f != nil {
		if out.MaxBytes, ferr = asInt(f, p); ferr != nil {
			return out, ferr
		}
	}
	if f, p := obj.get("whenFull"); f != nil {
		w, ferr := asEnum(f, p, string(WhenFullDropOldest), string(WhenFullBlock))
		if ferr != nil {
			return out, ferr
		}
		out.WhenFull = WhenFull(w)
	}
	if f, p := obj.get("mode"); f != nil {
		m, ferr := asEnum(f, p, string(OutputModeLines), string(OutputModeBytes))
		if ferr != nil {
			return out, ferr
		}
		out.Mode = OutputMode(m)
	}
	return out, nil
}

// validateOutput is shared by the runner config and a task's override; both
// live under the JSON key "output", so one set of messages fits both.
func validateOutput(o OutputConfig) *fieldError {
	switch {
	case o.Capacity <= 0:
		return errorf("output.capacity", "output.capacity must be greater than zero")
	case o.MaxBytes <= 0:
		return errorf("output.maxBytes", "output.max_bytes must be greater than zero")
	case o.Capacity > MaxOutputCapacity:
		return atMost("output.capacity", uint64(o.Capacity), MaxOutputCapacity)
	case o.MaxBytes > MaxOutputBytes:
		return atMost("output.maxBytes", uint64(o.MaxBytes), MaxOutputBytes)
	case o.WhenFull != WhenFullDropOldest && o.WhenFull != WhenFullBlock:
		return enumError("output.whenFull", string(WhenFullDropOldest), string(WhenFullBlock))
	case o.Mode != OutputModeLines && o.Mode != OutputModeBytes:
		return enumError("output.mode", string(OutputModeLines), string(OutputModeBytes))
	}
	return nil
}
