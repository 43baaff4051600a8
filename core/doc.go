// Package core holds the pure-Go engine of solti-exec: the task model, the
// build step, spawning through the exec shim, output streaming, sandbox
// planning, supervision and metrics. Nothing under core uses cgo; the C ABI
// lives in capi.
package core
