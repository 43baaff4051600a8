// Package testutil holds what tests across core need: the exec shim (found or
// built once per test binary) and leak checks for tests that start processes.
package testutil
