package crashtest

import (
	"sync"
	"testing"
)

// TestRaceManyMachines runs the update on eight machines at once against a
// code with three updates left: three apply, five are told none remain, and
// the server counts exactly three.
func TestRaceManyMachines(t *testing.T) {
	const k, machines = 3, 8
	f := newFixture(t, k)
	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	targets := make([]string, machines)
	states := make([]string, machines)
	for i := range machines {
		targets[i], states[i] = f.newTarget(t), f.newState()
	}

	procs := make([]proc, machines)
	var wg sync.WaitGroup
	for i := range machines {
		wg.Go(func() { procs[i] = f.update(targets[i], states[i], "") })
	}
	wg.Wait()

	var updated, exhausted int
	for i, p := range procs {
		switch {
		case p.exited(0) && p.status() == "updated" && f.isNew(targets[i]):
			updated++
		case p.exited(5) && !f.isNew(targets[i]):
			exhausted++
		default:
			t.Errorf("machine %d: want updated (exit 0) or none remaining (exit 5); got %s", i, p)
		}
	}
	if updated != k || exhausted != machines-k {
		t.Errorf("%d updated and %d exhausted; want %d and %d", updated, exhausted, k, machines-k)
	}
	st, err := f.show()
	if err != nil {
		t.Fatal(err)
	}
	if st.Consumed != k || st.Held != 0 || st.Remaining != 0 {
		t.Errorf("%v; want consumed %d, held 0, remaining 0", st, k)
	}
	f.requireInvariant(t, f.targets)
}
