package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/server/admin"
)

// releaseStatusOptions are aktuald release status's flags.
type releaseStatusOptions struct {
	product string
}

func newReleaseStatusCmd(e *env) *cobra.Command {
	o := &releaseStatusOptions{}
	cmd := &cobra.Command{
		Use:   "status --product P",
		Short: "What installers reported of each release: offered, started, succeeded, rolled back, failed, and the installations on each version",
		Long: `status counts the field reports installers sent of each release of a product, per
channel: how many installations were offered it, started it, succeeded, had it
rolled back after a failed health check, or failed (and why), and how many are
now on each version. Each count is of distinct installations.`,
		Example: `  aktuald release status --product ledger
  aktuald release status --product ledger --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReleaseStatus(cmd.Context(), e, o) },
	}
	cmd.Flags().StringVar(&o.product, "product", "", "the product, as published")
	return cmd
}

func runReleaseStatus(ctx context.Context, e *env, o *releaseStatusOptions) error {
	if o.product == "" {
		return usagef("--product is required: the product whose field reports to count")
	}
	inst, err := e.open()
	if err != nil {
		return err
	}
	defer inst.Close()
	rows, err := admin.New(inst).ReleaseStatus(ctx, localCaller(), o.product)
	if err != nil {
		return staffError(err)
	}
	e.print(struct {
		Product  string                `json:"product"`
		Releases []admin.ReleaseStatus `json:"releases"`
	}{o.product, rows}, releaseStatusText(o.product, rows))
	return nil
}

// releaseStatusText is the table of release status: one line per release
// and channel.
func releaseStatusText(product string, rows []admin.ReleaseStatus) string {
	if len(rows) == 0 {
		return fmt.Sprintf("No field reports of %s yet.\n", product)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tROLLOUT\tCHANNEL\tOFFERED\tSTARTED\tSUCCEEDED\tROLLED BACK\tFAILED\tSUCCESS\tINSTALLED NOW\tFAILED BY CAUSE")
	var notes, why []string
	for _, r := range rows {
		rate := "-"
		if r.SuccessRate != nil {
			rate = fmt.Sprintf("%.0f%%", *r.SuccessRate*100)
		}
		rollout := fmt.Sprintf("%d%%", r.Rollout)
		if r.Critical {
			rollout = "critical"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%s\n", r.Version, r.State, rollout, channelName(r.Channel),
			r.Offered, r.Started, r.Succeeded, r.RolledBack, r.Failed, rate, r.Installed, causesText(r.FailedBy))
		if r.State != "live" && r.Reason != "" && !slices.Contains(notes, r.Version) {
			notes = append(notes, r.Version)
			why = append(why, fmt.Sprintf("%s %s by %s: %s\n", r.Version, r.State, r.ChangedBy, r.Reason))
		}
	}
	tw.Flush()
	if !slices.ContainsFunc(rows, func(r admin.ReleaseStatus) bool { return r.Offered+r.Started+r.Installed > 0 }) {
		why = append(why, fmt.Sprintf("No field reports of %s yet.\n", product))
	}
	return b.String() + strings.Join(why, "")
}

func channelName(c string) string {
	if c == "" {
		return "stable"
	}
	return c
}

// causesText is "apply_failed 2, credential_rejected 1", by cause.
func causesText(by map[string]int) string {
	if len(by) == 0 {
		return "-"
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%s %d", causeName(c), by[c]))
	}
	return strings.Join(parts, ", ")
}

func causeName(c string) string {
	if c == "" {
		return "unknown"
	}
	return c
}
