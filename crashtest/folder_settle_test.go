package crashtest

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aktual/aktual/internal/fault"
)

// settleSubject is one installation whose update the settle tests cut at
// the reserve: a single file (ledger) or a program folder (buh).
type settleSubject struct {
	f         *fixture
	purchased int64
	target    string
	start     func(step string) *running // aktual update of target
	// check is the invariant once recovery ran (with the server up):
	// nothing held, the counts balanced, the audit clean, no journal,
	// and target still exactly as before the update.
	check func() []problem
}

const settlePurchased = 3

// fileSubject is a single-file target at ledger 1.0.0; the server runs.
func fileSubject(t *testing.T) *settleSubject {
	f := newFixture(t, settlePurchased)
	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	target := f.newTarget(t)
	return &settleSubject{f: f, purchased: settlePurchased, target: target,
		start: func(step string) *running { return f.startUpdate(target, f.state, step) },
		check: func() []problem {
			bad := f.check([]string{target})
			if b, err := os.ReadFile(target); err != nil || !bytes.Equal(b, f.v1) {
				bad = append(bad, problem{"changed", fmt.Sprintf("the target %s is no longer 1.0.0 (%v)", target, err)})
			}
			return bad
		}}
}

// folderSubject is a program folder installed at buh 1.0.0 and changed
// by its customer; the server runs.
func folderSubject(t *testing.T) *settleSubject {
	ff := newFolderFixture(t, settlePurchased)
	if err := ff.startServer(""); err != nil {
		t.Fatal(err)
	}
	dir := ff.newFolder()
	if p := ff.install(dir, ff.state); !p.exited(0) || p.status() != "installed" {
		t.Fatalf("the install: want exit 0 and installed; got %s", p)
	}
	ff.customise(t, dir)
	return &settleSubject{f: ff.fixture, purchased: settlePurchased, target: dir,
		start: func(step string) *running { return ff.startFolderUpdate(dir, ff.state, step, 1) },
		check: func() []problem {
			versions := map[string]string{}
			bad := ff.folderCheck(versions, []string{dir}, false)
			if versions[dir] != "1.0.0" {
				bad = append(bad, problem{"changed", fmt.Sprintf("the folder %s is no longer 1.0.0 (at %q)", dir, versions[dir])})
			}
			return bad
		}}
}

var settleSubjects = []struct {
	name string
	make func(*testing.T) *settleSubject
}{{"file", fileSubject}, {"folder", folderSubject}}

// TestRecoverAloneSettlesUnansweredReserve: both sides die with the
// reserve on the wire. The server commits the reservation and is killed
// before it answers (server-after-reserve-commit); the client either ends
// for want of an answer (exit 3), or is killed by SIGKILL the moment the
// server's death is seen (if it has not ended yet: either way its journal
// is left at "intent"). A client killed at after-reserve-sent cannot be
// used here: the server sees the connection close and does not commit
// (TestRecoverAloneReserveNeverAnswered). The server is restarted and only
// aktual recover runs: with the journal's idempotency key and no
// credential (POST /v1/reservations/settle) it gives the held update
// back, exit 0; then nothing is held or consumed, the target is unchanged,
// no journal is left. (aktual update instead resumes the key:
// TestKillServerAfterReserveCommit.)
func TestRecoverAloneSettlesUnansweredReserve(t *testing.T) {
	for _, s := range settleSubjects {
		for _, client := range []string{"exits", "killed"} {
			t.Run(s.name+"/client-"+client, func(t *testing.T) {
				sub := s.make(t)
				f := sub.f
				f.killServer()
				if err := f.startServer(fault.ServerAfterReserveCommit); err != nil {
					t.Fatal(err)
				}
				c := sub.start("")
				ps, logs := f.awaitServerDeath()
				if client == "killed" && c.cmd != nil {
					_ = c.cmd.Process.Kill()
				}
				p := c.wait()
				switch {
				case ps == nil:
					t.Fatalf("the server is still running: the reserve never committed (%s)", p)
				case !diedByKill(ps):
					t.Fatalf("want the server dead by SIGKILL at %s; it ended with %v:\n%s", fault.ServerAfterReserveCommit, ps, logs)
				case client == "exits" && !p.exited(3):
					t.Fatalf("want exit 3 (no answer from the server); got %s", p)
				case client == "killed" && !p.killed && !p.exited(3):
					t.Fatalf("want the client killed (or ended, exit 3, before the kill); got %s", p)
				}
				t.Logf("the client: killed %v, exit %d", p.killed, p.exit)
				st, err := f.show()
				if err != nil {
					t.Fatal(err)
				}
				if st.Held != 1 || st.Consumed != 0 {
					t.Fatalf("after both died: %v; want the committed reservation held", st)
				}
				if js := leftJournals(f.state); len(js) != 1 || js[0].State != "intent" {
					t.Fatalf("want one journal at intent after both died; got %+v", js)
				}

				if err := f.startServer(""); err != nil {
					t.Fatal(err)
				}
				r := f.recover(f.state)
				if !r.exited(0) || !slices.Equal(r.statuses(), []string{"recovered_released"}) {
					t.Errorf("want recover alone to give the held update back (exit 0, recovered_released); got %s", r)
				} else if rs := r.results(); rs[0].Remaining == nil || *rs[0].Remaining != sub.purchased {
					t.Errorf("recover says remaining %v, want %d:\n%s", rs[0].Remaining, sub.purchased, r.stdout)
				}
				if !strings.Contains(r.stdout, "given back") {
					t.Errorf("recover does not say the held update was given back:\n%s", r.stdout)
				}
				sub.requireSettled(t, 0)

				// Nothing is lost: the next update applies and consumes one.
				if u := sub.start("").wait(); !u.exited(0) || u.status() != "updated" {
					t.Fatalf("the update after recover: want exit 0 and updated; got %s", u)
				}
				if st, err := f.show(); err != nil || st.Consumed != 1 || st.Held != 0 || st.Remaining != sub.purchased-1 {
					t.Errorf("after the update: %v (%v); want consumed 1, held 0, remaining %d", st, err, sub.purchased-1)
				}
			})
		}
	}
}

// TestRecoverAloneReserveNeverSent: the client is killed with its journal
// at "intent" before the reserve left (after-intent). aktual recover alone
// asks the server by the key, which knows of no such reserve: exit 0,
// the journal dropped, nothing held or consumed, the target unchanged.
func TestRecoverAloneReserveNeverSent(t *testing.T) {
	for _, s := range settleSubjects {
		t.Run(s.name, func(t *testing.T) {
			sub := s.make(t)
			sub.killAt(t, fault.AfterIntent)
			r := sub.f.recover(sub.f.state)
			if !r.exited(0) || !slices.Equal(r.statuses(), []string{"recovered_dropped"}) {
				t.Errorf("want recover alone to drop the journal (exit 0, recovered_dropped); got %s", r)
			}
			sub.requireSettled(t, 0)
		})
	}
}

// TestRecoverAloneReserveNeverAnswered: the client is killed the moment
// its reserve is written (after-reserve-sent), the server running. The
// server may have committed the reservation or (seeing the connection
// close first) not: aktual recover alone exits 0 either way, giving it
// back or dropping the journal, and nothing is held.
func TestRecoverAloneReserveNeverAnswered(t *testing.T) {
	for _, s := range settleSubjects {
		t.Run(s.name, func(t *testing.T) {
			sub := s.make(t)
			sub.killAt(t, fault.ReserveSent)
			r := sub.f.recover(sub.f.state)
			if st := r.statuses(); !r.exited(0) || len(st) != 1 || (st[0] != "recovered_dropped" && st[0] != "recovered_released") {
				t.Errorf("want recover alone to settle the reserve (exit 0, recovered_released or recovered_dropped); got %s", r)
			}
			t.Logf("recover: %v", r.statuses())
			sub.requireSettled(t, 0)
		})
	}
}

// killAt runs the subject's update killed at step, which leaves its
// journal at "intent".
func (s *settleSubject) killAt(t *testing.T, step string) {
	t.Helper()
	if p := s.start(step).wait(); !p.killed || p.timedOut {
		t.Fatalf("want the update to die by SIGKILL at %s; got %s", step, p)
	}
	if js := leftJournals(s.f.state); len(js) != 1 || js[0].State != "intent" {
		t.Fatalf("want one journal at intent after a kill at %s; got %+v", step, js)
	}
}

// requireSettled fails t unless the subject's invariant holds with
// consumed updates consumed and the rest remaining.
func (s *settleSubject) requireSettled(t *testing.T, consumed int64) {
	t.Helper()
	if bad := s.check(); len(bad) > 0 {
		t.Errorf("after recover:\n  %s", strings.Join(messages(bad), "\n  "))
	}
	st, err := s.f.show()
	if err != nil {
		t.Fatal(err)
	}
	if st.Held != 0 || st.Consumed != consumed || st.Remaining != s.purchased-consumed {
		t.Errorf("after recover: %v; want held 0, consumed %d, remaining %d", st, consumed, s.purchased-consumed)
	}
}
