//go:build linux || windows

package osapp

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
)

// TestHelperProcess is not a test: run as a child with OSAPP_HOLD set, it
// opens that file, says "ready" and holds it until its stdin closes.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv("OSAPP_HOLD")
	if path == "" {
		t.Skip("a helper for other tests")
	}
	f, err := os.Open(path)
	if err != nil {
		os.Stdout.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("ready\n")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // any end of stdin is the signal to stop
	f.Close()
	os.Exit(0)
}

// holdOpen starts a child process that holds path open; stop makes it
// close the file and exit, and waits for it.
func holdOpen(t *testing.T, path string) (cmd *exec.Cmd, stop func()) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "OSAPP_HOLD="+path)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			in.Close()
			_ = cmd.Wait() // the helper's exit status says nothing the test checks
		}
	}
	t.Cleanup(stop)
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("helper: %q", line)
	}
	return cmd, stop
}
