package sandbox

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// mount is one cgroup mount from /proc/self/mountinfo.
type mount struct {
	id, parent  int
	root        string   // the hierarchy path mounted there ("/" unless bind-mounted)
	point       string   // the mount point
	v2          bool     // fstype cgroup2
	controllers []string // v1: the controllers of the hierarchy ("name=systemd" included)
}

// isV1Controller tells the controller names among a v1 mount's super
// options from the rest (rw, xattr, release_agent=...).
func isV1Controller(opt string) bool {
	switch opt {
	case "cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls",
		"perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc", "debug":
		return true
	}
	return strings.HasPrefix(opt, "name=")
}

// parseMountInfo returns the cgroup and cgroup2 mounts, in file order, without
// those hidden by another mount stacked on the same mount point.
func parseMountInfo(r io.Reader) ([]mount, error) {
	var all []mount
	var cgroupIdx []int
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			return nil, fmt.Errorf("mountinfo line %d: no \" - \" separator", n)
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 6 || len(qf) < 3 {
			return nil, fmt.Errorf("mountinfo line %d: too few fields", n)
		}
		id, err1 := strconv.Atoi(pf[0])
		parent, err2 := strconv.Atoi(pf[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("mountinfo line %d: bad mount id", n)
		}
		m := mount{id: id, parent: parent, root: unescapeMount(pf[3]), point: unescapeMount(pf[4])}
		switch qf[0] {
		case "cgroup2":
			m.v2 = true
		case "cgroup":
			for _, opt := range strings.Split(qf[2], ",") {
				if isV1Controller(opt) {
					m.controllers = append(m.controllers, opt)
				}
			}
		default:
			all = append(all, m)
			continue
		}
		cgroupIdx = append(cgroupIdx, len(all))
		all = append(all, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var out []mount
	for _, i := range cgroupIdx {
		if !hidden(all, i) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// hidden reports whether another mount sits on top of all[i] (same mount
// point, mounted on it), so its files are not reachable through the path.
func hidden(all []mount, i int) bool {
	for j := range all {
		if j != i && all[j].point == all[i].point && all[j].parent == all[i].id {
			return true
		}
	}
	return false
}

// unescapeMount undoes the kernel's octal escapes of space, tab, newline and
// backslash (\040, \011, \012, \134).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
