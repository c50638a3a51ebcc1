package updater

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// A finished update whose journal could not be removed is marked
// "reported": the next run drops it without a word or a request (nothing
// is reported or counted again), and status does not list it as pending.
func TestReportedJournalIsDroppedSilently(t *testing.T) {
	t.Parallel()
	var events []Event
	u := &Updater{Server: "http://127.0.0.1:1", StateDir: t.TempDir(), Events: func(e Event) { events = append(events, e) }}
	target := filepath.Join(t.TempDir(), "app")
	if err := os.WriteFile(target, []byte("app 2.0.0"), 0o755); err != nil {
		t.Fatal(err)
	}
	j := &Journal{Target: target, Product: "app", Server: u.Server, From: "1.0.0", To: "2.0.0",
		IdempotencyKey: "k_test", ReservationID: "r_test", State: StateReported}
	if err := u.save(j); err != nil {
		t.Fatal(err)
	}
	st, err := u.ReadStatus()
	if err != nil || len(st.Pending) != 0 {
		t.Fatalf("status lists %+v (%v); a reported journal is not pending", st, err)
	}
	recs, err := u.Recover(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Action != ActionDropped || recs[0].Err != nil {
		t.Fatalf("Recover = %+v, %v; want one journal dropped", recs, err)
	}
	if j, err := u.loadJournal(target); j != nil || err != nil {
		t.Fatalf("journal still there: %+v, %v", j, err)
	}
	for _, e := range events {
		if e.Event == EventNotice {
			t.Errorf("notice %q: a done journal is dropped without a word", e.Message)
		}
	}
}

// When the journal of a finished update cannot be removed, the run says
// so (a notice) and still marks it done where it can.
func TestFinishedJournalThatCannotBeRemovedIsMarkedDone(t *testing.T) {
	t.Parallel()
	if os.Getuid() == 0 {
		t.Skip("root removes files from a read-only folder")
	}
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no folder mode: chmod cannot make the journal's folder read-only")
	}
	var notices []string
	u := &Updater{Server: "http://127.0.0.1:1", StateDir: t.TempDir(), Events: func(e Event) {
		if e.Event == EventNotice {
			notices = append(notices, e.Message.String())
		}
	}}
	target := filepath.Join(t.TempDir(), "app")
	j := &Journal{Target: target, Product: "app", Server: u.Server, IdempotencyKey: "k", State: StateApplied}
	if err := u.save(j); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(u.state().JournalDir(), 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(u.state().JournalDir(), 0o700) })
	u.finished(j)
	if len(notices) != 1 {
		t.Fatalf("notices %q, want one saying the journal stays", notices)
	}
	if got, err := u.loadJournal(target); err != nil || got == nil || got.State != StateApplied {
		t.Fatalf("journal %+v, %v", got, err)
	}
}
