package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storetest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "aktual.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// rawDB opens path with database/sql directly, as staff with the sqlite3
// shell would, bypassing the store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

func activate(t *testing.T, s *Store, customer string, n int64) (store.Entitlement, store.Credential) {
	t.Helper()
	c := store.Credential{CodeHash: []byte(fmt.Sprintf("%-32s", customer))}
	e, _, err := s.Activate(t.Context(), store.ActivateParams{
		Customer: customer, Series: api.SeriesPro, Credential: c, Updates: n, Now: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

func reserve(c store.Credential, key string) store.ReserveParams {
	return store.ReserveParams{IdempotencyKey: key, Credential: c, Series: api.SeriesPro,
		Product: "studio", ToVersion: "2.0.0", MachineID: "m1", Now: t0}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aktual.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_, c := activate(t, s, "Acme", 3)
	r, _, err := s.Reserve(t.Context(), reserve(c, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s.Close()
	e, err := s.Entitlement(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if e.Remaining != 2 || e.Held != 1 {
		t.Errorf("after reopening: remaining %d held %d, want 2 and 1", e.Remaining, e.Held)
	}
	got, err := s.Reservation(t.Context(), r.ID)
	if err != nil || got.State != api.StateHeld || !got.ExpiresAt.Equal(t0.Add(store.DefaultTTL)) {
		t.Errorf("after reopening: %+v, %v", got, err)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := Open(filepath.Join(dir, "aktual.db"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open in a missing directory: %v", err)
	}
	if _, statErr := os.Stat(dir); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("Open created the directory: %v", statErr)
	}
}

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	// Each pooled connection must have them: hold several at once.
	ctx := t.Context()
	var conns []*sql.Conn
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		var fk, busy, sync int
		for q, dst := range map[string]any{
			"PRAGMA journal_mode": &mode, "PRAGMA foreign_keys": &fk, "PRAGMA busy_timeout": &busy, "PRAGMA synchronous": &sync,
		} {
			if err := c.QueryRowContext(ctx, q).Scan(dst); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if mode != "wal" || fk != 1 || busy != int(busyTimeout.Milliseconds()) || sync != 2 {
			t.Errorf("connection %d: journal_mode %s, foreign_keys %d, busy_timeout %d, synchronous %d", i, mode, fk, busy, sync)
		}
	}
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
		t.Errorf("user_version %d, %v; want %d", v, err, len(migrations))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aktual.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := rawDB(t, path).Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

// TestConstraintsRefuseBrokenCounts: a hand-typed UPDATE that would break
// the invariant or go negative is refused by SQLite itself.
func TestConstraintsRefuseBrokenCounts(t *testing.T) {
	s := openTemp(t)
	e, _ := activate(t, s, "Acme", 2)
	for _, q := range []string{
		`UPDATE entitlements SET remaining = remaining + 1 WHERE id = ?`,                          // invariant
		`UPDATE entitlements SET remaining = remaining - 3, consumed = consumed + 3 WHERE id = ?`, // negative
		`UPDATE entitlements SET overdraft = -1 WHERE id = ?`,
	} {
		if _, err := s.db.ExecContext(t.Context(), q, e.ID); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
	for _, q := range []string{`UPDATE ledger SET d_remaining = 5`, `DELETE FROM ledger`} {
		if _, err := s.db.ExecContext(t.Context(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only refusal", q, err)
		}
	}
	storetest.RequireClean(t, s)
}

// TestAuditDetectsUnbalancedLedger: a ledger row with no matching change of
// counts (well-formed on its own) is found by replaying the ledger.
func TestAuditDetectsUnbalancedLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aktual.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e, _ := activate(t, s, "Acme", 2)
	_, err = rawDB(t, path).Exec(`INSERT INTO ledger (entitlement_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, actor)
		VALUES (?, 'purchase', 1, 1, 0, 0, 0, '2031-01-01T00:00:00.000000000Z', 'local:')`, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Audit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"purchased is 2 but the ledger replays to 3": true,
		"remaining is 2 but the ledger replays to 3": true,
	}
	if len(v) != len(want) {
		t.Errorf("violations %+v, want %d", v, len(want))
	}
	for _, x := range v {
		if !want[x.Problem] || x.EntitlementID != e.ID || x.Customer != "Acme" {
			t.Errorf("unexpected violation %+v", x)
		}
	}
}

// TestAuditDetectsHeldMismatch: a reservation whose state was changed by
// hand no longer matches the held count.
func TestAuditDetectsHeldMismatch(t *testing.T) {
	s := openTemp(t)
	_, c := activate(t, s, "Acme", 2)
	r, _, err := s.Reserve(t.Context(), reserve(c, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(t.Context(), `UPDATE reservations SET state = 'released' WHERE id = ?`, r.ID); err != nil {
		t.Fatal(err)
	}
	v, err := s.Audit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 1 || v[0].Problem != "held 1 != 0 reservations in state held" {
		t.Errorf("violations %+v", v)
	}
}

// TestTwoStoresOneFile is two processes (aktuald serve and an admin
// command) on one file: the in-process writer queue does not span them,
// so only BEGIN IMMEDIATE and busy_timeout keep them from SQLITE_BUSY.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aktual.db")
	var stores []*Store
	for range 2 {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	_, c := activate(t, stores[0], "Acme", 10)
	const n = 30
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, errs[i] = stores[i%2].Reserve(context.Background(), reserve(c, fmt.Sprintf("k%d", i)))
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrExhausted):
			t.Errorf("reserve %d: %v", i, err)
		}
	}
	if ok != 10 {
		t.Errorf("%d reserved, want 10", ok)
	}
	storetest.RequireClean(t, stores[1])
}

func TestPing(t *testing.T) {
	s := openTemp(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}
