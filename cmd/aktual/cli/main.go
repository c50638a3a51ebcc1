// Package cli is the aktual installer's command line: cobra commands,
// prompts, progress bar and exit codes over the updater engine.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/aktual/aktual/internal/buildinfo"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Version is set at build time (-ldflags "-X …/cli.Version=1.2.3").
var Version = ""

// RootKeys, set at build time (-ldflags "-X …/cli.RootKeys=BASE64[,BASE64]"),
// builds the vendor's root public keys into aktual: no trust.json needed,
// and none found on disk is used unless --trust names it.
var RootKeys = ""

func version() string { return buildinfo.Version(Version) }

// Main runs aktual with args and returns its exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return run(ctx, NewIOStreams(stdin, stdout, stderr), args)
}

func run(ctx context.Context, ios *IOStreams, args []string) int {
	root := newRootCmd(ios)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ex *exitError
	if errors.As(err, &ex) {
		return ex.code // already reported
	}
	if errors.Is(err, errFlag) || isCobraUsage(err) {
		fmt.Fprintf(ios.ErrOut, "aktual: %v\nRun 'aktual --help' for usage.\n", err)
		return ExitUsage
	}
	fmt.Fprintln(ios.ErrOut, "aktual:", err)
	return exitCode(err)
}

// exitError carries an exit code for an outcome the command already printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires "} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "aktual",
		Short: "Install paid updates of your vendor's software",
		Long: `aktual updates your vendor's software over the Internet: it finds the new
version, downloads and verifies it, checks your right to update (a 25-digit
update code, or a hardware key and an Internet code), installs it and tells
the server, which then counts one of your paid updates as used.

Every flag can also be given in the environment as AKTUAL_<FLAG>,
e.g. AKTUAL_SERVER, AKTUAL_CODE, AKTUAL_STATE_DIR.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return flagsFromEnv(cmd.Flags())
		},
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.PersistentFlags().String("state-dir", "", "folder for journals and install records (default: the per-user state folder)")
	root.AddCommand(
		newUpdateCmd(ios),
		newCheckCmd(ios),
		newStatusCmd(ios),
		newRecoverCmd(ios),
		newNetcheckCmd(ios),
		newDemoCmd(ios),
		newVersionCmd(ios),
	)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err.Error()) })
	return root
}

// flagsFromEnv fills every flag not given on the command line from
// AKTUAL_<FLAG> (dashes become underscores).
func flagsFromEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		name := "AKTUAL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = usageError(fmt.Sprintf("%s=%q: %v", name, v, serr))
			}
		}
	})
	return err
}
