package crashtest

import (
	"slices"
	"testing"

	"github.com/aktual/aktual/internal/fault"
)

// TestKillClientAtEachStep kills aktual update at each of its steps, then
// runs aktual recover and the update again, on one customer machine: every
// target ends at 2.0.0 and exactly one update is consumed for each.
func TestKillClientAtEachStep(t *testing.T) {
	f := newFixture(t, len(fault.ClientSteps)+2)
	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	for _, step := range fault.ClientSteps {
		t.Run(step, func(t *testing.T) {
			target := f.newTarget(t)
			if p := f.update(target, f.state, step); !p.killed || p.timedOut {
				t.Fatalf("want the update to die by SIGKILL at %s; got %s", step, p)
			}

			// Recovery alone finishes everything with the server up: an
			// intent too, settled by its idempotency key without the
			// credential (POST /v1/reservations/settle): exit 0.
			r := f.recover(f.state)
			if !r.exited(0) {
				t.Fatalf("want exit 0 from recover; got %s", r)
			}
			t.Logf("after %s, recover exits %d: %v", step, r.exit, r.statuses())
			switch step {
			case fault.AfterIntent, fault.ReserveSent, fault.ReserveAnswered:
				// The reserve's answer never reached the journal: whatever
				// it held is given back, and the target is untouched.
				if f.isNew(target) {
					t.Errorf("after %s and recover the target is 2.0.0; it never was swapped", step)
				}
				st, err := f.show()
				if err != nil {
					t.Fatal(err)
				}
				if st.Held != 0 || st.Consumed != f.applied() {
					t.Errorf("after %s and recover: %v, with %d applied; want nothing held", step, st, f.applied())
				}
				if js := leftJournals(f.state); len(js) > 0 {
					t.Errorf("after %s and recover a journal is left: %+v", step, js)
				}
			case fault.AfterSwap, fault.CompleteSent:
				// Applied: recovery reports it without the user's help.
				if !f.isNew(target) {
					t.Errorf("after %s and recover the target is not 2.0.0", step)
				}
				st, err := f.show()
				if err != nil {
					t.Fatal(err)
				}
				if st.Consumed != f.applied() || st.Held != 0 {
					t.Errorf("after %s and recover: %v, but %d applied; want it consumed and nothing held", step, st, f.applied())
				}
			case fault.AfterStaging:
				// Staged, never swapped: recovery gives the unit back.
				if f.isNew(target) {
					t.Errorf("after %s and recover the target is 2.0.0; it never was swapped", step)
				}
				st, err := f.show()
				if err != nil {
					t.Fatal(err)
				}
				if st.Held != 0 || st.Consumed != f.applied() {
					t.Errorf("after %s and recover: %v, with %d applied; want nothing held", step, st, f.applied())
				}
			}

			u := f.update(target, f.state, "")
			if !u.exited(0) || !slices.Contains([]string{"updated", "up_to_date"}, u.status()) {
				t.Fatalf("want exit 0 and updated or up_to_date from the update after recover; got %s", u)
			}
			if !f.isNew(target) {
				t.Errorf("the update after %s says %s but the target is not 2.0.0", step, u.status())
			}
			f.requireInvariant(t, []string{target})
		})
	}
}
