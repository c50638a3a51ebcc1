package cli

import (
	// The binaries are built in a subprocess the test cache cannot see:
	// importing aktuald's sources makes a change to them re-run this test
	// (aktual's own are this package).
	_ "github.com/aktual/aktual/cmd/aktuald/cli"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/fault"
	"github.com/aktual/aktual/internal/testenv"
)

// TestSelfUpdateWithRealBinaries builds aktual 1.0.0 and 2.0.0 and aktuald,
// publishes aktual 2.0.0 on a real aktuald, and updates a copy of aktual
// 1.0.0 with its own self-update: free (no credential, the customer's
// counts untouched), verified (a tampered artifact is refused) and atomic
// (a failure, or a crash at any step, leaves a working aktual).
func TestSelfUpdateWithRealBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds aktual and aktuald")
	}
	testenv.SkipUnderWine(t, "it builds aktual and aktuald with the go command, which the Wine test run does not carry; the self-update of a running aktual.exe is the Windows end-to-end run's to prove (docs/windows.md)")
	goTool := testenv.LookPath(t, "go", "building aktual needs the go command (https://go.dev/dl)")
	bin := t.TempDir()
	v1 := buildAktual(t, goTool, bin, "aktual-1.0.0", "1.0.0")
	v2 := buildAktual(t, goTool, bin, "aktual-2.0.0", "2.0.0")
	aktuald := buildAktual(t, goTool, bin, "aktuald", "")

	data := t.TempDir()
	var pub struct{ SHA256 string }
	mustJSON(t, runOK(t, aktuald, "--data", data, "--json", "release", "publish", "--product", "aktual", "--series", "pro",
		"--version", "2.0.0", "--os", runtime.GOOS, "--arch", runtime.GOARCH, "--file", v2), &pub)
	var act struct{ Code string }
	mustJSON(t, runOK(t, aktuald, "--data", data, "--json", "admin", "activate", "--customer", "Acme", "--series", "pro", "--updates", "2"), &act)
	server := startAktuald(t, aktuald, data)
	trust := filepath.Join(data, "trust.json")
	v1Bytes, v2Bytes := readFile(t, v1), readFile(t, v2)

	exe := installCopy(t, v1)
	state := t.TempDir()
	self := func(args ...string) (stdout, stderr string, code int) {
		return runAktual(t, exe, nil, append([]string{"self-update", "--state-dir", state, "--trust", trust}, args...)...)
	}
	if out, _, _ := runAktual(t, exe, nil, "version"); !strings.Contains(out, "1.0.0") {
		t.Fatalf("the copy says %q, want 1.0.0", out)
	}

	// No server: exit 3, aktual unchanged.
	_, stderr, code := self("--server", deadServer(t), "--yes")
	if code != ExitNoConnection {
		t.Fatalf("unreachable server: exit %d, want 3\n%s", code, stderr)
	}
	sameBytes(t, exe, v1Bytes)

	// --check: exit 10 with what is available.
	stdout, stderr, code := self("--server", server, "--check", "--json")
	res := lastResult(t, stdout)
	if code != ExitUpdateAvailable || res.Status != statusUpdateAvailable || res.From != "1.0.0" || res.To != "2.0.0" || res.Product != "aktual" {
		t.Fatalf("--check: exit %d, %+v\n%s", code, res, stderr)
	}

	// Without --yes and nothing on standard input: exit 2, unchanged.
	if _, stderr, code := self("--server", server); code != ExitUsage || !strings.Contains(stderr, "pass --yes") {
		t.Fatalf("no confirmation: exit %d\n%s", code, stderr)
	}
	sameBytes(t, exe, v1Bytes)

	// A tampered artifact on the server's disk: exit 6, unchanged.
	blob := filepath.Join(data, "blobs", pub.SHA256[:2], pub.SHA256)
	good := readFile(t, blob)
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0xff
	writeFile(t, blob, bad)
	stdout, stderr, code = self("--server", server, "--yes", "--json")
	if res := lastResult(t, stdout); code != ExitVerification || res.ErrorCode != "verification_failed" {
		t.Fatalf("tampered: exit %d, %+v\n%s", code, res, stderr)
	}
	sameBytes(t, exe, v1Bytes)
	writeFile(t, blob, good)

	// The real thing: updated, and the new aktual says so.
	stdout, stderr, code = self("--server", server, "--yes", "--json")
	res = lastResult(t, stdout)
	if code != ExitOK || res.Status != "updated" || res.From != "1.0.0" || res.To != "2.0.0" || res.Remaining != nil || res.Reservation != "" {
		t.Fatalf("self-update: exit %d, %+v\n%s", code, res, stderr)
	}
	sameBytes(t, exe, v2Bytes)
	if out, _, _ := runAktual(t, exe, nil, "version"); !strings.Contains(out, "2.0.0") {
		t.Fatalf("after the update the copy says %q, want 2.0.0", out)
	}
	if _, stderr, code := self("--server", server, "--check"); code != ExitOK {
		t.Fatalf("--check after: exit %d\n%s", code, stderr)
	}
	if stdout, stderr, code := self("--server", server, "--yes", "--json"); code != ExitOK || lastResult(t, stdout).Status != "up_to_date" {
		t.Fatalf("again: exit %d\n%s%s", code, stdout, stderr)
	}
	expectNothingPending(t, exe, state)
	noDebris(t, exe)

	// The customer's updates were never touched.
	out := runOK(t, aktuald, "--data", data, "--json", "admin", "show", "--code", act.Code)
	if !strings.Contains(out, `"remaining":2,"held":0,"consumed":0`) {
		t.Fatalf("counts changed: %s", out)
	}
	runOK(t, aktuald, "--data", data, "admin", "audit")

	// A crash at each step leaves an aktual that runs: the old or the new
	// one. It finishes or undoes the update without the server counting
	// anything, and the next self-update completes.
	v1Fault := buildAktual(t, goTool, bin, "aktual-1.0.0-fault", "1.0.0", "-tags", "aktualfault")
	v1FaultBytes := readFile(t, v1Fault)
	for _, step := range []string{fault.MidDownload, fault.AfterStaging, fault.BetweenRenames, fault.AfterSwap, fault.DuringHealth} {
		t.Run("crash "+step, func(t *testing.T) {
			if runtime.GOOS == "windows" && step == fault.BetweenRenames {
				t.Skip("Windows renames the running aktual aside: a crash there leaves it beside its path; aktual recover finishes it")
			}
			exe := installCopy(t, v1Fault)
			state := t.TempDir()
			args := []string{"self-update", "--state-dir", state, "--trust", trust, "--server", server, "--yes"}
			// Killed: by a signal (-1) on Unix, TerminateProcess's 1 on Windows.
			if _, stderr, code := runAktual(t, exe, []string{fault.Env + "=" + step}, args...); code != killedCode {
				t.Fatalf("not killed at %s: exit %d\n%s", step, code, stderr)
			}
			got := readFile(t, exe)
			if !bytes.Equal(got, v1FaultBytes) && !bytes.Equal(got, v2Bytes) {
				t.Fatalf("after a crash at %s the file at aktual's path is neither the old nor the new aktual", step)
			}
			expectOnlyFreePending(t, exe, state)
			if _, stderr, code := runAktual(t, exe, nil, "recover", "--state-dir", state); code != ExitOK {
				t.Fatalf("recover: exit %d\n%s", code, stderr)
			}
			expectNothingPending(t, exe, state)
			if _, stderr, code := runAktual(t, exe, nil, args...); code != ExitOK {
				t.Fatalf("self-update after the crash: exit %d\n%s", code, stderr)
			}
			sameBytes(t, exe, v2Bytes)
			expectNothingPending(t, exe, state)
			noDebris(t, exe)
		})
	}
	out = runOK(t, aktuald, "--data", data, "--json", "admin", "show", "--code", act.Code)
	if !strings.Contains(out, `"remaining":2,"held":0,"consumed":0`) {
		t.Fatalf("counts changed by the crashed self-updates: %s", out)
	}
	runOK(t, aktuald, "--data", data, "admin", "audit")
}

var exeSuffix = map[bool]string{true: ".exe"}[runtime.GOOS == "windows"]

// killedCode is the exit code of a process killed by a fault.
var killedCode = map[bool]int{true: 1, false: -1}[runtime.GOOS == "windows"]

// buildAktual builds aktual (or, named "aktuald", aktuald) into dir with
// version stamped, and returns its path.
func buildAktual(t *testing.T, goTool, dir, name, version string, flags ...string) string {
	t.Helper()
	out := filepath.Join(dir, name+exeSuffix)
	pkg := "github.com/aktual/aktual/cmd/aktual"
	if name == "aktuald" {
		pkg = "github.com/aktual/aktual/cmd/aktuald"
	}
	args := append([]string{"build", "-o", out}, flags...)
	if version != "" {
		args = append(args, "-ldflags", "-X github.com/aktual/aktual/cmd/aktual/cli.Version="+version)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, append(args, pkg)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// installCopy copies an aktual to a folder of its own, as a customer has it.
func installCopy(t *testing.T, src string) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "aktual"+exeSuffix)
	if err := os.WriteFile(exe, readFile(t, src), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

// runAktual runs a binary with an environment free of the caller's
// AKTUAL_ settings, in English, plus env.
func runAktual(t *testing.T, exe string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(strings.ToUpper(kv), "AKTUAL_") && !strings.HasPrefix(kv, "LANG=") &&
			!strings.HasPrefix(kv, "LC_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append([]string{"LANG=C", "XDG_STATE_HOME=" + t.TempDir()}, env...)...)
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(""), &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("%s %s: %v", filepath.Base(exe), strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

func runOK(t *testing.T, exe string, args ...string) string {
	t.Helper()
	stdout, stderr, code := runAktual(t, exe, nil, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s", filepath.Base(exe), strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// startAktuald serves data on a free loopback port until the test ends.
func startAktuald(t *testing.T, aktuald, data string) string {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "url")
	cmd := exec.Command(aktuald, "--data", data, "serve", "--addr", "127.0.0.1:0", "--ready-file", ready)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("aktuald's log:\n%s", log.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return string(bytes.TrimSpace(b))
		}
	}
	t.Fatal("aktuald did not start within 30 s")
	return ""
}

// deadServer is the URL of a loopback port nobody listens on.
func deadServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func lastResult(t *testing.T, stdout string) outcome {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var o outcome
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &o); err != nil || o.Event != "result" {
		t.Fatalf("no result line in %q: %v", stdout, err)
	}
	return o
}

// pendingOf reads status --json's unfinished updates, as scripts do.
func pendingOf(t *testing.T, exe, state string) []map[string]any {
	t.Helper()
	var st struct{ Pending []map[string]any }
	mustJSON(t, runOK(t, exe, "status", "--json", "--state-dir", state), &st)
	return st.Pending
}

// expectOnlyFreePending: what a crashed self-update leaves never reads as
// a paid update held or pending on the server.
func expectOnlyFreePending(t *testing.T, exe, state string) {
	t.Helper()
	for _, j := range pendingOf(t, exe, state) {
		if j["free"] != true || j["reservation_id"] != nil || (j["state"] != "staged" && j["state"] != "applied") {
			t.Errorf("pending after a crashed self-update: %v", j)
		}
	}
}

func expectNothingPending(t *testing.T, exe, state string) {
	t.Helper()
	if p := pendingOf(t, exe, state); len(p) != 0 {
		t.Errorf("pending: %v", p)
	}
}

// noDebris: nothing but the lock is left beside aktual.
func noDebris(t *testing.T, exe string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(exe))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); n != filepath.Base(exe) && !strings.HasSuffix(n, ".aktual-lock") {
			t.Errorf("left beside aktual: %s", n)
		}
	}
}

func sameBytes(t *testing.T, path string, want []byte) {
	t.Helper()
	if !bytes.Equal(readFile(t, path), want) {
		t.Fatalf("%s is not the expected aktual", path)
	}
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), v); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
