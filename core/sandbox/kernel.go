package sandbox

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// kernelAtLeast reports whether the running kernel is major.minor or later.
// Used only where a feature cannot be probed without side effects
// (CLONE_INTO_CGROUP is only seen failing at the spawn itself).
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	return releaseAtLeast(unix.ByteSliceToString(u.Release[:]), major, minor)
}

// releaseAtLeast compares a release string like "6.18.44-generic".
func releaseAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err := strconv.Atoi(parts[0])
	if err != nil {
		return false
	}
	mnr := parts[1]
	if i := strings.IndexFunc(mnr, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		mnr = mnr[:i]
	}
	mn, err := strconv.Atoi(mnr)
	if err != nil {
		return false
	}
	return maj > major || maj == major && mn >= minor
}
