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
	"sync"
	"syscall"

	"github.com/aktual/aktual/internal/buildinfo"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Version is set at build time (-ldflags "-X …/cli.Version=1.2.3").
var Version = ""

// RootKeys, set at build time (-ldflags "-X …/cli.RootKeys=BASE64[,BASE64]"),
// builds the vendor's root public keys into aktual: no trust.json needed,
// and none found on disk is used unless --trust names it.
var RootKeys = ""

// RootVersion, set at build time with RootKeys (-X …/cli.RootVersion=N),
// is the version of those root keys in the vendor's chain of root keys
// (aktuald keys list shows it): empty for the original root, 1. A build
// made after a root rotation needs it to follow the next rotation.
var RootVersion = ""

func version() string { return buildinfo.Version(Version) }

// Main runs aktual with args and returns its exit code. The first Ctrl-C
// (or SIGTERM) stops the command cleanly: it finishes or gives back what
// it must and says what it left. A second one quits at once, which is as
// safe as a crash: the journal lets the next run finish the work.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ios := NewIOStreams(stdin, stdout, stderr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Watched from the moment a command that does work starts
	// (PersistentPreRunE): one that only prints (aktual version) is
	// stopped by Ctrl-C as any program is, and starts without the
	// signal-handling thread (docs/benchmarks.md, "Issue 21").
	var sigs chan os.Signal
	ios.watchSignals = sync.OnceFunc(func() {
		sigs = make(chan os.Signal, 2)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		go func() {
			if _, ok := <-sigs; !ok {
				return
			}
			cancel()
			if _, ok := <-sigs; ok {
				fmt.Fprintln(ios.ErrOut, "\n"+ios.P.Sprintf("aktual: stopped at once. Anything unfinished is finished by the next run, or by aktual recover."))
				os.Exit(ExitInterrupted)
			}
		}()
	})
	defer func() {
		if sigs != nil {
			signal.Stop(sigs)
		}
	}()
	return run(ctx, ios, args)
}

// annotationOnlyPrints marks a command that only prints what it knows:
// it runs without watching for Ctrl-C.
const annotationOnlyPrints = "aktual.only-prints"

func run(ctx context.Context, ios *IOStreams, args []string) int {
	if err := setLanguage(ios, args); err != nil {
		fmt.Fprintf(ios.ErrOut, "aktual: %s\n", ios.P.Sprint(err))
		return ExitUsage
	}
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
	if !errors.Is(err, errFlag) && isCobraUsage(err) {
		err = usageError(usageProblem(err))
	}
	if errors.Is(err, errFlag) {
		fmt.Fprintf(ios.ErrOut, "aktual: %s\n%s\n", ios.P.Sprint(err), ios.P.Sprintf("Run 'aktual --help' for usage."))
		return ExitUsage
	}
	fmt.Fprintln(ios.ErrOut, "aktual:", ios.P.Sprint(err))
	return exitCode(err)
}

// setLanguage picks the language of everything aktual says, before the
// commands are built (their help is translated too): --lang, then
// AKTUAL_LANG, then the locale (LC_ALL, LC_MESSAGES, LANG).
func setLanguage(ios *IOStreams, args []string) error {
	explicit, source := os.Getenv("AKTUAL_LANG"), "AKTUAL_LANG"
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--lang="); ok {
			explicit, source = v, "--lang"
		} else if a == "--lang" && i+1 < len(args) {
			explicit, source = args[i+1], "--lang"
		}
	}
	tag, err := i18n.Detect(explicit, os.Getenv)
	if err != nil {
		// Said in the locale's language, naming where the choice came from.
		tag, _ = i18n.Detect("", os.Getenv) // no explicit choice: it cannot fail, and falls back to English
		err = usageError(i18n.M("%s %q is not a language aktual speaks; use bg or en", source, explicit))
	}
	ios.P = i18n.NewPrinter(tag)
	return err
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
	P := ios.P
	root := &cobra.Command{
		Use:   "aktual",
		Short: P.Sprintf("Install paid updates of your vendor's software"),
		Long: P.Sprintf(`aktual updates your vendor's software over the Internet: it finds the new
version, downloads and verifies it, checks your right to update (a 25-digit
update code, or a hardware key and an Internet code), installs it and tells
the server, which then counts one of your paid updates as used.

Every flag can also be given in the environment as AKTUAL_<FLAG>,
e.g. AKTUAL_SERVER, AKTUAL_CODE, AKTUAL_STATE_DIR, AKTUAL_LANG.`),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if ios.watchSignals != nil && cmd.Annotations[annotationOnlyPrints] == "" {
				ios.watchSignals()
			}
			return flagsFromEnv(cmd.Flags())
		},
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	pf := root.PersistentFlags()
	pf.String("state-dir", "", P.Sprintf("folder for journals and install records (default: the per-user state folder)"))
	pf.String("lang", "", P.Sprintf("language of messages: bg or en (default: from LC_ALL, LC_MESSAGES or LANG)"))
	pf.BoolVarP(&ios.Quiet, "quiet", "q", false, P.Sprintf("print only errors and the result"))
	pf.Bool("no-report", false, P.Sprintf("send the vendor no field report of this run (what was updated, from and to which version, how it ended; never who or where)"))
	root.AddCommand(
		newUpdateCmd(ios),
		newInstallCmd(ios),
		newUninstallCmd(ios),
		newSelfUpdateCmd(ios),
		newCheckCmd(ios),
		newStatusCmd(ios),
		newRecoverCmd(ios),
		newNetcheckCmd(ios),
		newDemoCmd(ios),
		newVersionCmd(ios),
		newManCmd(ios),
	)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(usageProblem(err)) })
	localizeHelp(root, P)
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
				if f.Value.Type() == "bool" {
					err = usageError(i18n.M("%s takes true or false, not %q", name, v))
				} else {
					err = usageError(i18n.M("%s=%q: %v", name, v, serr))
				}
			}
		}
	})
	return err
}
