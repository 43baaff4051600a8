package seccomp

import "golang.org/x/sys/unix"

func nativeArch() (arch, bool) {
	return arch{
		audit:  unix.AUDIT_ARCH_X86_64,
		x32:    true,
		denied: hostControl(map[string]uint32{"iopl": unix.SYS_IOPL, "ioperm": unix.SYS_IOPERM}),
	}, true
}
