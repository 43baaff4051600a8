package runner

import (
	"fmt"
	"time"

	"github.com/solti-exec/solti-exec/core/proc"
	"golang.org/x/sys/unix"
)

// Outcome is how one attempt ended. The values are those of the C ABI's
// SOLTI_OUTCOME_* constants.
type Outcome int32

const (
	OutcomeSuccess  Outcome = 0
	OutcomeFailure  Outcome = 1
	OutcomeCanceled Outcome = 2
	OutcomeTimeout  Outcome = 3
	OutcomeFatal    Outcome = 4
	// OutcomeLost: the target's exit status is unknown, because its resident
	// shim was killed from outside before it reported. It is not a failure:
	// nothing says the task failed, so no policy restarts it (a restart
	// could run a second copy beside a target that still lives).
	OutcomeLost Outcome = 5
)

var outcomeNames = [...]string{"success", "failure", "canceled", "timeout", "fatal", "lost"}

// String is the outcome's metric label.
func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", int32(o))
}

// ExitReport describes one attempt.
type ExitReport struct {
	Attempt    uint32
	Outcome    Outcome
	ExitCode   int32 // -1 when the process did not exit normally
	Signal     int32 // 0 when not killed by a signal
	CoreDumped bool
	Started    time.Time
	Finished   time.Time
	UserUs     int64
	SystemUs   int64
	MaxRSSKb   int64
	// From the attempt's cgroup; -1 when unknown (no cgroup, or no
	// accounting of that resource in it).
	OOMKills        int64
	MemoryPeakBytes int64
	CPUUsageUs      int64 // user and system CPU of every process of the task
	// Unapplied are the cgroup limits the attempt ran without because the
	// host could not enforce them and failOnError is false, e.g.
	// "memory.max=67108864"; a WARNING event before STARTED says why.
	Unapplied []string
	Reason    string
	// Err is the cause of a fatal attempt (spawn or sandbox failure) or of a
	// lost exit status; nil otherwise.
	Err error
}

// Duration is the attempt's wall time.
func (r ExitReport) Duration() time.Duration { return r.Finished.Sub(r.Started) }

// evaluate turns a reaped status into the report's outcome and reason.
// killedAs is OutcomeCanceled or OutcomeTimeout when the library ended the
// attempt (killReason then says why), or -1 when the process ended by itself.
func evaluate(r *ExitReport, st proc.Status, failOnNonZero bool, killedAs Outcome, killReason string) {
	r.ExitCode, r.Signal, r.CoreDumped = -1, 0, st.CoreDumped
	if st.Exited {
		r.ExitCode = int32(st.ExitCode)
	} else {
		r.Signal = int32(st.Signal)
	}
	r.UserUs, r.SystemUs, r.MaxRSSKb = st.UserUs, st.SystemUs, st.MaxRSSKb

	switch {
	case killedAs == OutcomeCanceled || killedAs == OutcomeTimeout:
		r.Outcome, r.Reason = killedAs, killReason
	case st.Exited && st.ExitCode == 0:
		r.Outcome, r.Reason = OutcomeSuccess, ""
	case st.Exited && !failOnNonZero:
		r.Outcome = OutcomeSuccess
		r.Reason = fmt.Sprintf("process exited with non-zero code: %d (failOnNonZero is off)", st.ExitCode)
	case st.Exited:
		r.Outcome, r.Reason = OutcomeFailure, fmt.Sprintf("process exited with non-zero code: %d", st.ExitCode)
	default:
		r.Outcome = OutcomeFailure
		r.Reason = "process terminated by signal: " + signalName(st.Signal)
	}
}

// signalName gives the kernel name, SIGKILL rather than "killed".
func signalName(sig int) string {
	if name := unix.SignalName(unix.Signal(sig)); name != "" {
		return name
	}
	return fmt.Sprintf("signal %d", sig)
}
