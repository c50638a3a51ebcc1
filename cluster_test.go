package aktual_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/aktual/aktual/internal/lbtest"
)

// cluster is aktuald as a vendor runs it beyond one machine: n replicas
// (the real binary, one process each) on one database and one data folder
// (keys and artifacts), behind a load balancer. With n = 1 it is one
// server and no balancer.
type cluster struct {
	URL      string // what clients are given: the balancer's, or the one server's
	LB       *lbtest.Balancer
	mu       sync.Mutex
	procs    []*proc
	replicas []string // each replica's own URL
	stopOnce sync.Once
}

// startCluster starts n replicas of `aktuald --data data serve` with env
// (e.g. AKTUALD_DB=postgres://…) added to this process's environment, in
// dir. logs receives their standard error.
func startCluster(dir, data string, n int, env []string, logs *syncBuffer) (*cluster, error) {
	return startClusterArgs(dir, data, n, env, nil, logs)
}

// startClusterArgs is startCluster with global flags (--db URL) for aktuald.
func startClusterArgs(dir, data string, n int, env, global []string, logs *syncBuffer) (*cluster, error) {
	return startClusterServe(dir, data, n, env, global, nil, logs)
}

// startClusterServe is startClusterArgs with serve's own flags for replica
// i (serveArgs may be nil).
func startClusterServe(dir, data string, n int, env, global []string, serveArgs func(i int) []string, logs *syncBuffer) (*cluster, error) {
	c := &cluster{}
	for i := range n {
		ready := filepath.Join(dir, fmt.Sprintf(".replica-%d-%d.url", i, time.Now().UnixNano()))
		args := append(append([]string{}, global...), "--data", data, "serve", "--addr", "127.0.0.1:0", "--ready-file", ready)
		if serveArgs != nil {
			args = append(args, serveArgs(i)...)
		}
		cmd := exec.Command("aktuald", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if logs != nil {
			cmd.Stderr = logs
		}
		p, err := startProc(cmd)
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.procs = append(c.procs, p)
		url, err := waitReady(ready, p)
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("replica %d: %w", i, err)
		}
		c.replicas = append(c.replicas, url)
	}
	c.URL = c.replicas[0]
	if n > 1 {
		lb, err := lbtest.Start(c.replicas...)
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.LB, c.URL = lb, lb.URL
	}
	return c, nil
}

func waitReady(file string, p *proc) (string, error) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if b, _ := os.ReadFile(file); len(strings.TrimSpace(string(b))) > 0 {
			os.Remove(file)
			return strings.TrimSpace(string(b)), nil
		}
		select {
		case <-p.done:
			return "", fmt.Errorf("aktuald exited before it served: %v", p.err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("aktuald did not start within 30 s")
}

// proc is a started replica; done closes when it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Kill kills replica i at once (SIGKILL): a machine lost, not a shutdown.
func (c *cluster) Kill(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.procs[i]; p != nil {
		p.cmd.Process.Kill()
		<-p.done
		c.procs[i] = nil
	}
}

// Stop stops the balancer and every replica; again, it does nothing.
func (c *cluster) Stop() {
	c.stopOnce.Do(func() {
		if c.LB != nil {
			c.LB.Close()
		}
		for i := range c.procs {
			c.Kill(i)
		}
	})
}

// syncBuffer collects the replicas' logs for a failing test's report.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startserver DATADIR VAR: start the reference server on DATADIR and set
// VAR to its URL. By default one `aktuald serve`; with AKTUAL_E2E_REPLICAS=n
// in the script's environment, n replicas behind a load balancer, all on
// the database AKTUALD_DB names. The script's end stops them.
func cmdStartServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: startserver DATADIR VAR")
	}
	n := 1
	if v := ts.Getenv("AKTUAL_E2E_REPLICAS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			ts.Fatalf("AKTUAL_E2E_REPLICAS=%q: want a count", v)
		}
	}
	var env []string
	for _, k := range []string{"AKTUALD_DB", "XDG_STATE_HOME", "XDG_DATA_HOME", "HOME"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	logs := &syncBuffer{}
	c, err := startCluster(ts.Getenv("WORK"), ts.MkAbs(args[0]), n, env, logs)
	if err != nil {
		ts.Fatalf("starting the server: %v\n%s", err, logs)
	}
	ts.Defer(c.Stop)
	clusters.Store(ts.MkAbs(args[0]), c)
	ts.Setenv(args[1], c.URL)
}

// stopserver DATADIR: stop what startserver started on DATADIR.
func cmdStopServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stopserver DATADIR")
	}
	c, ok := clusters.LoadAndDelete(ts.MkAbs(args[0]))
	if !ok {
		ts.Fatalf("no server was started on %s", args[0])
	}
	c.(*cluster).Stop()
}

// clusters: what startserver started, by data folder.
var clusters sync.Map
