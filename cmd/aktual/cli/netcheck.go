package cli

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/netcheck"
	"github.com/aktual/aktual/updater"
)

func newNetcheckCmd(ios *IOStreams) *cobra.Command {
	P := ios.P
	var server string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "netcheck",
		Short: P.Sprintf("Check the connection to the update server step by step, and say what to do (exit 3 if it cannot be reached)"),
		Long: P.Sprintf(`netcheck checks the way to the update server step by step: the address, the
proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), the name lookup (DNS), the
connection (TCP), the certificate (TLS), the server's answer and version, and
this computer's clock. For each problem it says what to do.

Exit status: 0 when everything works, 3 when the server cannot be reached,
1 when it can be reached but a problem remains (e.g. the clock is wrong).`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" {
				return usageError(i18n.M("--server is required: the update server's URL (or AKTUAL_SERVER)"))
			}
			if err := checkServerURL(server); err != nil {
				return err
			}
			rep := (&netcheck.Client{}).Run(cmd.Context(), server)
			if asJSON {
				(&jsonPrinter{io: ios}).line(renderNetcheck(ios.P, rep))
			} else {
				writeNetcheck(ios, rep)
			}
			if cmd.Context().Err() != nil {
				return &exitError{code: ExitInterrupted}
			}
			if code := netcheckExit(rep); code != ExitOK {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", P.Sprintf("the update server's URL to check, e.g. https://updates.example.com"))
	cmd.Flags().BoolVar(&asJSON, "json", false, P.Sprintf("print the report as one JSON object on stdout"))
	return cmd
}

// netcheckExit: 3 when the server cannot be reached (a check before its
// health answer failed), 1 when it can but another check failed.
func netcheckExit(rep *netcheck.Report) int {
	switch {
	case !rep.Reachable():
		return ExitNoConnection
	case !rep.OK():
		return ExitUnexpected
	}
	return ExitOK
}

// netcheckJSON is the report as --json prints it, its messages in the
// reader's language. The field names are a stable schema for scripts.
type netcheckJSON struct {
	Server        string              `json:"server"`
	ServerVersion string              `json:"server_version"`
	OK            bool                `json:"ok"`
	Reachable     bool                `json:"reachable"`
	Checks        []netcheckCheckJSON `json:"checks"`
}

type netcheckCheckJSON struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Warning bool   `json:"warning"`
	Detail  string `json:"detail"`
	Remedy  string `json:"remedy"`
}

func renderNetcheck(p *i18n.Printer, rep *netcheck.Report) netcheckJSON {
	out := netcheckJSON{Server: rep.Server, ServerVersion: rep.ServerVersion, OK: rep.OK(), Reachable: rep.Reachable(),
		Checks: []netcheckCheckJSON{}}
	for _, c := range rep.Checks {
		out.Checks = append(out.Checks, netcheckCheckJSON{Name: c.Name, OK: c.OK, Warning: c.Warning,
			Detail: renderMessage(p, c.Detail), Remedy: renderMessage(p, c.Remedy)})
	}
	return out
}

func renderMessage(p *i18n.Printer, m i18n.Message) string {
	if m.IsZero() {
		return ""
	}
	return p.Sprint(m)
}

// checkLabel names a check for people.
func checkLabel(p *i18n.Printer, name string) string {
	switch name {
	case netcheck.CheckURL:
		return p.Sprintf("server address")
	case netcheck.CheckProxy:
		return p.Sprintf("proxy settings")
	case netcheck.CheckDNS:
		return p.Sprintf("name lookup (DNS)")
	case netcheck.CheckTCP:
		return p.Sprintf("connection (TCP)")
	case netcheck.CheckTLS:
		return p.Sprintf("certificate (TLS)")
	case netcheck.CheckHealth:
		return p.Sprintf("server's answer")
	case netcheck.CheckClock:
		return p.Sprintf("date and time")
	}
	return name
}

// writeNetcheck prints one line per check, a mark first, the remedy
// indented below, then what it all means.
func writeNetcheck(ios *IOStreams, rep *netcheck.Report) {
	P := ios.P
	width := 0
	for _, c := range rep.Checks {
		width = max(width, utf8.RuneCountInString(checkLabel(P, c.Name)))
	}
	// Each language pads its marks to one width; the remedy lines up
	// under the label.
	indent := 0
	for _, m := range []string{P.Sprintf("ok   %s", ""), P.Sprintf("FAIL %s", ""), P.Sprintf("warn %s", "")} {
		indent = max(indent, utf8.RuneCountInString(m))
	}
	for _, c := range rep.Checks {
		label := checkLabel(P, c.Name)
		text := label + strings.Repeat(" ", width-utf8.RuneCountInString(label)+2) + P.Sprint(c.Detail)
		switch {
		case !c.OK:
			text = P.Sprintf("FAIL %s", text)
		case c.Warning:
			text = P.Sprintf("warn %s", text)
		default:
			text = P.Sprintf("ok   %s", text)
		}
		fmt.Fprintln(ios.Out, text)
		if !c.Remedy.IsZero() {
			fmt.Fprintf(ios.Out, "%s→ %s\n", strings.Repeat(" ", indent), P.Sprint(c.Remedy))
		}
	}
	f := rep.FirstFailure()
	switch {
	case f == nil:
		fmt.Fprintln(ios.Out, P.Sprintf("The update server at %s can be reached, and everything updates need works.", rep.Server))
	case !rep.Reachable():
		fmt.Fprintln(ios.Out, P.Sprintf("The update server cannot be reached; the step that failed: %s.", checkLabel(P, f.Name)))
	default:
		fmt.Fprintln(ios.Out, P.Sprintf("The update server can be reached, but a problem remains: %s.", checkLabel(P, f.Name)))
	}
}

// Bounds of the quick checks that explain a failed connection: the
// updater has already waited, so they must not make the person wait long.
const (
	explainStepTimeout = 5 * time.Second
	explainTimeout     = 15 * time.Second
)

// explainNoConnection: when the update server could not be reached, the
// quick checks (address, proxy, DNS, TCP, TLS) find the step that failed,
// and the error says that step and what to do, in place of the
// transport's raw error. When every step passes (the server answered too
// slowly, or the line broke mid-answer), err is kept as it is.
func explainNoConnection(ctx context.Context, P *i18n.Printer, server string, err error) error {
	// Only when the run failed for the connection (exit 3): an update
	// applied but not yet reported (exit 8) keeps its kind and message.
	if exitCode(err) != ExitNoConnection || ctx.Err() != nil || server == "" {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, explainTimeout)
	defer cancel()
	rep := (&netcheck.Client{Timeout: explainStepTimeout}).Quick(ctx, server)
	f := rep.FirstFailure()
	if f == nil || ctx.Err() != nil {
		return err
	}
	return &updater.Error{Kind: updater.ErrNoConnection, Err: err, Msg: i18n.M(
		"cannot reach the update server at %[1]s; the step that failed: %[2]s: %[3]v. What to do: %[4]v (all the checks: aktual netcheck --server %[1]s)",
		server, checkLabel(P, f.Name), f.Detail, f.Remedy)}
}
