package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/internal/dirs"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

type installOptions struct {
	serverOptions
	product  string
	dir      string
	code     string
	hwkey    string
	allUsers bool
	yes      bool
	json     bool
}

func newInstallCmd(ios *IOStreams) *cobra.Command {
	P := ios.P
	o := &installOptions{}
	cmd := &cobra.Command{
		Use:   "install",
		Short: P.Sprintf("Install a program folder for the first time; it uses none of your paid updates"),
		Example: `  aktual install --server https://updates.example.com --product ledger
  AKTUAL_CODE=12345-67890-12345-67890-12345 aktual install --product ledger --dir 'D:\Programs\Ledger' --yes --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runInstall(cmd, ios, o) },
	}
	o.addFlags(cmd, P)
	f := cmd.Flags()
	f.StringVar(&o.product, "product", "", P.Sprintf("product to install, as the vendor names it"))
	f.StringVar(&o.dir, "dir", "", P.Sprintf("folder to install in (default: the product's name in your programs folder)"))
	f.StringVar(&o.code, "code", "", P.Sprintf("Pro series: your 25-digit update code (asked for when not given)"))
	f.StringVar(&o.hwkey, "hwkey", "", P.Sprintf("classic series: the hardware key's licence file (default: looked for on removable media)"))
	f.BoolVar(&o.allUsers, "all-users", false, P.Sprintf("install for every user of this computer (needs administrator rights)"))
	f.BoolVarP(&o.yes, "yes", "y", false, P.Sprintf("do not ask for confirmation"))
	f.BoolVar(&o.json, "json", false, P.Sprintf("print JSON lines (events, then a result) on stdout"))
	return cmd
}

func runInstall(cmd *cobra.Command, ios *IOStreams, o *installOptions) error {
	p := newPrinter(ios, o.json)
	out := outcome{Product: o.product}
	var code api.UpdateCode
	if o.code != "" {
		c, err := api.ParseCode(o.code)
		if err != nil {
			return report(ios, p, out, &updater.Error{Kind: updater.ErrCredentialRejected, Err: err})
		}
		code = c
	}
	dir, err := defaultInstallDir(o)
	if err != nil {
		return report(ios, p, out, err)
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		// Said before anything else is looked at (the trust file, the server).
		return report(ios, p, out, usageError(i18n.M("%s is a file; pass --dir a folder to install the program in", dir)))
	}
	u, err := newEngine(cmd, &o.serverOptions, p, true, dir, o.allUsers)
	if err != nil {
		return report(ios, p, out, err)
	}
	req := updater.InstallRequest{Product: o.product, Dir: dir, AllUsers: o.allUsers,
		Credential: func(ctx context.Context) (api.Credential, error) { return installCredential(ctx, ios, u, o, code) }}
	if !o.yes {
		req.Confirm = func(ctx context.Context, ip *updater.InstallPlan) (bool, error) { return confirmInstall(ctx, ios, ip) }
	}
	res, ip, err := u.Install(cmd.Context(), req)
	err = explainNoConnection(cmd.Context(), ios.P, o.server, err)
	out.Target = dir
	if res != nil {
		out = outcome{Status: "installed", Product: res.Product, To: res.To, Target: res.Target}
		out.Message = ios.P.Sprintf("Installed %s %s in %s.", res.Product, res.To, res.Target)
		if ip != nil && ip.Newest != "" && api.CompareVersions(ip.Newest, res.To) > 0 {
			out.Message += " " + ios.P.Sprintf("%s %s is newer: aktual update --target %s installs it with one paid update.", res.Product, ip.Newest, res.Target)
		}
		if err == nil {
			out.Message = joinSentences(out.Message, integrate(u, res, ip, o.allUsers, ios))
		}
	}
	return report(ios, p, out, err)
}

// defaultInstallDir is --dir, or the product's folder in the per-user
// (or, with --all-users, per-machine) programs folder, checking that a
// per-machine install has the rights it needs.
func defaultInstallDir(o *installOptions) (string, error) {
	if !api.ValidName(o.product) {
		return "", usageError(i18n.M("--product is required: the product's name as the vendor publishes it"))
	}
	dir := o.dir
	if dir == "" {
		base, err := dirs.Programs(o.allUsers)
		if err != nil {
			return "", &updater.Error{Kind: updater.ErrUsage, Err: err}
		}
		dir = filepath.Join(base, o.product)
	}
	if o.allUsers {
		if err := updater.CheckAllUsers(dir); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// installCredential is --hwkey's proof, --code, a hardware key found on
// removable media, or a code asked for.
func installCredential(ctx context.Context, ios *IOStreams, u *updater.Updater, o *installOptions, code api.UpdateCode) (api.Credential, error) {
	if o.hwkey != "" || code == "" {
		key, err := hwkey.Locate(ctx, o.hwkey, hwkey.Hint{}, hwkey.FileDriver{})
		switch {
		case err == nil:
			return u.KeyProof(ctx, o.product, key)
		case o.hwkey != "":
			return api.Credential{}, &updater.Error{Kind: updater.ErrCredentialRejected, Err: err}
		case !errors.Is(err, hwkey.ErrNoKey):
			return api.Credential{}, &updater.Error{Kind: updater.ErrInputNeeded, Err: err}
		}
	}
	if code == "" {
		c, err := askCode(ctx, ios)
		if err != nil {
			return api.Credential{}, err
		}
		code = c
	}
	return api.Credential{Code: string(code)}, nil
}

func confirmInstall(ctx context.Context, ios *IOStreams, ip *updater.InstallPlan) (bool, error) {
	q := ios.P.Sprintf("Install %s %s in %s (%d files, %v to download)? This uses none of your paid updates. [y/N] ",
		ip.Product, ip.Version, ip.Dir, ip.Files, i18n.Size(ip.Bytes))
	return askYes(ctx, ios, q, i18n.M("a confirmation is needed but standard input ended; pass --yes to install without asking"))
}

// integrate registers a finished install with the system: on Windows the
// "Apps & features" entry and the Start-menu shortcut. A failure is said,
// not returned: the program is installed and runs.
func integrate(u *updater.Updater, res *updater.Result, ip *updater.InstallPlan, allUsers bool, ios *IOStreams) string {
	self, _ := os.Executable()
	done, err := u.Integrate(res.Target, ip.Main, self, allUsers)
	if err != nil {
		fmt.Fprintln(ios.ErrOut, ios.P.Sprintf("The program is installed, but %v", err))
	}
	return done
}

type uninstallOptions struct {
	target string
	purge  bool
	wait   time.Duration
	json   bool
}

func newUninstallCmd(ios *IOStreams) *cobra.Command {
	P := ios.P
	o := &uninstallOptions{}
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: P.Sprintf("Remove a program folder aktual installed, keeping your own files"),
		Example: `  aktual uninstall --target 'C:\Users\ivan\AppData\Local\Programs\ledger'
  aktual uninstall --target /opt/ledger --purge --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUninstall(cmd, ios, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "", P.Sprintf("the program's folder (or a file in it)"))
	f.BoolVar(&o.purge, "purge", false, P.Sprintf("remove your own data the program keeps in its folder too (the files the vendor marked preserved)"))
	f.DurationVar(&o.wait, "wait", 0, P.Sprintf("files in use by running programs (Windows): wait this long for them to be closed, then stop with exit 9"))
	f.BoolVar(&o.json, "json", false, P.Sprintf("print the result as JSON on stdout"))
	return cmd
}

func runUninstall(cmd *cobra.Command, ios *IOStreams, o *uninstallOptions) error {
	p := newPrinter(ios, o.json)
	out := outcome{Target: o.target}
	state, err := stateDir(cmd, o.target, false)
	if err != nil {
		return report(ios, p, out, &updater.Error{Kind: updater.ErrUsage, Err: err})
	}
	u := &updater.Updater{StateDir: state, Events: p.event, Version: version(), Lang: ios.P.Lang().String()}
	res, err := u.Uninstall(cmd.Context(), updater.UninstallRequest{Target: o.target, Purge: o.purge, InUse: inUseWaiter(ios, o.target, o.wait)})
	if res != nil {
		out = outcome{Status: "uninstalled", Product: res.Product, From: res.Version, Target: res.Dir}
		switch {
		case res.DirRemoved:
			out.Message = ios.P.Sprintf("Removed %s %s from %s (%d files).", res.Product, res.Version, res.Dir, res.Removed)
		default:
			out.Message = ios.P.Sprintf("Removed %s %s from %s (%d files); %d of your files are kept there, e.g. %s.",
				res.Product, res.Version, res.Dir, res.Removed, len(res.Kept), res.Kept[0])
		}
	}
	return report(ios, p, out, err)
}
