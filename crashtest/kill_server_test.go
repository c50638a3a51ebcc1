package crashtest

import (
	"testing"

	"github.com/aktual/aktual/internal/fault"
)

// TestKillServerAfterReserveCommit kills the server after it committed a
// reservation and before it answered. The client, given no answer, keeps the
// idempotency key; its next run gets the same reservation from the restarted
// server, so exactly one update is consumed and none stays held.
func TestKillServerAfterReserveCommit(t *testing.T) {
	const purchased = 3
	f := newFixture(t, purchased)
	if err := f.startServer(fault.ServerAfterReserveCommit); err != nil {
		t.Fatal(err)
	}
	target := f.newTarget(t)

	if p := f.update(target, f.state, ""); !p.exited(3) {
		t.Fatalf("want exit 3 (no answer from the server); got %s", p)
	}
	ps, logs := f.awaitServerDeath()
	switch {
	case ps == nil:
		t.Fatalf("the server is still running after %s", fault.ServerAfterReserveCommit)
	case !diedByKill(ps):
		t.Fatalf("want the server dead by SIGKILL at %s; it ended with %v:\n%s", fault.ServerAfterReserveCommit, ps, logs)
	}
	if f.isNew(target) {
		t.Fatal("the target changed though the client never got the reservation")
	}
	st, err := f.show()
	if err != nil {
		t.Fatal(err)
	}
	if st.Held != 1 || st.Consumed != 0 {
		t.Errorf("after the server's death: %v; want the committed reservation held", st)
	}

	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	p := f.update(target, f.state, "")
	if !p.exited(0) || p.status() != "updated" {
		t.Fatalf("want exit 0 and updated after the restart; got %s", p)
	}
	if rs := p.results(); rs[len(rs)-1].Remaining == nil || *rs[len(rs)-1].Remaining != purchased-1 {
		t.Errorf("the result says remaining %v, want %d:\n%s", rs[len(rs)-1].Remaining, purchased-1, p.stdout)
	}
	st, err = f.show()
	if err != nil {
		t.Fatal(err)
	}
	// One reservation only: the resumed key got the committed one back. A
	// second would show as held, or as a unit given back late.
	if st.Consumed != 1 || st.Held != 0 || st.Remaining != purchased-1 {
		t.Errorf("after the resumed update: %v; want consumed 1, held 0, remaining %d", st, purchased-1)
	}
	f.requireInvariant(t, f.targets)
}
