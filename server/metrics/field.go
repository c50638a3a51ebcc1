package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// The field reports' gauges (issue 20): what installers reported of each
// release, read from the store when Prometheus scrapes, at most once per
// FieldCacheFor. What each count means is said in server/store/reports.go.

// FieldCacheFor is how long one reading of the field counts is served.
const FieldCacheFor = 30 * time.Second

// MaxFieldVersions bounds the versions per product the gauges carry (the
// newest that installers attempted), and so their labels' cardinality.
const MaxFieldVersions = 10

// fieldReadTimeout bounds one reading of the store during a scrape.
const fieldReadTimeout = 5 * time.Second

// FieldRelease is what was counted of one release in one channel.
type FieldRelease struct {
	Version, Channel                                string
	Offered, Started, Succeeded, RolledBack, Failed int
	FailedBy                                        map[string]int // cause → installations
	Installed                                       int            // installations now on Version
	// How the release is offered: State is live, halted or yanked;
	// Percent is its staged rollout's reach.
	State   string
	Percent int
}

// FieldProduct is a product's counts, newest release first. The server
// leaves out the versions it never published (an installer may say it had
// any version, and labels must come from a bounded set).
type FieldProduct struct {
	Product  string
	Releases []FieldRelease
}

// fieldCauses are the causes a label may name (the installer's error
// codes); any other is counted as "other".
var fieldCauses = map[string]bool{
	"usage": true, "input_needed": true, "declined": true, "busy": true, "no_connection": true,
	"credential_rejected": true, "exhausted": true, "verification_failed": true, "apply_failed": true,
	"not_reported": true, "in_use": true, "interrupted": true, "unexpected": true, "": true,
}

// fieldCollector reads the field counts on scrape.
type fieldCollector struct {
	read     func(context.Context) ([]FieldProduct, error)
	log      *slog.Logger
	installs *prometheus.Desc
	failures *prometheus.Desc
	now      *prometheus.Desc
	control  *prometheus.Desc

	mu     sync.Mutex
	at     time.Time
	cached []FieldProduct
}

// registerField adds the report batches' counter, and the field gauges
// when the server can read its field counts.
func (m *Set) registerField(f promauto.Factory, reg *prometheus.Registry, s Server) {
	m.reportBatches = f.NewCounterVec(prometheus.CounterOpts{
		Name: "aktuald_field_report_batches_total",
		Help: "Batches of field reports received, by outcome: answered, or the error code of the refusal.",
	}, []string{"outcome"})
	if s.Field == nil {
		return
	}
	reg.MustRegister(&fieldCollector{
		read: s.Field,
		log:  s.ErrorLog,
		installs: prometheus.NewDesc("aktuald_field_installs",
			"Installations that reported each stage of an update to a release: offered, started, succeeded, rolled_back, failed (distinct installations; the newest releases only).",
			[]string{"product", "version", "channel", "outcome"}, nil),
		failures: prometheus.NewDesc("aktuald_field_failures",
			"Installations whose attempt at a release failed, by cause (the installer's error code, or other).",
			[]string{"product", "version", "channel", "cause"}, nil),
		now: prometheus.NewDesc("aktuald_field_installations",
			"Installations now on each version, as their latest reports say (the newest releases only).",
			[]string{"product", "version"}, nil),
		control: prometheus.NewDesc("aktuald_release_rollout_percent",
			"How far each release is offered, by state (live, halted, yanked): its staged rollout's percent (the newest releases with field reports only). A halted release (by staff or the automatic brake) has state=\"halted\".",
			[]string{"product", "version", "state"}, nil),
	})
}

func (c *fieldCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.installs
	ch <- c.failures
	ch <- c.now
	ch <- c.control
}

func (c *fieldCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.products() {
		kept := newestVersions(p.Releases)
		installed := map[string]int{}
		control := map[string]FieldRelease{}
		for _, r := range p.Releases {
			if !kept[r.Version] {
				continue
			}
			if r.State != "" {
				control[r.Version] = r
			}
			if r.Offered > 0 {
				c.release(ch, p.Product, r)
			}
			installed[r.Version] += r.Installed
		}
		for v, n := range installed {
			ch <- prometheus.MustNewConstMetric(c.now, prometheus.GaugeValue, float64(n), p.Product, v)
		}
		for v, r := range control {
			ch <- prometheus.MustNewConstMetric(c.control, prometheus.GaugeValue, float64(r.Percent), p.Product, v, r.State)
		}
	}
}

// newestVersions is the set of the newest MaxFieldVersions versions of
// releases (newest first).
func newestVersions(releases []FieldRelease) map[string]bool {
	kept := map[string]bool{}
	for _, r := range releases {
		if kept[r.Version] {
			continue
		}
		if len(kept) == MaxFieldVersions {
			break
		}
		kept[r.Version] = true
	}
	return kept
}

// release sends one release's gauges.
func (c *fieldCollector) release(ch chan<- prometheus.Metric, product string, r FieldRelease) {
	for _, o := range []struct {
		name string
		n    int
	}{{"offered", r.Offered}, {"started", r.Started}, {"succeeded", r.Succeeded}, {"rolled_back", r.RolledBack}, {"failed", r.Failed}} {
		ch <- prometheus.MustNewConstMetric(c.installs, prometheus.GaugeValue, float64(o.n), product, r.Version, r.Channel, o.name)
	}
	causes := map[string]int{}
	for cause, n := range r.FailedBy {
		if !fieldCauses[cause] {
			cause = "other"
		}
		causes[cause] += n
	}
	for cause, n := range causes {
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, float64(n), product, r.Version, r.Channel, cause)
	}
}

// products is the latest reading, read again once it is FieldCacheFor
// old. A failed reading serves the previous one, and says why in the log.
func (c *fieldCollector) products() []FieldProduct {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < FieldCacheFor {
		return c.cached
	}
	ctx, cancel := context.WithTimeout(context.Background(), fieldReadTimeout)
	defer cancel()
	ps, err := c.read(ctx)
	if err != nil {
		if c.log != nil {
			c.log.Error("reading the field counts for /metrics", "err", err)
		}
		return c.cached
	}
	c.at, c.cached = time.Now(), ps
	return ps
}
