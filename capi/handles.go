package main

import (
	"fmt"
	"sync"
)

// handleKind tags what a handle names, so a runner handle passed as a task is
// refused instead of misread.
type handleKind uint8

const (
	kindRunner handleKind = 1
	kindTask   handleKind = 2
)

func (k handleKind) String() string {
	if k == kindRunner {
		return "runner"
	}
	return "task"
}

type handleEntry struct {
	kind handleKind
	val  any
}

// registry maps uint64 handles to Go values. Ids come from a counter and are
// never reused, so a stale handle can only miss, never reach another object
// (a pointer-based scheme reuses freed addresses).
type registry struct {
	mu      sync.RWMutex
	next    uint64
	entries map[uint64]handleEntry
}

var handles = &registry{entries: map[uint64]handleEntry{}}

func (r *registry) add(kind handleKind, v any) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	r.entries[r.next] = handleEntry{kind, v}
	return r.next
}

// errBadHandle is a handle that is zero, unknown, freed or of another kind.
type errBadHandle struct{ msg string }

func (e *errBadHandle) Error() string { return e.msg }

func (r *registry) check(h uint64, kind handleKind, e handleEntry, ok bool) error {
	switch {
	case h == 0:
		return &errBadHandle{fmt.Sprintf("%s handle 0 is never valid", kind)}
	case !ok:
		return &errBadHandle{fmt.Sprintf("%s handle %d is unknown or already freed", kind, h)}
	case e.kind != kind:
		return &errBadHandle{fmt.Sprintf("handle %d is a %s, not a %s", h, e.kind, kind)}
	}
	return nil
}

// lookup returns the value behind h if it is of the wanted kind.
func lookup[T any](h uint64, kind handleKind) (T, error) {
	handles.mu.RLock()
	e, ok := handles.entries[h]
	handles.mu.RUnlock()
	var zero T
	if err := handles.check(h, kind, e, ok); err != nil {
		return zero, err
	}
	return e.val.(T), nil
}

// remove takes h out of the registry; a second remove gets errBadHandle.
func remove[T any](h uint64, kind handleKind) (T, error) {
	handles.mu.Lock()
	defer handles.mu.Unlock()
	e, ok := handles.entries[h]
	var zero T
	if err := handles.check(h, kind, e, ok); err != nil {
		return zero, err
	}
	delete(handles.entries, h)
	return e.val.(T), nil
}

// removeWhere drops every entry of kind for which match is true and returns
// their values (a freed runner takes its tasks' handles with it).
func removeWhere[T any](kind handleKind, match func(T) bool) []T {
	handles.mu.Lock()
	defer handles.mu.Unlock()
	var out []T
	for h, e := range handles.entries {
		if e.kind != kind {
			continue
		}
		if v := e.val.(T); match(v) {
			delete(handles.entries, h)
			out = append(out, v)
		}
	}
	return out
}
