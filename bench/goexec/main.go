// Command goexec is the Go os/exec peer of figure 1: exec.Command("/bin/true")
// with both outputs captured, in sequence; it prints a RESULT line like the C
// programs (the median chunk, microseconds a run).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os/exec"
	"sort"
	"time"
)

func run() {
	var out, errb bytes.Buffer
	cmd := exec.Command("/bin/true")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		panic(err)
	}
}

func main() {
	n := flag.Int("n", 2000, "runs")
	chunk := flag.Int("chunk", 100, "runs per timed chunk")
	flag.Parse()
	for range 20 {
		run()
	}
	var per []float64
	for done := 0; done < *n; {
		k := min(*chunk, *n-done)
		t0 := time.Now()
		for range k {
			run()
		}
		per = append(per, time.Since(t0).Seconds()/float64(k))
		done += k
	}
	sort.Float64s(per)
	b, _ := json.Marshal(map[string]any{"name": "spawn_goexec", "value": per[len(per)/2] * 1e6, "unit": "us/run", "n": *n})
	fmt.Println("RESULT " + string(b))
}
