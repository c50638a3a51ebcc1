package cli

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater"
)

// Field reports (docs/contract-notes.md, issue 20): after update, check
// and recover, aktual tells the server what happened to each attempt, with
// no personal data, unless --no-report (AKTUAL_NO_REPORT=1) is given. The
// report is built here, where the run's exit code is known, from the
// updater's result, the phases its events marked, and what its recovery
// finished (updater.Updater.Finished); the updater names the
// installation, sends, and keeps what could not be sent. Nothing of it is
// printed: a run's output is the same with reports or without.

// fieldReporter collects one run's field reports.
type fieldReporter struct {
	u       *updater.Updater
	off     bool
	phases  phaseClock
	pending []updater.PendingReport
}

// newFieldReporter watches u's events and recoveries for the reports,
// unless reporting is off.
func newFieldReporter(cmd *cobra.Command, u *updater.Updater) *fieldReporter {
	off, _ := cmd.Flags().GetBool("no-report")
	fr := &fieldReporter{u: u, off: off}
	if off {
		return fr
	}
	events := u.Events
	u.Events = func(e updater.Event) {
		fr.phases.see(e, time.Now())
		if events != nil {
			events(e)
		}
	}
	u.Finished = fr.recovered
	return fr
}

// attempt is one report's facts, before the installation is named.
type attempt struct {
	product, target, from, to string
	channel                   string
	outcome, cause            string
	exitCode                  int
	forced, recovered         bool
	phases                    api.ReportPhases
}

// add queues a report for server; one that could not be a valid report
// (no versions known) is left out.
func (fr *fieldReporter) add(server string, a attempt) {
	if fr.off || server == "" || !api.ValidVersion(a.from) || !api.ValidVersion(a.to) || a.from == a.to {
		return
	}
	inst, err := fr.u.InstallationID(a.product, a.target)
	if err != nil {
		return // no machine ID: nothing to count this attempt under
	}
	id, err := updater.NewReportID()
	if err != nil {
		return // no randomness: a report that could collide is worse than none
	}
	goos, arch := fr.u.OS, fr.u.Arch
	if goos == "" {
		goos, arch = runtime.GOOS, runtime.GOARCH
	}
	fr.pending = append(fr.pending, updater.PendingReport{Server: server, Report: api.FieldReport{
		ID: id, Product: a.product, Installation: inst, FromVersion: a.from, ToVersion: a.to, Channel: a.channel,
		Outcome: a.outcome, ExitCode: a.exitCode, Cause: a.cause, PhasesMS: a.phases,
		Forced: a.forced, Recovered: a.recovered, Installer: version(), OS: goos, Arch: arch,
		At: time.Now().UTC(),
	}})
}

// recovered reports an update an earlier run left unfinished, as
// recovery finished it: applied, or given back (the run was cut short).
func (fr *fieldReporter) recovered(r updater.Recovered) {
	a := attempt{product: r.Product, target: r.Target, from: r.From, to: r.To, channel: r.Channel, recovered: true, outcome: api.OutcomeApplied}
	switch {
	case r.RolledBack:
		// Recovery ran the health check again, and it failed.
		a.outcome, a.cause, a.exitCode = api.OutcomeRolledBack, "apply_failed", ExitApply
	case r.Action == updater.ActionReleased:
		a.outcome, a.cause, a.exitCode = api.OutcomeFailed, "interrupted", ExitInterrupted
	}
	fr.add(r.Server, a)
}

// update reports the attempt of an update run that ended in res and err
// (plan is what it checked, when it got so far).
func (fr *fieldReporter) update(res *updater.Result, plan *updater.Plan, err error) {
	if res == nil || res.Recovered {
		return // nothing was offered, or recovery reported it
	}
	a := attempt{product: res.Product, target: res.Target, from: res.From, to: res.To,
		exitCode: exitCode(err), phases: fr.phases.durations(time.Now())}
	if plan != nil {
		a.forced, a.channel = forcedPlan(plan), plan.Channel
		if a.target == "" {
			a.target = plan.Target
		}
	}
	switch {
	case res.Status == updater.StatusUpToDate:
		return
	case res.Status == updater.StatusUpdated || res.Status == updater.StatusApplied:
		a.outcome = api.OutcomeApplied
	case errors.Is(err, updater.ErrRolledBack):
		a.outcome = api.OutcomeRolledBack
	case errors.Is(err, updater.ErrDeclined):
		a.outcome = api.OutcomeChecked
	case fr.phases.verified() && (a.exitCode == ExitInterrupted || errors.Is(err, updater.ErrInputNeeded)):
		a.outcome = api.OutcomeDownloaded
	default:
		a.outcome = api.OutcomeFailed
	}
	if a.outcome != api.OutcomeApplied {
		a.cause = errorCode(err)
	}
	fr.add(fr.u.Server, a)
}

// checked reports an update check offered (exit 10).
func (fr *fieldReporter) checked(plan *updater.Plan) {
	fr.add(fr.u.Server, attempt{product: plan.Product, target: plan.Target, from: plan.From, to: plan.Latest.Version,
		channel: plan.Channel, outcome: api.OutcomeChecked, exitCode: ExitUpdateAvailable, forced: forcedPlan(plan),
		phases: fr.phases.durations(time.Now())})
}

// forcedPlan: the release was not the installation's own choice of the
// newest (a free downgrade staff published) or was taken before its
// staged rollout reached the installation (--force).
func forcedPlan(plan *updater.Plan) bool {
	return plan.Downgrade || (plan.Rollout != nil && plan.Rollout.Forced && plan.Rollout.Version == plan.Latest.Version)
}

// send sends the run's reports with those kept from earlier runs, in at
// most updater.ReportTimeout.
func (fr *fieldReporter) send(ctx context.Context) {
	if fr.off {
		return
	}
	fr.u.SendReports(ctx, fr.pending)
	fr.pending = nil
}

// phaseClock times the phases of a run from the updater's phase events: a
// phase lasts until the next begins, or the run ends.
type phaseClock struct {
	current string
	since   time.Time
	spent   map[string]time.Duration
}

func (c *phaseClock) see(e updater.Event, now time.Time) {
	if e.Event != updater.EventPhase {
		return
	}
	c.stop(now)
	c.current, c.since = e.Phase, now
}

func (c *phaseClock) stop(now time.Time) {
	if c.current == "" {
		return
	}
	if c.spent == nil {
		c.spent = map[string]time.Duration{}
	}
	c.spent[c.current] += now.Sub(c.since)
	c.current = ""
}

// verified reports whether the run got past the download's verification.
func (c *phaseClock) verified() bool {
	_, ok := c.spent[updater.PhaseVerify]
	return ok || c.current == updater.PhaseVerify
}

// durations ends the phase under way and says how long each took.
func (c *phaseClock) durations(now time.Time) api.ReportPhases {
	c.stop(now)
	ms := func(phase string) int64 { return min(c.spent[phase].Milliseconds(), api.MaxPhaseMS) }
	return api.ReportPhases{
		Check: ms(updater.PhaseCheck), Download: ms(updater.PhaseDownload), Verify: ms(updater.PhaseVerify),
		Reserve: ms(updater.PhaseReserve), Apply: ms(updater.PhaseApply), Health: ms(updater.PhaseHealth),
		Complete: ms(updater.PhaseComplete),
	}
}
