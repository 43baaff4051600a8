package sandbox

// Stats are what the cgroups counted for one attempt. -1 means not known:
// no cgroup, or no accounting for that resource in it.
type Stats struct {
	MemoryPeakBytes int64 // v2 memory.peak (Linux 5.19), v1 memory.max_usage_in_bytes
	OOMKills        int64 // v2 memory.events oom_kill, v1 memory.oom_control oom_kill
	CPUUsageUs      int64 // v2 cpu.stat usage_usec, v1 cpuacct.usage
}

// Stats reads the counters. Read them after the processes are dead and
// before Remove.
func (s *CgroupSet) Stats() Stats {
	st := Stats{MemoryPeakBytes: -1, OOMKills: -1, CPUUsageUs: -1}
	if s == nil {
		return st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.removed {
		return st
	}
	switch {
	case s.memV2:
		if n, ok := readInt(s.v2 + "/memory.peak"); ok {
			st.MemoryPeakBytes = n
		}
		if n, ok := readKeyed(s.v2+"/memory.events", "oom_kill"); ok {
			st.OOMKills = n
		}
	case s.memV1 != "":
		if n, ok := readInt(s.memV1 + "/memory.max_usage_in_bytes"); ok {
			st.MemoryPeakBytes = n
		}
		if n, ok := readKeyed(s.memV1+"/memory.oom_control", "oom_kill"); ok {
			st.OOMKills = n
		}
	}
	switch {
	case s.v2 != "":
		if n, ok := readKeyed(s.v2+"/cpu.stat", "usage_usec"); ok {
			st.CPUUsageUs = n
		}
	case s.cpuacctV1 != "":
		if n, ok := readInt(s.cpuacctV1 + "/cpuacct.usage"); ok {
			st.CPUUsageUs = n / 1000
		}
	}
	return st
}
