package server_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/metrics"
)

// scraped is one scrape of /metrics: each sample's value by its name and
// sorted labels, `name{a="x",b="y"}`, and the metric families.
type scraped struct {
	values   map[string]float64
	families map[string]*dto.MetricFamily
	text     []byte
}

func sampleKey(name string, labels []*dto.LabelPair) string {
	var ls []string
	for _, l := range labels {
		ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(ls)
	return name + "{" + strings.Join(ls, ",") + "}"
}

// scrape reads url's /metrics once every earlier request was counted: the
// middleware counts a request just after its answer has left, so it waits
// until the scrape is the only request in flight.
func scrape(t *testing.T, client *http.Client, url string) scraped {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Get(url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, err = body.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %d %.300s %v", resp.StatusCode, body.String(), err)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(body.Bytes()))
		if err != nil {
			t.Fatalf("parsing /metrics: %v\n%s", err, body.String())
		}
		s := scraped{values: map[string]float64{}, families: fams, text: body.Bytes()}
		for name, fam := range fams {
			for _, m := range fam.GetMetric() {
				switch {
				case m.Counter != nil:
					s.values[sampleKey(name, m.GetLabel())] = m.GetCounter().GetValue()
				case m.Gauge != nil:
					s.values[sampleKey(name, m.GetLabel())] = m.GetGauge().GetValue()
				case m.Histogram != nil:
					s.values[sampleKey(name+"_count", m.GetLabel())] = float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
		if s.values["aktuald_http_requests_in_flight{}"] == 1 || time.Now().After(deadline) {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s scraped) want(t *testing.T, key string, want float64) {
	t.Helper()
	got, ok := s.values[key]
	if !ok {
		t.Errorf("%s: no such sample", key)
	} else if got != want {
		t.Errorf("%s = %v, want %v", key, got, want)
	}
}

// labelValues lists every value a label takes in the scrape's aktuald_ metrics.
func (s scraped) labelValues(label string) []string {
	var vs []string
	for name, fam := range s.families {
		if !strings.HasPrefix(name, "aktuald_") {
			continue
		}
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && !slices.Contains(vs, l.GetValue()) {
					vs = append(vs, l.GetValue())
				}
			}
		}
	}
	sort.Strings(vs)
	return vs
}

// TestMetricsCountAScenario runs what customers and their installers do
// (latest, downloads whole and resumed, reserve and its repeat, complete,
// wrong credentials of every kind) and reads every count back from /metrics.
func TestMetricsCountAScenario(t *testing.T) {
	f := newFixture(t)
	data := f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	f.publish(t, "abacus", api.SeriesClassic, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 1)
	sum := sha256Hex(data)

	decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/app/latest?os=linux&arch=amd64"))
	if r := f.get(t, "/v1/artifacts/"+sum); r.status != http.StatusOK || !bytes.Equal(r.body, data) {
		t.Fatalf("download: %v", r)
	}
	if r := f.get(t, "/v1/artifacts/"+sum, "Range", "bytes=0-9"); r.status != http.StatusPartialContent || len(r.body) != 10 {
		t.Fatalf("resumed download: %v", r)
	}
	if r := f.get(t, "/v1/artifacts/"+sum, "If-None-Match", `"`+sum+`"`); r.status != http.StatusNotModified {
		t.Fatalf("conditional download: %v", r)
	}
	if r := f.do(t, http.MethodHead, "/v1/artifacts/"+sum, nil); r.status != http.StatusOK {
		t.Fatalf("HEAD: %v", r)
	}
	wantError(t, f.get(t, "/v1/artifacts/"+sha256Hex([]byte("never published"))), http.StatusNotFound, api.CodeNotFound)

	id := f.mustReserve(t, code, "app", "k1").Reservation.ID
	f.mustReserve(t, code, "app", "k1") // the installer's retry: the same answer
	wantError(t, f.reserve(t, reserveRequest(code, "app", "k2")), http.StatusConflict, api.CodeExhausted)
	wantError(t, f.reserve(t, reserveRequest(wrongCode(t), "app", "k3")), http.StatusForbidden, api.CodeUnknownCredential)
	wantError(t, f.reserve(t, reserveRequest(typo(t, code, 2), "app", "k4")), http.StatusBadRequest, api.CodeInvalidCode)
	wantError(t, f.reserve(t, api.ReserveRequest{IdempotencyKey: "k5", Credential: api.Credential{Session: "s_nosuchsession", InternetCode: "1234-5678"},
		Product: "abacus", FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "machine-1"}), http.StatusForbidden, api.CodeUnknownCredential)
	decodeOK[api.ReservationResponse](t, f.complete(t, id))
	decodeOK[api.ReservationResponse](t, f.complete(t, id))
	wantError(t, f.complete(t, "r_nosuchreservation"), http.StatusNotFound, api.CodeNotFound)
	wantError(t, f.release(t, id), http.StatusConflict, api.CodeConflict)
	wantError(t, f.get(t, "/v1/reservations"), http.StatusMethodNotAllowed, api.CodeBadRequest)

	// A hardware key the vendor never issued.
	ch := decodeOK[api.ChallengeResponse](t, f.post(t, "/v1/classic/challenges", ""))
	_, forger, _ := ed25519.GenerateKey(rand.Reader)
	lic, err := hwkey.Issue(forger, "HK-FORGED", "Mallory", nil, time.Now().Add(-time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := hwkey.ParseFile(lic)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := key.Sign(t.Context(), ch.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, f.post(t, "/v1/classic/sessions", mustJSON(t, api.ClassicSessionRequest{
		Licence: key.Envelope(), Challenge: ch.Challenge, Signature: sig,
		Product: "abacus", FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "machine-1",
	})), http.StatusForbidden, api.CodeUnknownCredential)

	m := scrape(t, f.http, f.url)
	for key, want := range map[string]float64{
		`aktuald_reservations_total{outcome="reserved"}`:           1,
		`aktuald_reservations_total{outcome="replayed"}`:           1,
		`aktuald_reservations_total{outcome="exhausted"}`:          1,
		`aktuald_reservations_total{outcome="unknown_credential"}`: 2,
		`aktuald_reservations_total{outcome="invalid_code"}`:       1,
		`aktuald_reservations_total{outcome="rate_limited"}`:       0,
		`aktuald_reservations_total{outcome="error"}`:              0,
		`aktuald_completions_total{outcome="completed"}`:           1,
		`aktuald_completions_total{outcome="replayed"}`:            1,
		`aktuald_completions_total{outcome="not_found"}`:           1,
		`aktuald_releases_total{outcome="released"}`:               0,
		`aktuald_releases_total{outcome="conflict"}`:               1,
		`aktuald_artifact_downloads_total{result="full"}`:          1,
		`aktuald_artifact_downloads_total{result="partial"}`:       1,
		`aktuald_artifact_downloads_total{result="not_modified"}`:  1,
		`aktuald_artifact_downloads_total{result="not_found"}`:     1,
		`aktuald_artifact_downloads_total{result="redirect"}`:      0,
		`aktuald_artifact_bytes_served_total{}`:                    float64(len(data) + 10),
		`aktuald_credential_failures_total{kind="pro_code"}`:       1,
		`aktuald_credential_failures_total{kind="internet_code"}`:  1,
		`aktuald_credential_failures_total{kind="classic_key"}`:    1,

		`aktuald_http_requests_total{code="200",method="GET",route="/v1/artifacts/{sha256}"}`:          1,
		`aktuald_http_requests_total{code="200",method="HEAD",route="/v1/artifacts/{sha256}"}`:         1,
		`aktuald_http_requests_total{code="206",method="GET",route="/v1/artifacts/{sha256}"}`:          1,
		`aktuald_http_requests_total{code="200",method="POST",route="/v1/reservations"}`:               2,
		`aktuald_http_requests_total{code="403",method="POST",route="/v1/reservations"}`:               2,
		`aktuald_http_requests_total{code="405",method="GET",route="/v1/reservations"}`:                1,
		`aktuald_http_requests_total{code="200",method="POST",route="/v1/reservations/{id}/complete"}`: 2,
		`aktuald_http_request_duration_seconds_count{route="/v1/products/{product}/latest"}`:           1,
		`aktuald_http_request_duration_seconds_count{route="/v1/artifacts/{sha256}"}`:                  5,
		`aktuald_build_info{version="test"}`:                                                           1,
		`aktuald_draining{}`:                                                                           0,
		`aktuald_http_requests_in_flight{}`:                                                            1, // the scrape
	} {
		m.want(t, key, want)
	}
	// Routes are the patterns, never a path a client chose.
	wantRoutes := []string{"/v1/artifacts/{sha256}", "/v1/classic/challenges", "/v1/classic/sessions",
		"/v1/products/{product}/latest", "/v1/reservations", "/v1/reservations/{id}/complete", "/v1/reservations/{id}/release"}
	got := slices.DeleteFunc(m.labelValues("route"), func(r string) bool { return r == metrics.Path })
	if !slices.Equal(got, wantRoutes) {
		t.Errorf("route labels %q, want %q", got, wantRoutes)
	}
	if strings.Contains(string(m.text), sum) || strings.Contains(string(m.text), "nosuch") {
		t.Errorf("/metrics shows a path:\n%s", m.text)
	}
	if _, ok := m.families["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics (go_goroutines)")
	}
	problems, err := promlint.New(bytes.NewReader(m.text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "aktuald_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
}

// TestMetricsRouteLabelsAreBounded: whatever path or method a client
// sends, the labels take only values the server chose (for a redirect of
// its own, ServeMux can report the path it redirects to as the pattern).
func TestMetricsRouteLabelsAreBounded(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/made/../up1"},
		{"GET", "//made-up2"},
		{"GET", "/v1/artifacts/made-up3/"},
		{"GET", "/made-up4"},
		{"MADEUP5", "/v1/reservations"},
		{"CONNECT", "/made-up6"},
	} {
		if _, err := f.send(t.Context(), tc.method, tc.path, nil); err != nil {
			t.Fatal(err)
		}
	}
	m := scrape(t, f.http, f.url)
	if strings.Contains(strings.ToLower(string(m.text)), "made") {
		t.Errorf("a label took a value from a request:\n%s", m.text)
	}
	for _, r := range m.labelValues("route") {
		if !slices.Contains([]string{"/", "/v1/artifacts/{sha256}", "/v1/reservations", "unmatched", metrics.Path}, r) {
			t.Errorf("route label %q", r)
		}
	}
}

// TestMetricsPerServer: two servers in one process count apart.
func TestMetricsPerServer(t *testing.T) {
	a, b := newFixture(t), newFixture(t)
	a.get(t, "/healthz")
	a.get(t, "/healthz")
	b.get(t, "/healthz")
	scrape(t, a.http, a.url).want(t, `aktuald_http_requests_total{code="200",method="GET",route="/healthz"}`, 2)
	scrape(t, b.http, b.url).want(t, `aktuald_http_requests_total{code="200",method="GET",route="/healthz"}`, 1)
}

// TestMetricsOnTheirOwnListener: with SeparateMetrics the API's handler
// does not serve /metrics; MetricsHandler does, and serves nothing else.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	var srv *server.Server
	f := newFixtureWith(t, func(s *server.Server) {
		s.SeparateMetrics = true
		srv = s
	})
	wantError(t, f.get(t, "/metrics"), http.StatusNotFound, api.CodeNotFound)
	f.get(t, "/healthz")
	ms := httptest.NewServer(srv.MetricsHandler())
	t.Cleanup(ms.Close)
	m := scrape(t, ms.Client(), ms.URL)
	m.want(t, `aktuald_http_requests_total{code="200",method="GET",route="/healthz"}`, 1)
	m.want(t, `aktuald_http_requests_total{code="404",method="GET",route="/"}`, 1)
	resp, err := ms.Client().Get(ms.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the metrics listener answers /healthz with %d, want 404", resp.StatusCode)
	}
}

// TestRequestLog: one JSON line per request with what an operator needs,
// and nothing that would let a reader of the log use a credential: no
// code, no Internet code, no session (its page shows the Internet code).
func TestRequestLog(t *testing.T) {
	var log lockedBuffer
	f := newFixtureWith(t, func(s *server.Server) {
		s.Logger = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := wrongCode(t)
	const session = "s_secretsessionid"
	f.get(t, "/healthz") // a probe: debug, not logged at info
	wantError(t, f.reserve(t, reserveRequest(code, "app", "k1")), http.StatusForbidden, api.CodeUnknownCredential)
	wantError(t, f.reserve(t, api.ReserveRequest{IdempotencyKey: "k2", Credential: api.Credential{Session: session, InternetCode: "1234-5678"},
		Product: "app", FromVersion: "1.0.0", ToVersion: "2.0.0", MachineID: "machine-1"}), http.StatusForbidden, api.CodeUnknownCredential)
	f.get(t, "/classic/"+session)
	text := log.waitFor(t, `"route":"/classic/{id}"`)

	var requests []map[string]any
	for line := range strings.Lines(text) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if rec["msg"] == "request" {
			requests = append(requests, rec)
		}
	}
	if len(requests) != 3 {
		t.Fatalf("%d request lines, want 3 (the probe at debug is not logged):\n%s", len(requests), text)
	}
	first := requests[0]
	for _, k := range []string{"time", "level", "method", "route", "status", "bytes", "duration", "remote", "error"} {
		if _, ok := first[k]; !ok {
			t.Errorf("request line %v lacks %q", first, k)
		}
	}
	if first["level"] != "INFO" || first["method"] != "POST" || first["route"] != "/v1/reservations" ||
		first["status"] != float64(http.StatusForbidden) || first["error"] != api.CodeUnknownCredential {
		t.Errorf("request line %v", first)
	}
	digits := strings.ReplaceAll(code, "-", "")
	for _, secret := range []string{code, digits[:10], "secretsession", "1234-5678"} {
		if strings.Contains(strings.ReplaceAll(text, "-", ""), strings.ReplaceAll(secret, "-", "")) {
			t.Errorf("the log shows %q:\n%s", secret, text)
		}
	}
}

// TestRequestLogLevels: a server failure is logged at error; probes at
// debug.
func TestRequestLogLevels(t *testing.T) {
	inst, err := datadir.Open(datadir.DataDir(t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	srv := server.New(inst, "test", slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	f := &fixture{inst: inst, url: ts.URL, http: ts.Client()}
	f.get(t, "/healthz")
	log.waitFor(t, `level=DEBUG msg=request method=GET route=/healthz status=200`)
	if err := inst.Close(); err != nil {
		t.Fatal(err)
	}
	wantError(t, f.get(t, "/readyz"), http.StatusServiceUnavailable, api.CodeInternal)
	log.waitFor(t, `level=ERROR msg=request method=GET route=/readyz status=503`)
}
