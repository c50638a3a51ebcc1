package loadgen_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/bench/loadgen"
	"github.com/aktual/aktual/internal/pgtest"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// serve starts the real aktuald handler in process on dbURL ("" for SQLite
// in a temporary folder), with product rc 1.0.0 and 2.0.0 published and
// one update code per entry of updates holding that many updates.
func serve(tb testing.TB, dbURL string, updates ...int64) (url string, codes []string, adm *admin.Admin) {
	tb.Helper()
	ctx := context.Background()
	inst, err := datadir.Open(datadir.DataDir(tb.TempDir()), dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { inst.Close() })
	adm = admin.New(inst)
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if _, err := adm.Publish(ctx, admin.PublishParams{Product: "rc", Series: api.SeriesPro, Version: v,
			OS: "linux", Arch: "amd64", File: strings.NewReader("rc " + v)}); err != nil {
			tb.Fatal(err)
		}
	}
	for i, n := range updates {
		act, err := adm.ActivatePro(ctx, fmt.Sprintf("bench-%d", i), n)
		if err != nil {
			tb.Fatal(err)
		}
		codes = append(codes, act.Code)
	}
	srv := httptest.NewServer(server.New(inst, "bench", nil).Handler())
	tb.Cleanup(srv.Close)
	return srv.URL, codes, adm
}

// TestRun: every transaction the report counts consumed one update, and
// the run stops at its bound.
func TestRun(t *testing.T) {
	url, codes, adm := serve(t, "", 50, 50)
	rep, err := loadgen.Run(t.Context(), loadgen.Config{BaseURL: url, Codes: codes, Product: "rc", From: "1.0.0", To: "2.0.0",
		Clients: 4, Duration: time.Minute, MaxTransactions: 30})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Transactions != 30 || rep.Errors != 0 {
		t.Fatalf("report %+v, want 30 transactions and no errors", rep)
	}
	if rep.TPS <= 0 || rep.P50 <= 0 || rep.P99 < rep.P50 {
		t.Errorf("figures %+v", rep)
	}
	var consumed int64
	for _, c := range codes {
		st, err := adm.ShowCode(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		consumed += st.Consumed
		if st.Held != 0 {
			t.Errorf("code …%s holds %d", st.CodeHint, st.Held)
		}
	}
	if consumed != 30 {
		t.Errorf("consumed %d, want 30", consumed)
	}
}

// TestRunStopsOnErrors: a code with too few updates fails the rest of the
// transactions, and the run ends early with the server's error.
func TestRunStopsOnErrors(t *testing.T) {
	url, codes, _ := serve(t, "", 3)
	rep, err := loadgen.Run(t.Context(), loadgen.Config{BaseURL: url, Codes: codes, Product: "rc", To: "2.0.0",
		Clients: 2, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Transactions != 3 || rep.Errors == 0 || !strings.Contains(rep.FirstError, api.CodeExhausted) {
		t.Errorf("report %+v, want 3 transactions, then exhausted errors", rep)
	}
	if rep.Elapsed > 30*time.Second {
		t.Errorf("ran %v: the errors did not end it", rep.Elapsed)
	}
}

// BenchmarkReserveComplete is the in-process counterpart of bench/run's
// figure 3: 32 clients, one code each, the real handler over loopback HTTP
// (no process boundary, no request log). One op is one transaction.
func BenchmarkReserveComplete(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			dbURL := ""
			if db == "postgres" {
				dbURL = pgtest.URL(b)
			}
			const clients = 32
			updates := make([]int64, clients)
			for i := range updates {
				updates[i] = int64(b.N) + 1 // clients do not share the work evenly
			}
			url, codes, _ := serve(b, dbURL, updates...)
			b.ResetTimer()
			rep, err := loadgen.Run(b.Context(), loadgen.Config{BaseURL: url, Codes: codes, Product: "rc", From: "1.0.0", To: "2.0.0",
				Clients: clients, Duration: 10 * time.Minute, MaxTransactions: int64(b.N)})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if rep.Errors > 0 {
				b.Fatalf("%d errors, the first: %s", rep.Errors, rep.FirstError)
			}
			b.ReportMetric(rep.TPS, "tx/s")
			b.ReportMetric(float64(rep.P99.Microseconds())/1000, "p99-ms")
		})
	}
}
