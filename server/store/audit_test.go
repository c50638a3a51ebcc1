package store

import (
	"slices"
	"testing"
)

func TestCheckEntitlement(t *testing.T) {
	// good: 10 bought, 2 held, 3 consumed, one overdraft; the ledger agrees.
	good := Entitlement{ID: 7, Customer: "Acme", Purchased: 10, Remaining: 5, Held: 2, Consumed: 3, Overdraft: 1}
	goodEv := Evidence{HeldReservations: 2, ConsumedReservations: 4, Ledger: Counts{Purchased: 10, Remaining: 5, Held: 2, Consumed: 3, Overdraft: 1}}

	tests := []struct {
		name   string
		change func(*Entitlement, *Evidence)
		want   []string
	}{
		{"clean", func(*Entitlement, *Evidence) {}, nil},
		{"invariant", func(e *Entitlement, ev *Evidence) { e.Purchased, ev.Ledger.Purchased = 11, 11 },
			[]string{"purchased 11 != remaining 5 + held 2 + consumed 3 (= 10)"}},
		{"negative", func(e *Entitlement, ev *Evidence) {
			e.Remaining, e.Consumed, ev.Ledger.Remaining, ev.Ledger.Consumed = -1, 9, -1, 9
			ev.ConsumedReservations = 10
		}, []string{"remaining is negative (-1)"}},
		{"held reservations", func(_ *Entitlement, ev *Evidence) { ev.HeldReservations = 1 },
			[]string{"held 2 != 1 reservations in state held"}},
		{"consumed reservations", func(_ *Entitlement, ev *Evidence) { ev.ConsumedReservations = 3 },
			[]string{"consumed 3 + overdraft 1 (= 4) != 3 reservations in state consumed"}},
		{"ledger", func(_ *Entitlement, ev *Evidence) { ev.Ledger.Held, ev.Ledger.Overdraft = 1, 0 },
			[]string{"held is 2 but the ledger replays to 1", "overdraft is 1 but the ledger replays to 0"}},
		{"ledger rows without an actor", func(_ *Entitlement, ev *Evidence) { ev.LedgerWithoutActor = 2 },
			[]string{"2 ledger rows name no actor"}},
		{"no ledger at all", func(_ *Entitlement, ev *Evidence) { ev.Ledger = Counts{} },
			[]string{
				"purchased is 10 but the ledger replays to 0", "remaining is 5 but the ledger replays to 0",
				"held is 2 but the ledger replays to 0", "consumed is 3 but the ledger replays to 0",
				"overdraft is 1 but the ledger replays to 0",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ev := good, goodEv
			tc.change(&e, &ev)
			var got []string
			for _, v := range CheckEntitlement(e, ev) {
				if v.EntitlementID != 7 || v.Customer != "Acme" {
					t.Errorf("violation names %d %q", v.EntitlementID, v.Customer)
				}
				got = append(got, v.Problem)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
