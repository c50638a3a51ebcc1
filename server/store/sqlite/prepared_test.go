package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// TestPreparedAfterSchemaChange: statements kept prepared still run after
// another process changes the schema (a newer aktuald migrating, staff
// adding an index with the sqlite3 shell): SQLite prepares them again.
func TestPreparedAfterSchemaChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aktual.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, c := activate(t, s, "Acme", 3)
	if _, _, err := s.Reserve(t.Context(), reserve(c, "k1")); err != nil {
		t.Fatal(err)
	}
	if len(s.stmts.stmts) == 0 {
		t.Fatal("Reserve prepared no statement")
	}
	if _, err := rawDB(t, path).ExecContext(t.Context(), `
		CREATE INDEX reservations_by_staff_shell ON reservations (updated_at);
		ALTER TABLE entitlements ADD COLUMN note TEXT NOT NULL DEFAULT ''`); err != nil {
		t.Fatal(err)
	}
	r, e, err := s.Reserve(t.Context(), reserve(c, "k2"))
	if err != nil {
		t.Fatalf("reserving after the schema changed: %v", err)
	}
	if e.Remaining != 1 || e.Held != 2 {
		t.Errorf("after the schema changed: remaining %d held %d, want 1 and 2", e.Remaining, e.Held)
	}
	r, e, err = s.Complete(t.Context(), r.ID, t0)
	if err != nil || r.State != api.StateConsumed || e.Consumed != 1 {
		t.Errorf("completing after the schema changed: %+v %+v %v", r, e, err)
	}
}

// TestMoveReturnsCounts: what Reserve, Complete and Release answer is the
// entitlement as stored, though they no longer read it after the move.
func TestMoveReturnsCounts(t *testing.T) {
	s := openTemp(t)
	_, c := activate(t, s, "Acme", 2)
	check := func(what string, got store.Entitlement) {
		t.Helper()
		want, err := s.Entitlement(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s answered %+v, the store holds %+v", what, got, want)
		}
	}
	r1, e, err := s.Reserve(t.Context(), reserve(c, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	check("reserve", e)
	r2, e, err := s.Reserve(t.Context(), reserve(c, "k2"))
	if err != nil {
		t.Fatal(err)
	}
	check("second reserve", e)
	_, e, err = s.Complete(t.Context(), r1.ID, t0.Add(1))
	if err != nil {
		t.Fatal(err)
	}
	check("complete", e)
	_, e, err = s.Complete(t.Context(), r1.ID, t0.Add(2))
	if err != nil {
		t.Fatal(err)
	}
	check("repeated complete", e)
	_, e, err = s.Release(t.Context(), r2.ID, t0.Add(3))
	if err != nil {
		t.Fatal(err)
	}
	check("release", e)
}

// TestClosedStoreRefuses: after Close the store answers errors, as the
// database itself does, and prepares nothing.
func TestClosedStoreRefuses(t *testing.T) {
	s := openTemp(t)
	_, c := activate(t, s, "Acme", 2)
	if _, _, err := s.Reserve(t.Context(), reserve(c, "k1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := s.Reserve(ctx, reserve(c, "k2")); err == nil {
		t.Error("Reserve after Close succeeded")
	}
	if _, err := s.Entitlement(ctx, c); err == nil || errors.Is(err, store.ErrUnknownCredential) {
		t.Errorf("Entitlement after Close: %v", err)
	}
	if _, err := s.ProductSeries(ctx, "studio"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("ProductSeries after Close: %v", err)
	}
	if len(s.stmts.stmts) != 0 {
		t.Errorf("%d statements prepared after Close", len(s.stmts.stmts))
	}
}
