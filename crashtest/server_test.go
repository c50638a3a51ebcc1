package crashtest

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	// readyTimeout bounds one start of the server until it accepts
	// connections.
	readyTimeout = 15 * time.Second
	// relistenTimeout bounds the retries of a restart whose port is not
	// yet free.
	relistenTimeout = 10 * time.Second
	// exitTimeout bounds the wait for a server that should be dead.
	exitTimeout = 10 * time.Second
	// pollInterval: how often a ready file or a retry is looked at.
	pollInterval = 2 * time.Millisecond
)

// serverProc is one running aktuald serve.
type serverProc struct {
	cmd    *exec.Cmd
	done   chan struct{} // closed once the process is waited for
	stderr bytes.Buffer  // read only after done
}

// errListen: the port is not (yet) free.
var errListen = errors.New("cannot listen")

// startServer starts aktuald serve, armed with step when set. The first
// start takes a free port; every later one takes the same port again, since
// the clients' journals remember the server's URL.
func (f *fixture) startServer(step string) error {
	if f.srv != nil {
		return errors.New("the server is already running")
	}
	addr := "127.0.0.1:0"
	if f.url != "" {
		u, err := url.Parse(f.url)
		if err != nil {
			return err
		}
		addr = u.Host
	}
	deadline := time.Now().Add(relistenTimeout)
	for {
		err := f.tryStartServer(addr, step)
		if err == nil || !errors.Is(err, errListen) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * pollInterval)
	}
}

func (f *fixture) tryStartServer(addr, step string) error {
	f.starts++
	ready := filepath.Join(f.dir, fmt.Sprintf("ready-%d", f.starts))
	s := &serverProc{done: make(chan struct{})}
	s.cmd = exec.CommandContext(f.ctx, aktualdBin, "--data", f.data, "serve", "--addr", addr, "--ready-file", ready)
	s.cmd.Env = environ(step)
	s.cmd.Stderr = &s.stderr
	s.cmd.WaitDelay = 2 * time.Second
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting aktuald serve: %w", err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	timeout := time.After(readyTimeout)
	for {
		if b, err := os.ReadFile(ready); err == nil && strings.HasSuffix(string(b), "\n") {
			got := strings.TrimSpace(string(b))
			if f.url != "" && got != f.url {
				s.cmd.Process.Kill()
				<-s.done
				return fmt.Errorf("the restarted server is at %s, not %s", got, f.url)
			}
			f.url, f.srv = got, s
			return nil
		}
		select {
		case <-s.done:
			if strings.Contains(s.stderr.String(), "cannot listen") {
				return fmt.Errorf("%w on %s: %s", errListen, addr, s.stderr.String())
			}
			return fmt.Errorf("aktuald serve ended before it was ready (%v):\n%s", s.cmd.ProcessState, s.stderr.String())
		case <-timeout:
			s.cmd.Process.Kill()
			<-s.done
			return fmt.Errorf("aktuald serve was not ready within %v:\n%s", readyTimeout, s.stderr.String())
		case <-tick.C:
		}
	}
}

// killServer kills the running server with SIGKILL and waits for it.
func (f *fixture) killServer() *os.ProcessState {
	s := f.srv
	f.srv = nil
	_ = s.cmd.Process.Kill()
	<-s.done
	return s.cmd.ProcessState
}

// awaitServerDeath waits for a server that should kill itself, and says how
// it ended; nil if it is still running after exitTimeout.
func (f *fixture) awaitServerDeath() (*os.ProcessState, string) {
	s := f.srv
	select {
	case <-s.done:
		f.srv = nil
		return s.cmd.ProcessState, s.stderr.String()
	case <-time.After(exitTimeout):
		return nil, ""
	}
}

// stopServer ends the server at the end of a test.
func (f *fixture) stopServer() {
	if f.srv != nil {
		f.killServer()
	}
}
