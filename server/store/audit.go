package store

import "fmt"

// Counts are an entitlement's five counts, or changes of them (a ledger
// row's deltas, or their sum).
type Counts struct {
	Purchased, Remaining, Held, Consumed, Overdraft int64
}

// Evidence is what the other tables say about one entitlement.
type Evidence struct {
	HeldReservations     int64  // reservations in state held
	ConsumedReservations int64  // reservations in state consumed
	Ledger               Counts // the ledger's deltas, summed
	LedgerWithoutActor   int64  // ledger rows that name no actor
}

// CheckEntitlement returns one violation per broken rule. It is pure, so
// every rule is table-tested apart from any database, and every store's
// audit says the same words.
func CheckEntitlement(e Entitlement, ev Evidence) []Violation {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if sum := e.Remaining + e.Held + e.Consumed; e.Purchased != sum {
		add("purchased %d != remaining %d + held %d + consumed %d (= %d)", e.Purchased, e.Remaining, e.Held, e.Consumed, sum)
	}
	for _, c := range []struct {
		name string
		n    int64
	}{{"purchased", e.Purchased}, {"remaining", e.Remaining}, {"held", e.Held}, {"consumed", e.Consumed}, {"overdraft", e.Overdraft}} {
		if c.n < 0 {
			add("%s is negative (%d)", c.name, c.n)
		}
	}
	if e.Held != ev.HeldReservations {
		add("held %d != %d reservations in state held", e.Held, ev.HeldReservations)
	}
	// Every consumed reservation either consumed a purchased unit or was
	// recorded as an overdraft (see Complete).
	if n := e.Consumed + e.Overdraft; n != ev.ConsumedReservations {
		add("consumed %d + overdraft %d (= %d) != %d reservations in state consumed", e.Consumed, e.Overdraft, n, ev.ConsumedReservations)
	}
	// Every change of counts says who made it (see Actor).
	if ev.LedgerWithoutActor != 0 {
		add("%d ledger rows name no actor", ev.LedgerWithoutActor)
	}
	l := ev.Ledger
	for _, c := range []struct {
		name         string
		have, replay int64
	}{
		{"purchased", e.Purchased, l.Purchased},
		{"remaining", e.Remaining, l.Remaining},
		{"held", e.Held, l.Held},
		{"consumed", e.Consumed, l.Consumed},
		{"overdraft", e.Overdraft, l.Overdraft},
	} {
		if c.have != c.replay {
			add("%s is %d but the ledger replays to %d", c.name, c.have, c.replay)
		}
	}

	var out []Violation
	for _, p := range problems {
		out = append(out, Violation{EntitlementID: e.ID, Customer: e.Customer, Problem: p})
	}
	return out
}
