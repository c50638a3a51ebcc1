package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aktual/aktual/internal/fault"
)

// procTimeout bounds every run of aktual or of an aktuald admin command:
// nothing here may hang.
const procTimeout = 30 * time.Second

// proc is how one run of a binary ended.
type proc struct {
	name     string // what ran, for messages
	exit     int    // the exit code; -1 when killed
	killed   bool   // died by SIGKILL
	timedOut bool   // killed by us after procTimeout
	err      error  // it could not be started or waited for
	stdout   string
	stderr   string
}

func (p proc) String() string {
	var how string
	switch {
	case p.err != nil:
		how = "error: " + p.err.Error()
	case p.timedOut:
		how = fmt.Sprintf("timed out after %v", procTimeout)
	case p.killed:
		how = "killed by SIGKILL"
	default:
		how = fmt.Sprintf("exit %d", p.exit)
	}
	return fmt.Sprintf("%s: %s\nstdout:\n%sstderr:\n%s", p.name, how, p.stdout, p.stderr)
}

// exited reports whether the process ended by itself with code.
func (p proc) exited(code int) bool {
	return p.err == nil && !p.timedOut && !p.killed && p.exit == code
}

// result is aktual's final --json object (one per journal for recover).
type result struct {
	Event     string `json:"event"`
	Status    string `json:"status"`
	Product   string `json:"product"`
	From      string `json:"from"`
	To        string `json:"to"`
	Remaining *int64 `json:"remaining"`
	ExitCode  int    `json:"exit_code"`
	Target    string `json:"target"`
	Error     string `json:"error"`
	State     string `json:"state"`
}

// results are the result objects among the JSON lines of stdout.
func (p proc) results() []result {
	var out []result
	for _, line := range strings.Split(p.stdout, "\n") {
		var r result
		if json.Unmarshal([]byte(line), &r) == nil && r.Event == "result" {
			out = append(out, r)
		}
	}
	return out
}

// status is the status of the last result, or "" without one.
func (p proc) status() string {
	rs := p.results()
	if len(rs) == 0 {
		return ""
	}
	return rs[len(rs)-1].Status
}

// statuses lists every result's status (recover prints one per journal).
func (p proc) statuses() []string {
	var out []string
	for _, r := range p.results() {
		out = append(out, r.Status)
	}
	return out
}

// running is a started process.
type running struct {
	name   string
	cmd    *exec.Cmd
	cancel context.CancelFunc
	ctx    context.Context
	stdout bytes.Buffer
	stderr bytes.Buffer
}

// start runs bin with args and an environment of our own: the inherited one
// without any AKTUAL_ variable, plus AKTUAL_FAULT=step when step is set.
func start(ctx context.Context, step, bin string, args ...string) *running {
	return startEnv(ctx, nil, step, bin, args...)
}

// startEnv is start with extra variables (KEY=value) added to the
// environment, e.g. AKTUAL_FAULT_MODE.
func startEnv(ctx context.Context, extra []string, step, bin string, args ...string) *running {
	ctx, cancel := context.WithTimeout(ctx, procTimeout)
	r := &running{name: bin + " " + strings.Join(args, " "), cancel: cancel, ctx: ctx}
	if step != "" {
		r.name = fault.Env + "=" + step + " " + r.name
	}
	if len(extra) > 0 {
		r.name = strings.Join(extra, " ") + " " + r.name
	}
	r.cmd = exec.CommandContext(ctx, bin, args...)
	r.cmd.Env = append(environ(step), extra...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	r.cmd.WaitDelay = 2 * time.Second
	if err := r.cmd.Start(); err != nil {
		r.cmd = nil
		r.stderr.WriteString(err.Error())
	}
	return r
}

// wait waits for the process to end and says how it did.
func (r *running) wait() proc {
	defer r.cancel()
	p := proc{name: r.name, exit: -1}
	if r.cmd == nil {
		p.err = errors.New("could not start: " + r.stderr.String())
		return p
	}
	err := r.cmd.Wait()
	p.stdout, p.stderr = r.stdout.String(), r.stderr.String()
	p.timedOut = r.ctx.Err() != nil
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !p.timedOut {
		p.err = err
	}
	if ps := r.cmd.ProcessState; ps != nil {
		p.exit = ps.ExitCode()
		p.killed = diedByKill(ps)
	}
	return p
}

// run runs bin to its end.
func run(ctx context.Context, step, bin string, args ...string) proc {
	return start(ctx, step, bin, args...).wait()
}

// environ is the environment of every process we start.
func environ(step string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AKTUAL_") {
			env = append(env, kv)
		}
	}
	if step != "" {
		env = append(env, fault.Env+"="+step)
	}
	return env
}
