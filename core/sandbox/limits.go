package sandbox

import (
	"strconv"

	"github.com/solti-exec/solti-exec/core/model"
)

// fileValue is one value written to one cgroup file.
type fileValue struct{ file, value string }

// limit is one requested limit and what enforcing it means in each version.
// The controller has the same name in both.
type limit struct {
	controller string
	desc       string      // for messages: "memory.max=67108864"
	v2         []fileValue // written in order; any failure is the limit's
	v2Extra    []fileValue // best effort (the file may not exist)
	v1         []fileValue
	v1Extra    []fileValue
	v1Probe    string // a file the v1 parent must have (CFS bandwidth is optional)
}

// limitsOf turns the runner's cgroup config into limits, cpu, memory, pids.
func limitsOf(c *model.Cgroups) []limit {
	if c == nil {
		return nil
	}
	var ls []limit
	if cpu := c.CPU; cpu != nil {
		period := strconv.FormatUint(cpu.Period, 10)
		quota, v1Quota := "max", "-1"
		if cpu.Quota != nil {
			quota = strconv.FormatUint(*cpu.Quota, 10)
			v1Quota = quota
		}
		ls = append(ls, limit{
			controller: "cpu",
			desc:       "cpu.max=" + quota + " " + period,
			v2:         []fileValue{{"cpu.max", quota + " " + period}},
			// The period first: a quota is checked against the current one.
			v1:      []fileValue{{"cpu.cfs_period_us", period}, {"cpu.cfs_quota_us", v1Quota}},
			v1Probe: "cpu.cfs_quota_us",
		})
	}
	if c.Memory != nil {
		n := strconv.FormatUint(*c.Memory, 10)
		ls = append(ls, limit{
			controller: "memory",
			desc:       "memory.max=" + n,
			v2:         []fileValue{{"memory.max", n}},
			// Swap would let the task dodge the limit.
			v2Extra: []fileValue{{"memory.swap.max", "0"}},
			v1:      []fileValue{{"memory.limit_in_bytes", n}},
			v1Extra: []fileValue{{"memory.swappiness", "0"}},
			v1Probe: "memory.limit_in_bytes",
		})
	}
	if c.Pids != nil {
		n := strconv.FormatUint(*c.Pids, 10)
		ls = append(ls, limit{
			controller: "pids",
			desc:       "pids.max=" + n,
			v2:         []fileValue{{"pids.max", n}},
			v1:         []fileValue{{"pids.max", n}},
			v1Probe:    "pids.max",
		})
	}
	return ls
}
