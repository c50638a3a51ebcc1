package server_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
)

func TestReserve(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	f := newFixtureWith(t, func(s *server.Server) { s.Now = func() time.Time { return now } })
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)

	first := f.mustReserve(t, code, "app", "key-1")
	want := api.Reservation{ID: first.Reservation.ID, State: api.StateHeld, Product: "app",
		FromVersion: "1.0.0", ToVersion: "2.0.0", ExpiresAt: now.Add(server.DefaultReservationTTL)}
	if !sameReservation(first.Reservation, want) || first.Remaining != 2 {
		t.Errorf("reserved %+v remaining %d, want %+v remaining 2", first, first.Remaining, want)
	}
	f.wantCounts(t, code, counts(3, 2, 1, 0))
	before := f.standing(t, code)

	t.Run("repeat with the same key", func(t *testing.T) {
		for range 3 {
			again := f.mustReserve(t, code, "app", "key-1")
			if !sameReservation(again.Reservation, first.Reservation) || again.Remaining != 2 {
				t.Errorf("repeat answered %+v, want the first answer %+v", again, first)
			}
		}
		f.wantUnchanged(t, code, before)
	})
	t.Run("code typed with spaces", func(t *testing.T) {
		spaced := strings.ReplaceAll(code, "-", " ")
		again := f.mustReserve(t, spaced, "app", "key-1")
		if again.Reservation.ID != first.Reservation.ID {
			t.Errorf("the same code typed with spaces made reservation %s, want %s", again.Reservation.ID, first.Reservation.ID)
		}
		f.wantUnchanged(t, code, before)
	})
	t.Run("a new key takes another unit", func(t *testing.T) {
		second := f.mustReserve(t, code, "app", "key-2")
		if second.Reservation.ID == first.Reservation.ID || second.Remaining != 1 {
			t.Errorf("second reservation %+v, want a new ID and 1 remaining", second)
		}
		f.wantCounts(t, code, counts(3, 1, 2, 0))
	})
}

func sameReservation(a, b api.Reservation) bool {
	return a.ID == b.ID && a.State == b.State && a.Product == b.Product &&
		a.FromVersion == b.FromVersion && a.ToVersion == b.ToVersion && a.ExpiresAt.Equal(b.ExpiresAt)
}

// typo changes one digit of the given 1-based group of a code.
func typo(t *testing.T, code string, group int) string {
	t.Helper()
	c, err := api.ParseCode(code)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(c)
	i := (group-1)*api.CodeGroupSize + 1
	b[i] = '0' + (b[i]-'0'+1)%10
	return api.UpdateCode(b).String()
}

func TestReserveRefused(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "3.0.0", "linux", "amd64") // another real update, for a key reused
	f.publish(t, "legacy", api.SeriesClassic, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	f.mustReserve(t, code, "app", "taken")

	spent := f.activate(t, "bob", 1)
	f.mustReserve(t, spent, "app", "bobs-only")

	unknown, err := api.NewCode()
	if err != nil {
		t.Fatal(err)
	}

	with := func(change func(*api.ReserveRequest)) api.ReserveRequest {
		req := reserveRequest(code, "app", "fresh")
		change(&req)
		return req
	}
	for _, tc := range []struct {
		name    string
		req     api.ReserveRequest
		status  int
		code    string
		message string // a part of the message
	}{
		{"same key other to_version", with(func(r *api.ReserveRequest) { r.IdempotencyKey = "taken"; r.ToVersion = "3.0.0" }),
			http.StatusConflict, api.CodeConflict, "idempotency key"},
		{"same key other from_version", with(func(r *api.ReserveRequest) { r.IdempotencyKey = "taken"; r.FromVersion = "" }),
			http.StatusConflict, api.CodeConflict, "idempotency key"},
		{"same key other machine", with(func(r *api.ReserveRequest) { r.IdempotencyKey = "taken"; r.MachineID = "machine-2" }),
			http.StatusConflict, api.CodeConflict, "idempotency key"},
		{"same key other code", with(func(r *api.ReserveRequest) { r.IdempotencyKey = "taken"; r.Credential.Code = spent }),
			http.StatusConflict, api.CodeConflict, "idempotency key"},
		{"typo in the first group", with(func(r *api.ReserveRequest) { r.Credential.Code = typo(t, code, 1) }),
			http.StatusBadRequest, api.CodeInvalidCode, "first group"},
		{"typo in the third group", with(func(r *api.ReserveRequest) { r.Credential.Code = typo(t, code, 3) }),
			http.StatusBadRequest, api.CodeInvalidCode, "third group"},
		{"typo in the fifth group", with(func(r *api.ReserveRequest) { r.Credential.Code = typo(t, code, 5) }),
			http.StatusBadRequest, api.CodeInvalidCode, "fifth group"},
		{"code too short", with(func(r *api.ReserveRequest) { r.Credential.Code = code[:len(code)-1] }),
			http.StatusBadRequest, api.CodeInvalidCode, "24 digits"},
		{"code with a letter", with(func(r *api.ReserveRequest) { r.Credential.Code = "O" + code[1:] }),
			http.StatusBadRequest, api.CodeInvalidCode, "only digits"},
		{"no credential", with(func(r *api.ReserveRequest) { r.Credential = api.Credential{} }),
			http.StatusBadRequest, api.CodeBadRequest, "credential"},
		{"unknown classic session", with(func(r *api.ReserveRequest) { r.Credential = api.Credential{Session: "s1", InternetCode: "1234"} }),
			http.StatusForbidden, api.CodeUnknownCredential, "session is not known"},
		{"code and session", with(func(r *api.ReserveRequest) { r.Credential.Session = "s1" }),
			http.StatusBadRequest, api.CodeBadRequest, ""},
		{"unknown code", with(func(r *api.ReserveRequest) { r.Credential.Code = unknown.String() }),
			http.StatusForbidden, api.CodeUnknownCredential, "receipt"},
		{"exhausted", with(func(r *api.ReserveRequest) { r.Credential.Code = spent }),
			http.StatusConflict, api.CodeExhausted, "buy more"},
		{"product of the other series", with(func(r *api.ReserveRequest) { r.Product = "legacy" }),
			http.StatusForbidden, api.CodeWrongSeries, "legacy is a classic-series product"},
		{"unknown product", with(func(r *api.ReserveRequest) { r.Product = "nosuch" }),
			http.StatusNotFound, api.CodeNotFound, "nosuch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice, bob := f.standing(t, code), f.standing(t, spent)
			e := wantError(t, f.reserve(t, tc.req), tc.status, tc.code)
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
			f.wantUnchanged(t, code, alice)
			f.wantUnchanged(t, spent, bob)
		})
	}
}

// TestMalformedRequests sends what a broken or hostile client might: each
// must be refused with a 4xx error body and change nothing.
func TestMalformedRequests(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	held := f.mustReserve(t, code, "app", "held").Reservation.ID

	good := reserveRequest(code, "app", "new-key")
	// goodJSON is a valid body left open for one more member.
	goodJSON := strings.TrimSuffix(mustJSON(t, good), "}")
	// bodyOf builds an object from raw members, so keys can repeat.
	bodyOf := func(members ...string) string { return "{" + strings.Join(members, ",") + "}" }
	cred := `"credential":{"code":"` + code + `"}`
	key, product, from, to, machine := `"idempotency_key":"new-key"`, `"product":"app"`, `"from_version":"1.0.0"`, `"to_version":"2.0.0"`, `"machine_id":"m"`
	padded := goodJSON + "}" + strings.Repeat(" ", api.MaxRequestBody)

	const reserve = "/v1/reservations"
	for _, tc := range []struct {
		name, path, body string
		status           int // 0: any 4xx
	}{
		{"not JSON", reserve, "product=app&code=" + code, http.StatusBadRequest},
		{"empty body", reserve, "", http.StatusBadRequest},
		{"null", reserve, "null", http.StatusBadRequest},
		{"array", reserve, "[" + mustJSON(t, good) + "]", http.StatusBadRequest},
		{"string", reserve, `"` + code + `"`, http.StatusBadRequest},
		{"empty object", reserve, "{}", http.StatusBadRequest},
		{"truncated", reserve, mustJSON(t, good)[:40], http.StatusBadRequest},
		{"unknown field", reserve, goodJSON + `,"force":true}`, http.StatusBadRequest},
		{"unknown field in credential", reserve, bodyOf(key, product, from, to, machine, `"credential":{"code":"`+code+`","admin":true}`), http.StatusBadRequest},
		{"duplicate product", reserve, bodyOf(`"product":"legacy"`, key, cred, product, from, to, machine), http.StatusBadRequest},
		{"duplicate key, same value", reserve, bodyOf(key, key, cred, product, from, to, machine), http.StatusBadRequest},
		{"duplicate credential", reserve, bodyOf(key, cred, cred, product, from, to, machine), http.StatusBadRequest},
		{"duplicate inside credential", reserve, bodyOf(key, product, from, to, machine, `"credential":{"code":"1","code":"`+code+`"}`), http.StatusBadRequest},
		{"product is a number", reserve, bodyOf(key, cred, `"product":1`, from, to, machine), http.StatusBadRequest},
		{"credential is a string", reserve, bodyOf(key, `"credential":"`+code+`"`, product, from, to, machine), http.StatusBadRequest},
		{"to_version is a list", reserve, bodyOf(key, cred, product, from, `"to_version":["2.0.0"]`, machine), http.StatusBadRequest},
		{"idempotency_key is an object", reserve, bodyOf(`"idempotency_key":{}`, cred, product, from, to, machine), http.StatusBadRequest},
		{"trailing garbage", reserve, mustJSON(t, good) + "x", http.StatusBadRequest},
		{"trailing second object", reserve, mustJSON(t, good) + mustJSON(t, good), http.StatusBadRequest},
		{"larger than MaxRequestBody", reserve, padded, http.StatusRequestEntityTooLarge},
		{"far larger than MaxRequestBody", reserve, goodJSON + `,"x":"` + strings.Repeat("a", 10*api.MaxRequestBody) + `"}`, http.StatusRequestEntityTooLarge},
		{"no idempotency_key", reserve, bodyOf(cred, product, from, to, machine), http.StatusBadRequest},
		{"no product", reserve, bodyOf(key, cred, from, to, machine), http.StatusBadRequest},
		{"no to_version", reserve, bodyOf(key, cred, product, from, machine), http.StatusBadRequest},
		{"no machine_id", reserve, bodyOf(key, cred, product, from, to), http.StatusBadRequest},
		{"no credential", reserve, bodyOf(key, product, from, to, machine), http.StatusBadRequest},
		{"idempotency_key too long", reserve, bodyOf(`"idempotency_key":"`+strings.Repeat("k", 129)+`"`, cred, product, from, to, machine), http.StatusBadRequest},
		{"idempotency_key with a slash", reserve, bodyOf(`"idempotency_key":"a/b"`, cred, product, from, to, machine), http.StatusBadRequest},
		{"product is a path", reserve, bodyOf(key, cred, `"product":"../app"`, from, to, machine), http.StatusBadRequest},
		{"to_version with v", reserve, bodyOf(key, cred, product, from, `"to_version":"v2.0.0"`, machine), http.StatusBadRequest},
		{"to_version not a version", reserve, bodyOf(key, cred, product, from, `"to_version":"latest"`, machine), http.StatusBadRequest},
		{"to_version with build metadata", reserve, bodyOf(key, cred, product, from, `"to_version":"2.0.0+build.1"`, machine), http.StatusBadRequest},
		{"from_version short", reserve, bodyOf(key, cred, product, `"from_version":"1.0"`, to, machine), http.StatusBadRequest},
		{"machine_id with spaces", reserve, bodyOf(key, cred, product, from, to, `"machine_id":"my machine"`), http.StatusBadRequest},

		{"complete: id is a path trick", "/v1/reservations/..%2F..%2F" + held + "/complete", "{}", http.StatusBadRequest},
		{"complete: id is dot-dot", "/v1/reservations/%2e%2e/complete", "{}", http.StatusBadRequest},
		{"complete: raw dot-dot", "/v1/reservations/../../" + held + "/complete", "{}", 0},
		{"complete: empty id", "/v1/reservations//complete", "{}", 0},
		{"complete: id with a space", "/v1/reservations/r%20" + held + "/complete", "{}", http.StatusBadRequest},
		{"complete: id with a NUL", "/v1/reservations/" + held + "%00/complete", "{}", http.StatusBadRequest},
		{"complete: id too long", "/v1/reservations/" + strings.Repeat("r", 129) + "/complete", "{}", http.StatusBadRequest},
		{"complete: id very long", "/v1/reservations/" + strings.Repeat("r", 8000) + "/complete", "{}", http.StatusBadRequest},
		{"complete: id with a suffix", "/v1/reservations/" + held + "x/complete", "{}", http.StatusNotFound},
		{"complete: id in another case", "/v1/reservations/" + strings.ToUpper(held) + "/complete", "{}", http.StatusNotFound},
		{"complete: extra segment", "/v1/reservations/" + held + "/complete/now", "{}", http.StatusNotFound},
		{"release: id is a path trick", "/v1/reservations/..%2F..%2F" + held + "/release", "{}", http.StatusBadRequest},
		{"release: id is dot-dot", "/v1/reservations/%2e%2e/release", "{}", http.StatusBadRequest},
		{"release: raw dot-dot", "/v1/reservations/../../" + held + "/release", "{}", 0},
		{"release: empty id", "/v1/reservations//release", "{}", 0},
		{"release: id too long", "/v1/reservations/" + strings.Repeat("r", 129) + "/release", "{}", http.StatusBadRequest},
		{"release: id very long", "/v1/reservations/" + strings.Repeat("r", 8000) + "/release", "{}", http.StatusBadRequest},
		{"release: id with a suffix", "/v1/reservations/" + held + "x/release", "{}", http.StatusNotFound},
		{"release: extra segment", "/v1/reservations/" + held + "/release/now", "{}", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.standing(t, code)
			r := f.post(t, tc.path, tc.body)
			wantError(t, r, tc.status, "")
			f.wantUnchanged(t, code, before)
		})
	}

	// The limit is on what is read: a body of exactly MaxRequestBody is taken.
	t.Run("exactly MaxRequestBody", func(t *testing.T) {
		body := mustJSON(t, good)
		body += strings.Repeat(" ", api.MaxRequestBody-len(body))
		decodeOK[api.ReservationResponse](t, f.post(t, reserve, body))
		f.wantCounts(t, code, counts(3, 1, 2, 0))
	})
}

func TestCompleteAndRelease(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")

	type step struct {
		action string // "complete" or "release"
		status int
		state  string // on success
		want   admin.Counts
	}
	for i, tc := range []struct {
		name  string
		steps []step
	}{
		{"complete is idempotent", []step{
			{"complete", http.StatusOK, api.StateConsumed, counts(3, 2, 0, 1)},
			{"complete", http.StatusOK, api.StateConsumed, counts(3, 2, 0, 1)},
			{"complete", http.StatusOK, api.StateConsumed, counts(3, 2, 0, 1)},
		}},
		{"release is idempotent", []step{
			{"release", http.StatusOK, api.StateReleased, counts(3, 3, 0, 0)},
			{"release", http.StatusOK, api.StateReleased, counts(3, 3, 0, 0)},
		}},
		{"release after complete is refused", []step{
			{"complete", http.StatusOK, api.StateConsumed, counts(3, 2, 0, 1)},
			{"release", http.StatusConflict, "", counts(3, 2, 0, 1)},
			{"complete", http.StatusOK, api.StateConsumed, counts(3, 2, 0, 1)},
		}},
		// Released means "never applied": a completion afterwards is a
		// contradiction, refused rather than charged.
		{"complete after release is refused", []step{
			{"release", http.StatusOK, api.StateReleased, counts(3, 3, 0, 0)},
			{"complete", http.StatusConflict, "", counts(3, 3, 0, 0)},
			{"release", http.StatusOK, api.StateReleased, counts(3, 3, 0, 0)},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := f.activate(t, fmt.Sprintf("customer %d", i), 3)
			rr := f.mustReserve(t, code, "app", fmt.Sprintf("key-%d", i))
			f.wantCounts(t, code, counts(3, 2, 1, 0))
			for n, s := range tc.steps {
				var r reply
				if s.action == "complete" {
					r = f.complete(t, rr.Reservation.ID)
				} else {
					r = f.release(t, rr.Reservation.ID)
				}
				if s.status != http.StatusOK {
					wantError(t, r, s.status, api.CodeConflict)
				} else {
					got := decodeOK[api.ReservationResponse](t, r)
					if got.Reservation.ID != rr.Reservation.ID || got.Reservation.State != s.state || got.Remaining != s.want.Remaining {
						t.Errorf("step %d (%s): answer %+v, want %s with %d remaining", n+1, s.action, got, s.state, s.want.Remaining)
					}
				}
				f.wantCounts(t, code, s.want)
			}
			f.requireClean(t)
		})
	}

	t.Run("repeats add no ledger rows", func(t *testing.T) {
		code := f.activate(t, "ledger", 3)
		before := f.standing(t, code)
		rr := f.mustReserve(t, code, "app", "ledger")
		for range 3 {
			decodeOK[api.ReservationResponse](t, f.complete(t, rr.Reservation.ID))
		}
		if got := f.standing(t, code).ledger; got != before.ledger+2 {
			t.Errorf("ledger grew by %d rows, want 2 (reserve, complete)", got-before.ledger)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		code := f.activate(t, "nobody", 3)
		f.mustReserve(t, code, "app", "unrelated")
		before := f.standing(t, code)
		for _, action := range []string{"complete", "release"} {
			r := f.post(t, "/v1/reservations/r_doesnotexist/"+action, "{}")
			wantError(t, r, http.StatusNotFound, api.CodeNotFound)
		}
		f.wantUnchanged(t, code, before)
	})
}

// parallel sends n POST requests at once, the i-th to the path and with the
// body request(i) gives, and returns the answers in that order.
func (f *fixture) parallel(t *testing.T, n int, request func(i int) (path, body string)) []reply {
	t.Helper()
	out := make([]reply, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		path, body := request(i)
		wg.Go(func() {
			<-start
			out[i], errs[i] = f.send(t.Context(), http.MethodPost, path, strings.NewReader(body), "Content-Type", "application/json")
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

func statuses(rs []reply) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.status)
	}
	slices.Sort(out)
	return out
}

func TestConcurrentComplete(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	id := f.mustReserve(t, code, "app", "once").Reservation.ID
	before := f.standing(t, code)

	replies := f.parallel(t, 10, func(int) (string, string) { return "/v1/reservations/" + id + "/complete", "{}" })
	for _, r := range replies {
		got := decodeOK[api.ReservationResponse](t, r)
		if got.Reservation.State != api.StateConsumed || got.Remaining != 2 {
			t.Errorf("answer %+v, want consumed with 2 remaining", got)
		}
	}
	f.wantCounts(t, code, counts(3, 2, 0, 1))
	if got := f.standing(t, code).ledger; got != before.ledger+1 {
		t.Errorf("ledger grew by %d rows, want exactly one completion", got-before.ledger)
	}
}

func TestConcurrentCompleteAndRelease(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	id := f.mustReserve(t, code, "app", "race").Reservation.ID

	// Whichever comes first wins for good: consumed once, or released
	// once; the other kind of request is refused, never both counted.
	replies := f.parallel(t, 10, func(i int) (string, string) {
		if i%2 == 0 {
			return "/v1/reservations/" + id + "/complete", "{}"
		}
		return "/v1/reservations/" + id + "/release", "{}"
	})
	var completed, released int
	for i, r := range replies {
		if r.status != http.StatusOK {
			wantError(t, r, http.StatusConflict, api.CodeConflict)
			continue
		}
		if i%2 == 0 {
			completed++
		} else {
			released++
		}
	}
	switch {
	case completed > 0 && released == 0:
		f.wantCounts(t, code, counts(3, 2, 0, 1))
	case released > 0 && completed == 0:
		f.wantCounts(t, code, counts(3, 3, 0, 0))
	default:
		t.Fatalf("%d completions and %d releases both succeeded", completed, released)
	}
}

func TestConcurrentReserve(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")

	t.Run("same key", func(t *testing.T) {
		code := f.activate(t, "alice", 3)
		body := mustJSON(t, reserveRequest(code, "app", "double-click"))
		replies := f.parallel(t, 10, func(int) (string, string) { return "/v1/reservations", body })
		ids := map[string]bool{}
		for _, r := range replies {
			ids[decodeOK[api.ReservationResponse](t, r).Reservation.ID] = true
		}
		if len(ids) != 1 {
			t.Errorf("one idempotency key made %d reservations", len(ids))
		}
		f.wantCounts(t, code, counts(3, 2, 1, 0))
	})
	t.Run("more requests than units", func(t *testing.T) {
		code := f.activate(t, "bob", 3)
		var bodies []string
		for i := range 10 {
			bodies = append(bodies, mustJSON(t, reserveRequest(code, "app", fmt.Sprintf("machine-%d", i))))
		}
		replies := f.parallel(t, 10, func(i int) (string, string) { return "/v1/reservations", bodies[i] })
		want := []int{200, 200, 200, 409, 409, 409, 409, 409, 409, 409}
		if got := statuses(replies); !slices.Equal(got, want) {
			t.Errorf("statuses %v, want %v", got, want)
		}
		for _, r := range replies {
			if r.status == http.StatusConflict {
				wantError(t, r, http.StatusConflict, api.CodeExhausted)
			}
		}
		f.wantCounts(t, code, counts(3, 0, 3, 0))
	})
}
