//go:build unix

package cli_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/testenv"
)

// Real aktuald processes, stopped with SIGTERM as systemd or Kubernetes
// stop them.

// bigSize is larger than what the kernel buffers between a stalled
// reader and the server on loopback, so the server is still writing the
// artifact when it is told to stop.
const bigSize = 48 << 20

// buildDaemon builds the aktuald command into a temporary folder.
func buildDaemon(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs aktuald")
	}
	goTool := testenv.LookPath(t, "go", "install Go (go.dev/doc/install)")
	bin := filepath.Join(t.TempDir(), "aktuald")
	out, err := exec.Command(goTool, "build", "-o", bin, "github.com/aktual/aktual/cmd/aktuald").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// daemon is a running aktuald.
type daemon struct {
	cmd     *exec.Cmd
	url     string
	stderr  *daemonLog
	exited  chan struct{}
	waitErr error
}

type daemonLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *daemonLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *daemonLog) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// publishBig publishes a release of bigSize pseudo-random bytes into data
// and returns them.
func publishBig(t *testing.T, bin, data string) []byte {
	t.Helper()
	big := make([]byte, bigSize)
	rng := rand.NewChaCha8([32]byte{7})
	rng.Read(big)
	file := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(file, big, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--data", data, "release", "publish", "--product", "big", "--series", "pro",
		"--version", "1.0.0", "--os", "linux", "--arch", "amd64", "--file", file, "--health-check", "none").CombinedOutput()
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	return big
}

// start runs aktuald serve with args and the environment env, and waits
// until it writes its ready file.
func startDaemon(t *testing.T, bin string, env []string, args ...string) *daemon {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	d := &daemon{stderr: &daemonLog{}, exited: make(chan struct{})}
	d.cmd = exec.Command(bin, append([]string{"serve", "--ready-file", ready}, args...)...)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.waitErr = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("aktuald's log:\n%s", d.stderr.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(ready); err == nil && strings.HasSuffix(string(b), "\n") {
			d.url = strings.TrimSpace(string(b))
			return d
		}
		select {
		case <-d.exited:
			t.Fatalf("aktuald exited before it was ready: %v\n%s", d.waitErr, d.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("aktuald did not get ready:\n%s", d.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exitCode waits for the process to end and returns its exit code.
func (d *daemon) exitCode(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-d.exited:
	case <-time.After(within):
		t.Fatalf("aktuald still runs %v after SIGTERM", within)
	}
	var ee *exec.ExitError
	if errors.As(d.waitErr, &ee) {
		return ee.ExitCode()
	} else if d.waitErr != nil {
		t.Fatal(d.waitErr)
	}
	return 0
}

func (d *daemon) running() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// logLines are aktuald's JSON log lines.
func (d *daemon) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(d.stderr.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

// freshClient is a client that opens a connection for each request, as a load
// balancer's health check does.
var freshClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

func getStatus(url string) (int, error) {
	resp, err := freshClient.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// waitUntil polls cond every 10ms for up to 10s.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGracefulShutdown: on SIGTERM aktuald answers /readyz with 503 for
// the drain delay, then closes its listener, finishes a large download in
// progress to its last byte, and exits 0. It also runs on its environment
// (AKTUALD_DATA, AKTUALD_ADDR) and serves metrics on their own listener.
func TestGracefulShutdown(t *testing.T) {
	bin := buildDaemon(t)
	data := filepath.Join(t.TempDir(), "srv")
	big := publishBig(t, bin, data)
	d := startDaemon(t, bin, []string{"AKTUALD_DATA=" + data, "AKTUALD_ADDR=127.0.0.1:0", "AKTUALD_LOG_FORMAT=json"},
		"--metrics-addr", "127.0.0.1:0", "--drain-delay", "500ms", "--shutdown-timeout", "60s")

	// Metrics: on their own listener only.
	var metricsURL string
	for _, l := range d.logLines(t) {
		if l["msg"] == "serving metrics" {
			metricsURL, _ = l["url"].(string)
		}
	}
	if metricsURL == "" {
		t.Fatalf("no \"serving metrics\" line in the log:\n%s", d.stderr.String())
	}
	if code, err := getStatus(metricsURL); err != nil || code != http.StatusOK {
		t.Errorf("GET %s: %d %v, want 200", metricsURL, code, err)
	}
	if code, err := getStatus(d.url + "/metrics"); err != nil || code != http.StatusNotFound {
		t.Errorf("GET /metrics on the API's listener: %d %v, want 404", code, err)
	}
	if code, err := getStatus(d.url + "/readyz"); err != nil || code != http.StatusOK {
		t.Fatalf("GET /readyz: %d %v, want 200", code, err)
	}

	// A slow download: the first MiB, then nothing until the server
	// is stopping.
	sum := sha256.Sum256(big)
	resp, err := http.Get(fmt.Sprintf("%s/v1/artifacts/%x", d.url, sum))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %s", resp.Status)
	}
	h := sha256.New()
	first, err := io.CopyN(h, resp.Body, 1<<20)
	if err != nil {
		t.Fatal(err)
	}

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Draining: not ready, but still accepting.
	pollUntil(t, "/readyz answers 503", func() bool {
		code, err := getStatus(d.url + "/readyz")
		return err == nil && code == http.StatusServiceUnavailable
	})
	// Then the listener closes...
	addr := strings.TrimPrefix(d.url, "http://")
	pollUntil(t, "the listener is closed", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// ...and the server waits for the download, which resumes slowly.
	time.Sleep(200 * time.Millisecond)
	if !d.running() {
		t.Fatalf("aktuald exited with a download in flight (%d of %d bytes read)", first, bigSize)
	}
	buf := make([]byte, 1<<20)
	rest := int64(0)
	for {
		n, err := resp.Body.Read(buf)
		h.Write(buf[:n])
		rest += int64(n)
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the download was cut off after %d of %d bytes: %v", first+rest, bigSize, err)
		}
		time.Sleep(time.Millisecond)
	}
	if got := first + rest; got != bigSize || !bytes.Equal(h.Sum(nil), sum[:]) {
		t.Fatalf("downloaded %d bytes (sha256 %x), want %d (sha256 %x)", got, h.Sum(nil), bigSize, sum)
	}
	if code := d.exitCode(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}

	var downloads, stopped int
	for _, l := range d.logLines(t) {
		if l["msg"] == "request" && l["route"] == "/v1/artifacts/{sha256}" && l["status"] == float64(200) {
			downloads++
			if l["bytes"] != float64(bigSize) {
				t.Errorf("request line %v: want bytes %d", l, bigSize)
			}
		}
		if l["msg"] == "stopped" {
			stopped++
		}
	}
	if downloads != 1 || stopped != 1 {
		t.Errorf("%d download lines and %d \"stopped\" lines in the log, want one of each:\n%s", downloads, stopped, d.stderr.String())
	}
}

// TestShutdownTimeout: a download that does not move is cut off after
// --shutdown-timeout, and aktuald still exits 0 (the client resumes it).
func TestShutdownTimeout(t *testing.T) {
	bin := buildDaemon(t)
	data := filepath.Join(t.TempDir(), "srv")
	big := publishBig(t, bin, data)
	d := startDaemon(t, bin, nil, "--data", data, "--addr", "127.0.0.1:0", "--log-format", "json", "--shutdown-timeout", "1s")
	sum := sha256.Sum256(big)
	resp, err := http.Get(fmt.Sprintf("%s/v1/artifacts/%x", d.url, sum))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	stop := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.exitCode(t, 20*time.Second); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	if took := time.Since(stop); took < time.Second {
		t.Errorf("aktuald exited %v after SIGTERM: it did not wait for the download", took)
	}
	if n, err := io.Copy(io.Discard, resp.Body); err == nil {
		t.Errorf("the stalled download completed (%d more bytes) though the server was stopped", n)
	}
	if !strings.Contains(d.stderr.String(), "requests in flight cut off") {
		t.Errorf("the log does not say a request was cut off:\n%s", d.stderr.String())
	}
}

// TestRequestLinesWaitThenReachTheLog: with a long --log-flush-interval a
// request's line waits in memory, and a stop writes it before "stopped".
func TestRequestLinesWaitThenReachTheLog(t *testing.T) {
	bin := buildDaemon(t)
	data := filepath.Join(t.TempDir(), "srv")
	d := startDaemon(t, bin, nil, "--data", data, "--addr", "127.0.0.1:0", "--log-format", "json", "--log-flush-interval", "10s")
	resp, err := http.Get(d.url + "/v1/products/nothing/latest?os=linux&arch=amd64")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
	time.Sleep(300 * time.Millisecond)
	if strings.Contains(d.stderr.String(), `"msg":"request"`) {
		t.Fatalf("the request line was written at once with --log-flush-interval 10s:\n%s", d.stderr.String())
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.exitCode(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	var order []string
	for _, l := range d.logLines(t) {
		if l["msg"] == "request" && l["status"] == float64(404) || l["msg"] == "stopped" {
			order = append(order, l["msg"].(string))
		}
	}
	if strings.Join(order, ",") != "request,stopped" {
		t.Errorf("lines %v, want the request line, then \"stopped\":\n%s", order, d.stderr.String())
	}
}
