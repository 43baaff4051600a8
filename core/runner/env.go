package runner

import (
	"strings"

	"github.com/solti-exec/solti-exec/core/model"
)

// mergeEnv merges task env then runner env: on a duplicate key the runner's
// value wins, and inside one list the last entry wins. The order of first
// appearance is kept so the child's environment is deterministic.
func mergeEnv(task, runner []model.EnvVar) []model.EnvVar {
	var out []model.EnvVar
	index := map[string]int{}
	put := func(v model.EnvVar) {
		if i, ok := index[v.Key]; ok {
			out[i].Value = v.Value
			return
		}
		index[v.Key] = len(out)
		out = append(out, v)
	}
	for _, v := range task {
		put(v)
	}
	for _, v := range runner {
		put(v)
	}
	return out
}

// childEnv lays the merged pairs over the host environment, which is read at
// spawn time so a host that calls setenv after building still sees it apply.
func childEnv(host []string, merged []model.EnvVar) []string {
	if len(merged) == 0 {
		return host
	}
	override := make(map[string]string, len(merged))
	for _, v := range merged {
		override[v.Key] = v.Value
	}
	out := make([]string, 0, len(host)+len(merged))
	seen := make(map[string]bool, len(merged))
	for _, kv := range host {
		k, _, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if v, hit := override[k]; hit {
			if !seen[k] {
				out = append(out, k+"="+v)
				seen[k] = true
			}
			continue
		}
		out = append(out, kv)
	}
	for _, v := range merged {
		if !seen[v.Key] {
			out = append(out, v.Key+"="+v.Value)
			seen[v.Key] = true
		}
	}
	return out
}
