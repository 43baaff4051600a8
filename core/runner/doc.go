// Package runner is the engine's facade: a Runner builds Tasks from specs
// (SPEC section 3), and a Task runs attempts through the exec shim, streams
// their output into its ring, evaluates how each ended, and applies the
// spec's supervision policies (SPEC sections 4 to 7). It also passes the
// host's words to the running attempt (stdio.go): writes to its stdin pipe
// or terminal, the terminal's size, signals; each attempt has a stdin of
// its own, and the spec's input is fed to every one.
//
// It owns task state and the attempt loop. It does not own parsing
// (core/model), framing and the ring (core/output), the fork and exec
// (core/proc), the policy arithmetic (core/supervise) or counting
// (core/metrics).
package runner
