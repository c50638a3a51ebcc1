package server

import (
	"context"
	"net/http"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/metrics"
	"github.com/aktual/aktual/server/store"
)

// handleReports records a batch of field reports (POST /v1/reports): what
// installers saw of their attempts at updates. It takes no credential and
// changes no count of paid updates. Every report of the batch is checked
// before any is stored: one bad field refuses the whole batch (400, naming
// the report and the field). An address the limiter blocks (it guessed
// codes) is refused here too, but a bad batch is not counted as a failed
// attempt: an installer's mistake must not lock its office out of its
// updates. A report already recorded (same ID) is counted once.
func (s *Server) handleReports(w http.ResponseWriter, r *http.Request) {
	at := s.newAttempt()
	defer at.end()
	if !at.admitAddr(w, r) {
		return
	}
	var batch api.ReportBatch
	if !readJSONUpTo(w, r, &batch, api.MaxReportBody) {
		return
	}
	if msg, ok := checkBatch(batch, s.Now.Now()); !ok {
		writeError(w, r, http.StatusBadRequest, api.CodeBadRequest, msg)
		return
	}
	for i, rep := range batch.Reports {
		_, known, err := s.publishedVersion(r.Context(), rep.Product, rep.ToVersion)
		if err != nil {
			s.internalError(w, r, "listing releases", err)
			return
		}
		if !known {
			writeError(w, r, http.StatusBadRequest, api.CodeBadRequest,
				i18n.M("report %d: version %s of %s is not published on this server; report only updates this server offered", i+1, rep.ToVersion, rep.Product))
			return
		}
	}
	added, err := s.Store.AddReports(r.Context(), batch.Reports, s.Now.Now())
	if err != nil {
		s.internalError(w, r, "recording field reports", err)
		return
	}
	if added > 0 {
		s.applyBrakes(r.Context(), batch.Reports)
	}
	metrics.NoteOutcome(r, metrics.OutcomeAnswered)
	s.logger().Info("field reports", "received", len(batch.Reports), "new", added)
	writeJSON(w, http.StatusAccepted, api.ReportsAccepted{Accepted: added, Duplicates: len(batch.Reports) - added})
}

// checkBatch says what is wrong with a batch, if anything.
func checkBatch(b api.ReportBatch, now time.Time) (i18n.Message, bool) {
	switch {
	case len(b.Reports) == 0:
		return i18n.M("reports is empty: send 1 to %d reports", api.MaxReportBatch), false
	case len(b.Reports) > api.MaxReportBatch:
		return i18n.M("%d reports in one request: send at most %d, and the rest in another", len(b.Reports), api.MaxReportBatch), false
	}
	for i, rep := range b.Reports {
		if msg, ok := checkReport(rep, now); !ok {
			return i18n.M("report %d: %v", i+1, msg), false
		}
	}
	return i18n.Message{}, true
}

// reportEpoch: a report from before it comes from a clock that is wrong.
var reportEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// checkReport says what is wrong with one report, if anything.
func checkReport(r api.FieldReport, now time.Time) (i18n.Message, bool) {
	switch {
	case !isHex(r.ID, api.ReportIDLen):
		return i18n.M("id must be %d lowercase hex digits, chosen at random once per report", api.ReportIDLen), false
	case !api.ValidName(r.Product):
		return i18n.M("product must be a product's name (letters, digits, '.', '_', '-')"), false
	case !isHex(r.Installation, api.InstallationIDLen):
		return i18n.M("installation must be %d lowercase hex digits (a hash, never a machine ID)", api.InstallationIDLen), false
	case !api.ValidVersion(r.FromVersion):
		return i18n.M("from_version %q is not a version like 1.2.0", r.FromVersion), false
	case !api.ValidVersion(r.ToVersion):
		return i18n.M("to_version %q is not a version like 1.2.0", r.ToVersion), false
	case api.CompareVersions(r.FromVersion, r.ToVersion) == 0:
		return i18n.M("from_version and to_version are both %s: a report is of an update to another version", r.ToVersion), false
	case r.Channel != "" && (!api.ValidName(r.Channel) || len(r.Channel) > api.MaxReportWord):
		return i18n.M("channel must be empty (stable) or a channel's name of at most %d characters", api.MaxReportWord), false
	case !api.ValidOutcome(r.Outcome):
		return i18n.M("outcome %q is not one of checked, downloaded, applied, rolled_back, failed", r.Outcome), false
	case r.ExitCode < 0 || r.ExitCode > 255:
		return i18n.M("exit_code %d is not an exit code (0 to 255)", r.ExitCode), false
	case r.Cause != "" && !isCause(r.Cause):
		return i18n.M("cause must be a short word (at most %d lowercase letters, digits and '_'), e.g. apply_failed", api.MaxReportWord), false
	case !validPhases(r.PhasesMS):
		return i18n.M("phases_ms: each duration must be between 0 and %d milliseconds", api.MaxPhaseMS), false
	case !isWord(r.Installer):
		return i18n.M("installer must be aktual's version (at most %d letters, digits, '.', '_', '+', '-')", api.MaxReportWord), false
	case !api.ValidName(r.OS) || !api.ValidName(r.Arch) || len(r.OS) > api.MaxReportWord || len(r.Arch) > api.MaxReportWord:
		return i18n.M("os and arch are required (e.g. \"os\": \"windows\", \"arch\": \"amd64\")"), false
	case r.At.Before(reportEpoch) || r.At.After(now.Add(366*24*time.Hour)):
		return i18n.M("at %s is not a time the report could have been made; send the time the run ended (RFC 3339)", r.At.Format(time.RFC3339)), false
	}
	return i18n.Message{}, true
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isCause(s string) bool {
	if len(s) == 0 || len(s) > api.MaxReportWord {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isWord: an installer's version as its build names it ("1.4.0",
// "1.4.0-rc.1+dirty", "dev").
func isWord(s string) bool {
	if len(s) == 0 || len(s) > api.MaxReportWord {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

func validPhases(p api.ReportPhases) bool {
	for _, ms := range []int64{p.Check, p.Download, p.Verify, p.Reserve, p.Apply, p.Health, p.Complete} {
		if ms < 0 || ms > api.MaxPhaseMS {
			return false
		}
	}
	return true
}

// fieldCounts reads the field reports' counts of every product, for the
// metrics' gauges: of the versions this server published.
func (s *Server) fieldCounts(ctx context.Context) ([]metrics.FieldProduct, error) {
	products, err := s.Store.ReportedProducts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]metrics.FieldProduct, 0, len(products))
	for _, p := range products {
		stats, err := s.Store.ReleaseStats(ctx, p)
		if err != nil {
			return nil, err
		}
		cs, err := s.Store.ReleaseControls(ctx, p)
		if err != nil {
			return nil, err
		}
		fp := metrics.FieldProduct{Product: p}
		for _, st := range stats {
			c := store.ControlOf(cs, p, st.Version)
			if st.Offered == 0 {
				// Only installed: a from_version, which no check bounds.
				if _, known, err := s.publishedVersion(ctx, p, st.Version); err != nil || !known {
					continue
				}
			}
			fp.Releases = append(fp.Releases, metrics.FieldRelease{
				Version: st.Version, Channel: st.Channel, Offered: st.Offered, Started: st.Started,
				Succeeded: st.Succeeded, RolledBack: st.RolledBack, Failed: st.Failed, FailedBy: st.FailedBy,
				Installed: st.Installed, State: c.State, Percent: c.Percent,
			})
		}
		out = append(out, fp)
	}
	return out, nil
}
