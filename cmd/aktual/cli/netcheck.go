package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/netcheck"
	"github.com/aktual/aktual/updater"
)

func newNetcheckCmd(ios *IOStreams) *cobra.Command {
	var server string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "netcheck",
		Short: "Diagnose the connection to the update server (exit 3 if it cannot be reached)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" {
				return usageError("--server is required: the update server's URL (or AKTUAL_SERVER)")
			}
			rep := (&netcheck.Client{HTTPClient: updater.DefaultHTTPClient()}).Run(cmd.Context(), server)
			if asJSON {
				(&jsonPrinter{io: ios}).line(rep)
			} else {
				for _, c := range rep.Checks {
					mark := "ok  "
					if !c.OK {
						mark = "FAIL"
					}
					fmt.Fprintf(ios.Out, "%s %-7s %s\n", mark, c.Name, c.Detail)
					if c.Remedy != "" {
						fmt.Fprintf(ios.Out, "             → %s\n", c.Remedy)
					}
				}
			}
			switch {
			case !rep.Reachable():
				return &exitError{code: ExitNoConnection}
			case !rep.OK():
				return &exitError{code: ExitUnexpected}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "update server URL")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON on stdout")
	return cmd
}
