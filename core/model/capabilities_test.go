package model

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCapabilityByName(t *testing.T) {
	tests := []struct {
		name string
		n    int
	}{
		{"CHOWN", 0},
		{"CAP_CHOWN", 0},
		{"chown", 0},
		{"DAC_OVERRIDE", 1},
		{"KILL", 5},
		{"SETPCAP", 8},
		{"NET_BIND_SERVICE", 10},
		{"CAP_NET_BIND_SERVICE", 10},
		{"NET_RAW", 13},
		{"SYS_ADMIN", 21},
		{"SETFCAP", 31},
		{"SYSLOG", 34},
		{"PERFMON", 38},
		{"BPF", 39},
		{"CHECKPOINT_RESTORE", 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := CapabilityByName(tt.name)
			require.True(t, ok)
			assert.Equal(t, tt.n, n)
		})
	}
	for _, bad := range []string{"", "CAP_", "FOO", "CAP_FOO", "ALL", "CAP_LAST_CAP", " CHOWN", "41"} {
		_, ok := CapabilityByName(bad)
		assert.False(t, ok, "%q", bad)
	}
}

func TestCapabilityNameRoundTrip(t *testing.T) {
	for n := 0; n <= CapLastCap; n++ {
		name := CapabilityName(n)
		require.NotEmpty(t, name, "capability %d", n)
		got, ok := CapabilityByName(name)
		require.True(t, ok, name)
		assert.Equal(t, n, got, name)
	}
	assert.Equal(t, "CHOWN", CapabilityName(0))
	assert.Equal(t, "CHECKPOINT_RESTORE", CapabilityName(40))
	assert.Empty(t, CapabilityName(-1))
	assert.Empty(t, CapabilityName(CapLastCap+1))
}

// The table must match the kernel's own header wherever one is installed.
func TestCapabilitiesMatchKernelHeader(t *testing.T) {
	const header = "/usr/include/linux/capability.h"
	src, err := os.ReadFile(header)
	if err != nil {
		t.Skipf("%s not available: %v", header, err)
	}
	defines := regexp.MustCompile(`(?m)^#define CAP_([A-Z_]+)\s+(\d+)\s*$`).FindAllStringSubmatch(string(src), -1)
	require.NotEmpty(t, defines)
	seen := 0
	for _, d := range defines {
		n, err := strconv.Atoi(d[2])
		require.NoError(t, err)
		if n > CapLastCap {
			continue // a newer kernel than this table; it still parses the ones it knows
		}
		assert.Equal(t, d[1], CapabilityName(n), fmt.Sprintf("CAP_%s", d[1]))
		seen++
	}
	assert.Equal(t, CapLastCap+1, seen)
}
