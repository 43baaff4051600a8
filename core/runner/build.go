package runner

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/solti-exec/solti-exec/core/model"
	"github.com/solti-exec/solti-exec/core/output"
	"github.com/solti-exec/solti-exec/core/proc"
)

// Build validates nothing more than the spec already is, and prepares a task:
// resolves the mode (writing a script file), allocates the run id, merges the
// environment, names the cgroup and creates the output ring, so a reader can
// subscribe before the first spawn. Building the same spec twice gives two
// tasks with two run ids.
func (r *Runner) Build(spec *model.TaskSpec) (*Task, error) {
	if spec.Kind.Name != model.KindSubprocess || spec.Kind.Subprocess == nil {
		return nil, &UnsupportedKindError{Runner: r.name, Kind: string(spec.Kind.Name)}
	}
	sub := spec.Kind.Subprocess
	if labels := r.Labels(); spec.RunnerSelector != nil {
		if term := spec.RunnerSelector.Mismatch(labels); term != "" {
			return nil, &model.SpecError{Field: "runnerSelector", Msg: fmt.Sprintf(
				"runnerSelector term %s does not match runner %q with labels %s", term, r.name, labels)}
		}
	}

	// Resolve first: a failure here consumes no run number.
	program, args, body, err := resolveMode(sub.Mode, r.cfg.ScriptStorage, sub.PassFds, r.tempDir)
	if err != nil {
		return nil, err
	}
	script := body.file

	seq := nextRunSeq()
	t := &Task{
		runner:        r,
		id:            r.name + "-" + spec.Slot + "-" + strconv.FormatUint(seq, 10),
		cgroupName:    fmt.Sprintf("%s-%s-%x-%x", r.name, spec.Slot, seq, time.Now().Unix()),
		spec:          *spec,
		program:       program,
		args:          args,
		script:        script,
		memfd:         body.memfd,
		env:           mergeEnv(sub.Env, r.cfg.Env),
		cwd:           sub.Cwd,
		failOnNonZero: sub.FailOnNonZero,
		frame: output.FrameConfig{
			MaxLineBytes:  r.cfg.Log.MaxLineBytes,
			MaxLineLength: r.cfg.Log.MaxLineLength,
		},
		drainGrace: r.cfg.DrainGrace(),
		sandbox:    planSandbox(&r.cfg),
	}
	if t.stdio, err = planStdio(sub); err != nil {
		script.remove()
		return nil, err
	}
	if t.stdio.pty != nil {
		t.ptySize = *t.stdio.pty
	}
	t.isolation, t.envPolicy = taskIsolation(r.isolation, r.cfg.Process, sub.Process, sub.PassFds)
	if m := body.memfd; m != nil {
		t.isolation.Fds = append(slices.Clip(t.isolation.Fds), proc.PassedFd{Host: m.fd, Target: m.target})
	}
	t.argv0 = sub.Argv0
	oc := r.cfg.Output
	if spec.Output != nil {
		oc = *spec.Output
	}
	t.frame.Bytes = oc.Mode == model.OutputModeBytes
	rc := ringConfig(oc)
	t.ring = output.NewRing(rc)
	t.blockOutput = rc.WhenFull == output.Block
	t.done = make(chan struct{})
	close(t.done) // nothing runs yet
	if body.memfdRefused != nil {
		t.ring.AppendControl(output.Event{Kind: output.KindWarning, TsMs: nowMs(), Data: []byte(
			"script body in the file " + script.path + ": " + body.memfdRefused.Error())})
	}
	if err := r.track(t); err != nil {
		script.remove()
		body.memfd.close()
		t.ring.Release()
		return nil, err
	}
	liveTasks.Add(1)
	return t, nil
}

// scriptBody is where a script task's body went: a memfd, or a file (by
// choice, or because the kernel refused the memfd: memfdRefused says why).
type scriptBody struct {
	memfd        *scriptMemfd
	file         *scriptFile
	memfdRefused error
}

// resolveMode turns the mode into a program and its arguments. A script body
// is put in a sealed memfd (or its own file) and passed as a path, so the
// runtime's flag is accepted but not used (and never leaks into the
// arguments).
func resolveMode(m model.Mode, storage model.ScriptStorage, passed []int, tempDir func() string) (string, []string, scriptBody, error) {
	var sb scriptBody
	if m.Command != nil {
		return m.Command.Command, append([]string(nil), m.Command.Args...), sb, nil
	}
	body, err := m.Script.DecodeBody()
	if err != nil {
		return "", nil, sb, err
	}
	var path string
	if storage != model.ScriptFile {
		if sb.memfd, sb.memfdRefused = newScriptMemfd(body, passed); sb.memfd != nil {
			path = sb.memfd.path()
		}
	}
	if sb.memfd == nil {
		if sb.file, err = writeScript(tempDir(), body); err != nil {
			return "", nil, sb, err
		}
		path = sb.file.path
	}
	args := append([]string{path}, m.Script.Args...)
	return m.Script.Runtime.Program(), args, sb, nil
}

func ringConfig(oc model.OutputConfig) output.RingConfig {
	rc := output.RingConfig{Capacity: oc.Capacity, MaxBytes: oc.MaxBytes, WhenFull: output.DropOldest}
	if oc.WhenFull == model.WhenFullBlock {
		rc.WhenFull = output.Block
	}
	return rc
}
