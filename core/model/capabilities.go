package model

import "strings"

// CapLastCap is the highest capability the kernel headers define
// (CAP_CHECKPOINT_RESTORE, Linux 5.9). Upstream knew 23 names; every
// kernel capability up to this one is accepted here.
const CapLastCap = 40

// capNames is indexed by capability number, the kernel's CAP_* without the
// prefix (linux/capability.h).
var capNames = [CapLastCap + 1]string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// CapabilityByName returns the number of a capability given by its kernel
// name, with or without the CAP_ prefix and in any case ("NET_RAW",
// "CAP_NET_RAW", "net_raw"): hosts copy names from man pages and from
// Python constants alike.
func CapabilityByName(name string) (int, bool) {
	upper := strings.ToUpper(name)
	upper = strings.TrimPrefix(upper, "CAP_")
	for n, capName := range capNames {
		if capName == upper {
			return n, true
		}
	}
	return 0, false
}

// CapabilityName returns the kernel name of capability n without the CAP_
// prefix, or "" if n is not a known capability.
func CapabilityName(n int) string {
	if n < 0 || n > CapLastCap {
		return ""
	}
	return capNames[n]
}
