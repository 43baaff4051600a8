// Package metrics keeps the per-runner counters of SPEC section 9: tasks
// started, tasks completed by outcome, a duration histogram per outcome and
// runner errors by kind. It renders them as JSON and as Prometheus text with
// the upstream series names, so dashboards built for the Rust crate keep
// working. It owns no clock and no goroutine: callers record, readers render.
package metrics
