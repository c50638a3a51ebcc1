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
// the reserve: a single file (ledger) or a program folder (buh). The
// subjects of one kind share a fixture (a folder fixture takes a second
// to make), so the counts are checked against base, taken when the
// subject was made.
type settleSubject struct {
	f      *fixture
	base   standing
	target string
	start  func(step string) *running // aktual update of target
	// check is the invariant once recovery ran (with the server up):
	// nothing held, consumed = applied, the audit clean, no journal,
	// and target still exactly as before the update.
	check func() []problem
}

// settlePurchased is enough for every subtest of a kind to update once.
const settlePurchased = 8

// fileSubjects starts a server with ledger published and returns a maker
// of single-file targets at 1.0.0.
func fileSubjects(t *testing.T) func(*testing.T) *settleSubject {
	f := newFixture(t, settlePurchased)
	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T) *settleSubject {
		target := f.newTarget(t)
		return &settleSubject{f: f, base: mustShow(t, f), target: target,
			start: func(step string) *running { return f.startUpdate(target, f.state, step) },
			check: func() []problem {
				bad := f.check(f.targets)
				if b, err := os.ReadFile(target); err != nil || !bytes.Equal(b, f.v1) {
					bad = append(bad, problem{"changed", fmt.Sprintf("the target %s is no longer 1.0.0 (%v)", target, err)})
				}
				return bad
			}}
	}
}

// folderSubjects starts a server with buh published and returns a maker
// of program folders installed at 1.0.0 and changed by their customer.
func folderSubjects(t *testing.T) func(*testing.T) *settleSubject {
	ff := newFolderFixture(t, settlePurchased)
	if err := ff.startServer(""); err != nil {
		t.Fatal(err)
	}
	versions := map[string]string{}
	return func(t *testing.T) *settleSubject {
		dir := ff.newFolder()
		if p := ff.install(dir, ff.state); !p.exited(0) || p.status() != "installed" {
			t.Fatalf("the install: want exit 0 and installed; got %s", p)
		}
		ff.customise(t, dir)
		return &settleSubject{f: ff.fixture, base: mustShow(t, ff.fixture), target: dir,
			start: func(step string) *running { return ff.startFolderUpdate(dir, ff.state, step, 1) },
			check: func() []problem {
				bad := ff.folderCheck(versions, ff.folders, false)
				if versions[dir] != "1.0.0" {
					bad = append(bad, problem{"changed", fmt.Sprintf("the folder %s is no longer 1.0.0 (at %q)", dir, versions[dir])})
				}
				return bad
			}}
	}
}

func mustShow(t *testing.T, f *fixture) standing {
	t.Helper()
	st, err := f.show()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var settleKinds = []struct {
	name string
	open func(*testing.T) func(*testing.T) *settleSubject
}{{"file", fileSubjects}, {"folder", folderSubjects}}

// TestRecoverAloneSettlesUnansweredReserve: both sides die with the
// reserve on the wire. The server commits the reservation and is killed
// before it answers (server-after-reserve-commit); the client either ends
// for want of an answer (exit 3), or is killed by SIGKILL the moment the
// server's death is seen (if it has not ended yet: either way its journal
// is left at "intent"). A client killed at after-reserve-sent cannot be
// used here: the server sees the connection close and does not commit
// (TestRecoverAloneReserveUnanswered). The server is restarted and only
// aktual recover runs: with the journal's idempotency key and no
// credential (POST /v1/reservations/settle) it gives the held update
// back, exit 0; then nothing is held or consumed, the target is unchanged,
// no journal is left. (aktual update instead resumes the key:
// TestKillServerAfterReserveCommit.)
func TestRecoverAloneSettlesUnansweredReserve(t *testing.T) {
	for _, k := range settleKinds {
		subject := k.open(t)
		for _, client := range []string{"exits", "killed"} {
			t.Run(k.name+"/client-"+client, func(t *testing.T) {
				sub := subject(t)
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
				if st.Held != 1 || st.Consumed != sub.base.Consumed {
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
				} else if rs := r.results(); rs[0].Remaining == nil || *rs[0].Remaining != sub.base.Remaining {
					t.Errorf("recover says remaining %v, want %d:\n%s", rs[0].Remaining, sub.base.Remaining, r.stdout)
				}
				if !strings.Contains(r.stdout, "given back") {
					t.Errorf("recover does not say the held update was given back:\n%s", r.stdout)
				}
				sub.requireSettled(t)

				// Nothing is lost: the next update applies and consumes one.
				if u := sub.start("").wait(); !u.exited(0) || u.status() != "updated" {
					t.Fatalf("the update after recover: want exit 0 and updated; got %s", u)
				}
				if st, err := f.show(); err != nil || st.Consumed != sub.base.Consumed+1 || st.Held != 0 || st.Remaining != sub.base.Remaining-1 {
					t.Errorf("after the update: %v (%v); want one more consumed than %v, nothing held", st, err, sub.base)
				}
			})
		}
	}
}

// TestRecoverAloneReserveUnanswered: the client is killed with its
// journal at "intent", the server running, before the reserve left
// (after-intent) or the moment it was written (after-reserve-sent).
// aktual recover alone asks the server by the key: exit 0, and nothing
// is held or consumed, the target unchanged. Before it left the server
// knows of no such reserve (recovered_dropped); once written, the server
// may have committed the reservation, then given back
// (recovered_released), or, seeing the connection close first, not
// (recovered_dropped).
func TestRecoverAloneReserveUnanswered(t *testing.T) {
	for _, k := range settleKinds {
		subject := k.open(t)
		for _, step := range []string{fault.AfterIntent, fault.ReserveSent} {
			t.Run(k.name+"/"+step, func(t *testing.T) {
				sub := subject(t)
				sub.killAt(t, step)
				r := sub.f.recover(sub.f.state)
				want := []string{"recovered_dropped"}
				if step == fault.ReserveSent {
					want = append(want, "recovered_released")
				}
				if st := r.statuses(); !r.exited(0) || len(st) != 1 || !slices.Contains(want, st[0]) {
					t.Errorf("want recover alone to settle the reserve (exit 0, one of %v); got %s", want, r)
				}
				t.Logf("recover: %v", r.statuses())
				sub.requireSettled(t)
			})
		}
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

// requireSettled fails t unless the subject's invariant holds and the
// counts are as when the subject was made: nothing held, nothing more
// consumed, nothing less remaining.
func (s *settleSubject) requireSettled(t *testing.T) {
	t.Helper()
	if bad := s.check(); len(bad) > 0 {
		t.Errorf("after recover:\n  %s", strings.Join(messages(bad), "\n  "))
	}
	if st := mustShow(t, s.f); st.Held != 0 || st.Consumed != s.base.Consumed || st.Remaining != s.base.Remaining {
		t.Errorf("after recover: %v; want held 0 and the counts of before the update (%v)", st, s.base)
	}
}
