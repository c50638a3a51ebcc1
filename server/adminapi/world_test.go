package adminapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/pgtest"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/adminapi"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/staff"
	"github.com/aktual/aktual/server/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// world is a server with two replicas on one database, two distributors,
// a customer of each and one of the vendor's own office, a staff account
// of each role with an API token, and ledger 1.0.0 and 2.0.0 published.
type world struct {
	t        testing.TB
	replicas []*httptest.Server
	handlers []http.Handler
	admin    *admin.Admin // replica 0's
	tokens   map[string]string
	ids      map[string]int64 // customer → their entitlement's id
	codes    map[string]string
}

// newWorld opens replicas instances of one data folder on db ("": its
// SQLite file, shared) and serves the admin API of each on loopback.
func newWorld(t testing.TB, db string, replicas int, limit staff.RequestLimit) *world {
	t.Helper()
	dir := datadir.DataDir(t.TempDir())
	w := &world{t: t, tokens: map[string]string{}, ids: map[string]int64{}, codes: map[string]string{}}
	for i := range replicas {
		inst, err := datadir.Open(dir, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { inst.Close() })
		adm := admin.New(inst)
		if i == 0 {
			w.admin = adm
		}
		proxies, _ := staff.ParseProxies([]string{"127.0.0.1/32"})
		a := &adminapi.API{Admin: adm, Limit: limit, Proxies: proxies}
		h := a.Handler()
		w.handlers = append(w.handlers, h)
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		w.replicas = append(w.replicas, srv)
	}
	w.populate()
	return w
}

func (w *world) populate() {
	t, ctx, local := w.t, w.t.Context(), admin.Local("test")
	for _, d := range []string{"Пловдив Софт", "Варна Сис"} {
		if err := w.admin.AddDistributor(ctx, local, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []admin.ActivateRequest{
		{Customer: "Own Ltd", Series: api.SeriesPro, Updates: 3},
		{Customer: "ЕТ Иванов", Series: api.SeriesPro, Updates: 2, Distributor: "Пловдив Софт", VAT: "BG123456789"},
		{Customer: "Варна ООД", Series: api.SeriesClassic, HWKey: "HK-V1", Updates: 2, Distributor: "Варна Сис"},
	} {
		out, err := w.admin.Activate(ctx, local, a)
		if err != nil {
			t.Fatal(err)
		}
		w.ids[a.Customer], w.codes[a.Customer] = out.EntitlementID, out.Code
	}
	for _, s := range []struct{ login, role, dist string }{
		{"boss", "admin", ""}, {"maria", "office", ""}, {"plovdiv", "distributor", "Пловдив Софт"},
		{"varna", "distributor", "Варна Сис"}, {"help", "support", ""},
	} {
		// Straight into the store with one hash for all: these tests
		// sign in with tokens, and argon2id is costly under -race.
		acc := store.StaffAccount{Login: s.login, Role: s.role, Distributor: s.dist, PasswordHash: oneHash(t), CreatedAt: time.Now()}
		if err := w.admin.Store.CreateStaff(ctx, acc, store.Actor{Name: "local:test"}); err != nil {
			t.Fatal(err)
		}
		tok, err := w.admin.CreateToken(ctx, local, s.login, "test", "")
		if err != nil {
			t.Fatal(err)
		}
		w.tokens[s.role+":"+s.login] = tok.Token
		w.tokens[s.login] = tok.Token
	}
	// A reporting script's token of a distributor's account: support's
	// rights, the distributor's customers.
	tok, err := w.admin.CreateToken(ctx, local, "plovdiv", "reports", "support")
	if err != nil {
		t.Fatal(err)
	}
	w.tokens["plovdiv-support"] = tok.Token
	// Two releases, for release control: 2.0.0 is what the routes change.
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if _, err := w.admin.Publish(ctx, admin.PublishParams{Product: "ledger", Series: api.SeriesPro, Version: v,
			OS: "linux", Arch: "amd64", File: strings.NewReader("ledger " + v)}); err != nil {
			t.Fatal(err)
		}
	}
}

// answer is one response: its status, headers and body.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
}

func (a answer) code() string {
	var e api.ErrorBody
	_ = json.Unmarshal(a.body, &e)
	return e.Error.Code
}

// do sends a request to replica i with token ("" : none).
func (w *world) do(i int, token, method, path string, body any, header ...string) answer {
	w.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(w.t.Context(), method, w.replicas[i].URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k := 0; k+1 < len(header); k += 2 {
		req.Header.Set(header[k], header[k+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// oneHash is a password hash made once for every account of the tests.
var oneHash = func() func(testing.TB) string {
	var once sync.Once
	var hash string
	var err error
	return func(t testing.TB) string {
		once.Do(func() { hash, err = staff.HashPassword("a password nobody types") })
		if err != nil {
			t.Fatal(err)
		}
		return hash
	}
}()
