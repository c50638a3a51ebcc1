package crashtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const product = "ledger"

// targetMode is every target's mode, which an update must keep.
const targetMode = 0o755

// fixture is one vendor's server with ledger 1.0.0 and 2.0.0 published and
// one customer's update code, and the customer's installations (targets).
type fixture struct {
	ctx   context.Context // the test's lifetime: ends the server
	dir   string
	data  string // aktuald --data
	trust string
	state string // the customer machine's --state-dir
	code  string
	v1    []byte
	v2    []byte

	srv    *serverProc
	url    string // the server's URL, the same across restarts
	starts int

	targets []string
	states  []string // every state dir in use, f.state first
}

// newFixture publishes both releases and activates a code with updates
// paid updates. The server is not started: see startServer.
func newFixture(t *testing.T, updates int) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{
		ctx: t.Context(), dir: dir,
		data:  filepath.Join(dir, "srv"),
		trust: filepath.Join(dir, "srv", "trust.json"),
		state: filepath.Join(dir, "state"),
		// Programs, so every update runs its health check (--version).
		v1: []byte("#!/bin/sh\necho ledger 1.0.0\n"),
		v2: artifact("#!/bin/sh\necho ledger 2.0.0\nexit 0\n", 48<<10),
	}
	f.states = []string{f.state}
	t.Cleanup(f.stopServer)
	for _, r := range []struct {
		version string
		content []byte
	}{{"1.0.0", f.v1}, {"2.0.0", f.v2}} {
		version, content := r.version, r.content
		file := filepath.Join(dir, "ledger-"+version)
		if err := os.WriteFile(file, content, 0o644); err != nil {
			t.Fatal(err)
		}
		f.aktualdOK(t, "release", "publish", "--product", product, "--series", "pro", "--version", version, "--file", file)
	}
	p := f.aktualdOK(t, "--json", "admin", "activate", "--customer", "Acme", "--series", "pro", "--updates", strconv.Itoa(updates))
	var act struct{ Code string }
	if err := json.Unmarshal([]byte(p.stdout), &act); err != nil || act.Code == "" {
		t.Fatalf("no code in the activation's output (%v):\n%s", err, p)
	}
	f.code = act.Code
	return f
}

// artifact is a file of size bytes that starts with head, the rest a
// pattern, so a torn write shows.
func artifact(head string, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	copy(b, head)
	return b
}

// aktuald runs an aktuald command on the fixture's data folder.
func (f *fixture) aktuald(args ...string) proc {
	return run(f.ctx, "", aktualdBin, append([]string{"--data", f.data}, args...)...)
}

func (f *fixture) aktualdOK(t testing.TB, args ...string) proc {
	t.Helper()
	p := f.aktuald(args...)
	if !p.exited(0) {
		t.Fatalf("want exit 0 from %s", p)
	}
	return p
}

// newTarget makes a fresh installation of ledger 1.0.0 in a folder of its
// own, counted by check.
func (f *fixture) newTarget(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(f.dir, "app", strconv.Itoa(len(f.targets)))
	target := filepath.Join(dir, product)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, f.v1, targetMode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, targetMode); err != nil { // beyond the umask
		t.Fatal(err)
	}
	f.targets = append(f.targets, target)
	return target
}

// newState is the state folder of another customer machine.
func (f *fixture) newState() string {
	s := filepath.Join(f.dir, "state-"+strconv.Itoa(len(f.states)))
	f.states = append(f.states, s)
	return s
}

// startUpdate starts aktual update of target, armed with step when set.
func (f *fixture) startUpdate(target, state, step string) *running {
	return start(f.ctx, step, aktualBin, f.updateArgs(target, state)...)
}

// updateArgs are the arguments of aktual update of target.
func (f *fixture) updateArgs(target, state string) []string {
	return []string{"update", "--server", f.url, "--trust", f.trust,
		"--product", product, "--target", target, "--code", f.code,
		"--yes", "--json", "--state-dir", state}
}

func (f *fixture) update(target, state, step string) proc {
	return f.startUpdate(target, state, step).wait()
}

// recover runs aktual recover on a state folder.
func (f *fixture) recover(state string) proc {
	return run(f.ctx, "", aktualBin, "recover", "--state-dir", state, "--json")
}

// standing is what admin show --json says of the code.
type standing struct {
	Purchased int64 `json:"purchased"`
	Remaining int64 `json:"remaining"`
	Held      int64 `json:"held"`
	Consumed  int64 `json:"consumed"`
	Overdraft int64 `json:"overdraft"`
}

func (s standing) String() string {
	return fmt.Sprintf("purchased %d, remaining %d, held %d, consumed %d, overdraft %d",
		s.Purchased, s.Remaining, s.Held, s.Consumed, s.Overdraft)
}

func (f *fixture) show() (standing, error) { return f.showCode(f.code) }

// showCode is what admin show --json says of another code.
func (f *fixture) showCode(code string) (standing, error) {
	p := f.aktuald("--json", "admin", "show", "--code", code)
	var st standing
	if !p.exited(0) {
		return st, fmt.Errorf("want exit 0 from %s", p)
	}
	if err := json.Unmarshal([]byte(p.stdout), &st); err != nil {
		return st, fmt.Errorf("admin show --json: %v\n%s", err, p.stdout)
	}
	return st, nil
}

// isNew reports whether target holds exactly ledger 2.0.0.
func (f *fixture) isNew(target string) bool {
	b, err := os.ReadFile(target)
	return err == nil && bytes.Equal(b, f.v2)
}

// applied counts the targets that hold 2.0.0: the updates really applied.
func (f *fixture) applied() int64 {
	var n int64
	for _, t := range f.targets {
		if f.isNew(t) {
			n++
		}
	}
	return n
}

// debris are the files an interrupted update leaves beside its target.
var debris = []string{".new", ".old", ".aktual-download", ".aktual-download.json", ".aktual-file"}

// keptDownload reports whether beside target, still at 1.0.0, is a
// download kept for the next run: 2.0.0's first bytes (or all of them),
// with the sidecar that names the release. That is state, not debris: an
// update refused (no updates left) or stopped keeps what it downloaded.
func (f *fixture) keptDownload(target string) bool {
	if f.isNew(target) {
		return false
	}
	dl := filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".aktual-download")
	b, err := os.ReadFile(dl)
	if err != nil || len(b) == 0 || !bytes.HasPrefix(f.v2, b) {
		return false
	}
	var side struct {
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	}
	sb, err := os.ReadFile(dl + ".json")
	if err != nil || json.Unmarshal(sb, &side) != nil {
		return false
	}
	sum := sha256.Sum256(f.v2)
	return side.SHA256 == hex.EncodeToString(sum[:]) && side.Size == int64(len(f.v2))
}

// problem is one violation of the invariant. key names it stably (the same
// leftover file, the same count gone wrong by the same amount), so that a
// long run tells a new problem from one it already reported.
type problem struct{ key, msg string }

// check is the invariant, once every update has finished. Over the whole
// code: the ledger audits clean; consumed is the number of targets that
// really hold 2.0.0, nothing is held, purchased = remaining + held +
// consumed, no overdraft; no journal is left in any state folder. For each
// of targets: it is exactly 1.0.0 or 2.0.0, with its mode, and no staging
// file is left beside it.
func (f *fixture) check(targets []string) []problem {
	var bad []problem
	add := func(key, format string, args ...any) {
		bad = append(bad, problem{key, fmt.Sprintf(format, args...)})
	}
	for _, t := range targets {
		b, err := os.ReadFile(t)
		switch {
		case err != nil:
			add("read:"+t, "target %s: %v", t, err)
			continue
		case !bytes.Equal(b, f.v1) && !bytes.Equal(b, f.v2):
			add("torn:"+t, "target %s is torn: %d bytes, neither 1.0.0 (%d) nor 2.0.0 (%d)", t, len(b), len(f.v1), len(f.v2))
		}
		if fi, err := os.Stat(t); err == nil && fi.Mode().Perm() != targetMode {
			add("mode:"+t, "target %s has mode %v, want %v", t, fi.Mode().Perm(), os.FileMode(targetMode))
		}
		kept := f.keptDownload(t)
		for _, suffix := range debris {
			d := filepath.Join(filepath.Dir(t), "."+filepath.Base(t)+suffix)
			if kept && strings.HasPrefix(suffix, ".aktual-download") {
				continue
			}
			if _, err := os.Lstat(d); err == nil {
				add("debris:"+d, "debris left: %s", d)
			}
		}
	}
	for _, s := range f.states {
		for _, j := range leftJournals(s) {
			add("journal:"+j.path, "journal left: %s (target %s, state %q)", j.path, j.Target, j.State)
		}
	}
	if p := f.aktuald("admin", "audit"); !p.exited(0) {
		add("audit", "the audit fails: %s", p)
	}
	st, err := f.show()
	if err != nil {
		add("show", "%v", err)
		return bad
	}
	if applied := f.applied(); st.Consumed != applied {
		add(fmt.Sprintf("consumed-applied=%d", st.Consumed-applied), "consumed %d but %d updates applied (%v)", st.Consumed, applied, st)
	}
	if st.Held != 0 {
		add(fmt.Sprintf("held=%d", st.Held), "%d held after recovery (%v)", st.Held, st)
	}
	if d := st.Purchased - (st.Remaining + st.Held + st.Consumed); d != 0 {
		add(fmt.Sprintf("unbalanced=%d", d), "purchased != remaining + held + consumed (%v)", st)
	}
	if st.Overdraft != 0 {
		add(fmt.Sprintf("overdraft=%d", st.Overdraft), "overdraft recorded (%v)", st)
	}
	return bad
}

// leftJournal is a journal (or a half-written journal file) found in a
// state folder.
type leftJournal struct {
	path   string
	Target string `json:"target"`
	State  string `json:"state"`
}

func leftJournals(state string) []leftJournal {
	dir := filepath.Join(state, "journal")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return []leftJournal{{path: dir, State: err.Error()}}
	}
	var out []leftJournal
	for _, e := range entries {
		j := leftJournal{path: filepath.Join(dir, e.Name())}
		b, _ := os.ReadFile(j.path)
		_ = json.Unmarshal(b, &j)
		out = append(out, j)
	}
	return out
}

// requireInvariant fails t with every violation of check over targets.
func (f *fixture) requireInvariant(t testing.TB, targets []string) {
	t.Helper()
	if bad := f.check(targets); len(bad) > 0 {
		t.Errorf("invariant violated:\n  %s", strings.Join(messages(bad), "\n  "))
	}
}

func messages(ps []problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.msg)
	}
	return out
}
