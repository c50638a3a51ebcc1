package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
)

// Labels come from bounded sets, never from what a client sent.
func TestLabelsAreBounded(t *testing.T) {
	for in, want := range map[string]string{"": "unmatched", "GET /v1/artifacts/{sha256}": "/v1/artifacts/{sha256}", "/": "/"} {
		if got := RouteLabel(in); got != want {
			t.Errorf("RouteLabel(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"GET": "GET", "POST": "POST", "BREW": "other", "get": "other"} {
		if got := MethodLabel(in); got != want {
			t.Errorf("MethodLabel(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct {
		code   string
		status int
		want   string
	}{
		{api.CodeExhausted, 409, api.CodeExhausted},
		{"made-up-by-a-handler", 400, ""},
		{api.CodeInternal, 500, api.CodeInternal},
		{api.CodeExhausted, 200, ""},
	} {
		if got := ErrorCode(&RequestInfo{errorCode: tc.code}, tc.status); got != tc.want {
			t.Errorf("ErrorCode(%q, %d) = %q, want %q", tc.code, tc.status, got, tc.want)
		}
	}
}

// A handler's notes reach the middleware through the request, and the
// collectors count the route's outcome.
func TestObserveCountsOutcomes(t *testing.T) {
	m := New(Server{Version: "test", InFlight: func() int64 { return 0 }, Draining: func() bool { return false }})
	r, info := WithInfo(httptest.NewRequest("POST", "/v1/reservations", nil))
	NoteOutcome(r, OutcomeReserved)
	rec := &Recorder{ResponseWriter: httptest.NewRecorder()}
	rec.WriteHeader(http.StatusOK)
	m.Observe(PatternReserve, r.Method, rec, info, 0)
	r2, info2 := WithInfo(httptest.NewRequest("POST", "/v1/reservations", nil))
	NoteErrorCode(r2, api.CodeExhausted)
	rec2 := &Recorder{ResponseWriter: httptest.NewRecorder()}
	rec2.WriteHeader(http.StatusConflict)
	m.Observe(PatternReserve, r2.Method, rec2, info2, 0)

	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", Path, nil))
	for _, want := range []string{
		`aktuald_reservations_total{outcome="reserved"} 1`,
		`aktuald_reservations_total{outcome="exhausted"} 1`,
		`aktuald_build_info{version="test"} 1`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("the exposition lacks %s", want)
		}
	}
}
