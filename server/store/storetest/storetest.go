// Package storetest is the conformance suite every store.Store backend
// must pass (restic's backend test suite is the model): the same scenarios,
// against real databases, for SQLite and PostgreSQL alike.
//
// After every scenario the suite audits the store and fails on any
// violation, so each test also proves the ledger invariant survived it.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/store"
)

// Run runs the suite. open must return a new, empty store on each call and
// close it with t.Cleanup; the suite's own cleanup (the final audit) runs
// before that, as cleanups run last-registered first.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"ActivateProCreates", testActivateProCreates},
		{"ActivateProAddsForSameCustomer", testActivateProAdds},
		{"ActivateClassic", testActivateClassic},
		{"ActivateRejectsBadInput", testActivateRejectsBadInput},
		{"EntitlementLookup", testEntitlementLookup},
		{"Entitlements", testEntitlements},
		{"PutRelease", testPutRelease},
		{"ReleaseQueries", testReleaseQueries},
		{"ResignRelease", testResignRelease},
		{"ArtifactOrigin", testArtifactOrigin},
		{"Patches", testPatches},
		{"ReserveHappyPath", testReserveHappyPath},
		{"ReserveErrors", testReserveErrors},
		{"ReserveIdempotent", testReserveIdempotent},
		{"ReserveIdempotencyMismatch", testReserveIdempotencyMismatch},
		{"Complete", testComplete},
		{"Release", testRelease},
		{"ReleaseAfterComplete", testReleaseAfterComplete},
		{"UnknownReservation", testUnknownReservation},
		{"ExpireSweep", testExpireSweep},
		{"CompleteAfterExpiryRetakes", testCompleteAfterExpiryRetakes},
		{"CompleteAfterReleaseRefused", testCompleteAfterReleaseRefused},
		{"CompleteAfterExpiryOverdraft", testCompleteAfterExpiryOverdraft},
		{"LedgerRecordsEveryChange", testLedger},
		{"TimesAreUTC", testTimesAreUTC},
		{"ConcurrentReserveNeverOversells", testConcurrentReserve},
		{"ConcurrentReserveSameKey", testConcurrentReserveSameKey},
		{"ConcurrentComplete", testConcurrentComplete},
		{"SweepRacesCompletion", testSweepRacesCompletion},
		{"SessionLifecycle", testSessionLifecycle},
		{"SessionYieldsOneReservation", testSessionYieldsOneReservation},
		{"SessionAttemptsLock", testSessionAttemptsLock},
		{"SessionChallengeSingleUse", testSessionChallengeSingleUse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { RequireClean(t, s) })
			tc.fn(t, s)
		})
	}
}

// RequireClean fails the test for every violation Audit reports.
func RequireClean(t testing.TB, s store.Store) {
	t.Helper()
	// Not t.Context(): it is already cancelled when cleanups run.
	v, err := s.Audit(context.Background())
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	for _, x := range v {
		t.Errorf("audit: entitlement %d (%s): %s", x.EntitlementID, x.Customer, x.Problem)
	}
}

// t0 is the suite's clock: a fixed instant with nanoseconds, so a backend
// that drops precision or time zones is caught.
var t0 = time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.UTC)

const ttl = 7 * 24 * time.Hour

// product is the Pro-series product reservations are made for.
const product = "studio"

// codeHash stands in for the server's keyed hash of a customer's code.
func codeHash(name string) []byte {
	h := sha256.Sum256([]byte("storetest code " + name))
	return h[:]
}

func proCredential(name string) store.Credential {
	return store.Credential{CodeHash: codeHash(name)}
}

func activatePro(t *testing.T, s store.Store, customer string, n int64) (store.Entitlement, store.Credential) {
	t.Helper()
	c := proCredential(customer)
	e, _, err := s.Activate(t.Context(), store.ActivateParams{
		Customer: customer, Series: api.SeriesPro, Credential: c, CodeHint: "12345", Updates: n, Now: t0,
	})
	if err != nil {
		t.Fatalf("Activate(pro %s, %d): %v", customer, n, err)
	}
	return e, c
}

func activateClassic(t *testing.T, s store.Store, customer, serial string, n int64) (store.Entitlement, bool, error) {
	t.Helper()
	return s.Activate(t.Context(), store.ActivateParams{
		Customer: customer, Series: api.SeriesClassic, Credential: store.Credential{HWKeySerial: serial}, Updates: n, Now: t0,
	})
}

// reserveParams is a Pro reservation for product 1.0.0 → 2.0.0 on machine m1.
func reserveParams(c store.Credential, key string) store.ReserveParams {
	return store.ReserveParams{
		IdempotencyKey: key, Credential: c, Series: api.SeriesPro, Product: product,
		FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "m1", Now: t0, TTL: ttl,
	}
}

func mustReserve(t *testing.T, s store.Store, p store.ReserveParams) (store.Reservation, store.Entitlement) {
	t.Helper()
	r, e, err := s.Reserve(t.Context(), p)
	if err != nil {
		t.Fatalf("Reserve(%s): %v", p.IdempotencyKey, err)
	}
	return r, e
}

// counts are an entitlement's counts, compared as one value.
type counts struct{ Purchased, Remaining, Held, Consumed, Overdraft int64 }

func countsOf(e store.Entitlement) counts {
	return counts{e.Purchased, e.Remaining, e.Held, e.Consumed, e.Overdraft}
}

func wantCounts(t *testing.T, what string, e store.Entitlement, want counts) {
	t.Helper()
	if got := countsOf(e); got != want {
		t.Errorf("%s: counts %+v, want %+v", what, got, want)
	}
}

// wantStored checks the counts as the store now has them, not as some
// call returned them.
func wantStored(t *testing.T, s store.Store, c store.Credential, want counts) {
	t.Helper()
	e, err := s.Entitlement(t.Context(), c)
	if err != nil {
		t.Fatalf("Entitlement: %v", err)
	}
	wantCounts(t, "stored", e, want)
}

func wantState(t *testing.T, s store.Store, id, state string) {
	t.Helper()
	r, err := s.Reservation(t.Context(), id)
	if err != nil {
		t.Fatalf("Reservation(%s): %v", id, err)
	}
	if r.State != state {
		t.Errorf("reservation %s is %q, want %q", id, r.State, state)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func ledgerKinds(t *testing.T, s store.Store, entitlementID int64) []string {
	t.Helper()
	l, err := s.Ledger(t.Context(), entitlementID)
	if err != nil {
		t.Fatalf("Ledger: %v", err)
	}
	kinds := make([]string, len(l))
	for i, x := range l {
		kinds[i] = x.Kind
	}
	return kinds
}

func wantLedgerKinds(t *testing.T, s store.Store, entitlementID int64, want ...string) {
	t.Helper()
	if got := ledgerKinds(t, s, entitlementID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ledger kinds %v, want %v", got, want)
	}
}

// --- entitlements ---

func testActivateProCreates(t *testing.T, s store.Store) {
	e, created, err := s.Activate(t.Context(), store.ActivateParams{
		Customer: "Acme", Series: api.SeriesPro, Credential: proCredential("Acme"), CodeHint: "67890", Updates: 3, Now: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false for a new customer")
	}
	wantCounts(t, "new", e, counts{Purchased: 3, Remaining: 3})
	if e.ID == 0 || e.Customer != "Acme" || e.Series != api.SeriesPro || e.Kind != store.KindCode ||
		e.CodeHint != "67890" || e.HWKeySerial != "" || !e.Active {
		t.Errorf("entitlement %+v", e)
	}
	if !e.CreatedAt.Equal(t0) || !e.UpdatedAt.Equal(t0) {
		t.Errorf("times %v, %v; want %v", e.CreatedAt, e.UpdatedAt, t0)
	}
}

func testActivateProAdds(t *testing.T, s store.Store) {
	first, c := activatePro(t, s, "Acme", 3)
	// Another code for the same customer is ignored: one code covers the series.
	e, created, err := s.Activate(t.Context(), store.ActivateParams{
		Customer: "Acme", Series: api.SeriesPro, Credential: proCredential("Acme, second code"), CodeHint: "99999", Updates: 2, Now: t0.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created = true for an existing customer")
	}
	if e.ID != first.ID {
		t.Errorf("entitlement %d, want the existing %d", e.ID, first.ID)
	}
	if e.CodeHint != first.CodeHint {
		t.Errorf("code hint %q, want the first code's %q", e.CodeHint, first.CodeHint)
	}
	wantCounts(t, "after adding", e, counts{Purchased: 5, Remaining: 5})
	wantStored(t, s, c, counts{Purchased: 5, Remaining: 5})
	if _, err := s.Entitlement(t.Context(), proCredential("Acme, second code")); !errors.Is(err, store.ErrUnknownCredential) {
		t.Errorf("the ignored second code: %v, want ErrUnknownCredential", err)
	}

	other, _ := activatePro(t, s, "Globex", 1)
	if other.ID == first.ID {
		t.Error("another customer got the same entitlement")
	}
	pro, err := s.ProEntitlement(t.Context(), "Acme")
	if err != nil || pro.ID != first.ID {
		t.Errorf("ProEntitlement(Acme) = %d, %v; want %d", pro.ID, err, first.ID)
	}
	_, err = s.ProEntitlement(t.Context(), "Initech")
	wantErr(t, "ProEntitlement(unknown)", err, store.ErrNotFound)
}

func testActivateClassic(t *testing.T, s store.Store) {
	e, created, err := activateClassic(t, s, "Acme", "HK-0001", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !created || e.Kind != store.KindHWKey || e.Series != api.SeriesClassic || e.HWKeySerial != "HK-0001" || !e.Active {
		t.Errorf("created %v, entitlement %+v", created, e)
	}
	again, created, err := activateClassic(t, s, "Acme", "HK-0001", 4)
	if err != nil {
		t.Fatal(err)
	}
	if created || again.ID != e.ID {
		t.Errorf("re-activation: created %v, entitlement %d; want false, %d", created, again.ID, e.ID)
	}
	wantCounts(t, "re-activated", again, counts{Purchased: 6, Remaining: 6})

	_, _, err = activateClassic(t, s, "Globex", "HK-0001", 1)
	wantErr(t, "another customer's key", err, store.ErrConflict)
	wantStored(t, s, store.Credential{HWKeySerial: "HK-0001"}, counts{Purchased: 6, Remaining: 6})

	// A customer may have several keys, and a Pro code besides.
	if _, _, err := activateClassic(t, s, "Acme", "HK-0002", 1); err != nil {
		t.Errorf("second key: %v", err)
	}
	activatePro(t, s, "Acme", 1)
}

func testActivateRejectsBadInput(t *testing.T, s store.Store) {
	for _, p := range []store.ActivateParams{
		{Series: api.SeriesPro, Credential: proCredential("x"), Updates: 1},                                // no customer
		{Customer: "A", Series: api.SeriesPro, Credential: proCredential("x"), Updates: 0},                 // nothing added
		{Customer: "A", Series: api.SeriesPro, Credential: proCredential("x"), Updates: -1},                // negative
		{Customer: "A", Series: "gold", Credential: proCredential("x"), Updates: 1},                        // no such series
		{Customer: "A", Series: api.SeriesClassic, Credential: store.Credential{}, Updates: 1},             // no serial
		{Customer: "A", Series: api.SeriesPro, Credential: store.Credential{HWKeySerial: "K"}, Updates: 1}, // no code
	} {
		if _, _, err := s.Activate(t.Context(), p); err == nil {
			t.Errorf("Activate(%+v) succeeded", p)
		}
	}
	if all, err := s.Entitlements(t.Context()); err != nil || len(all) != 0 {
		t.Errorf("after refused activations: %d entitlements, %v", len(all), err)
	}
}

func testEntitlementLookup(t *testing.T, s store.Store) {
	pro, c := activatePro(t, s, "Acme", 1)
	classic, _, err := activateClassic(t, s, "Acme", "HK-0001", 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Entitlement(t.Context(), c)
	if err != nil || got.ID != pro.ID {
		t.Errorf("by code hash: %d, %v; want %d", got.ID, err, pro.ID)
	}
	got, err = s.Entitlement(t.Context(), store.Credential{HWKeySerial: "HK-0001"})
	if err != nil || got.ID != classic.ID {
		t.Errorf("by serial: %d, %v; want %d", got.ID, err, classic.ID)
	}
	for name, c := range map[string]store.Credential{
		"unknown code":   proCredential("nobody"),
		"unknown serial": {HWKeySerial: "HK-9999"},
		"empty":          {},
	} {
		_, err := s.Entitlement(t.Context(), c)
		wantErr(t, name, err, store.ErrUnknownCredential)
	}
}

func testEntitlements(t *testing.T, s store.Store) {
	all, err := s.Entitlements(t.Context())
	if err != nil || len(all) != 0 {
		t.Fatalf("empty store: %v, %v", all, err)
	}
	a, _ := activatePro(t, s, "Acme", 1)
	b, _, _ := activateClassic(t, s, "Globex", "HK-1", 2)
	c, _ := activatePro(t, s, "Initech", 3)
	all, err = s.Entitlements(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range all {
		ids = append(ids, e.ID)
	}
	if fmt.Sprint(ids) != fmt.Sprint([]int64{a.ID, b.ID, c.ID}) {
		t.Errorf("IDs %v, want %v in order", ids, []int64{a.ID, b.ID, c.ID})
	}
}

// --- releases ---

func release(version, goos, arch, sum string) store.Release {
	return store.Release{
		Product: product, Series: api.SeriesPro, Version: version, OS: goos, Arch: arch,
		SHA256: sum, Size: 1234, Envelope: []byte(`{"signed":"` + version + `"}`), PublishedAt: t0,
	}
}

// sum returns a distinct lowercase-hex sha256 per name.
func sum(name string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(name))) }

func testPutRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := release("2.0.0", "linux", "amd64", sum("a"))
	if err := s.PutRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	// The same release again, re-signed later: a no-op that keeps the first.
	again := r
	again.Envelope, again.PublishedAt = []byte(`{"signed":"again"}`), t0.Add(time.Hour)
	if err := s.PutRelease(ctx, again); err != nil {
		t.Errorf("same release again: %v", err)
	}
	rs, err := s.Releases(ctx, product, "linux", "amd64")
	if err != nil || len(rs) != 1 {
		t.Fatalf("Releases: %v, %v", rs, err)
	}
	if string(rs[0].Envelope) != string(r.Envelope) || !rs[0].PublishedAt.Equal(t0) {
		t.Errorf("a repeat replaced the release: %+v", rs[0])
	}

	other := release("2.0.0", "linux", "amd64", sum("b"))
	wantErr(t, "other artifact, same version", s.PutRelease(ctx, other), store.ErrConflict)
	bigger := r
	bigger.Size++
	wantErr(t, "other size, same version", s.PutRelease(ctx, bigger), store.ErrConflict)
	classic := release("3.0.0", "linux", "amd64", sum("c"))
	classic.Series = api.SeriesClassic
	wantErr(t, "product under another series", s.PutRelease(ctx, classic), store.ErrConflict)

	if series, err := s.ProductSeries(ctx, product); err != nil || series != api.SeriesPro {
		t.Errorf("ProductSeries after refused puts = %q, %v", series, err)
	}
}

func testResignRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := release("1.0.0", "linux", "amd64", sum("a"))
	b := release("2.0.0", "linux", "amd64", sum("b"))
	for _, r := range []store.Release{a, b} {
		if err := s.PutRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.AllReleases(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("AllReleases = %d releases, %v; want 2", len(all), err)
	}
	if err := s.ResignRelease(ctx, product, "1.0.0", "linux", "amd64", []byte(`{"signed":"anew"}`)); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Releases(ctx, product, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		want := map[string]string{"1.0.0": `{"signed":"anew"}`, "2.0.0": string(b.Envelope)}[r.Version]
		if string(r.Envelope) != want {
			t.Errorf("%s envelope = %s, want %s", r.Version, r.Envelope, want)
		}
		if r.SHA256 != map[string]string{"1.0.0": a.SHA256, "2.0.0": b.SHA256}[r.Version] || !r.PublishedAt.Equal(t0) {
			t.Errorf("re-signing changed more than the envelope: %+v", r)
		}
	}
	wantErr(t, "no such release", s.ResignRelease(ctx, product, "9.0.0", "linux", "amd64", []byte(`{}`)), store.ErrNotFound)
}

func testReleaseQueries(t *testing.T, s store.Store) {
	ctx := t.Context()
	puts := []store.Release{
		release("1.0.0", "linux", "amd64", sum("1 linux")),
		release("2.0.0", "linux", "amd64", sum("2 linux")),
		release("2.0.0", "linux", "arm64", sum("2 linux arm")),
		release("2.0.0", "windows", "amd64", sum("2 windows")),
	}
	classic := release("1.0.0", "linux", "amd64", sum("classic"))
	classic.Product, classic.Series = "ledgerbook", api.SeriesClassic
	puts = append(puts, classic)
	for _, r := range puts {
		if err := s.PutRelease(ctx, r); err != nil {
			t.Fatalf("PutRelease(%s %s %s/%s): %v", r.Product, r.Version, r.OS, r.Arch, err)
		}
	}

	rs, err := s.Releases(ctx, product, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]bool{}
	for _, r := range rs {
		if r.Product != product || r.OS != "linux" || r.Arch != "amd64" {
			t.Errorf("Releases(linux/amd64) returned %s %s/%s", r.Product, r.OS, r.Arch)
		}
		versions[r.Version] = true
	}
	if len(rs) != 2 || !versions["1.0.0"] || !versions["2.0.0"] {
		t.Errorf("Releases(linux/amd64) = %d releases %v, want 1.0.0 and 2.0.0", len(rs), versions)
	}
	if rs, err := s.Releases(ctx, product, "darwin", "arm64"); err != nil || len(rs) != 0 {
		t.Errorf("Releases(darwin/arm64) = %v, %v; want none", rs, err)
	}

	got, err := s.ReleaseBySHA256(ctx, product, sum("2 windows"))
	if err != nil {
		t.Fatal(err)
	}
	want := puts[3]
	if got.Product != want.Product || got.Series != want.Series || got.Version != want.Version || got.OS != want.OS ||
		got.Arch != want.Arch || got.SHA256 != want.SHA256 || got.Size != want.Size ||
		string(got.Envelope) != string(want.Envelope) || !got.PublishedAt.Equal(want.PublishedAt) {
		t.Errorf("ReleaseBySHA256 = %+v, want %+v", got, want)
	}
	_, err = s.ReleaseBySHA256(ctx, product, sum("nothing"))
	wantErr(t, "ReleaseBySHA256(unknown hash)", err, store.ErrNotFound)
	_, err = s.ReleaseBySHA256(ctx, product, sum("classic"))
	wantErr(t, "ReleaseBySHA256(another product's hash)", err, store.ErrNotFound)

	for p, want := range map[string]string{product: api.SeriesPro, "ledgerbook": api.SeriesClassic} {
		if got, err := s.ProductSeries(ctx, p); err != nil || got != want {
			t.Errorf("ProductSeries(%s) = %q, %v; want %q", p, got, err, want)
		}
	}
	_, err = s.ProductSeries(ctx, "nothing")
	wantErr(t, "ProductSeries(unknown)", err, store.ErrNotFound)

	for h, want := range map[string]bool{sum("2 linux arm"): true, sum("classic"): true, sum("nothing"): false} {
		if got, err := s.HasArtifact(ctx, h); err != nil || got != want {
			t.Errorf("HasArtifact(%s…) = %v, %v; want %v", h[:8], got, err, want)
		}
	}
}

// --- reservations ---

func testReserveHappyPath(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 3)
	p := reserveParams(c, "key-1")
	r, e := mustReserve(t, s, p)
	wantCounts(t, "returned", e, counts{Purchased: 3, Remaining: 2, Held: 1})
	wantStored(t, s, c, counts{Purchased: 3, Remaining: 2, Held: 1})
	if r.ID == "" || r.IdempotencyKey != "key-1" || r.EntitlementID != ent.ID || r.Product != product ||
		r.FromVersion != "1.0.0" || r.ToVersion != "2.0.0" || r.MachineID != "m1" || r.State != api.StateHeld {
		t.Errorf("reservation %+v", r)
	}
	if !r.CreatedAt.Equal(t0) || !r.UpdatedAt.Equal(t0) || !r.ExpiresAt.Equal(t0.Add(ttl)) {
		t.Errorf("times created %v updated %v expires %v; want %v, %v, %v", r.CreatedAt, r.UpdatedAt, r.ExpiresAt, t0, t0, t0.Add(ttl))
	}
	stored, err := s.Reservation(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameReservation(stored, r) {
		t.Errorf("stored %+v, returned %+v", stored, r)
	}
	r2, _ := mustReserve(t, s, reserveParams(c, "key-2"))
	if r2.ID == r.ID {
		t.Error("two reservations share an ID")
	}
}

func sameReservation(a, b store.Reservation) bool {
	return a.ID == b.ID && a.IdempotencyKey == b.IdempotencyKey && a.EntitlementID == b.EntitlementID &&
		a.Product == b.Product && a.FromVersion == b.FromVersion && a.ToVersion == b.ToVersion &&
		a.MachineID == b.MachineID && a.State == b.State && a.CreatedAt.Equal(b.CreatedAt) &&
		a.UpdatedAt.Equal(b.UpdatedAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

func testReserveErrors(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 1)
	classic, _, err := activateClassic(t, s, "Acme", "HK-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	hw := store.Credential{HWKeySerial: "HK-1"}

	_, _, err = s.Reserve(t.Context(), reserveParams(proCredential("nobody"), "unknown"))
	wantErr(t, "unknown code", err, store.ErrUnknownCredential)
	_, _, err = s.Reserve(t.Context(), reserveParams(store.Credential{HWKeySerial: "HK-404"}, "unknown-key"))
	wantErr(t, "unknown serial", err, store.ErrUnknownCredential)

	_, _, err = s.Reserve(t.Context(), reserveParams(hw, "classic-for-pro"))
	wantErr(t, "classic credential for a Pro product", err, store.ErrWrongSeries)
	p := reserveParams(c, "pro-for-classic")
	p.Series, p.Product = api.SeriesClassic, "ledgerbook"
	_, _, err = s.Reserve(t.Context(), p)
	wantErr(t, "Pro credential for a classic product", err, store.ErrWrongSeries)

	mustReserve(t, s, reserveParams(c, "last"))
	_, _, err = s.Reserve(t.Context(), reserveParams(c, "one-too-many"))
	wantErr(t, "exhausted", err, store.ErrExhausted)
	wantStored(t, s, c, counts{Purchased: 1, Held: 1})

	// The series is checked before the count.
	p = reserveParams(hw, "classic")
	p.Series, p.Product = api.SeriesClassic, "ledgerbook"
	mustReserve(t, s, p)
	_, _, err = s.Reserve(t.Context(), reserveParams(hw, "exhausted-and-wrong-series"))
	wantErr(t, "exhausted and wrong series", err, store.ErrWrongSeries)

	// A refused key is not spent: it works once the reason is gone.
	if _, _, err := activateClassic(t, s, "Acme", "HK-1", 1); err != nil {
		t.Fatal(err)
	}
	p.IdempotencyKey = "one-too-many"
	_, _, err = s.Reserve(t.Context(), reserveParams(c, "one-too-many"))
	wantErr(t, "still exhausted", err, store.ErrExhausted)
	p = reserveParams(hw, "one-too-many")
	p.Series, p.Product = api.SeriesClassic, "ledgerbook"
	r, e := mustReserve(t, s, p)
	if e.ID != classic.ID || r.State != api.StateHeld {
		t.Errorf("reserve with a once-refused key: %+v, %+v", r, e)
	}
	// There is no API to deactivate a credential, so ErrInactive is not
	// exercised here; backends test it with their own means.
}

func testReserveIdempotent(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 1)
	p := reserveParams(c, "key-1")
	first, _ := mustReserve(t, s, p)

	// A repeat, later and with another TTL, returns the first answer.
	p.Now, p.TTL = t0.Add(time.Minute), time.Hour
	again, e := mustReserve(t, s, p)
	if !sameReservation(again, first) {
		t.Errorf("repeat returned %+v, want %+v", again, first)
	}
	wantCounts(t, "repeat", e, counts{Purchased: 1, Held: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve)

	// Also once the entitlement is exhausted and the reservation consumed.
	if _, _, err := s.Complete(t.Context(), first.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	again, e = mustReserve(t, s, p)
	if again.ID != first.ID || again.State != api.StateConsumed {
		t.Errorf("repeat after completion: %s %s, want %s consumed", again.ID, again.State, first.ID)
	}
	wantCounts(t, "repeat after completion", e, counts{Purchased: 1, Consumed: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerComplete)
}

func testReserveIdempotencyMismatch(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 5)
	_, other := activatePro(t, s, "Globex", 5)
	base := reserveParams(c, "key-1")
	first, _ := mustReserve(t, s, base)

	for name, change := range map[string]func(*store.ReserveParams){
		"credential":         func(p *store.ReserveParams) { p.Credential = other },
		"unknown credential": func(p *store.ReserveParams) { p.Credential = proCredential("nobody") },
		"product":            func(p *store.ReserveParams) { p.Product = "other" },
		"from version":       func(p *store.ReserveParams) { p.FromVersion = "1.0.1" },
		"to version":         func(p *store.ReserveParams) { p.ToVersion = "2.0.1" },
		"machine":            func(p *store.ReserveParams) { p.MachineID = "m2" },
	} {
		p := base
		change(&p)
		_, _, err := s.Reserve(t.Context(), p)
		wantErr(t, "other "+name, err, store.ErrIdempotencyMismatch)
	}
	wantStored(t, s, c, counts{Purchased: 5, Remaining: 4, Held: 1})
	wantStored(t, s, other, counts{Purchased: 5, Remaining: 5})
	wantState(t, s, first.ID, api.StateHeld)
}

func testComplete(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 2)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	done, e, err := s.Complete(t.Context(), r.ID, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if done.ID != r.ID || done.State != api.StateConsumed || !done.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("completed %+v", done)
	}
	wantCounts(t, "completed", e, counts{Purchased: 2, Remaining: 1, Consumed: 1})

	again, e, err := s.Complete(t.Context(), r.ID, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("second Complete: %v", err)
	}
	if !sameReservation(again, done) {
		t.Errorf("second Complete returned %+v, want %+v", again, done)
	}
	wantCounts(t, "completed twice", e, counts{Purchased: 2, Remaining: 1, Consumed: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerComplete)
}

func testRelease(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 2)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	rel, e, err := s.Release(t.Context(), r.ID, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rel.State != api.StateReleased {
		t.Errorf("state %q, want released", rel.State)
	}
	wantCounts(t, "released", e, counts{Purchased: 2, Remaining: 2})
	again, e, err := s.Release(t.Context(), r.ID, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if !sameReservation(again, rel) {
		t.Errorf("second Release returned %+v, want %+v", again, rel)
	}
	wantCounts(t, "released twice", e, counts{Purchased: 2, Remaining: 2})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerRelease)
}

func testReleaseAfterComplete(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 2)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	if _, _, err := s.Complete(t.Context(), r.ID, t0); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Release(t.Context(), r.ID, t0)
	wantErr(t, "release after complete", err, store.ErrConflict)
	wantState(t, s, r.ID, api.StateConsumed)
	wantStored(t, s, c, counts{Purchased: 2, Remaining: 1, Consumed: 1})
}

func testUnknownReservation(t *testing.T, s store.Store) {
	activatePro(t, s, "Acme", 1)
	const id = "r_doesnotexist"
	_, err := s.Reservation(t.Context(), id)
	wantErr(t, "Reservation", err, store.ErrNotFound)
	_, _, err = s.Complete(t.Context(), id, t0)
	wantErr(t, "Complete", err, store.ErrNotFound)
	_, _, err = s.Release(t.Context(), id, t0)
	wantErr(t, "Release", err, store.ErrNotFound)
}

func testExpireSweep(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 3)
	p := reserveParams(c, "short")
	p.TTL = time.Hour
	short, _ := mustReserve(t, s, p)
	long, _ := mustReserve(t, s, reserveParams(c, "long"))
	done, _ := mustReserve(t, s, reserveParams(c, "done"))
	if _, _, err := s.Complete(t.Context(), done.ID, t0); err != nil {
		t.Fatal(err)
	}

	for _, step := range []struct {
		at   time.Time
		want int
	}{
		{t0.Add(time.Hour - time.Nanosecond), 0},
		{t0.Add(time.Hour), 1}, // ExpiresAt <= now
		{t0.Add(2 * time.Hour), 0},
	} {
		n, err := s.ExpireReservations(t.Context(), step.at)
		if err != nil {
			t.Fatal(err)
		}
		if n != step.want {
			t.Errorf("ExpireReservations(t0+%v) = %d, want %d", step.at.Sub(t0), n, step.want)
		}
	}
	wantState(t, s, short.ID, api.StateExpired)
	wantState(t, s, long.ID, api.StateHeld)
	wantState(t, s, done.ID, api.StateConsumed)
	wantStored(t, s, c, counts{Purchased: 3, Remaining: 1, Held: 1, Consumed: 1})

	// Releasing an expired reservation is a no-op that says so.
	r, e, err := s.Release(t.Context(), short.ID, t0.Add(3*time.Hour))
	if err != nil || r.State != api.StateExpired {
		t.Errorf("Release(expired) = %q, %v; want expired, nil", r.State, err)
	}
	wantCounts(t, "release after expiry", e, counts{Purchased: 3, Remaining: 1, Held: 1, Consumed: 1})

	if n, err := s.ExpireReservations(t.Context(), t0.Add(ttl)); err != nil || n != 1 {
		t.Errorf("ExpireReservations(t0+ttl) = %d, %v; want 1", n, err)
	}
	wantStored(t, s, c, counts{Purchased: 3, Remaining: 2, Consumed: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerReserve, store.LedgerReserve,
		store.LedgerComplete, store.LedgerExpire, store.LedgerExpire)
}

func testCompleteAfterExpiryRetakes(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 2)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	if _, err := s.ExpireReservations(t.Context(), t0.Add(ttl)); err != nil {
		t.Fatal(err)
	}
	wantStored(t, s, c, counts{Purchased: 2, Remaining: 2})
	done, e, err := s.Complete(t.Context(), r.ID, t0.Add(ttl+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if done.State != api.StateConsumed {
		t.Errorf("late completion left state %q", done.State)
	}
	wantCounts(t, "late completion", e, counts{Purchased: 2, Remaining: 1, Consumed: 1})
	// And it is idempotent like any other.
	if _, e, err = s.Complete(t.Context(), r.ID, t0.Add(ttl+2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "late completion repeated", e, counts{Purchased: 2, Remaining: 1, Consumed: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerExpire, store.LedgerRetake)
}

// A reservation the client gave back said "never applied": a completion
// for it afterwards is a contradiction, refused rather than charged.
func testCompleteAfterReleaseRefused(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 1)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	if _, _, err := s.Release(t.Context(), r.ID, t0); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Complete(t.Context(), r.ID, t0.Add(time.Minute))
	wantErr(t, "completion after release", err, store.ErrConflict)
	wantStored(t, s, c, counts{Purchased: 1, Remaining: 1})
	wantState(t, s, r.ID, api.StateReleased)
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerRelease)
}

func testCompleteAfterExpiryOverdraft(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 1)
	late, _ := mustReserve(t, s, reserveParams(c, "late"))
	if _, err := s.ExpireReservations(t.Context(), t0.Add(ttl)); err != nil {
		t.Fatal(err)
	}
	p := reserveParams(c, "next")
	p.Now = t0.Add(ttl)
	next, _ := mustReserve(t, s, p) // takes the unit back

	done, e, err := s.Complete(t.Context(), late.ID, t0.Add(ttl+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if done.State != api.StateConsumed {
		t.Errorf("overdrawn completion left state %q", done.State)
	}
	// Overdraft is recorded apart: no purchased unit was consumed.
	wantCounts(t, "overdraft", e, counts{Purchased: 1, Held: 1, Overdraft: 1})
	if _, e, err = s.Complete(t.Context(), late.ID, t0.Add(ttl+2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "overdraft repeated", e, counts{Purchased: 1, Held: 1, Overdraft: 1})

	if _, e, err = s.Complete(t.Context(), next.ID, t0.Add(ttl+3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "after the other completes", e, counts{Purchased: 1, Consumed: 1, Overdraft: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerExpire,
		store.LedgerReserve, store.LedgerOverdraft, store.LedgerComplete)
}

// testLedger checks each row's deltas, reservation and time, not only its
// kind.
func testLedger(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 3)
	a, _ := mustReserve(t, s, reserveParams(c, "a"))
	b, _ := mustReserve(t, s, reserveParams(c, "b"))
	cr, _ := mustReserve(t, s, reserveParams(c, "c"))
	swept := t0.Add(ttl + time.Minute)
	steps := []func() error{
		func() error { _, _, err := s.Complete(t.Context(), a.ID, t0.Add(1*time.Minute)); return err },
		func() error { _, _, err := s.Release(t.Context(), b.ID, t0.Add(2*time.Minute)); return err },
		func() error { _, err := s.ExpireReservations(t.Context(), swept); return err },
		func() error { _, _, err := s.Complete(t.Context(), cr.ID, swept.Add(time.Minute)); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// A second completion moves nothing and writes no row.
	if _, _, err := s.Complete(t.Context(), a.ID, t0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}

	type row struct {
		res, kind     string
		p, r, h, c, o int64
		at            time.Time
	}
	want := []row{
		{"", store.LedgerPurchase, 3, 3, 0, 0, 0, t0},
		{a.ID, store.LedgerReserve, 0, -1, 1, 0, 0, t0},
		{b.ID, store.LedgerReserve, 0, -1, 1, 0, 0, t0},
		{cr.ID, store.LedgerReserve, 0, -1, 1, 0, 0, t0},
		{a.ID, store.LedgerComplete, 0, 0, -1, 1, 0, t0.Add(1 * time.Minute)},
		{b.ID, store.LedgerRelease, 0, 1, -1, 0, 0, t0.Add(2 * time.Minute)},
		{cr.ID, store.LedgerExpire, 0, 1, -1, 0, 0, swept},
		{cr.ID, store.LedgerRetake, 0, -1, 0, 1, 0, swept.Add(time.Minute)},
	}
	l, err := s.Ledger(t.Context(), ent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != len(want) {
		t.Fatalf("%d ledger rows, want %d: %+v", len(l), len(want), l)
	}
	for i, x := range l {
		got := row{x.ReservationID, x.Kind, x.DeltaPurchased, x.DeltaRemaining, x.DeltaHeld, x.DeltaConsumed, x.DeltaOverdraft, x.At}
		if got.at.Equal(want[i].at) {
			got.at = want[i].at
		}
		if got != want[i] || x.EntitlementID != ent.ID {
			t.Errorf("ledger row %d = %+v (entitlement %d), want %+v", i, got, x.EntitlementID, want[i])
		}
		if i > 0 && x.ID <= l[i-1].ID {
			t.Errorf("ledger row %d has ID %d after %d: not oldest first", i, x.ID, l[i-1].ID)
		}
	}
	if l, err := s.Ledger(t.Context(), ent.ID+1000); err != nil || len(l) != 0 {
		t.Errorf("Ledger(unknown entitlement) = %v, %v; want empty", l, err)
	}
}

func testTimesAreUTC(t *testing.T, s store.Store) {
	paris := time.FixedZone("CET", 3600)
	e, _, err := s.Activate(t.Context(), store.ActivateParams{
		Customer: "Acme", Series: api.SeriesPro, Credential: proCredential("Acme"), Updates: 1, Now: t0.In(paris),
	})
	if err != nil {
		t.Fatal(err)
	}
	p := reserveParams(proCredential("Acme"), "key-1")
	p.Now = t0.In(paris)
	r, _ := mustReserve(t, s, p)
	stored, err := s.Reservation(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, tm := range map[string]time.Time{
		"entitlement created": e.CreatedAt, "reservation created": stored.CreatedAt, "reservation expires": stored.ExpiresAt,
	} {
		if tm.Location() != time.UTC {
			t.Errorf("%s in %v, want UTC", name, tm.Location())
		}
	}
	if !stored.CreatedAt.Equal(t0) || !stored.ExpiresAt.Equal(t0.Add(ttl)) {
		t.Errorf("stored times %v, %v; want %v, %v", stored.CreatedAt, stored.ExpiresAt, t0, t0.Add(ttl))
	}
}

// --- concurrency ---

func testConcurrentReserve(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 5)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, errs[i] = s.Reserve(t.Context(), reserveParams(c, fmt.Sprintf("key-%d", i)))
		})
	}
	wg.Wait()
	ok, exhausted := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrExhausted):
			exhausted++
		default:
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if ok != 5 || exhausted != n-5 {
		t.Errorf("%d reserved and %d exhausted, want 5 and %d", ok, exhausted, n-5)
	}
	wantStored(t, s, c, counts{Purchased: 5, Held: 5})
	RequireClean(t, s)
}

func testConcurrentReserveSameKey(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 5)
	const n = 10
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, _, err := s.Reserve(t.Context(), reserveParams(c, "double-click"))
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
			ids[i] = r.ID
		})
	}
	wg.Wait()
	for i, id := range ids {
		if id != ids[0] {
			t.Errorf("goroutine %d got reservation %q, goroutine 0 %q", i, id, ids[0])
		}
	}
	wantStored(t, s, c, counts{Purchased: 5, Remaining: 4, Held: 1})
}

func testConcurrentComplete(t *testing.T, s store.Store) {
	ent, c := activatePro(t, s, "Acme", 3)
	r, _ := mustReserve(t, s, reserveParams(c, "key-1"))
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			done, _, err := s.Complete(t.Context(), r.ID, t0.Add(time.Minute))
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			} else if done.State != api.StateConsumed {
				t.Errorf("goroutine %d: state %q", i, done.State)
			}
		})
	}
	wg.Wait()
	wantStored(t, s, c, counts{Purchased: 3, Remaining: 2, Consumed: 1})
	wantLedgerKinds(t, s, ent.ID, store.LedgerPurchase, store.LedgerReserve, store.LedgerComplete)
	RequireClean(t, s)
}

// testSweepRacesCompletion runs the expiry sweep while clients complete:
// whichever wins, each update ends consumed exactly once.
func testSweepRacesCompletion(t *testing.T, s store.Store) {
	_, c := activatePro(t, s, "Acme", 10)
	var ids []string
	for i := range 5 {
		r, _ := mustReserve(t, s, reserveParams(c, fmt.Sprintf("key-%d", i)))
		ids = append(ids, r.ID)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := s.ExpireReservations(t.Context(), t0.Add(ttl)); err != nil {
			t.Errorf("ExpireReservations: %v", err)
		}
	})
	for _, id := range ids {
		wg.Go(func() {
			if _, _, err := s.Complete(t.Context(), id, t0.Add(ttl)); err != nil {
				t.Errorf("Complete(%s): %v", id, err)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		wantState(t, s, id, api.StateConsumed)
	}
	wantStored(t, s, c, counts{Purchased: 10, Remaining: 5, Consumed: 5})
}
