package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/pgtest"
	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// open opens dbURL and closes it when t ends.
func open(t *testing.T, dbURL string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openTemp(t *testing.T) *Store { return open(t, pgtest.URL(t)) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// TestReplicas is two aktuald replicas on one database: two Opens, two
// pools.
func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T) (store.Store, store.Store) {
		u := pgtest.URL(t)
		return open(t, u), open(t, u)
	})
}

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.UTC)

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

func publish(t *testing.T, s *Store, product string) {
	t.Helper()
	if err := s.PutRelease(t.Context(), store.Release{Product: product, Series: api.SeriesPro, Version: "2.0.0",
		OS: "linux", Arch: "amd64", SHA256: strings.Repeat("ab", 32), Size: 1, Envelope: []byte("{}"), PublishedAt: t0}); err != nil {
		t.Fatal(err)
	}
}

// TestProductSeriesAcrossReplicas: a replica that found no product finds it
// once another publishes it: only products found are kept.
func TestProductSeriesAcrossReplicas(t *testing.T) {
	u := pgtest.URL(t)
	a, b := open(t, u), open(t, u)
	if _, err := b.ProductSeries(t.Context(), "studio"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ProductSeries before publishing: %v, want ErrNotFound", err)
	}
	publish(t, a, "studio")
	for range 2 {
		if series, err := b.ProductSeries(t.Context(), "studio"); err != nil || series != api.SeriesPro {
			t.Errorf("ProductSeries after publishing on the other replica = %q, %v", series, err)
		}
	}
}

func schemaVersions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func wantAllVersions(t *testing.T, s *Store) {
	t.Helper()
	got := schemaVersions(t, s)
	if len(got) != len(migrations) {
		t.Fatalf("schema_migrations %v, want 1…%d once each", got, len(migrations))
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("schema_migrations %v, want 1…%d once each", got, len(migrations))
		}
	}
}

func TestMigrateFresh(t *testing.T) {
	s := openTemp(t)
	wantAllVersions(t, s)
	for _, table := range []string{"entitlements", "products", "releases", "reservations", "ledger", "classic_sessions",
		"customers", "distributors", "staff", "staff_sessions", "api_tokens", "throttle", "audit_events", "activation_keys"} {
		var n int
		if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("table %s: %d rows, %v", table, n, err)
		}
	}
}

// TestReopenKeepsData: an already-migrated database is opened as it is.
func TestReopenKeepsData(t *testing.T) {
	u := pgtest.URL(t)
	s, err := Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	_, c := activate(t, s, "Acme", 3)
	r, _, err := s.Reserve(t.Context(), reserve(c, "k"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, u)
	wantAllVersions(t, s)
	e, err := s.Entitlement(t.Context(), c)
	if err != nil || e.Remaining != 2 || e.Held != 1 {
		t.Errorf("after reopening: %+v, %v; want remaining 2, held 1", e, err)
	}
	got, err := s.Reservation(t.Context(), r.ID)
	if err != nil || got.State != api.StateHeld || !got.ExpiresAt.Equal(t0.Add(store.DefaultTTL)) {
		t.Errorf("after reopening: %+v, %v", got, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	u := pgtest.URL(t)
	s := open(t, u)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES ($1)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), u)
	if err == nil || !strings.Contains(err.Error(), "newer than this program knows") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

// TestConcurrentOpens: replicas starting at once on an empty database
// take turns under the advisory lock; one creates the schema, the others
// find it.
func TestConcurrentOpens(t *testing.T) {
	u := pgtest.URL(t)
	const n = 6
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), u) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		} else {
			defer stores[i].Close()
		}
	}
	if !t.Failed() {
		wantAllVersions(t, stores[0])
	}
}

func TestOpenRefusesOtherURLs(t *testing.T) {
	for _, u := range []string{"", "sqlite:/tmp/x.db", "mysql://u:secret-pw@localhost/db", "postgres://u:secret-pw@[::1/db"} {
		_, err := Open(t.Context(), u)
		if err == nil {
			t.Errorf("Open(%q) succeeded", u)
		} else if strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("Open(%q) error shows the password: %v", u, err)
		}
	}
}

// TestBadPasswordNotInError: a wrong password is refused by the server,
// and the error does not repeat it (it ends up in logs).
func TestBadPasswordNotInError(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	if u.User == nil {
		t.Skip("the test server's URL has no user to give a wrong password to")
	}
	const wrong = "Wrong-Passw0rd-4711"
	u.User = url.UserPassword(u.User.Username(), wrong)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, u.String())
	if err == nil {
		s.Close()
		t.Skip("the test server accepts any password (trust authentication)")
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), url.QueryEscape(wrong)) {
		t.Errorf("the error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("the error does not say why: %v", err)
	}
	t.Logf("the error: %v", err)
}

// TestLedgerAppendOnly: the ledger refuses UPDATE, DELETE and TRUNCATE,
// whoever sends them.
func TestLedgerAppendOnly(t *testing.T) {
	s := openTemp(t)
	activate(t, s, "Acme", 2)
	for _, q := range []string{`UPDATE ledger SET d_remaining = 5`, `DELETE FROM ledger`, `TRUNCATE ledger`} {
		if _, err := s.pool.Exec(t.Context(), q); err == nil || !strings.Contains(err.Error(), "the ledger is append-only") {
			t.Errorf("%s: %v, want the append-only refusal", q, err)
		}
	}
	storetest.RequireClean(t, s)
}

// TestConstraintsRefuseBrokenCounts: a hand-typed UPDATE that would break
// the invariant or go negative is refused by PostgreSQL itself.
func TestConstraintsRefuseBrokenCounts(t *testing.T) {
	s := openTemp(t)
	e, _ := activate(t, s, "Acme", 2)
	for _, q := range []string{
		`UPDATE entitlements SET remaining = remaining + 1 WHERE id = $1`,                          // invariant
		`UPDATE entitlements SET remaining = remaining - 3, consumed = consumed + 3 WHERE id = $1`, // negative
		`UPDATE entitlements SET overdraft = -1 WHERE id = $1`,
		`UPDATE entitlements SET updated_at_ns = 1000 WHERE id = $1`,
	} {
		if _, err := s.pool.Exec(t.Context(), q, e.ID); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
	_, err := s.pool.Exec(t.Context(), `INSERT INTO entitlements (customer, series, kind, code_hash, created_at, created_at_ns, updated_at, updated_at_ns)
		VALUES ('Acme', 'pro', 'code', '\x01', now(), 0, now(), 0)`)
	if err == nil {
		t.Error("a second Pro entitlement for one customer: accepted")
	}
	storetest.RequireClean(t, s)
}

// TestAuditDetectsUnbalancedLedger: a ledger row with no matching change of
// counts is found by replaying the ledger, in the SQLite store's words.
func TestAuditDetectsUnbalancedLedger(t *testing.T) {
	s := openTemp(t)
	e, _ := activate(t, s, "Acme", 2)
	_, err := s.pool.Exec(t.Context(), `INSERT INTO ledger (entitlement_id, kind, d_purchased, d_remaining, d_held, d_consumed, d_overdraft, at, at_ns, actor)
		VALUES ($1, 'purchase', 1, 1, 0, 0, 0, now(), 0, 'local:')`, e.ID)
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

// TestInactiveRefused: there is no API to deactivate a credential (the
// suite says backends test ErrInactive with their own means).
func TestInactiveRefused(t *testing.T) {
	s := openTemp(t)
	e, c := activate(t, s, "Acme", 2)
	if _, err := s.pool.Exec(t.Context(), `UPDATE entitlements SET active = false WHERE id = $1`, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Reserve(t.Context(), reserve(c, "k")); !errors.Is(err, store.ErrInactive) {
		t.Errorf("Reserve on an inactive entitlement: %v, want ErrInactive", err)
	}
	storetest.RequireClean(t, s)
}

// TestWriteRetriesDeadlock: two transactions that lock two rows in
// opposite orders deadlock; PostgreSQL aborts one (40P01), write runs it
// again, and both end committed.
func TestWriteRetriesDeadlock(t *testing.T) {
	s := openTemp(t)
	a, _ := activate(t, s, "Acme", 1)
	b, _ := activate(t, s, "Globex", 1)
	var (
		barrier  sync.WaitGroup
		attempts [2]int
		wg       sync.WaitGroup
	)
	barrier.Add(2)
	for i, order := range [2][2]int64{{a.ID, b.ID}, {b.ID, a.ID}} {
		wg.Go(func() {
			err := s.write(t.Context(), func(tx pgx.Tx) error {
				attempts[i]++
				if _, err := tx.Exec(t.Context(), `UPDATE entitlements SET code_hint = 'x' WHERE id = $1`, order[0]); err != nil {
					return err
				}
				if attempts[i] == 1 { // both hold their first row before either asks for the second
					barrier.Done()
					barrier.Wait()
				}
				_, err := tx.Exec(t.Context(), `UPDATE entitlements SET code_hint = 'y' WHERE id = $1`, order[1])
				return err
			})
			if err != nil {
				t.Errorf("transaction %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if attempts[0]+attempts[1] != 3 {
		t.Errorf("attempts %v: want one transaction run again after the deadlock", attempts)
	}
}

// TestPipelinedRetriesDeadlock: TestWriteRetriesDeadlock for transactions
// whose BEGIN and COMMIT travel with their statements. The one PostgreSQL
// aborts is rolled back and run again, its connection goes back to the
// pool outside any transaction, and both end committed.
func TestPipelinedRetriesDeadlock(t *testing.T) {
	s := openTemp(t)
	a, _ := activate(t, s, "Acme", 1)
	b, _ := activate(t, s, "Globex", 1)
	var (
		barrier  sync.WaitGroup
		attempts [2]int
		wg       sync.WaitGroup
	)
	barrier.Add(2)
	setHint := func(hint string, id int64) func(*pgx.Batch) {
		return func(batch *pgx.Batch) { batch.Queue(`UPDATE entitlements SET code_hint = $1 WHERE id = $2`, hint, id) }
	}
	for i, order := range [2][2]int64{{a.ID, b.ID}, {b.ID, a.ID}} {
		wg.Go(func() {
			err := s.pipelined(t.Context(), func(tx *pipeTx) error {
				attempts[i]++
				if err := tx.send(t.Context(), setHint("x", order[0])); err != nil {
					return err
				}
				if attempts[i] == 1 { // both hold their first row before either asks for the second
					barrier.Done()
					barrier.Wait()
				}
				return tx.commit(t.Context(), setHint(fmt.Sprintf("y%d", i), order[1]))
			})
			if err != nil {
				t.Errorf("transaction %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if attempts[0]+attempts[1] != 3 {
		t.Errorf("attempts %v: want one transaction run again after the deadlock", attempts)
	}
	all, err := s.Entitlements(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The one run again committed last, its two updates over the other's.
	want := [2]string{"y1", "x"}
	if attempts[0] == 2 {
		want = [2]string{"x", "y0"}
	}
	if len(all) != 2 || all[0].CodeHint != want[0] || all[1].CodeHint != want[1] {
		t.Errorf("entitlements %+v: want code hints %v", all, want)
	}
	for _, c := range s.pool.AcquireAllIdle(t.Context()) {
		if st := c.Conn().PgConn().TxStatus(); st != 'I' {
			t.Errorf("a pooled connection is in transaction status %c", st)
		}
		c.Release()
	}
}

// TestWriteGivesUp: a transaction that keeps failing with a serialization
// failure is run maxAttempts times, then its error is returned.
func TestWriteGivesUp(t *testing.T) {
	s := openTemp(t)
	n := 0
	err := s.write(t.Context(), func(tx pgx.Tx) error {
		n++
		return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: codeSerializationFailure, Message: "could not serialize access"})
	})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || n != maxAttempts || !strings.Contains(err.Error(), "gave up after") {
		t.Errorf("after %d attempts: %v", n, err)
	}
	n = 0
	err = s.write(t.Context(), func(tx pgx.Tx) error { n++; return store.ErrExhausted })
	if !errors.Is(err, store.ErrExhausted) || n != 1 {
		t.Errorf("a plain error was run %d times: %v", n, err)
	}
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

// TestPoolSizeFromURL: pool_max_conns in the URL sizes the pool.
func TestPoolSizeFromURL(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "3")
	u.RawQuery = q.Encode()
	s := open(t, u.String())
	if got := s.pool.Config().MaxConns; got != 3 {
		t.Errorf("MaxConns = %d, want 3", got)
	}
}

func TestStoredTime(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tm := range []time.Time{
		t0, t0.In(paris), {}, time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2031, 1, 1, 0, 0, 0, 999, time.UTC), time.Date(2031, 1, 1, 0, 0, 0, 1000, time.UTC),
	} {
		at, ns := storedTime(tm)
		if at.Nanosecond()%1000 != 0 || ns < 0 || ns > 999 || at.Location() != time.UTC {
			t.Errorf("storedTime(%v) = %v, %d", tm, at, ns)
		}
		if back := loadedTime(at.In(paris), ns); !back.Equal(tm) || back.Location() != time.UTC {
			t.Errorf("loadedTime(storedTime(%v)) = %v", tm, back)
		}
	}
}

func TestScrub(t *testing.T) {
	inner := fmt.Errorf("dial: user=u password=s3cr%%et!: %w", store.ErrNotFound)
	err := scrub(fmt.Errorf("opening: %w", inner), "s3cr%et!")
	if strings.Contains(err.Error(), "s3cr%et!") || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("scrub: %v", err)
	}
	if err := scrub(errors.New("abc"), "ab"); err.Error() != "abc" {
		t.Errorf("a short password garbled the message: %v", err)
	}
}
