package updater

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/durable"
	"github.com/aktual/aktual/updater/internal/fetch"
)

// Field reports (POST /v1/reports): what happened to each attempt, sent
// best-effort after a run, apart from the completion that counts a paid
// update. The caller builds them (it knows the run's exit code); the
// engine names the installation, keeps what could not be sent in the
// state directory, and sends it with the next run's.

// ErrRolledBack marks, besides the failure's kind (ErrApply), an update
// whose new version failed its health check and was put back.
var ErrRolledBack = errors.New("rolled back after a failed health check")

// rolledBack is a health check's failure, marked ErrRolledBack.
type rolledBack struct{ err error }

func (r rolledBack) Error() string   { return r.err.Error() }
func (r rolledBack) Unwrap() []error { return []error{r.err, ErrRolledBack} }

// Bounds of sending field reports.
const (
	// ReportTimeout bounds the sending of a run's reports: a server that
	// does not answer delays the run's exit by no more.
	ReportTimeout = 2 * time.Second
	// MaxKeptReports bounds the reports kept for a later run; past it the
	// oldest are dropped.
	MaxKeptReports = 100
	reportsFile    = "field-reports.json"
	maxReportsFile = 1 << 20
)

// PendingReport is a field report and the server it goes to.
type PendingReport struct {
	Server string          `json:"server"`
	Report api.FieldReport `json:"report"`
}

// NewReportID is a report's random ID.
func NewReportID() (string, error) {
	b := make([]byte, api.ReportIDLen/2)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// InstallationID names an installed program in field reports without
// saying which machine, path or person: the first 32 hex digits of the
// SHA-256 of the machine's protected ID (an app-keyed hash already), the
// product and the program's absolute path.
func (u *Updater) InstallationID(product, target string) (string, error) {
	machine, err := u.machineID()
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte("aktual field report\x00" + machine + "\x00" + product + "\x00" + abs))
	return hex.EncodeToString(h[:])[:api.InstallationIDLen], nil
}

// SendReports sends reports, after those kept from earlier runs, to
// their servers, within ReportTimeout, and keeps what could not be sent
// (at most MaxKeptReports, the newest). A server without the endpoint
// (404, 405) gets no more reports: its are dropped. A batch the server
// refuses (400) is dropped too: sending it again cannot help. It never
// fails the run: what went wrong is only kept for the next.
func (u *Updater) SendReports(ctx context.Context, reports []PendingReport) {
	all := append(u.keptReports(), reports...)
	if len(all) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ReportTimeout)
	defer cancel()
	var kept []PendingReport
	done := map[string]bool{} // servers this run is finished with
	for len(all) > 0 {
		server := all[0].Server
		var batch, rest []PendingReport
		for _, p := range all {
			if p.Server == server && len(batch) < api.MaxReportBatch {
				batch = append(batch, p)
			} else {
				rest = append(rest, p)
			}
		}
		all = rest
		if done[server] {
			kept = append(kept, batch...)
			continue
		}
		switch u.postReports(ctx, server, batch) {
		case reportKeep:
			kept = append(kept, batch...)
			done[server] = true // down or slow: try again next run
		case reportNoEndpoint:
			done[server] = true
			all = dropServer(all, server)
		}
	}
	u.keepReports(kept)
}

type reportAnswer int

const (
	reportSent       reportAnswer = iota // accepted, or refused for good
	reportKeep                           // not sent: keep for the next run
	reportNoEndpoint                     // an older server
)

func (u *Updater) postReports(ctx context.Context, server string, batch []PendingReport) reportAnswer {
	body := api.ReportBatch{Reports: make([]api.FieldReport, len(batch))}
	for i, p := range batch {
		body.Reports[i] = p.Report
	}
	c := u.client()
	c.Server, c.Notice, c.RequestTimeout = server, nil, ReportTimeout
	var out api.ReportsAccepted
	err := c.CallJSON(ctx, "POST", "/v1/reports", nil, body, &out)
	var ae *fetch.APIError
	switch {
	case err == nil:
		return reportSent
	case errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed):
		return reportNoEndpoint
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
		return reportSent // refused as malformed: sending it again cannot help
	}
	return reportKeep
}

func dropServer(ps []PendingReport, server string) []PendingReport {
	var out []PendingReport
	for _, p := range ps {
		if p.Server != server {
			out = append(out, p)
		}
	}
	return out
}

// keptReports reads the reports earlier runs could not send; a file that
// cannot be read is dropped (reports are best-effort).
func (u *Updater) keptReports() []PendingReport {
	path := filepath.Join(u.StateDir, reportsFile)
	data, err := durable.ReadFile(path, maxReportsFile)
	if err != nil {
		return nil
	}
	var kept []PendingReport
	if json.Unmarshal(data, &kept) != nil {
		_ = os.Remove(path) // unreadable: it would only fail again
		return nil
	}
	return kept
}

// keepReports writes the reports not sent, the newest MaxKeptReports,
// for the next run; none removes the file.
func (u *Updater) keepReports(kept []PendingReport) {
	path := filepath.Join(u.StateDir, reportsFile)
	if len(kept) == 0 {
		// Left behind, the file only makes the next run send its reports
		// again, which the server counts once.
		_ = os.Remove(path)
		return
	}
	if len(kept) > MaxKeptReports {
		kept = kept[len(kept)-MaxKeptReports:]
	}
	data, err := json.Marshal(kept)
	if err != nil {
		return // our own type always encodes
	}
	// A state folder that cannot be written loses them: reports are
	// best-effort, and the run's output does not change for them.
	_ = os.MkdirAll(u.StateDir, 0o700)
	_ = durable.WriteFile(path, data)
}
