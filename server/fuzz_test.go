package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/keyring"
	"github.com/aktual/aktual/server/store"
)

// The fuzz targets run the real handler over a real instance (SQLite, keys,
// blobs), set up once per fuzz worker. Update codes, reservation and
// session IDs are random in each worker, so inputs name them by
// placeholder (fuzzPlaceholders) and a seed can be a valid request that
// reaches the store.

// fuzzPlaceholders are what an input may say instead of a worker's values.
var fuzzPlaceholders = []string{
	"$CODE",      // the seeded customer's Pro update code
	"$HELD",      // a reservation made with it at setup
	"$SESSION",   // an open classic session of the seeded hardware key
	"$ICODE",     // that session's Internet code
	"$LICENCE",   // the seeded hardware key's signed licence (JSON)
	"$CHALLENGE", // a fresh challenge (base64), made for this input
	"$SIG",       // the seeded key's signature of that challenge (base64)
	"$SHA",       // the sha256 of a published artifact
}

type fuzzServer struct {
	inst    *datadir.Instance
	handler http.Handler
	key     *hwkey.FileKey
	// creds are the seeded entitlements whose ledger must always balance.
	creds   []store.Credential
	replace *strings.Replacer // the fixed placeholders
}

const fuzzSerial = "HK-FUZZ"

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	ctx := context.Background()
	inst, err := datadir.Open(datadir.DataDir(f.TempDir()), "")
	if err != nil {
		f.Fatalf("Open: %v", err)
	}
	f.Cleanup(func() { inst.Close() })
	adm := admin.New(inst)
	var sha string
	for _, p := range []struct{ product, series string }{{proApp, api.SeriesPro}, {classicApp, api.SeriesClassic}} {
		data := artifactBytes(p.product, "2.0.0", "linux", "amd64")
		if _, err := adm.Publish(ctx, admin.PublishParams{Product: p.product, Series: p.series, Version: "2.0.0",
			OS: "linux", Arch: "amd64", File: bytes.NewReader(data)}); err != nil {
			f.Fatalf("Publish(%s): %v", p.product, err)
		}
		if sha == "" {
			sha = sha256Hex(data)
		}
	}
	// Enough updates that a minute of fuzzing rarely spends them all.
	act, err := adm.ActivatePro(ctx, "fuzz", 10000)
	if err != nil {
		f.Fatalf("ActivatePro: %v", err)
	}
	if _, err := adm.ActivateClassic(ctx, "fuzz", fuzzSerial, 10000); err != nil {
		f.Fatalf("ActivateClassic: %v", err)
	}
	code, err := api.ParseCode(act.Code)
	if err != nil {
		f.Fatal(err)
	}
	lic, err := hwkey.Issue(inst.Keys.Release, fuzzSerial, "Fuzz", nil, time.Now().Add(-time.Hour), time.Time{})
	if err != nil {
		f.Fatalf("Issue: %v", err)
	}
	key, err := hwkey.ParseFile(lic)
	if err != nil {
		f.Fatalf("ParseFile: %v", err)
	}
	s := &fuzzServer{
		inst:    inst,
		handler: server.New(inst, "fuzz", nil).Handler(),
		key:     key,
		creds:   []store.Credential{{CodeHash: keyring.CodeHash(inst.Keys.CodeSecret, code)}, {HWKeySerial: fuzzSerial}},
	}

	var held api.ReservationResponse
	s.mustPost(f, "/v1/reservations", mustMarshal(f, reserveRequest(act.Code, proApp, "fuzz-held")), &held)
	challenge, sig := s.challenge(f)
	var session api.ClassicSession
	s.mustPost(f, "/v1/classic/sessions", mustMarshal(f, api.ClassicSessionRequest{
		Licence: key.Envelope(), Challenge: challenge, Signature: sig,
		Product: classicApp, FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: machine1,
	}), &session)
	s.replace = strings.NewReplacer(
		"$CODE", act.Code,
		"$HELD", held.Reservation.ID,
		"$SESSION", session.ID,
		"$ICODE", api.DeriveInternetCode(inst.Keys.CodeSecret, session.ID).String(),
		"$LICENCE", string(mustMarshal(f, key.Envelope())),
		"$SHA", sha,
	)
	for _, p := range fuzzPlaceholders {
		if p != "$CHALLENGE" && p != "$SIG" && s.replace.Replace(p) == p { // those two are made per input (fill)
			f.Fatalf("the placeholder %s is documented but never filled", p)
		}
	}
	return s
}

func mustMarshal(f testing.TB, v any) []byte {
	f.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// serve runs one request through the handler.
func (s *fuzzServer) serve(method string, u *url.URL, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	req.URL = u
	req.RequestURI = u.RequestURI()
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

func (s *fuzzServer) mustPost(f testing.TB, p string, body []byte, out any) {
	f.Helper()
	rec := s.serve(http.MethodPost, &url.URL{Path: p}, body)
	if rec.Code != http.StatusOK {
		f.Fatalf("POST %s: %d %s", p, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		f.Fatalf("POST %s: %v", p, err)
	}
}

// challenge asks the handler for a challenge and signs it with the key.
func (s *fuzzServer) challenge(f testing.TB) (challenge, sig []byte) {
	f.Helper()
	var cr api.ChallengeResponse
	s.mustPost(f, "/v1/classic/challenges", []byte("{}"), &cr)
	sig, err := s.key.Sign(context.Background(), cr.Challenge)
	if err != nil {
		f.Fatal(err)
	}
	return cr.Challenge, sig
}

// fill replaces the placeholders in in; a fresh challenge is made only for
// an input that asks for one.
func (s *fuzzServer) fill(t *testing.T, in string) string {
	if strings.Contains(in, "$CHALLENGE") || strings.Contains(in, "$SIG") {
		c, sig := s.challenge(t)
		in = strings.NewReplacer("$CHALLENGE", base64.StdEncoding.EncodeToString(c),
			"$SIG", base64.StdEncoding.EncodeToString(sig)).Replace(in)
	}
	return s.replace.Replace(in)
}

// segmentURL is the URL of prefix, one path segment holding seg (every
// byte but letters, digits, '_' and '-' percent-encoded, so the segment
// stays one segment whatever it holds), then suffix and a raw query.
func segmentURL(prefix, seg, suffix, rawQuery string) *url.URL {
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hexByte(c)))
		}
	}
	return &url.URL{Path: prefix + seg + suffix, RawPath: prefix + b.String() + suffix, RawQuery: rawQuery}
}

func hexByte(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// muxRedirects reports whether http.ServeMux answers p with a redirect to
// its clean form (only an empty segment, "//", can make one here: every
// other byte of a fuzzed segment is escaped).
func muxRedirects(escapedPath string) bool {
	clean := path.Clean(escapedPath)
	if strings.HasSuffix(escapedPath, "/") && clean != "/" {
		clean += "/"
	}
	return clean != escapedPath
}

// checkAnswer requires a 2xx, or a 4xx with the API's error body.
func checkAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	switch {
	case rec.Code >= 200 && rec.Code < 300:
		if rec.Header().Get("Content-Type") == "application/json" && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: %d answer is not valid JSON: %.300q", what, rec.Code, rec.Body)
		}
		return
	case rec.Code < 400 || rec.Code > 499:
		t.Fatalf("%s: answered %d, want a 2xx or a 4xx: %.300q", what, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: %d answer has Content-Type %q, want application/json: %.300q", what, rec.Code, ct, rec.Body)
	}
	var eb api.ErrorBody
	if err := api.DecodeStrict(rec.Body.Bytes(), &eb); err != nil {
		t.Fatalf("%s: %d answer %.300q is not {\"error\": {\"code\", \"message\"}}: %v", what, rec.Code, rec.Body, err)
	}
	if eb.Error.Code == "" || strings.TrimSpace(eb.Error.Message) == "" {
		t.Fatalf("%s: %d answer %+v lacks a code or a message", what, rec.Code, eb.Error)
	}
}

// checkLedger requires every seeded entitlement to balance:
// purchased = remaining + held + consumed, none negative.
func (s *fuzzServer) checkLedger(t *testing.T, what string) {
	t.Helper()
	for _, c := range s.creds {
		e, err := s.inst.Store.Entitlement(context.Background(), c)
		if err != nil {
			t.Fatalf("%s: Entitlement: %v", what, err)
		}
		if e.Purchased != e.Remaining+e.Held+e.Consumed || e.Remaining < 0 || e.Held < 0 || e.Consumed < 0 {
			t.Fatalf("%s: ledger of %s does not balance: purchased %d, remaining %d, held %d, consumed %d",
				what, e.Customer, e.Purchased, e.Remaining, e.Held, e.Consumed)
		}
	}
}

// fuzzPostRoutes are the endpoints that take a JSON body; "{id}" is where
// the fuzzed id goes.
var fuzzPostRoutes = []string{
	"/v1/reservations",
	"/v1/reservations/{id}/complete",
	"/v1/reservations/{id}/release",
	"/v1/classic/challenges",
	"/v1/classic/sessions",
	"/v1/entitlements/query",
}

// FuzzServerRequests sends arbitrary bodies (and reservation IDs) to every
// POST endpoint of the API: never a panic, never a 5xx, every refusal the
// API's error body, and the seeded ledgers always balance.
func FuzzServerRequests(f *testing.F) {
	s := newFuzzServer(f)
	reserve := `{"idempotency_key":"k1","credential":{"code":"$CODE"},"product":"ledger","from_version":"1.0.0","to_version":"2.0.0","machine_id":"m1"}`
	classicReserve := `{"idempotency_key":"k2","credential":{"session":"$SESSION","internet_code":"$ICODE"},"product":"abacus","from_version":"1.0.0","to_version":"2.0.0","machine_id":"machine-1"}`
	open := `{"licence":$LICENCE,"challenge":"$CHALLENGE","signature":"$SIG","product":"abacus","from_version":"1.0.0","to_version":"2.0.0","machine_id":"machine-1"}`
	for _, seed := range []struct {
		route    uint8
		id, body string
	}{
		{0, "", reserve},
		{0, "", classicReserve},
		{0, "", strings.Replace(reserve, `"product":"ledger"`, `"product":"ledger","product":"abacus"`, 1)},
		{0, "", strings.Replace(reserve, `"product"`, `"Product"`, 1)},
		{0, "", strings.Replace(reserve, `}}`, `,"admin":true}}`, 1)},
		{0, "", strings.Replace(reserve, `"m1"`, `1e999`, 1)},
		{0, "", reserve + `{}`},
		{0, "", "null"},
		{0, "", strings.Repeat("[", 5000)},
		{1, "$HELD", "{}"},
		{1, "$HELD", ""},
		{1, "..", "{}"},
		{2, "$HELD", "{}"},
		{2, "r_nosuch", "[]"},
		{3, "", "{}"},
		{4, "", open},
		{4, "", strings.Replace(open, `"$SIG"`, `null`, 1)},
		{4, "", strings.Replace(open, `"$CHALLENGE"`, `"not base64!"`, 1)},
		{4, "", `{"licence":[],"product":1}`},
		{5, "", `{"credential":{"code":"$CODE"},"product":"ledger"}`},
		{5, "", `{"credential":{"hwkey":{"licence":$LICENCE,"challenge":"$CHALLENGE","signature":"$SIG"}},"product":"abacus"}`},
		{5, "", `{"credential":{"code":"$CODE","hwkey":{}},"product":"ledger"}`},
	} {
		f.Add(seed.route, seed.id, []byte(seed.body))
	}

	f.Fuzz(func(t *testing.T, route uint8, id string, body []byte) {
		pattern := fuzzPostRoutes[int(route)%len(fuzzPostRoutes)]
		prefix, suffix, hasID := strings.Cut(pattern, "{id}")
		var u *url.URL
		if hasID {
			u = segmentURL(prefix, s.fill(t, id), suffix, "")
		} else {
			u = &url.URL{Path: pattern}
		}
		filled := []byte(s.fill(t, string(body)))
		what := "POST " + u.EscapedPath()
		rec := s.serve(http.MethodPost, u, filled)
		if muxRedirects(u.EscapedPath()) {
			if rec.Code < 300 || rec.Code > 399 {
				t.Fatalf("%s: answered %d, want ServeMux's redirect to the clean path", what, rec.Code)
			}
			return
		}
		checkAnswer(t, what, rec)
		s.checkLedger(t, what)
	})
}

// fuzzGetRoutes are the GET endpoints whose path segment and query come
// from outside.
var fuzzGetRoutes = []struct{ prefix, suffix string }{
	{"/v1/products/", "/latest"},
	{"/v1/artifacts/", ""},
	{"/v1/classic/sessions/", ""},
	{"/classic/", ""}, // the page: HTML, not the API's error body
}

// FuzzServerGetPaths sends arbitrary path segments and queries to the GET
// endpoints: only 2xx and 4xx answers, refusals in each route's error form.
func FuzzServerGetPaths(f *testing.F) {
	s := newFuzzServer(f)
	for _, seed := range []struct {
		route         uint8
		seg, rawQuery string
	}{
		{0, proApp, "os=linux&arch=amd64"},
		{0, proApp, "os=linux&arch=amd64&current_sha256=$SHA&nonce=0123456789abcdef0123456789abcdef"},
		{0, proApp, "os=linux&arch=amd64&os=windows"},
		{0, proApp, "os=linux&arch=amd64;x=1"},
		{0, proApp, "os=%zz&arch=amd64"},
		{0, "..", "os=linux&arch=amd64"},
		{0, "", "os=linux&arch=amd64"},
		{0, "nosuch", "os=linux&arch=amd64&nonce=%00"},
		{1, "$SHA", ""},
		{1, "$SHA0", ""},
		{1, "../../keys/release.pem", ""},
		{1, strings.Repeat("a", 64), "download=1"},
		{2, "$SESSION", ""},
		{2, "s_nosuch", ""},
		{2, "\x00", ""},
		{3, "$SESSION", "lang=bg"},
		{3, "s_nosuch", ""},
		{3, "ѕ_lookalike", ""},
	} {
		f.Add(seed.route, seed.seg, seed.rawQuery)
	}

	f.Fuzz(func(t *testing.T, route uint8, seg, rawQuery string) {
		rt := fuzzGetRoutes[int(route)%len(fuzzGetRoutes)]
		u := segmentURL(rt.prefix, s.fill(t, seg), rt.suffix, s.fill(t, rawQuery))
		what := "GET " + u.RequestURI()
		rec := s.serve(http.MethodGet, u, nil)
		switch {
		case muxRedirects(u.EscapedPath()):
			if rec.Code < 300 || rec.Code > 399 {
				t.Fatalf("%s: answered %d, want ServeMux's redirect to the clean path", what, rec.Code)
			}
		case rt.prefix == "/classic/" && strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html"):
			// The page says what is wrong in HTML, with a 404 for a link
			// that is not valid. (A path outside its pattern, such as
			// /classic/%2F, is the API's 404.)
			if rec.Code != http.StatusOK && rec.Code != http.StatusNotFound {
				t.Fatalf("%s: page answered %d, want 200 or 404: %.300q", what, rec.Code, rec.Body)
			}
			if rec.Code == http.StatusNotFound && !strings.Contains(rec.Body.String(), `id="problem"`) {
				t.Fatalf("%s: 404 page does not say what is wrong: %.300q", what, rec.Body)
			}
		default:
			checkAnswer(t, what, rec)
		}
	})
}
