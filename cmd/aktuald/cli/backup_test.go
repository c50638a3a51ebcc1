package cli_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/cmd/aktuald/cli"
	"github.com/aktual/aktual/internal/testenv"
)

// aktuald runs Main in this process and returns its exit code and output.
func aktuald(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustRun runs aktuald and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := aktuald(t, args...)
	if code != 0 {
		t.Fatalf("aktuald %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// expectRefusal runs aktuald and checks its exit code and that stderr says
// want.
func expectRefusal(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	got, out, errOut := aktuald(t, args...)
	if got != code || !strings.Contains(errOut, want) {
		t.Errorf("aktuald %s: exit %d, want %d; stderr should say %q:\n%s%s", strings.Join(args, " "), got, code, want, out, errOut)
	}
}

// dirState lists a folder's files with their sizes and hashes, to check
// that a refused command changed nothing.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "aktuald.db.inuse" {
			return nil // the empty lock file: made by serve or restore, and kept
		}
		fmt.Fprintf(&b, "%s %x\n", rel, sha256.Sum256(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestBackupAndRestoreBadInput(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "srv")
	mustRun(t, "--data", data, "init")
	out := mustRun(t, "--data", data, "--json", "admin", "activate", "--customer", "Acme", "--series", "pro", "--updates", "3")
	var act struct{ Code string }
	if err := json.Unmarshal([]byte(out), &act); err != nil || act.Code == "" {
		t.Fatalf("activate: %q %v", out, err)
	}
	good := filepath.Join(work, "good.db")
	mustRun(t, "--data", data, "admin", "backup", "--out", good)
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := write("random.db", bytes.Repeat([]byte("not a database "), 500))
	truncated := write("truncated.db", whole[:len(whole)/2])
	newerBytes := bytes.Clone(whole)
	binary.BigEndian.PutUint32(newerBytes[60:], 999) // the header's user_version: our schema version
	newer := write("newer.db", newerBytes)
	before := dirState(t, data)

	// backup
	expectRefusal(t, 2, "--out FILE is required", "--data", data, "admin", "backup")
	expectRefusal(t, 2, "the backup file already exists", "--data", data, "admin", "backup", "--out", good)
	expectRefusal(t, 2, "cannot create a file in", "--data", data, "admin", "backup", "--out", filepath.Join(work, "missing", "b.db"))
	if ro := unwritableDir(t); ro != "" {
		expectRefusal(t, 2, "cannot create a file in", "--data", data, "admin", "backup", "--out", filepath.Join(ro, "b.db"))
	}
	expectRefusal(t, 2, "no database at", "--data", filepath.Join(work, "nothing"), "admin", "backup", "--out", filepath.Join(work, "n.db"))
	if _, err := os.Stat(filepath.Join(work, "nothing")); err == nil {
		t.Error("backup of a missing data folder created it")
	}
	expectRefusal(t, 2, "pg_dump --format=custom --file pg.dump 'postgres://aktual@db.example/aktual'",
		"--data", data, "--db", "postgres://aktual@db.example/aktual", "admin", "backup", "--out", "pg.dump")

	// restore
	expectRefusal(t, 2, "--from FILE is required", "--data", data, "admin", "restore")
	expectRefusal(t, 2, "--from "+filepath.Join(work, "missing.db")+": ", "--data", data, "admin", "restore", "--from", filepath.Join(work, "missing.db"))
	expectRefusal(t, 2, "is not an SQLite database", "--data", data, "admin", "restore", "--from", random)
	expectRefusal(t, 2, "is cut short", "--data", data, "admin", "restore", "--from", truncated)
	expectRefusal(t, 2, "has schema version 999", "--data", data, "admin", "restore", "--from", newer)
	expectRefusal(t, 2, "pg_restore --clean --if-exists --dbname 'postgres://aktual@db.example/aktual' pg.dump",
		"--data", data, "--db", "postgres://aktual@db.example/aktual", "admin", "restore", "--from", "pg.dump")

	if after := dirState(t, data); after != before {
		t.Errorf("refused commands changed the data folder:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	entries, _ := os.ReadDir(work)
	if len(entries) != 5 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left beside the backups: %v, want srv, good.db, random.db, truncated.db, newer.db", names)
	}
}

// unwritableDir returns a folder this process cannot create files in; ""
// when there is none (root ignores permissions).
func unwritableDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		return dir
	}
	f.Close()
	os.Remove(f.Name())
	if runtime.GOOS == "linux" { // sysfs refuses new files even to root
		if f, err := os.CreateTemp("/sys", "probe"); err != nil {
			return "/sys"
		} else {
			f.Close()
			os.Remove(f.Name())
		}
	}
	t.Log("no unwritable folder here: that case is skipped")
	return ""
}

// TestBackupRestoreRealBinary runs the built aktuald: a backup while it
// serves; a restore refused while it serves and accepted once it stopped;
// then it serves the restored counts.
func TestBackupRestoreRealBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds aktuald")
	}
	bin := buildAktuald(t)
	work := t.TempDir()
	data := filepath.Join(work, "srv")
	run := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--data", data}, args...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errOut.String()
	}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(args...)
		if code != 0 {
			t.Fatalf("aktuald %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}

	out := must("--json", "admin", "activate", "--customer", "Acme", "--series", "pro", "--updates", "5")
	var act struct{ Code string }
	if err := json.Unmarshal([]byte(out), &act); err != nil {
		t.Fatal(err)
	}
	artifact := filepath.Join(work, "studio")
	if err := os.WriteFile(artifact, []byte("studio 2.0.0"), 0o644); err != nil {
		t.Fatal(err)
	}
	must("release", "publish", "--product", "studio", "--series", "pro", "--version", "2.0.0", "--file", artifact, "--health-check", "none")

	srv := startServe(t, bin, data)
	reserve := func(key string) string {
		t.Helper()
		body, _ := json.Marshal(api.ReserveRequest{IdempotencyKey: key, Credential: api.Credential{Code: act.Code},
			Product: "studio", FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "m1"})
		var res api.ReservationResponse
		post(t, srv.url+"/v1/reservations", body, &res)
		return res.Reservation.ID
	}
	post(t, srv.url+"/v1/reservations/"+reserve("one")+"/complete", nil, nil)
	reserve("two")
	// Now: purchased 5, remaining 3, held 1, consumed 1.

	backup := filepath.Join(work, "backup.db")
	out = must("--json", "admin", "backup", "--out", backup)
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"status": "backed-up", "integrity": "ok", "entitlements": 1.0, "releases": 1.0,
		"ledger_rows": 4.0, "purchased": 5.0, "remaining": 3.0, "held": 1.0, "consumed": 1.0} {
		if rep[k] != want {
			t.Errorf("backup report %s = %v, want %v", k, rep[k], want)
		}
	}
	if also := fmt.Sprint(rep["also_copy"]); !strings.Contains(also, filepath.Join(data, "keys")) || !strings.Contains(also, filepath.Join(data, "blobs")) {
		t.Errorf("also_copy %s does not name keys/ and blobs/", also)
	}
	must("admin", "backup", "--out", filepath.Join(work, "text.db")) // the text form, too

	// Later history the backup lacks.
	reserve("three")
	must("admin", "activate", "--customer", "Acme", "--series", "pro", "--updates", "3")

	if code, _, errOut := run("admin", "restore", "--from", backup, "--force"); code != 2 || !strings.Contains(errOut, "stop every aktuald serve") {
		t.Errorf("restore while serving: exit %d, want 2:\n%s", code, errOut)
	}
	if shown := must("--json", "admin", "show", "--code", act.Code); !strings.Contains(shown, `"purchased":8`) {
		t.Errorf("a refused restore changed the counts: %s", shown)
	}
	srv.stop(t)

	if code, _, errOut := run("admin", "restore", "--from", backup); code != 2 || !strings.Contains(errOut, "restoring would lose ledger rows") {
		t.Errorf("restore over a longer ledger: exit %d, want 2:\n%s", code, errOut)
	}
	out = must("--json", "admin", "restore", "--from", backup, "--force")
	var restored struct {
		Status             string
		Kept               string
		PreviousLedgerRows int64 `json:"previous_ledger_rows"`
	}
	if err := json.Unmarshal([]byte(out), &restored); err != nil {
		t.Fatal(err)
	}
	if restored.Status != "restored" || restored.PreviousLedgerRows != 6 {
		t.Errorf("restore report: %s", out)
	}
	if _, err := os.Stat(restored.Kept); err != nil {
		t.Errorf("the replaced database was not kept: %v", err)
	}

	srv = startServe(t, bin, data)
	defer srv.stop(t)
	must("admin", "audit")
	shown := must("--json", "admin", "show", "--code", act.Code)
	for _, want := range []string{`"purchased":5`, `"remaining":3`, `"held":1`, `"consumed":1`} {
		if !strings.Contains(shown, want) {
			t.Errorf("after restore, show says %s; want %s", shown, want)
		}
	}
	reserve("four") // the restored database serves
}

func buildAktuald(t *testing.T) string {
	t.Helper()
	goTool := testenv.LookPath(t, "go", "install Go (go.dev/doc/install)")
	bin := filepath.Join(t.TempDir(), "aktuald")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/aktual/aktual/cmd/aktuald")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building aktuald: %v\n%s", err, out)
	}
	return bin
}

type served struct {
	cmd     *exec.Cmd
	url     string
	stderr  *bytes.Buffer
	done    chan error
	stopped bool
}

func startServe(t *testing.T, bin, data string) *served {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	s := &served{stderr: new(bytes.Buffer), done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "--data", data, "serve", "--addr", "127.0.0.1:0", "--ready-file", ready)
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(ready); err == nil && len(bytes.TrimSpace(b)) > 0 {
			s.url = strings.TrimSpace(string(b))
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("aktuald serve exited: %v\n%s", err, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.cmd.Process.Kill()
	t.Fatalf("aktuald serve not ready within 30s\n%s", s.stderr)
	return nil
}

// stop asks the server to stop (Ctrl-C; killed where signals cannot be
// sent) and waits for it. Idempotent.
func (s *served) stop(t *testing.T) {
	t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		s.cmd.Process.Kill()
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Errorf("aktuald serve did not stop within 30s\n%s", s.stderr)
	}
}

func post(t *testing.T, url string, body []byte, v any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s\n%s", url, resp.Status, b.String())
	}
	if v != nil {
		if err := json.Unmarshal(b.Bytes(), v); err != nil {
			t.Fatalf("POST %s: %v", url, err)
		}
	}
}
