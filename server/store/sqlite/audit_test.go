package sqlite

import (
	"slices"
	"testing"

	"github.com/aktual/aktual/server/store"
)

func TestCheckEntitlement(t *testing.T) {
	// good: 10 bought, 2 held, 3 consumed, one overdraft; the ledger agrees.
	good := store.Entitlement{ID: 7, Customer: "Acme", Purchased: 10, Remaining: 5, Held: 2, Consumed: 3, Overdraft: 1}
	goodEv := evidence{HeldReservations: 2, ConsumedReservations: 4, Ledger: counts{Purchased: 10, Remaining: 5, Held: 2, Consumed: 3, Overdraft: 1}}

	tests := []struct {
		name   string
		change func(*store.Entitlement, *evidence)
		want   []string
	}{
		{"clean", func(*store.Entitlement, *evidence) {}, nil},
		{"invariant", func(e *store.Entitlement, ev *evidence) { e.Purchased, ev.Ledger.Purchased = 11, 11 },
			[]string{"purchased 11 != remaining 5 + held 2 + consumed 3 (= 10)"}},
		{"negative", func(e *store.Entitlement, ev *evidence) {
			e.Remaining, e.Consumed, ev.Ledger.Remaining, ev.Ledger.Consumed = -1, 9, -1, 9
			ev.ConsumedReservations = 10
		}, []string{"remaining is negative (-1)"}},
		{"held reservations", func(_ *store.Entitlement, ev *evidence) { ev.HeldReservations = 1 },
			[]string{"held 2 != 1 reservations in state held"}},
		{"consumed reservations", func(_ *store.Entitlement, ev *evidence) { ev.ConsumedReservations = 3 },
			[]string{"consumed 3 + overdraft 1 (= 4) != 3 reservations in state consumed"}},
		{"ledger", func(_ *store.Entitlement, ev *evidence) { ev.Ledger.Held, ev.Ledger.Overdraft = 1, 0 },
			[]string{"held is 2 but the ledger replays to 1", "overdraft is 1 but the ledger replays to 0"}},
		{"no ledger at all", func(_ *store.Entitlement, ev *evidence) { ev.Ledger = counts{} },
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
			for _, v := range checkEntitlement(e, ev) {
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
