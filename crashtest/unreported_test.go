package crashtest

import (
	"slices"
	"testing"

	"github.com/aktual/aktual/internal/fault"
)

// TestAppliedUnreportedExitsEight kills the client right after the swap and
// then the server: the next update finds the update applied but cannot
// report it, which the contract says is exit 8 (applied_unreported; nothing
// lost, retried later), not exit 3. Once the server is back, recover
// reports it and exactly one update is consumed.
func TestAppliedUnreportedExitsEight(t *testing.T) {
	f := newFixture(t, 2)
	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	target := f.newTarget(t)
	if p := f.update(target, f.state, fault.AfterSwap); !p.killed || p.timedOut {
		t.Fatalf("want the update to die by SIGKILL at %s; got %s", fault.AfterSwap, p)
	}
	f.killServer()

	p := f.update(target, f.state, "")
	rs := p.results()
	switch {
	case !f.isNew(target):
		t.Errorf("the target is not 2.0.0 after the swap")
	case len(rs) == 0 || rs[len(rs)-1].Status != "applied_unreported":
		t.Errorf("want status applied_unreported with the server down; got %s", p)
	case !p.exited(8) || rs[len(rs)-1].ExitCode != 8:
		t.Errorf("want exit 8 (applied, completion not yet reported) with status %s; the process exits %d and the result says exit_code %d:\n%s",
			rs[len(rs)-1].Status, p.exit, rs[len(rs)-1].ExitCode, p)
	}

	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	r := f.recover(f.state)
	if !r.exited(0) || !slices.Equal(r.statuses(), []string{"recovered_reported"}) {
		t.Errorf("want recover to report the update (exit 0, recovered_reported); got %s", r)
	}
	st, err := f.show()
	if err != nil {
		t.Fatal(err)
	}
	if st.Consumed != 1 {
		t.Errorf("%v; want consumed 1", st)
	}
	// The counts only: the files left beside the target after a kill at
	// after-swap are TestKillClientAtEachStep's to report.
	f.requireInvariant(t, nil)
}
