package metrics

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

type jsonHistogram struct {
	Buckets []jsonBucket `json:"buckets"`
	Sum     float64      `json:"sumSeconds"`
	Count   uint64       `json:"count"`
}

type jsonBucket struct {
	Le    string `json:"le"`
	Count uint64 `json:"count"` // cumulative, as in Prometheus
}

// JSON renders the snapshot as one JSON object.
func (s Snapshot) JSON() []byte {
	out := struct {
		Snapshot
		Durations map[string]jsonHistogram `json:"durationSeconds"`
	}{Snapshot: s, Durations: map[string]jsonHistogram{}}
	for outcome, h := range s.Durations {
		jh := jsonHistogram{Sum: h.Sum, Count: h.Count}
		var cum uint64
		for i, c := range h.Counts {
			cum += c
			jh.Buckets = append(jh.Buckets, jsonBucket{Le: bucketLabel(i), Count: cum})
		}
		out.Durations[outcome] = jh
	}
	b, err := json.Marshal(out)
	if err != nil { // only maps of strings and numbers: cannot fail
		panic(err)
	}
	return b
}

// Prometheus renders the snapshot in the Prometheus text exposition format
// with the upstream series names.
func (s Snapshot) Prometheus() []byte {
	var b strings.Builder
	runner := `runner="` + escapeLabel(s.Runner) + `"`

	b.WriteString("# HELP solti_runner_tasks_started_total Task attempts started by the runner.\n")
	b.WriteString("# TYPE solti_runner_tasks_started_total counter\n")
	fmt.Fprintf(&b, "solti_runner_tasks_started_total{%s} %d\n", runner, s.Started)

	b.WriteString("# HELP solti_runner_tasks_completed_total Task attempts completed, by outcome.\n")
	b.WriteString("# TYPE solti_runner_tasks_completed_total counter\n")
	for _, o := range sortedKeys(s.Completed) {
		fmt.Fprintf(&b, "solti_runner_tasks_completed_total{%s,outcome=\"%s\"} %d\n", runner, escapeLabel(o), s.Completed[o])
	}

	b.WriteString("# HELP solti_runner_task_duration_seconds Task attempt duration, by outcome.\n")
	b.WriteString("# TYPE solti_runner_task_duration_seconds histogram\n")
	for _, o := range sortedKeys(s.Durations) {
		h := s.Durations[o]
		labels := runner + `,outcome="` + escapeLabel(o) + `"`
		var cum uint64
		for i, c := range h.Counts {
			cum += c
			fmt.Fprintf(&b, "solti_runner_task_duration_seconds_bucket{%s,le=\"%s\"} %d\n", labels, bucketLabel(i), cum)
		}
		fmt.Fprintf(&b, "solti_runner_task_duration_seconds_sum{%s} %s\n", labels, strconv.FormatFloat(h.Sum, 'g', -1, 64))
		fmt.Fprintf(&b, "solti_runner_task_duration_seconds_count{%s} %d\n", labels, h.Count)
	}

	b.WriteString("# HELP solti_runner_errors_total Runner errors, by kind.\n")
	b.WriteString("# TYPE solti_runner_errors_total counter\n")
	for _, k := range sortedKeys(s.Errors) {
		fmt.Fprintf(&b, "solti_runner_errors_total{%s,error=\"%s\"} %d\n", runner, escapeLabel(k), s.Errors[k])
	}
	return []byte(b.String())
}

func bucketLabel(i int) string {
	if i >= len(Buckets) {
		return "+Inf"
	}
	return strconv.FormatFloat(Buckets[i], 'g', -1, 64)
}

// escapeLabel applies the exposition format's label value escaping.
func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
