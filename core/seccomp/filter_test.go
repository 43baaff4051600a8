package seccomp

import (
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// run interprets p on one syscall as the kernel does, for the part of
// classic BPF the filter uses, and gives the action it returns.
func run(t *testing.T, p Program, arch, nr uint32) uint32 {
	t.Helper()
	var acc uint32
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		jump := func(taken bool) {
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		}
		switch in.Code {
		case ldAbsW:
			require.Contains(t, []uint32{offNr, offArch}, in.K)
			acc = nr
			if in.K == offArch {
				acc = arch
			}
		case jeqK:
			jump(acc == in.K)
		case jgtK:
			jump(acc > in.K)
		case jgeK:
			jump(acc >= in.K)
		case retK:
			return in.K
		default:
			t.Fatalf("instruction %d: unexpected code %#x", pc, in.Code)
		}
	}
	t.Fatal("the program ran off its end")
	return 0
}

func TestDenyHostControl(t *testing.T) {
	p, err := DenyHostControl()
	require.NoError(t, err)
	require.LessOrEqual(t, len(p), 256, "the shim takes at most 256 instructions")
	a, ok := nativeArch()
	require.True(t, ok)
	deny := uint32(RetErrno | ePerm)

	for _, tc := range []struct {
		name string
		nr   uint32
		want uint32
	}{
		{"ptrace", unix.SYS_PTRACE, deny},
		{"mount", unix.SYS_MOUNT, deny},
		{"setns", unix.SYS_SETNS, deny},
		{"bpf", unix.SYS_BPF, deny},
		{"keyctl", unix.SYS_KEYCTL, deny},
		{"request_key", unix.SYS_REQUEST_KEY, deny},
		{"read", unix.SYS_READ, RetAllow},
		{"write", unix.SYS_WRITE, RetAllow},
		{"execve", unix.SYS_EXECVE, RetAllow},
		{"clone", unix.SYS_CLONE, RetAllow},
		{"close_range", unix.SYS_CLOSE_RANGE, RetAllow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, run(t, p, a.audit, tc.nr))
		})
	}
	for _, nr := range a.denied {
		assert.Equal(t, deny, run(t, p, a.audit, nr), "syscall %d", nr)
	}
	assert.Len(t, a.denied, len(hostControlNames)+map[bool]int{true: 2, false: 0}[a.x32])
	// Another architecture's syscall table is not filtered by this list:
	// the process is killed instead.
	assert.Equal(t, uint32(RetKillProcess), run(t, p, unix.AUDIT_ARCH_I386, unix.SYS_READ))
	if a.x32 {
		assert.Equal(t, deny, run(t, p, a.audit, x32SyscallBit|unix.SYS_READ), "x32 read")
		assert.Equal(t, uint32(RetAllow), run(t, p, a.audit, x32LegacyFirst-1))
		for nr := uint32(x32LegacyFirst); nr <= x32LegacyLast; nr++ {
			assert.Equal(t, deny, run(t, p, a.audit, nr), "legacy x32 number %d", nr)
		}
		assert.Equal(t, uint32(RetAllow), run(t, p, a.audit, x32LegacyLast+1))
	}
}

func TestHexIsHostOrder(t *testing.T) {
	p := Program{{Code: retK, Jt: 1, Jf: 2, K: RetAllow}}
	b, err := hex.DecodeString(p.Hex())
	require.NoError(t, err)
	require.Len(t, b, 8)
	assert.Equal(t, uint16(retK), binary.NativeEndian.Uint16(b))
	assert.Equal(t, []byte{1, 2}, b[2:4])
	assert.Equal(t, uint32(RetAllow), binary.NativeEndian.Uint32(b[4:]))
}
