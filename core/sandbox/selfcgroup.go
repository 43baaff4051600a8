package sandbox

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// selfCgroups is this process's place in each hierarchy, from
// /proc/self/cgroup: paths relative to the hierarchy's root.
type selfCgroups struct {
	v2    string            // "" when there is no "0::" line
	hasV2 bool              //
	v1    map[string]string // controller (or "name=...") → path
}

// parseSelfCgroup reads lines "ID:CONTROLLERS:PATH"; the v2 line is "0::PATH".
func parseSelfCgroup(r io.Reader) (selfCgroups, error) {
	s := selfCgroups{v1: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			return s, fmt.Errorf("cgroup line %d: want ID:CONTROLLERS:PATH, got %q", n, line)
		}
		if parts[0] == "0" && parts[1] == "" {
			s.v2, s.hasV2 = parts[2], true
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c != "" {
				s.v1[c] = parts[2]
			}
		}
	}
	return s, sc.Err()
}
