package server

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

// FuzzCheckReports: any body decodes and is judged without panicking, and
// a batch accepted is accepted again after a round trip through JSON (what
// is stored is what was checked).
func FuzzCheckReports(f *testing.F) {
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Add([]byte(`{"reports":[{"id":"0123456789abcdef0123456789abcdef","product":"ledger","installation":"00000000000000000000000000000001",` +
		`"from_version":"1.0.0","to_version":"2.0.0","outcome":"failed","exit_code":4,"cause":"credential_rejected",` +
		`"phases_ms":{"check":3,"download":40},"installer":"1.4.0+dirty","os":"linux","arch":"amd64","at":"2031-01-02T03:00:00Z"}]}`))
	f.Add([]byte(`{"reports":[]}`))
	f.Add([]byte(`{"reports":[{"id":"x","at":"0001-01-01T00:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var b api.ReportBatch
		if err := api.DecodeStrict(body, &b); err != nil {
			return
		}
		msg, ok := checkBatch(b, now)
		if !ok {
			if msg.IsZero() {
				t.Fatal("a refusal without a message")
			}
			return
		}
		again, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		var b2 api.ReportBatch
		if err := api.DecodeStrict(again, &b2); err != nil {
			t.Fatalf("an accepted batch does not decode again: %v", err)
		}
		if _, ok := checkBatch(b2, now); !ok {
			t.Fatalf("an accepted batch is refused after a round trip: %s", again)
		}
	})
}
