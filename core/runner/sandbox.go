package runner

import (
	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/proc"
	"github.com/solti-exec/solti-exec/core/sandbox"
	"golang.org/x/sys/unix"
)

// sandboxPlan is the part of the spawn plan that comes from the runner's
// rlimits and security settings; the shim applies it before the target's
// first instruction.
type sandboxPlan struct {
	rlimits    []rlimitPlan
	noNewPrivs bool
	dropCaps   bool
	keepCaps   uint64
	capsFatal  bool
}

type rlimitPlan struct {
	resource int
	value    uint64
}

func planSandbox(cfg *model.RunnerConfig) sandboxPlan {
	var p sandboxPlan
	if rl := cfg.Rlimits; rl != nil {
		add := func(res int, v *uint64) {
			if v != nil {
				p.rlimits = append(p.rlimits, rlimitPlan{res, *v})
			}
		}
		add(unix.RLIMIT_NOFILE, rl.MaxOpenFiles)
		add(unix.RLIMIT_FSIZE, rl.MaxFileSizeBytes)
		add(unix.RLIMIT_AS, rl.MaxAddressSpaceBytes)
		add(unix.RLIMIT_CPU, rl.MaxCPUSeconds)
		add(unix.RLIMIT_NPROC, rl.MaxProcesses)
		if rl.DisableCoreDumps {
			zero := uint64(0)
			add(unix.RLIMIT_CORE, &zero)
		}
	}
	if s := cfg.Security; s != nil {
		p.noNewPrivs = s.NoNewPrivs
		p.dropCaps = s.DropAllCaps
		p.keepCaps = s.KeepCapMask
		p.capsFatal = s.FailOnCapError
	}
	return p
}

// apply fills the plan's sandbox fields. Each limit sets the soft value and
// lowers the hard one to it, so the task cannot raise it back; a value above
// the host's hard limit needs privilege, and the shim reports the failure.
func (p sandboxPlan) apply(pl *proc.Plan) {
	for _, r := range p.rlimits {
		pl.Rlimits = append(pl.Rlimits, proc.Rlimit{Resource: r.resource, Soft: r.value, Hard: r.value})
	}
	pl.NoNewPrivs = p.noNewPrivs
	pl.DropCaps = p.dropCaps
	pl.KeepCaps = p.keepCaps
	pl.CapsFatal = p.capsFatal
}

// applyCgroups puts the child into the attempt's cgroups: the v2 one at clone
// (CLONE_INTO_CGROUP), the v1 ones through the shim before anything else. A
// nil set leaves the plan alone.
func applyCgroups(pl *proc.Plan, cg *sandbox.CgroupSet) {
	if fd, ok := cg.CgroupFD(); ok {
		pl.CgroupFD, pl.HasCgroupFD = fd, true
	}
	pl.JoinProcs = cg.JoinProcs()
	pl.RemoveDirs = cg.Dirs()
}
