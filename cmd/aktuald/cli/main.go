// Package cli is aktuald's command line: serve, admin and release commands
// over the server package.
package cli

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/aktual/aktual/internal/buildinfo"
	"github.com/aktual/aktual/internal/clock"
	"github.com/aktual/aktual/internal/dirs"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/server/keyring"
)

// Version is set at build time (-ldflags "-X …/cli.Version=1.2.3").
var Version = ""

func version() string { return buildinfo.Version(Version) }

// Exit codes of aktuald.
const (
	exitOK        = 0
	exitFailed    = 1
	exitUsage     = 2
	exitViolation = 3 // admin audit found a broken invariant
)

// Main runs aktuald with args and returns its exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &env{out: stdout, errOut: stderr}
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	for _, release := range env.holds {
		release()
	}
	var ce *codeError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		if ce.err != nil {
			fmt.Fprintln(stderr, "aktuald:", ce.err)
		}
		return ce.code
	case isUsage(err):
		fmt.Fprintf(stderr, "aktuald: %v\nRun 'aktuald --help' for usage.\n", err)
		return exitUsage
	}
	fmt.Fprintln(stderr, "aktuald:", err)
	return exitFailed
}

type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return fmt.Sprint(e.err) }

func usagef(format string, args ...any) error {
	return &codeError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires ", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// env is what every command shares: the streams and the global flags.
type env struct {
	out, errOut io.Writer
	data        string
	db          string
	rootKey     string // --root-key: the root key kept off the server
	json        bool
	// now is the clock of the commands' decisions (expiry, issue dates);
	// nil: the wall clock.
	now clock.Func
	// holds release the database in-use locks open took (see
	// datadir.HoldDatabase); Main releases them when the command ends.
	holds []func()
}

func (e *env) dataDir() (datadir.DataDir, error) {
	if e.data != "" {
		abs, err := filepath.Abs(e.data)
		return datadir.DataDir(abs), err
	}
	d, err := dirs.Data()
	if err != nil {
		return "", usagef("%v", err)
	}
	return datadir.DataDir(d), nil
}

// open opens the data directory (creating it on first use).
func (e *env) open() (*datadir.Instance, error) {
	dir, err := e.dataDir()
	if err != nil {
		return nil, err
	}
	// Every command that opens the database holds it in use, as serve
	// does, so an admin restore cannot replace the file under it.
	release, err := datadir.HoldDatabase(dir, e.db)
	if err != nil {
		return nil, err
	}
	e.holds = append(e.holds, release)
	root, err := e.root()
	if err != nil {
		return nil, err
	}
	inst, err := datadir.OpenWithRoot(dir, e.db, root)
	if err != nil {
		return nil, err
	}
	for _, w := range inst.Keys.Warnings {
		fmt.Fprintln(e.errOut, "aktuald: warning:", w)
	}
	return inst, nil
}

// root reads --root-key; nil when it is not given.
func (e *env) root() (ed25519.PrivateKey, error) {
	if e.rootKey == "" {
		return nil, nil
	}
	k, err := keyring.ReadKeyFile(e.rootKey)
	if err != nil {
		return nil, usagef("--root-key %s: %v", e.rootKey, err)
	}
	return k, nil
}

// print writes v as JSON with --json, else the text.
func (e *env) print(v any, text string) {
	if e.json {
		b, _ := json.Marshal(v)
		fmt.Fprintln(e.out, string(b))
		return
	}
	fmt.Fprint(e.out, text)
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "aktuald",
		Short: "The aktual reference update server",
		Long: `aktuald keeps customers' paid updates, publishes signed releases, serves
artifacts and the update API, and lets vendor staff activate updates.

Every flag can also be given in the environment as AKTUALD_<FLAG>, dashes
as underscores (e.g. AKTUALD_DATA, AKTUALD_DB, AKTUALD_ADDR,
AKTUALD_TLS_CERT); a flag on the command line wins.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// No subcommand may set its own PersistentPreRun(E): cobra would
		// run it instead of this one (TestNoCommandHidesTheEnvironment).
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return flagsFromEnv(cmd.Flags(), os.LookupEnv)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&e.data, "data", "", "data folder: database, keys, artifacts, trust.json (default: the per-user data folder)")
	pf.StringVar(&e.db, "db", "", "database URL (default: the embedded SQLite database in the data folder)")
	pf.BoolVar(&e.json, "json", false, "machine-readable output on stdout")
	pf.StringVar(&e.rootKey, "root-key", "", "the root key file, when it is kept off the server (for init and key changes)")
	root.AddCommand(newServeCmd(e), newInitCmd(e), newAdminCmd(e), newStaffCmd(e), newReleaseCmd(e), newKeysCmd(e), &cobra.Command{
		Use:   "version",
		Short: "Print aktuald's version, commit, date, Go version and platform (--json: as one object)",
		Args:  cobra.NoArgs,
		// The first line stays "aktuald VERSION" for scripts that read it.
		Run: func(*cobra.Command, []string) {
			i := buildinfo.Read(Version)
			orUnknown := func(s string) string { return cmp.Or(s, "unknown") }
			e.print(i, fmt.Sprintf("aktuald %s\n  commit    %s\n  date      %s\n  Go        %s\n  platform  %s/%s\n",
				i.Version, orUnknown(i.Commit), orUnknown(i.Date), i.Go, i.OS, i.Arch))
		},
	})
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usagef("%v", err) })
	return root
}

// envPrefix: every flag of every command may be set in the environment as
// AKTUALD_<FLAG>, as the installer's are as AKTUAL_<FLAG>.
const envPrefix = "AKTUALD_"

// envName is the variable that sets a flag: --tls-cert is AKTUALD_TLS_CERT.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// flagsFromEnv sets every flag of fs (the command's own and those it
// inherits) that the command line did not set from its AKTUALD_<FLAG>, when
// that is set and not empty. A value the flag refuses is a usage error
// naming the variable.
func flagsFromEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		name := envName(f.Name)
		v, ok := lookup(name)
		if !ok || v == "" {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			if f.Value.Type() == "bool" {
				err = usagef("%s=%q: --%s takes true or false", name, v, f.Name)
				return
			}
			err = usagef("%s=%q: %v", name, v, serr) // serr names the flag
		}
	})
	return err
}
