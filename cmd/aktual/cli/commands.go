package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/updater"
)

type checkOptions struct {
	serverOptions
	product, target, fromVersion string
	json                         bool
}

func newCheckCmd(ios *IOStreams) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Say whether a newer version is available (exit 10 if so); installs and reserves nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := newPrinter(ios, o.json)
			u, err := newEngine(cmd, &o.serverOptions, p, true)
			if err != nil {
				return report(p, outcome{Product: o.product}, err)
			}
			// Every run first finishes what a crash left unfinished.
			if recs, err := u.Recover(cmd.Context()); err == nil {
				for _, r := range recs {
					if r.Action == updater.ActionReported || r.Action == updater.ActionReleased {
						p.note("An interrupted update of %s at %s was finished (%s).", r.Product, r.Target, r.Action)
					}
				}
			}
			plan, err := u.Check(cmd.Context(), updater.CheckRequest{Product: o.product, Target: o.target, FromVersion: o.fromVersion})
			if err != nil {
				return report(p, outcome{Product: o.product}, err)
			}
			out := outcome{Product: plan.Product, From: plan.From, To: plan.Latest.Version, Target: plan.Target}
			switch {
			case plan.Newer:
				out.Status, out.To = updater.StatusUpToDate, plan.From
				out.Message = fmt.Sprintf("%s %s is newer than the newest published release (%s); nothing to do.", plan.Product, plan.From, plan.Latest.Version)
			case plan.UpToDate:
				out.Status = updater.StatusUpToDate
				out.Message = fmt.Sprintf("%s %s is up to date.", plan.Product, plan.From)
			default:
				out.Status = statusUpdateAvailable
				out.Message = fmt.Sprintf("%s %s is available (installed: %s, found by %s).", plan.Product, plan.Latest.Version, plan.From, plan.FromSource)
				if plan.Downgrade {
					out.Message = fmt.Sprintf("The vendor withdrew %s %s; %s replaces it, free of charge (run aktual update).", plan.Product, plan.From, plan.Latest.Version)
				}
				out.ExitCode = ExitUpdateAvailable
				p.result(out)
				return &exitError{code: ExitUpdateAvailable}
			}
			return report(p, out, nil)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&o.product, "product", "", "product to check")
	cmd.Flags().StringVar(&o.target, "target", "", "path of the installed program")
	cmd.Flags().StringVar(&o.fromVersion, "from-version", "", "installed version, when it cannot be found from the file itself")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON on stdout")
	return cmd
}

func newStatusCmd(ios *IOStreams) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what aktual installed and any update not yet finished",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			state, err := stateDir(cmd)
			if err != nil {
				return usageError(err.Error())
			}
			st, err := (&updater.Updater{StateDir: state}).ReadStatus()
			if err != nil {
				return err
			}
			if asJSON {
				(&jsonPrinter{io: ios}).line(struct {
					StateDir string                  `json:"state_dir"`
					Pending  []updater.Journal       `json:"pending"`
					Installs []updater.InstallRecord `json:"installs"`
					Problems []string                `json:"problems"`
				}{state, st.Pending, st.Installs, st.Problems})
				return nil
			}
			tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
			if len(st.Installs) == 0 {
				fmt.Fprintln(tw, "No updates installed by aktual yet.")
			} else {
				fmt.Fprintln(tw, "PRODUCT\tVERSION\tTARGET\tUPDATED")
				for _, r := range st.Installs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Product, r.Version, r.Target, r.UpdatedAt.Local().Format("2006-01-02 15:04"))
				}
			}
			tw.Flush()
			for _, j := range st.Pending {
				fmt.Fprintf(ios.Out, "Unfinished: %s %s → %s at %s (%s); it is finished on the next run, or by aktual recover.\n",
					j.Product, j.From, j.To, j.Target, j.State)
			}
			for _, p := range st.Problems {
				fmt.Fprintln(ios.ErrOut, "aktual: problem:", p)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON on stdout")
	return cmd
}

func newRecoverCmd(ios *IOStreams) *cobra.Command {
	var server string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Finish updates a crash or a cut line interrupted (report or give back), and nothing else",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := newPrinter(ios, asJSON)
			if server != "" {
				if err := checkServerURL(server); err != nil {
					return err
				}
			}
			state, err := stateDir(cmd)
			if err != nil {
				return usageError(err.Error())
			}
			u := &updater.Updater{Server: server, StateDir: state, Events: p.event, Version: version()}
			recs, err := u.Recover(cmd.Context())
			if err != nil {
				return err
			}
			code := ExitOK
			for _, r := range recs {
				o := outcome{Status: "recovered_" + r.Action, Product: r.Product, From: r.From, To: r.To, Target: r.Target}
				if r.Result != nil {
					o.Remaining = r.Result.Remaining
				}
				o.Message = fmt.Sprintf("%s %s → %s at %s: %s.", r.Product, r.From, r.To, r.Target, r.Action)
				switch {
				case r.Err != nil && r.Action == updater.ActionDropped:
					// Refused for good: nothing left to retry.
					o.Error = r.Err.Error()
					o.ExitCode = max(exitCode(r.Err), ExitUnexpected)
				case r.Err != nil:
					o.Error = r.Err.Error()
					o.ExitCode = ExitNotReported
				case r.Action == updater.ActionResume:
					o.Error = "the server's answer to this update's reserve never came; run aktual update for it again to settle it (a held update is otherwise given back after 7 days)"
					o.ExitCode = ExitNotReported
				}
				// Anything still pending is retried later: exit 8.
				code = max(code, o.ExitCode)
				p.result(o)
			}
			if len(recs) == 0 {
				p.note("Nothing to recover.")
			}
			if code != ExitOK {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "finish only with this server (default: each update's own server)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines on stdout")
	return cmd
}

func newVersionCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print aktual's version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintln(ios.Out, "aktual", version()) },
	}
}
