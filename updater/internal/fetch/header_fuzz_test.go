package fetch

import (
	"fmt"
	"testing"
	"time"
)

// Retry-After comes from the server, or from anything between: any text
// gives a wait that is never negative, and nothing unreadable is a wait.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", " 7 ", "-1", "1e3", "99999999999999999999999",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "soon"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v: negative", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v but not ok", v, d)
		}
	})
}

// A 206 is accepted only when its Content-Range is exactly the rest of the
// file from where the partial download stopped.
func FuzzContentRangeFits(f *testing.F) {
	f.Add("bytes 100-259/260", int64(100), int64(260))
	f.Add("bytes 0-0/1", int64(0), int64(1))
	f.Add("bytes 100-259/*", int64(100), int64(260))
	f.Add("bytes 0100-259/260", int64(100), int64(260))
	f.Add("bytes +100-259/260", int64(100), int64(260))
	f.Add("bytes 100-259/260 ", int64(100), int64(260))
	f.Fuzz(func(t *testing.T, cr string, offset, size int64) {
		if contentRangeFits(cr, offset, size) && cr != fmt.Sprintf("bytes %d-%d/%d", offset, size-1, size) {
			t.Fatalf("contentRangeFits(%q, %d, %d) accepted a range that is not the rest of the file", cr, offset, size)
		}
	})
}
