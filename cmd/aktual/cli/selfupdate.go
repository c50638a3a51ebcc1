package cli

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

type selfUpdateOptions struct {
	serverOptions
	yes, json, check bool
	noPatch          bool

	// executable is the aktual to update; tests set it, default: the
	// running one.
	executable string
}

func newSelfUpdateCmd(ios *IOStreams) *cobra.Command {
	return selfUpdateCmd(ios, &selfUpdateOptions{})
}

// selfUpdateCmd is the command over o, which tests give an executable.
func selfUpdateCmd(ios *IOStreams, o *selfUpdateOptions) *cobra.Command {
	P := ios.P
	cmd := &cobra.Command{
		Use:   "self-update",
		Short: P.Sprintf("Update aktual itself to the newest version; free, it uses no paid update"),
		Long: P.Sprintf(`self-update updates this aktual from your vendor's update server, like any
program: the signed release is checked, downloaded (a broken download
continues where it stopped), verified and put in place atomically, and the
old aktual is kept if anything fails. aktual itself is free: no code or
hardware key is needed and no paid update is used. An older aktual is never
installed. With --check it only says whether a newer aktual exists (exit 10).`),
		Example: `  aktual self-update --server https://updates.example.com
  aktual self-update --check --json
  AKTUAL_SERVER=https://updates.example.com aktual self-update --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSelfUpdate(cmd, ios, o) },
	}
	o.addFlags(cmd, P)
	f := cmd.Flags()
	f.BoolVar(&o.check, "check", false, P.Sprintf("only say whether a newer aktual is available (exit 10 if so); download and install nothing"))
	f.BoolVar(&o.noPatch, "no-patch", false, P.Sprintf("always download the whole release, never a patch from the installed version"))
	f.BoolVarP(&o.yes, "yes", "y", false, P.Sprintf("do not ask for confirmation"))
	f.BoolVar(&o.json, "json", false, P.Sprintf("print JSON lines (events, then a result) on stdout"))
	return cmd
}

func runSelfUpdate(cmd *cobra.Command, ios *IOStreams, o *selfUpdateOptions) error {
	P := ios.P
	p := newPrinter(ios, o.json)
	self := o.executable
	if self == "" {
		self, _ = os.Executable() // aktual in the machine's programs folder keeps the machine's state
	}
	u, err := newEngine(cmd, &o.serverOptions, p, true, self, false)
	if err != nil {
		return report(ios, p, outcome{Product: updater.SelfProduct}, err)
	}
	u.NoPatch = o.noPatch
	req := updater.SelfRequest{Executable: o.executable, Version: version()}
	if o.check {
		return runSelfCheck(cmd, ios, p, u, o, req)
	}
	if !o.yes {
		req.Confirm = func(ctx context.Context, plan *updater.Plan) (bool, error) { return confirmSelf(ctx, ios, plan) }
	}
	res, err := u.SelfUpdate(cmd.Context(), req)
	err = explainNoConnection(cmd.Context(), P, o.server, err)
	out := resultOutcome(P, res, updater.SelfProduct)
	if err != nil && res != nil {
		out.State = leftState(P, u, res.Target, err)
	}
	return report(ios, p, out, err)
}

// runSelfCheck says whether a newer aktual is published: exit 10 if so,
// as check does.
func runSelfCheck(cmd *cobra.Command, ios *IOStreams, p printer, u *updater.Updater, o *selfUpdateOptions, req updater.SelfRequest) error {
	P := ios.P
	// Every run first finishes what a crash left unfinished.
	if recs, err := u.Recover(cmd.Context()); err == nil {
		for _, r := range recs {
			if r.Action == updater.ActionReported || r.Action == updater.ActionReleased || r.Action == updater.ActionInstalled {
				p.note("An interrupted update of %s at %s was finished (%s).", r.Product, r.Target, actionText(P, r.Action))
			}
		}
	}
	plan, err := u.SelfCheck(cmd.Context(), req)
	if err != nil {
		out := outcome{Product: updater.SelfProduct}
		if plan != nil {
			out = outcome{Product: plan.Product, From: plan.From, To: plan.Latest.Version, Target: plan.Target}
		}
		return report(ios, p, out, explainNoConnection(cmd.Context(), P, o.server, err))
	}
	out := outcome{Product: plan.Product, From: plan.From, To: plan.Latest.Version, Target: plan.Target}
	switch {
	case plan.Newer:
		out.Status, out.To = updater.StatusUpToDate, plan.From
		out.Message = P.Sprintf("%s %s is newer than the newest published release (%s); nothing to do.", plan.Product, plan.From, plan.Latest.Version)
	case plan.UpToDate:
		out.Status = updater.StatusUpToDate
		out.Message = P.Sprintf("%s %s is up to date.", plan.Product, plan.From)
	default:
		out.Status, out.ExitCode = statusUpdateAvailable, ExitUpdateAvailable
		out.Message = P.Sprintf("%s %s is available (installed: %s, %s).", plan.Product, plan.Latest.Version, plan.From, selfSourceText(P, plan.FromSource))
		p.result(out)
		return &exitError{code: ExitUpdateAvailable}
	}
	return report(ios, p, out, nil)
}

// confirmSelf asks before anything is downloaded.
func confirmSelf(ctx context.Context, ios *IOStreams, plan *updater.Plan) (bool, error) {
	q := ios.P.Sprintf("Update aktual from %s to %s at %s? This is free: it uses none of your paid updates. [y/N] ",
		plan.From, plan.Latest.Version, plan.Target)
	return askYes(ctx, ios, q, i18n.M("a confirmation is needed but standard input ended; pass --yes to update without asking"))
}

// selfSourceText names how aktual's own version was found: the version
// compiled in stands where update has --from-version.
func selfSourceText(P *i18n.Printer, source string) string {
	if source == updater.SourceFlag {
		return P.Sprintf("as built into this aktual")
	}
	return sourceText(P, source)
}
