package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/internal/buildinfo"
	"github.com/aktual/aktual/internal/dirs"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

type checkOptions struct {
	serverOptions
	product, target, fromVersion string
	code, hwkey                  string
	json                         bool
	control                      controlOptions
}

func newCheckCmd(ios *IOStreams) *cobra.Command {
	P := ios.P
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: P.Sprintf("Say whether a newer version is available (exit 10 if so); installs and reserves nothing"),
		Long: P.Sprintf(`check says what is installed, what is newest, and whether an update is
available (exit 10). Given a credential (--code, or --hwkey for the classic
series), it also says how many paid updates remain and whether this update
would use one. It downloads, installs and reserves nothing.`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCheck(cmd, ios, o) },
	}
	o.addFlags(cmd, P)
	f := cmd.Flags()
	f.StringVar(&o.product, "product", "", P.Sprintf("product to check"))
	f.StringVar(&o.target, "target", "", P.Sprintf("path of the installed program"))
	f.StringVar(&o.fromVersion, "from-version", "", P.Sprintf("installed version, when it cannot be found from the file itself"))
	f.StringVar(&o.code, "code", "", P.Sprintf("Pro series: also say how many updates this code has left (nothing is reserved)"))
	f.StringVar(&o.hwkey, "hwkey", "", P.Sprintf("classic series: also say how many updates this hardware key's licence has left (nothing is reserved)"))
	f.BoolVar(&o.json, "json", false, P.Sprintf("print the result as JSON on stdout"))
	o.control.add(cmd, P)
	return cmd
}

func runCheck(cmd *cobra.Command, ios *IOStreams, o *checkOptions) error {
	P := ios.P
	p := newPrinter(ios, o.json)
	u, err := newEngine(cmd, &o.serverOptions, p, true, o.target, false)
	if err != nil {
		return report(ios, p, outcome{Product: o.product}, err)
	}
	fr := newFieldReporter(cmd, u)
	defer fr.send(cmd.Context()) // after the result is printed
	// Every run first finishes what a crash left unfinished.
	if recs, err := u.Recover(cmd.Context()); err == nil {
		for _, r := range recs {
			if r.Action == updater.ActionReported || r.Action == updater.ActionReleased || r.Action == updater.ActionInstalled {
				p.note("An interrupted update of %s at %s was finished (%s).", r.Product, r.Target, actionText(P, r.Action))
			}
		}
	}
	plan, err := u.Check(cmd.Context(), updater.CheckRequest{Product: o.product, Target: o.target, FromVersion: o.fromVersion,
		Channel: o.control.channel, Force: o.control.force})
	if err != nil {
		return report(ios, p, outcome{Product: o.product}, explainNoConnection(cmd.Context(), P, o.server, err))
	}
	out := outcome{Product: plan.Product, From: plan.From, To: plan.Latest.Version, Target: plan.Target}
	planDetails(&out, plan)
	available := false
	switch {
	case plan.Newer:
		out.Status, out.To = updater.StatusUpToDate, plan.From
		out.Message = P.Sprintf("%s %s is newer than the newest published release (%s); nothing to do.", plan.Product, plan.From, plan.Latest.Version)
	case plan.UpToDate:
		out.Status = updater.StatusUpToDate
		out.Message = P.Sprintf("%s %s is up to date.", plan.Product, plan.From)
	default:
		available = true
		out.Status = statusUpdateAvailable
		out.Message = P.Sprintf("%s %s is available (installed: %s, %s).", plan.Product, plan.Latest.Version, plan.From, sourceText(P, plan.FromSource))
		if plan.Downgrade {
			out.Message = P.Sprintf("The vendor withdrew %s %s; %s replaces it, free of charge (run aktual update).", plan.Product, plan.From, plan.Latest.Version)
		}
		if plan.Free {
			out.Message = P.Sprintf("%s %s is available free of charge: it continues the update you paid for (run aktual update).", plan.Product, plan.Latest.Version)
		}
		if !o.json {
			showPlan(ios, plan)
		}
	}
	if o.code != "" || o.hwkey != "" {
		if err := checkEntitlement(cmd.Context(), ios, u, plan, o, &out, available); err != nil {
			return report(ios, p, out, explainNoConnection(cmd.Context(), P, o.server, err))
		}
	}
	if available {
		fr.checked(plan)
		out.ExitCode = ExitUpdateAvailable
		p.result(out)
		return &exitError{code: ExitUpdateAvailable}
	}
	return report(ios, p, out, nil)
}

// sourceText names how the installed version was found.
func sourceText(P *i18n.Printer, source string) string {
	switch source {
	case updater.SourceCatalogue:
		return P.Sprintf("recognised by its contents")
	case updater.SourceInstallRecord:
		return P.Sprintf("as aktual last installed it")
	case updater.SourceFlag:
		return P.Sprintf("as given by --from-version")
	case updater.SourceFiles:
		return P.Sprintf("recognised by its files")
	}
	return source
}

// actionText names what recovery did.
func actionText(P *i18n.Printer, action string) string {
	switch action {
	case updater.ActionReported:
		return P.Sprintf("reported to the server")
	case updater.ActionInstalled:
		return P.Sprintf("installed; it was free, so there was nothing to report")
	case updater.ActionReleased:
		return P.Sprintf("the held update was given back")
	case updater.ActionResume:
		return P.Sprintf("waiting for the server's answer")
	case updater.ActionDropped:
		return P.Sprintf("there was nothing left to do")
	case updater.ActionPending:
		return P.Sprintf("still pending")
	}
	return action
}

func newStatusCmd(ios *IOStreams) *cobra.Command {
	P := ios.P
	var asJSON bool
	var target string
	var allUsers bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: P.Sprintf("Show what aktual installed and any update not yet finished"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			state, err := stateDir(cmd, target, allUsers)
			if err != nil {
				return &updater.Error{Kind: updater.ErrUsage, Err: err}
			}
			st, err := (&updater.Updater{StateDir: state}).ReadStatus()
			if err != nil {
				return err
			}
			kept, err := keptDownloads(st, target)
			if err != nil {
				return err
			}
			if asJSON {
				problems := make([]string, 0, len(st.Problems))
				for _, p := range st.Problems {
					problems = append(problems, P.Sprint(p))
				}
				(&jsonPrinter{io: ios}).line(struct {
					StateDir  string                  `json:"state_dir"`
					Pending   []updater.Journal       `json:"pending"`
					Installs  []updater.InstallRecord `json:"installs"`
					Downloads []keptDownload          `json:"downloads"`
					Problems  []string                `json:"problems"`
				}{state, st.Pending, st.Installs, kept, problems})
				return nil
			}
			tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
			if len(st.Installs) == 0 {
				fmt.Fprintln(tw, P.Sprintf("No updates installed by aktual yet."))
			} else {
				fmt.Fprintln(tw, P.Sprintf("PRODUCT\tVERSION\tTARGET\tUPDATED"))
				for _, r := range st.Installs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Product, r.Version, r.Target, r.UpdatedAt.Local().Format("2006-01-02 15:04"))
				}
			}
			tw.Flush()
			for _, j := range st.Pending {
				fmt.Fprintln(ios.Out, P.Sprintf("Unfinished: %s %s → %s at %s (%s); it is finished on the next run, or by aktual recover.",
					j.Product, j.From, j.To, j.Target, stateText(P, j.State)))
			}
			for _, k := range kept {
				if k.Have == k.Total {
					fmt.Fprintln(ios.Out, P.Sprintf("A whole download for %s is kept (%s): the next update uses it without downloading it again.",
						k.Target, sizeText(P, k.Total)))
					continue
				}
				fmt.Fprintln(ios.Out, P.Sprintf("A download for %s is kept (%s of %s): running the update again continues it.",
					k.Target, sizeText(P, k.Have), sizeText(P, k.Total)))
			}
			for _, p := range st.Problems {
				fmt.Fprintln(ios.ErrOut, P.Sprintf("aktual: problem: %s", p))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "target", "", P.Sprintf("also look for a kept download beside this program (one aktual has not updated before)"))
	cmd.Flags().BoolVar(&allUsers, "all-users", false, P.Sprintf("show the state of the programs installed for every user of this computer (%s)", dirs.MachineState()))
	cmd.Flags().BoolVar(&asJSON, "json", false, P.Sprintf("print JSON on stdout"))
	return cmd
}

// keptDownload is a partial download beside a target, which the next
// update continues.
type keptDownload struct {
	Target string `json:"target"`
	Have   int64  `json:"have"`
	Total  int64  `json:"total"`
}

// keptDownloads finds the partial downloads beside the programs aktual
// installed, and beside extra (the --target of status) when given.
func keptDownloads(st *updater.Status, extra string) ([]keptDownload, error) {
	targets := make([]string, 0, len(st.Installs)+1)
	for _, r := range st.Installs {
		targets = append(targets, r.Target)
	}
	if extra != "" {
		abs, err := filepath.Abs(extra)
		if err != nil {
			return nil, &updater.Error{Kind: updater.ErrUsage, Err: err}
		}
		if !slices.Contains(targets, abs) {
			targets = append(targets, abs)
		}
	}
	kept := []keptDownload{}
	for _, t := range targets {
		if have, total, ok := updater.PartialDownload(t); ok {
			kept = append(kept, keptDownload{Target: t, Have: have, Total: total})
		}
	}
	return kept, nil
}

// stateText names a journal's state for people.
func stateText(P *i18n.Printer, state string) string {
	switch state {
	case updater.StateIntent:
		return P.Sprintf("waiting for the server's answer to the reserve")
	case updater.StateReserved:
		return P.Sprintf("one update held, not yet installed")
	case updater.StateStaged:
		return P.Sprintf("being installed")
	case updater.StateApplied:
		return P.Sprintf("installed, not yet reported")
	}
	return state
}

func newRecoverCmd(ios *IOStreams) *cobra.Command {
	P := ios.P
	var server, target string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "recover",
		Short: P.Sprintf("Finish updates a crash or a cut line interrupted (report or give back), and nothing else"),
		Long: P.Sprintf(`recover finishes what a crash or a cut line left unfinished: an update that
was installed is reported to the server, one that was not is given back.
It also removes the patch work files an interrupted update left beside a
program (beside the programs aktual installed or was updating, beside
aktual itself, and beside --target); a kept download is left for the next
update to use.`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := newPrinter(ios, asJSON)
			if server != "" {
				if err := checkServerURL(server); err != nil {
					return err
				}
			}
			state, err := stateDir(cmd, target, false)
			if err != nil {
				return &updater.Error{Kind: updater.ErrUsage, Err: err}
			}
			// Patch work files are looked for beside the programs the
			// state directory names, and beside these, which it may not.
			also := []string{target}
			if exe, err := os.Executable(); err == nil {
				also = append(also, exe) // a self-update's
			}
			states := []string{state}
			if machineStateToo(cmd, state) {
				states = append(states, dirs.MachineState()) // the updates of programs every user has
			}
			var recs []updater.Recovered
			for _, dir := range states {
				u := &updater.Updater{Server: server, StateDir: dir, Events: p.event, Version: version(), Lang: P.Lang().String()}
				fr := newFieldReporter(cmd, u)
				defer fr.send(cmd.Context()) // after the results are printed
				rs, err := u.Recover(cmd.Context(), also...)
				if errors.Is(err, fs.ErrPermission) && dir != state {
					// Another user's business unless this one is an administrator.
					p.note("The updates of programs installed for every user (%s) are not yours to finish: run aktual recover as an administrator for them.", dir)
					continue
				} else if err != nil {
					return err
				}
				recs = append(recs, rs...)
			}
			code := reportRecovered(P, p, recs)
			if len(recs) == 0 {
				p.note("Nothing to recover.")
			}
			if code != ExitOK {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", P.Sprintf("finish only with this server (default: each update's own server)"))
	cmd.Flags().StringVar(&target, "target", "", P.Sprintf("also remove the patch work files an interrupted update left beside this program (one aktual has not updated before)"))
	cmd.Flags().BoolVar(&asJSON, "json", false, P.Sprintf("print JSON lines on stdout"))
	return cmd
}

// reportRecovered prints recover's outcome for each journal and patch work
// file, and returns the exit code: 8 while anything is still pending.
func reportRecovered(P *i18n.Printer, p printer, recs []updater.Recovered) int {
	code := ExitOK
	for _, r := range recs {
		o := outcome{Status: "recovered_" + r.Action, Product: r.Product, From: r.From, To: r.To, Target: r.Target}
		if r.Result != nil {
			o.Remaining = r.Result.Remaining
		}
		o.Message = P.Sprintf("%s %s → %s at %s: %s.", r.Product, r.From, r.To, r.Target, actionText(P, r.Action))
		switch {
		case r.Scratch != nil && r.Err == nil:
			o.Message = P.Sprintf("Removed the patch work files an interrupted update left beside %s.", r.Target)
		case r.Scratch != nil:
			o.Message = P.Sprintf("The patch work files an interrupted update left beside %s are still there.", r.Target)
		}
		switch {
		case r.Err != nil && r.Action == updater.ActionDropped:
			// Refused for good: nothing left to retry.
			o.Error = P.Sprint(r.Err)
			o.ExitCode = max(exitCode(r.Err), ExitUnexpected)
		case r.Err != nil:
			o.Error = P.Sprint(r.Err)
			o.ExitCode = ExitNotReported
		case r.Action == updater.ActionResume:
			o.Error = P.Sprintf("the server's answer to this update's reserve never came; run aktual update for it again to settle it (a held update is otherwise given back after 7 days)")
			o.ExitCode = ExitNotReported
		}
		// Anything still pending is retried later: exit 8.
		code = max(code, o.ExitCode)
		p.result(o)
	}
	return code
}

// newVersionCmd: the first line stays "aktual VERSION" for scripts that
// read it; the lines after it (commit, date, Go, platform) are for people,
// and --json gives scripts all of it.
func newVersionCmd(ios *IOStreams) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:         "version",
		Short:       ios.P.Sprintf("Print aktual's version"),
		Args:        cobra.NoArgs,
		Annotations: map[string]string{annotationOnlyPrints: "yes"},
		Run: func(*cobra.Command, []string) {
			info := buildinfo.Read(Version)
			if asJSON {
				(&jsonPrinter{io: ios}).line(info)
				return
			}
			P := ios.P
			orUnknown := func(s string) string {
				if s == "" {
					return P.Sprintf("unknown")
				}
				return s
			}
			fmt.Fprintln(ios.Out, "aktual", info.Version)
			tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "  %s\t%s\n", P.Sprintf("commit"), orUnknown(info.Commit))
			fmt.Fprintf(tw, "  %s\t%s\n", P.Sprintf("date"), orUnknown(info.Date))
			fmt.Fprintf(tw, "  %s\t%s\n", P.Sprintf("Go"), info.Go)
			fmt.Fprintf(tw, "  %s\t%s/%s\n", P.Sprintf("platform"), info.OS, info.Arch)
			tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, ios.P.Sprintf("print JSON on stdout"))
	return cmd
}
