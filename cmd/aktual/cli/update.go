package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

type updateOptions struct {
	serverOptions
	product     string
	target      string
	code        string
	fromVersion string
	hwkey       string
	file        string
	noBrowser   bool
	noPatch     bool
	yes         bool
	json        bool
	wait        time.Duration

	control controlOptions

	browser      Browser
	pollInterval time.Duration
	plan         *updater.Plan // what the update checked, for its field report
}

func newUpdateCmd(ios *IOStreams) *cobra.Command {
	P := ios.P
	o := &updateOptions{browser: ios.browser(), pollInterval: defaultPollInterval}
	cmd := &cobra.Command{
		Use:   "update",
		Short: P.Sprintf("Download, verify and install the newest version, using one paid update"),
		Example: `  aktual update --server https://updates.example.com --product ledger --target /opt/ledger/ledger
  AKTUAL_CODE=12345-67890-12345-67890-12345 aktual update --product ledger --target ./ledger --yes --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUpdate(cmd, ios, o) },
	}
	o.addFlags(cmd, P)
	f := cmd.Flags()
	f.StringVar(&o.product, "product", "", P.Sprintf("product to update, as the vendor names it"))
	f.StringVar(&o.target, "target", "", P.Sprintf("path of the installed program to update"))
	f.StringVar(&o.code, "code", "", P.Sprintf("Pro series: your 25-digit update code (asked for when not given)"))
	f.StringVar(&o.fromVersion, "from-version", "", P.Sprintf("installed version, when it cannot be found from the file itself"))
	f.StringVar(&o.hwkey, "hwkey", "", P.Sprintf("classic series: the hardware key's licence file (default: looked for beside the target and on removable media)"))
	f.StringVar(&o.file, "file", "", P.Sprintf("install this release file (downloaded elsewhere) instead of downloading it; it is verified against the signed release exactly like a download"))
	f.BoolVar(&o.noBrowser, "no-browser", false, P.Sprintf("classic series: print the Internet-code page's address instead of opening a browser"))
	f.BoolVar(&o.noPatch, "no-patch", false, P.Sprintf("always download the whole release, never a patch from the installed version"))
	f.BoolVarP(&o.yes, "yes", "y", false, P.Sprintf("do not ask for confirmation"))
	f.BoolVar(&o.json, "json", false, P.Sprintf("print JSON lines (events, then a result) on stdout"))
	o.control.add(cmd, P)
	f.DurationVar(&o.wait, "wait", 0, P.Sprintf("a program folder's files in use by running programs (Windows): wait this long for them to be closed, then stop with exit 9 (default: ask on a terminal, stop at once in a script)"))
	return cmd
}

func runUpdate(cmd *cobra.Command, ios *IOStreams, o *updateOptions) error {
	p := newPrinter(ios, o.json)
	// A mistyped code is caught before anything touches the network.
	var code api.UpdateCode
	if o.code != "" {
		c, err := api.ParseCode(o.code)
		if err != nil {
			return report(ios, p, outcome{Product: o.product}, &updater.Error{Kind: updater.ErrCredentialRejected, Err: err})
		}
		code = c
	}
	u, err := newEngine(cmd, &o.serverOptions, p, true, o.target, false)
	if err != nil {
		return report(ios, p, outcome{Product: o.product}, err)
	}
	u.NoPatch = o.noPatch
	fr := newFieldReporter(cmd, u)
	res, err := doUpdate(cmd.Context(), ios, u, o, code)
	err = explainNoConnection(cmd.Context(), ios.P, o.server, err)
	out := resultOutcome(ios.P, res, o.product)
	planDetails(&out, o.plan)
	if err != nil {
		out.State = leftState(ios.P, u, o.target, err)
	}
	fr.update(res, o.plan, err)
	err = report(ios, p, out, err)
	fr.send(cmd.Context()) // after the result is printed
	return err
}

// doUpdate runs the update flow with the prompts the options call for.
// The plan is kept in o.plan, for the result and the field report.
func doUpdate(ctx context.Context, ios *IOStreams, u *updater.Updater, o *updateOptions, code api.UpdateCode) (*updater.Result, error) {
	var key hwkey.Key
	req := updater.Request{
		CheckRequest: updater.CheckRequest{Product: o.product, Target: o.target, FromVersion: o.fromVersion,
			Channel: o.control.channel, Force: o.control.force},
		File:  o.file,
		InUse: inUseWaiter(ios, o.target, o.wait),
		Prepare: func(ctx context.Context, plan *updater.Plan) (err error) {
			o.plan = plan
			if key, err = credentialKind(ctx, plan, o.hwkey, code); err != nil {
				return err
			}
			// A Pro code is asked for before the download, so a person can
			// leave a slow download to run; it is only used at the reserve.
			// (The classic series' Internet code comes from a page that
			// opens after the download: its session is short-lived.)
			if key == nil && code == "" && !plan.Downgrade && !plan.Free {
				code, err = askCode(ctx, ios)
			}
			return err
		},
		Credential: func(ctx context.Context, plan *updater.Plan) (api.Credential, error) {
			if key != nil {
				return classicCredential(ctx, ios, u, plan, key, o)
			}
			return api.Credential{Code: string(code)}, nil
		},
	}
	if !o.yes {
		req.Confirm = func(ctx context.Context, plan *updater.Plan) (bool, error) { return confirm(ctx, ios, plan) }
	}
	return u.Update(ctx, req)
}

// resultOutcome turns an update's result into the command's outcome.
func resultOutcome(P *i18n.Printer, res *updater.Result, product string) outcome {
	if res == nil {
		return outcome{Product: product}
	}
	o := outcome{Status: res.Status, Product: res.Product, From: res.From, To: res.To, Remaining: res.Remaining,
		Target: res.Target, Reservation: res.Reservation}
	switch res.Status {
	case updater.StatusUpdated:
		o.Message = P.Sprintf("Updated %s from %s to %s.", res.Product, res.From, res.To)
	case updater.StatusUpToDate:
		o.Message = P.Sprintf("%s %s is up to date; nothing to do.", res.Product, res.From)
	case updater.StatusApplied:
		o.Message = P.Sprintf("%s %s is installed; the server will be told on the next run.", res.Product, res.To)
	}
	if res.Remaining != nil && o.Message != "" {
		o.Message += " " + P.Sprintf("Updates remaining: %d.", *res.Remaining)
	}
	return o
}

// report prints the outcome and returns an error carrying the exit code.
func report(ios *IOStreams, p printer, o outcome, err error) error {
	o.ExitCode = exitCode(err)
	if err != nil {
		if o.Status == "" {
			o.Status = statusFailed
		}
		o.Error = ios.P.Sprint(err)
		o.ErrorCode = errorCode(err)
		if o.ExitCode == ExitInterrupted {
			o.Status = statusInterrupted
			o.Error = ios.P.Sprintf("interrupted")
			if o.State == "" {
				o.State = ios.P.Sprintf("Nothing was changed or used.")
			}
		}
	}
	p.result(o)
	if o.ExitCode == ExitOK {
		return nil
	}
	return &exitError{code: o.ExitCode}
}

// maxCodeAttempts bounds re-asking on a terminal.
const maxCodeAttempts = 3

// askCode asks for the update code, checking it locally: on a terminal a
// typo is shown and asked again; from a pipe it fails at once.
func askCode(ctx context.Context, ios *IOStreams) (api.UpdateCode, error) {
	for attempt := 1; ; attempt++ {
		line, err := ios.Prompt(ctx, ios.P.Sprintf("Enter your 25-digit update code: "),
			i18n.M("the update code is needed but standard input ended; pass --code (or AKTUAL_CODE), or pipe the code on standard input"))
		if err != nil {
			return "", err
		}
		code, err := api.ParseCode(line)
		if err == nil {
			return code, nil
		}
		if !ios.InTTY || attempt >= maxCodeAttempts {
			return "", &updater.Error{Kind: updater.ErrCredentialRejected, Err: err}
		}
		fmt.Fprintf(ios.ErrOut, "%s.\n", capitalize(ios.P.Sprint(err)))
	}
}

// confirm asks before anything is downloaded or reserved.
func confirm(ctx context.Context, ios *IOStreams, plan *updater.Plan) (bool, error) {
	q := ios.P.Sprintf("Update %s from %s to %s at %s? This uses one paid update. [y/N] ",
		plan.Product, plan.From, plan.Latest.Version, plan.Target)
	if plan.Downgrade {
		q = ios.P.Sprintf("The vendor withdrew %s %s. Replace it with %s at %s? This is free. [y/N] ",
			plan.Product, plan.From, plan.Latest.Version, plan.Target)
	}
	if plan.Free {
		q = ios.P.Sprintf("Continue the paid update of %s from %s to %s at %s? This is free. [y/N] ",
			plan.Product, plan.From, plan.Latest.Version, plan.Target)
	}
	if p := plan.Path; p != nil && !plan.Free && p.To != plan.Latest.Version {
		q = ios.P.Sprintf("Update %s from %s to %s at %s, then free of charge to %s? This uses one paid update for both. [y/N] ",
			plan.Product, plan.From, plan.Latest.Version, plan.Target, p.To)
	}
	showPlan(ios, plan)
	if f := plan.Folder; f != nil {
		fmt.Fprintln(ios.ErrOut, ios.P.Sprintf("%d files change, %d are removed, %v to download; your own files are kept.",
			f.Changed, f.Removed, i18n.Size(f.DownloadBytes)))
	}
	return askYes(ctx, ios, q, i18n.M("a confirmation is needed but standard input ended; pass --yes to update without asking"))
}

// askYes asks a yes-or-no question; only y, yes, д or да is yes. needed
// is the error when no answer can be read.
func askYes(ctx context.Context, ios *IOStreams, q string, needed i18n.Message) (bool, error) {
	line, err := ios.Prompt(ctx, q, needed)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(line) {
	case "y", "yes", "д", "да":
		return true, nil
	}
	return false, nil
}
