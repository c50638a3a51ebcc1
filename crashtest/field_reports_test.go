package crashtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/fault"
)

// TestFieldReportsCountWhatHappened runs, through the real binaries,
// three updates that succeed, one whose health check fails (rolled back),
// one with a code the server does not know (exit 4), one killed after the
// swap and finished later by aktual recover, one killed after the swap
// whose health check then fails in recovery (rolled back), and one check
// that is offered the update; aktuald release status then shows exactly
// those counts.
func TestFieldReportsCountWhatHappened(t *testing.T) {
	f := newFixture(t, 10)
	// 2.0.0's health check fails where it is installed in a folder named
	// "broken": one update there is rolled back, the others pass.
	f.v2 = artifact("#!/bin/sh\ncase \"$0\" in */broken/*) exit 1;; esac\necho ledger 2.0.1\nexit 0\n", 48<<10)
	file := filepath.Join(f.dir, "ledger-2.0.1")
	if err := os.WriteFile(file, f.v2, 0o644); err != nil {
		t.Fatal(err)
	}
	f.aktualdOK(t, "release", "publish", "--product", product, "--series", "pro", "--version", "2.0.1", "--file", file)
	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	wantExit := func(what string, p proc, code int) {
		t.Helper()
		if !p.exited(code) {
			t.Fatalf("%s: want exit %d; got %s", what, code, p)
		}
	}
	for range 3 {
		wantExit("an update", f.update(f.newTarget(t), f.state, ""), 0)
	}
	broken := filepath.Join(f.dir, "broken", product)
	if err := os.MkdirAll(filepath.Dir(broken), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, f.v1, targetMode); err != nil {
		t.Fatal(err)
	}
	wantExit("the update whose health check fails", f.update(broken, f.state, ""), 7)

	unknown, err := api.NewCode()
	if err != nil {
		t.Fatal(err)
	}
	args := f.updateArgs(f.newTarget(t), f.state)
	for i, a := range args {
		if a == f.code {
			args[i] = string(unknown)
		}
	}
	wantExit("the update with an unknown code", run(f.ctx, "", aktualBin, args...), 4)

	crashed := f.newTarget(t)
	if p := f.update(crashed, f.state, fault.AfterSwap); !p.killed {
		t.Fatalf("want the update killed at %s; got %s", fault.AfterSwap, p)
	}
	wantExit("recover", f.recover(f.state), 0)
	// Killed after the swap where the health check fails: recovery runs
	// the check again, puts 1.0.0 back, and reports a rollback.
	broken2 := filepath.Join(f.dir, "broken", "second", product)
	if err := os.MkdirAll(filepath.Dir(broken2), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken2, f.v1, targetMode); err != nil {
		t.Fatal(err)
	}
	if p := f.update(broken2, f.state, fault.AfterSwap); !p.killed {
		t.Fatalf("want the update killed at %s; got %s", fault.AfterSwap, p)
	}
	wantExit("recover after a failing health check", f.recover(f.state), 0)

	wantExit("check", run(f.ctx, "", aktualBin, "check", "--server", f.url, "--trust", f.trust,
		"--product", product, "--target", f.newTarget(t), "--state-dir", f.state), 10)

	p := f.aktualdOK(t, "--json", "release", "status", "--product", product)
	var got struct {
		Product  string `json:"product"`
		Releases []struct {
			Version    string         `json:"version"`
			Channel    string         `json:"channel"`
			Offered    int            `json:"offered"`
			Started    int            `json:"started"`
			Succeeded  int            `json:"succeeded"`
			RolledBack int            `json:"rolled_back"`
			Failed     int            `json:"failed"`
			FailedBy   map[string]int `json:"failed_by"`
			Installed  int            `json:"installed"`
		} `json:"releases"`
	}
	if err := json.Unmarshal([]byte(p.stdout), &got); err != nil {
		t.Fatalf("release status --json: %v\n%s", err, p)
	}
	type row = struct {
		version                                                       string
		offered, started, succeeded, rolledBack, failed, installedNow int
		failedBy                                                      map[string]int
	}
	var rows []row
	for _, r := range got.Releases {
		if r.Channel != "" {
			t.Errorf("a report in channel %q; every run was in the stable channel", r.Channel)
		}
		rows = append(rows, row{r.Version, r.Offered, r.Started, r.Succeeded, r.RolledBack, r.Failed, r.Installed, r.FailedBy})
	}
	want := []row{
		// 8 installations offered 2.0.1: 7 attempted it, 4 have it (3,
		// and the crashed one recovered), 2 rolled back (one by the
		// update, one by the recovery of a crash), 1 refused.
		{"2.0.1", 8, 7, 4, 2, 1, 4, map[string]int{"credential_rejected": 1}},
		// 2.0.0, published and never tried (the status lists every
		// published release).
		{"2.0.0", 0, 0, 0, 0, 0, 0, map[string]int{}},
		// The other 4 are still on 1.0.0.
		{"1.0.0", 0, 0, 0, 0, 0, 4, map[string]int{}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("release status:\n got %+v\nwant %+v\n%s", rows, want, p.stdout)
	}
	if st, err := os.Stat(filepath.Join(f.state, "field-reports.json")); err == nil {
		t.Errorf("reports were kept for later (%d bytes), though the server took them", st.Size())
	}
}
