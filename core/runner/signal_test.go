package runner

import (
	"os/signal"

	"golang.org/x/sys/unix"
)

// ignoreSignal makes the test process ignore sig, as Python does with
// SIGPIPE; restoreSignal undoes it.
func ignoreSignal(sig unix.Signal) (bool, error) {
	was := signal.Ignored(sig)
	signal.Ignore(sig)
	return was, nil
}

func restoreSignal(sig unix.Signal, wasIgnored bool) {
	if !wasIgnored {
		signal.Reset(sig)
	}
}
