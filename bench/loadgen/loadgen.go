// Package loadgen drives aktuald's two-phase update protocol as a crowd of
// installers on a release day: each client reserves one update (POST
// /v1/reservations with an idempotency key of its own) and completes it
// (POST /v1/reservations/{id}/complete), over and over, until a time or a
// count runs out. It reports what a benchmark needs: transactions per
// second and their latency. It prints nothing (the command does).
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aktual/aktual/api"
)

// maxResponseBody bounds every answer read: a reservation is a few hundred
// bytes, an error a few lines.
const maxResponseBody = 64 << 10

// maxErrors stops a run whose requests keep failing: a wrong code or a
// server that is down should end the run at once, not after its duration.
const maxErrors = 100

// Config is one run. Zero values take working defaults where there is one.
type Config struct {
	// BaseURL is the server, e.g. http://127.0.0.1:8420.
	BaseURL string
	// Codes are the update codes the clients use, client i the code
	// i mod len(Codes): one code makes every transaction lock one
	// entitlement row, one code per client makes them independent.
	Codes []string
	// Product, From and To are what every reservation is for.
	Product, From, To string
	// Clients is how many run at once (default 32).
	Clients int
	// Duration bounds the run (default 10 s).
	Duration time.Duration
	// MaxTransactions bounds it too (0: none but Duration). Keep it below
	// the updates the codes hold, or the run ends in exhausted errors.
	MaxTransactions int64
	// KeyPrefix makes idempotency keys distinct from other runs' on the
	// same database (default: from the clock).
	KeyPrefix string
	// Client sends the requests (default: one keeping a connection per
	// client alive).
	Client *http.Client
}

// Report is what a run did.
type Report struct {
	Clients      int           `json:"clients"`
	Transactions int64         `json:"transactions"` // reserve+complete pairs that both answered 200
	Errors       int64         `json:"errors"`
	FirstError   string        `json:"first_error,omitempty"`
	Elapsed      time.Duration `json:"elapsed_ns"`
	TPS          float64       `json:"tps"`
	P50          time.Duration `json:"p50_ns"`
	P99          time.Duration `json:"p99_ns"`
}

// Run drives the load until ctx ends, Duration passes, MaxTransactions
// are done or the errors pass maxErrors. An error is returned only when
// the configuration is unusable; failed requests are counted in the Report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.BaseURL == "" || len(cfg.Codes) == 0 || cfg.Product == "" || cfg.To == "" {
		return Report{}, errors.New("loadgen: BaseURL, Codes, Product and To are required")
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 32
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = fmt.Sprintf("lg%x", time.Now().UnixNano())
	}
	if cfg.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Clients
		cfg.Client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	var (
		started  atomic.Int64 // transactions begun, against MaxTransactions
		done     atomic.Int64
		failed   atomic.Int64
		firstErr sync.Once
		report   = Report{Clients: cfg.Clients}
		mu       sync.Mutex
		lat      []time.Duration
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		firstErr.Do(func() { report.FirstError = err.Error() })
		if failed.Add(1) >= maxErrors {
			cancel()
		}
	}
	begin := time.Now()
	for i := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client{cfg: &cfg, code: cfg.Codes[i%len(cfg.Codes)], machine: fmt.Sprintf("bench-machine-%d", i)}
			var mine []time.Duration
			for n := 0; ctx.Err() == nil; n++ {
				if cfg.MaxTransactions > 0 && started.Add(1) > cfg.MaxTransactions {
					break // the others finish theirs
				}
				t0 := time.Now()
				key := fmt.Sprintf("%s-%d-%d", cfg.KeyPrefix, i, n)
				if err := c.transaction(ctx, key); err != nil {
					if ctx.Err() == nil { // cut off at the end: not a failure
						fail(err)
					}
					continue
				}
				mine = append(mine, time.Since(t0))
				done.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	report.Elapsed = time.Since(begin)
	report.Transactions = done.Load()
	report.Errors = failed.Load()
	if report.Elapsed > 0 {
		report.TPS = float64(report.Transactions) / report.Elapsed.Seconds()
	}
	report.P50, report.P99 = percentile(lat, 50), percentile(lat, 99)
	return report, nil
}

// percentile is the p-th percentile of ds (nearest rank), 0 for none.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100 // ceil(len*p/100), the nearest rank
	return s[max(i, 1)-1]
}

// client is one installer.
type client struct {
	cfg     *Config
	code    string
	machine string
}

// transaction reserves one update and completes it.
func (c *client) transaction(ctx context.Context, key string) error {
	req := api.ReserveRequest{
		IdempotencyKey: key,
		Credential:     api.Credential{Code: c.code},
		Product:        c.cfg.Product,
		FromVersion:    c.cfg.From,
		ToVersion:      c.cfg.To,
		MachineID:      c.machine,
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	var res api.ReservationResponse
	if err := c.post(ctx, "/v1/reservations", body, &res); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	if res.Reservation.ID == "" || res.Reservation.State != api.StateHeld {
		return fmt.Errorf("reserve: answered reservation %q in state %q, want one held", res.Reservation.ID, res.Reservation.State)
	}
	if err := c.post(ctx, "/v1/reservations/"+res.Reservation.ID+"/complete", nil, &res); err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	if res.Reservation.State != api.StateConsumed {
		return fmt.Errorf("complete: reservation %s is %q, want consumed", res.Reservation.ID, res.Reservation.State)
	}
	return nil
}

// post sends body (none when nil) and decodes a 200 answer into v.
func (c *client) post(ctx context.Context, path string, body []byte, v any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.cfg.BaseURL, "/")+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e api.ErrorBody
		if json.Unmarshal(data, &e) == nil && e.Error.Code != "" {
			return fmt.Errorf("%s: %s: %s", resp.Status, e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("%s", resp.Status)
	}
	return json.Unmarshal(data, v)
}
