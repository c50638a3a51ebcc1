package cli

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/internal/mdtext"
	"github.com/aktual/aktual/updater"
)

// What an installer shows of a release before the customer decides to
// spend a paid update on it: its notes (in the reader's language, else
// the other), whether it is critical, its staged rollout, and the
// required path it is a step of.

// planDetails adds the release control facts of plan to a result for
// scripts.
func planDetails(out *outcome, plan *updater.Plan) {
	if plan == nil {
		return
	}
	out.Channel, out.Critical = plan.Channel, plan.Critical
	if plan.Notes != nil {
		out.Notes = plan.Notes.Notes
	}
	if plan.Path != nil {
		out.PathTo = plan.Path.To
	}
	if r := plan.Rollout; r != nil && rolledOutHere(plan) {
		out.Rollout = &r.Percent
	}
}

// rolledOutHere reports whether the plan's release is the staged one (not a newer one
// withheld from this installation).
func rolledOutHere(plan *updater.Plan) bool {
	return plan.Rollout.Reached && plan.Rollout.Version == plan.Latest.Version
}

// showPlan prints, for a person, what the customer should know before
// confirming: the notes, critical, the rollout, the path.
func showPlan(ios *IOStreams, plan *updater.Plan) {
	P := ios.P
	if plan.Critical {
		fmt.Fprintln(ios.ErrOut, P.Sprintf("The vendor marks %s %s as a critical update.", plan.Product, plan.Latest.Version))
	}
	if r := plan.Rollout; r != nil && rolledOutHere(plan) {
		if r.Forced {
			fmt.Fprintln(ios.ErrOut, P.Sprintf("%s %s is being rolled out gradually (now to %d%% of installations); it is taken early here (--force).", plan.Product, plan.Latest.Version, r.Percent))
		} else {
			fmt.Fprintln(ios.ErrOut, P.Sprintf("%s %s is being rolled out gradually: this installation is among the first %d%%.", plan.Product, plan.Latest.Version, r.Percent))
		}
	}
	if p := plan.Path; p != nil && p.To != plan.Latest.Version {
		fmt.Fprintln(ios.ErrOut, P.Sprintf("%s %s requires %s first: this update installs %s, and the next run continues to %s free of charge.",
			plan.Product, p.To, plan.Latest.Version, plan.Latest.Version, p.To))
	}
	if text, lang := plan.Notes.Pick(P.Lang().String()); text != "" {
		head := P.Sprintf("What is new in %s %s:", plan.Product, plan.Latest.Version)
		if lang != P.Lang().String() {
			head = P.Sprintf("What is new in %s %s (the vendor wrote it in %s only):", plan.Product, plan.Latest.Version, languageName(P, lang))
		}
		fmt.Fprintf(ios.ErrOut, "\n%s\n\n%s\n", head, mdtext.Terminal(mdtext.Parse(text), termWidth(ios)))
	}
}

func languageName(P *i18n.Printer, lang string) string {
	if lang == "bg" {
		return P.Sprintf("Bulgarian")
	}
	return P.Sprintf("English")
}

// termWidth is the width notes are wrapped at: the terminal's, else
// $COLUMNS, else 80; at most 100, for reading.
func termWidth(ios *IOStreams) int {
	w := 80
	if f, ok := ios.ErrOut.(*os.File); ok {
		if tw, _, err := term.GetSize(int(f.Fd())); err == nil && tw > 0 {
			w = tw
		}
	} else if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		w = c
	}
	return min(w-1, 100)
}

// controlOptions are the release control flags of check and update.
type controlOptions struct {
	channel string
	force   bool
}

func (o *controlOptions) add(cmd *cobra.Command, P *i18n.Printer) {
	cmd.Flags().StringVar(&o.channel, "channel", "", P.Sprintf("follow this release channel (e.g. beta; remembered after an update; default: the remembered one, else stable)"))
	cmd.Flags().BoolVar(&o.force, "force", false, P.Sprintf("take a release that is being rolled out gradually before its rollout reaches this computer (support staff)"))
}
