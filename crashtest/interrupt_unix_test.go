//go:build unix

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

// updateInterrupted runs aktual update of target with a Ctrl-C (SIGINT to
// itself) at step: the fault's interrupt mode.
func (f *fixture) updateInterrupted(target, state, step string) proc {
	return startEnv(f.ctx, []string{fault.ModeEnv + "=" + fault.ModeInterrupt}, step,
		aktualBin, f.updateArgs(target, state)...).wait()
}

// isOld reports whether target holds exactly ledger 1.0.0.
func (f *fixture) isOld(target string) bool {
	b, err := os.ReadFile(target)
	return err == nil && bytes.Equal(b, f.v1)
}

// TestInterruptAtEachStep presses Ctrl-C (SIGINT) during aktual update at
// each of its steps: the process stops by itself, says what it left (exit
// 130, status interrupted, a state), or, past the point of no return,
// finishes with a documented outcome; the target is never torn; and the
// next plain update finishes the job with nothing lost or spent twice.
func TestInterruptAtEachStep(t *testing.T) {
	f := newFixture(t, len(fault.ClientSteps)+2)
	if err := f.startServer(""); err != nil {
		t.Fatal(err)
	}
	// Until the swap begins nothing is installed, and a Ctrl-C stops the
	// update (exit 130), giving back what the server holds. From the swap
	// on it is finished instead (exit 0, or 8 when the completion is not
	// told): it never gives back a unit for an update it goes on with.
	swap := slices.Index(fault.ClientSteps, fault.BetweenRenames)
	answered := slices.Index(fault.ClientSteps, fault.ReserveAnswered)
	var table []string
	for i, step := range fault.ClientSteps {
		t.Run(step, func(t *testing.T) {
			target := f.newTarget(t)
			before, err := f.show()
			if err != nil {
				t.Fatal(err)
			}
			p := f.updateInterrupted(target, f.state, step)
			if p.err != nil || p.timedOut || p.killed {
				t.Fatalf("want the interrupted update to end by itself; got %s", p)
			}
			if strings.Contains(p.stderr, "stopped at once") {
				t.Errorf("one Ctrl-C made aktual quit at once (a second signal?):\n%s", p)
			}
			rs := p.results()
			if len(rs) != 1 {
				t.Fatalf("want exactly one result; got %d from %s", len(rs), p)
			}
			r := rs[0]
			if r.ExitCode != p.exit {
				t.Errorf("the result says exit_code %d, the process exits %d", r.ExitCode, p.exit)
			}
			isNew, isOld := f.isNew(target), f.isOld(target)
			if !isNew && !isOld {
				t.Fatalf("after a Ctrl-C at %s the target is neither 1.0.0 nor 2.0.0 (%s)", step, p)
			}
			after, err := f.show()
			if err != nil {
				t.Fatal(err)
			}
			version := "1.0.0"
			if isNew {
				version = "2.0.0"
			}
			row := fmt.Sprintf("%s → exit %d, %s, target %s, state %q; standing after: %v",
				step, p.exit, r.Status, version, r.State, after)
			table = append(table, row)
			t.Logf("Ctrl-C at %s: exit %d, status %q, target %s\n  state: %q\n  standing before: %v\n  standing after:  %v",
				step, p.exit, r.Status, version, r.State, before, after)

			if i < swap && p.exit != 130 {
				t.Errorf("a Ctrl-C at %s, before the swap, must stop the update (exit 130); got exit %d", step, p.exit)
			}
			if i >= swap && p.exit == 130 {
				t.Errorf("a Ctrl-C at %s, once the swap began, must let the update finish; got exit 130", step)
			}
			// Held and answered: the unit is given back at once.
			if i >= answered && i < swap && (after.Held != before.Held || after.Consumed != before.Consumed ||
				!strings.Contains(r.State, "no update was used")) {
				t.Errorf("a Ctrl-C at %s must give the held update back: %v (before: %v), state %q", step, after, before, r.State)
			}
			switch p.exit {
			case 130:
				if r.Status != "interrupted" || r.State == "" {
					t.Errorf("want status interrupted with a state; got %q, state %q\n%s", r.Status, r.State, p)
				}
				if i < swap && !isOld {
					t.Errorf("interrupted at %s, before the swap, but the target is 2.0.0", step)
				}
				// What it says it left must be what it left.
				if strings.Contains(r.State, "no update was used") &&
					(after.Consumed != before.Consumed || after.Held != before.Held || !isOld) {
					t.Errorf("the state says %q, but %v (before: %v), target %s", r.State, after, before, version)
				}
				if strings.Contains(r.State, "is installed") && !isNew {
					t.Errorf("the state says %q, but the target is 1.0.0", r.State)
				}
				// A unit still held is left for the next run, and said so.
				if after.Held > before.Held && !strings.Contains(r.State, "next") {
					t.Errorf("%d held after the Ctrl-C, but the state %q does not leave it to the next run", after.Held, r.State)
				}
			case 0:
				if r.Status != "updated" || !isNew {
					t.Errorf("exit 0 after a Ctrl-C at %s: want status updated and the target 2.0.0; got %q, target %s", step, r.Status, version)
				}
				if after.Consumed != before.Consumed+1 || after.Held != 0 {
					t.Errorf("updated, but %v (before: %v): want one more consumed, nothing held", after, before)
				}
			case 8:
				if r.Status != "applied_unreported" || !isNew {
					t.Errorf("exit 8 after a Ctrl-C at %s: want status applied_unreported and the target 2.0.0; got %q, target %s", step, r.Status, version)
				}
			default:
				t.Errorf("after a Ctrl-C at %s: want exit 130 (or 0 or 8 past the point of no return); got %s", step, p)
			}

			u := f.update(target, f.state, "")
			if !u.exited(0) || !slices.Contains([]string{"updated", "up_to_date"}, u.status()) {
				t.Fatalf("want exit 0 and updated or up_to_date from the update after the Ctrl-C; got %s", u)
			}
			if !f.isNew(target) {
				t.Errorf("the update after a Ctrl-C at %s says %s but the target is not 2.0.0", step, u.status())
			}
			f.requireInvariant(t, []string{target})
			final, err := f.show()
			if err != nil {
				t.Fatal(err)
			}
			if final.Consumed != before.Consumed+1 {
				t.Errorf("one target updated, but consumed went from %d to %d", before.Consumed, final.Consumed)
			}
			t.Logf("then update: exit %d, %s; standing %v", u.exit, u.status(), final)
		})
	}
	t.Logf("Ctrl-C at each step:\n  %s", strings.Join(table, "\n  "))
}
