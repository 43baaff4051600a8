package seccomp

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sort"
)

// Instruction is one classic BPF instruction (struct sock_filter).
type Instruction struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// Program is a filter, run by the kernel on each syscall of the target.
type Program []Instruction

// The BPF and seccomp constants used here (linux/filter.h, linux/seccomp.h).
const (
	ldAbsW  = 0x20 // BPF_LD | BPF_W | BPF_ABS
	jeqK    = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	jgtK    = 0x25 // BPF_JMP | BPF_JGT | BPF_K
	jgeK    = 0x35 // BPF_JMP | BPF_JGE | BPF_K
	retK    = 0x06 // BPF_RET | BPF_K
	offNr   = 0    // seccomp_data.nr
	offArch = 4    // seccomp_data.arch

	RetKillProcess = 0x80000000
	RetAllow       = 0x7fff0000
	RetErrno       = 0x00050000 // | errno
	ePerm          = 1
)

// ErrUnsupported is returned on an architecture without a syscall list.
var ErrUnsupported = errors.New("seccomp: denyHostControl is available on x86-64 and arm64 only")

// DenyHostControl builds the denyHostControl filter for the architecture
// the library runs on: a foreign architecture is killed, the host-control
// syscalls (and, on x86-64, the x32 ABI and the range 512..547 that kernels
// before 5.4 accepted as x32 without its bit) fail with EPERM, the rest is
// allowed.
func DenyHostControl() (Program, error) {
	a, ok := nativeArch()
	if !ok {
		return nil, ErrUnsupported
	}
	deny := Instruction{Code: retK, K: RetErrno | ePerm}
	p := Program{
		{Code: ldAbsW, K: offArch},
		{Code: jeqK, Jt: 1, K: a.audit},
		{Code: retK, K: RetKillProcess},
		{Code: ldAbsW, K: offNr},
	}
	if a.x32 {
		p = append(p,
			Instruction{Code: jgeK, Jf: 1, K: x32SyscallBit}, deny,
			Instruction{Code: jgeK, Jf: 2, K: x32LegacyFirst},
			Instruction{Code: jgtK, Jt: 1, K: x32LegacyLast}, deny)
	}
	nrs := append([]uint32(nil), a.denied...)
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
	// Each match jumps over the rest of the list and the allow to the
	// shared deny at the end.
	for i, nr := range nrs {
		p = append(p, Instruction{Code: jeqK, Jt: uint8(len(nrs) - i), K: nr})
	}
	p = append(p, Instruction{Code: retK, K: RetAllow}, deny)
	return p, nil
}

// x86-64's x32 ABI: syscall numbers with this bit set, and the range old
// kernels took as x32 without it (upstream denies both).
const (
	x32SyscallBit  = 0x40000000
	x32LegacyFirst = 512
	x32LegacyLast  = 547
)

type arch struct {
	audit  uint32 // AUDIT_ARCH_*
	x32    bool
	denied []uint32
}

// Hex is the program as the shim's seccomp= key takes it.
func (p Program) Hex() string {
	b := make([]byte, 8*len(p))
	for i, in := range p {
		binary.NativeEndian.PutUint16(b[8*i:], in.Code)
		b[8*i+2], b[8*i+3] = in.Jt, in.Jf
		binary.NativeEndian.PutUint32(b[8*i+4:], in.K)
	}
	return hex.EncodeToString(b)
}
