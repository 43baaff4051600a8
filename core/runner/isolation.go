package runner

import (
	"strings"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/solti-exec/solti-exec/core/seccomp"
	"golang.org/x/sys/unix"
)

// runnerIsolation is the part of the plan's isolation that only the runner
// config sets: credentials, namespaces and the seccomp filter, assembled
// once here rather than per spawn.
func runnerIsolation(cfg *model.RunnerConfig) (proc.Isolation, error) {
	var iso proc.Isolation
	s := cfg.Security
	if s == nil {
		return iso, nil
	}
	if c := s.Credentials; c != nil {
		iso.Credentials = &proc.Credentials{UID: c.UID, GID: c.GID, Groups: append([]uint32{}, c.SupplementaryGroups...)}
	}
	for _, ns := range []struct {
		on   bool
		flag uint64
	}{
		{s.Namespaces.Mount, unix.CLONE_NEWNS}, {s.Namespaces.Net, unix.CLONE_NEWNET},
		{s.Namespaces.IPC, unix.CLONE_NEWIPC}, {s.Namespaces.UTS, unix.CLONE_NEWUTS},
		{s.Namespaces.Cgroup, unix.CLONE_NEWCGROUP},
	} {
		if ns.on {
			iso.Unshare |= ns.flag
		}
	}
	if s.Seccomp == model.SeccompDenyHostControl {
		prog, err := seccomp.DenyHostControl()
		if err != nil {
			return iso, &model.ConfigError{Field: "security.seccomp", Msg: "security.seccomp: " + err.Error()}
		}
		iso.Seccomp = prog.Hex()
	}
	return iso, nil
}

// taskIsolation adds what a task may set itself to the runner's part: its
// process options over the runner's, and its passed descriptors.
func taskIsolation(runner proc.Isolation, cfg, task model.ProcessOptions, passFds []int) (proc.Isolation, *model.EnvPolicy) {
	iso := runner
	o := cfg
	if task.EnvPolicy != nil {
		o.EnvPolicy = task.EnvPolicy
	}
	if task.Umask != nil {
		o.Umask = task.Umask
	}
	if task.NewSession != nil {
		o.NewSession = task.NewSession
	}
	if o.Umask != nil {
		iso.Umask, iso.HasUmask = *o.Umask, true
	}
	iso.NewSession = o.NewSession != nil && *o.NewSession
	for _, fd := range passFds {
		iso.Fds = append(iso.Fds, proc.PassedFd{Host: fd, Target: fd})
	}
	return iso, o.EnvPolicy
}

// policyEnv is the child's environment under the env policy: inherit lays
// the pairs over the whole host environment; clear starts from nothing and
// allowlist from the named host variables, and both add the safe PATH
// unless one was given.
func policyEnv(host []string, merged []model.EnvVar, pol *model.EnvPolicy) []string {
	if pol == nil || pol.Mode == model.EnvInherit {
		return childEnv(host, merged)
	}
	base := []string{}
	if pol.Mode == model.EnvAllowlist {
		allowed := make(map[string]bool, len(pol.Allow))
		for _, name := range pol.Allow {
			allowed[name] = true
		}
		for _, kv := range host {
			if k, _, ok := strings.Cut(kv, "="); ok && allowed[k] {
				base = append(base, kv)
				delete(allowed, k) // the first one, as getenv finds it
			}
		}
	}
	out := childEnv(base, merged)
	for _, kv := range out {
		if strings.HasPrefix(kv, "PATH=") {
			return out
		}
	}
	return append(out, "PATH="+model.SafePath)
}
