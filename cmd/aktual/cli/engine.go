package cli

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/dirs"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

// serverOptions are the flags every command that talks to a server has.
type serverOptions struct {
	server string
	trust  string
	// P is the reader's language, for the server's messages too.
	P *i18n.Printer
}

func (o *serverOptions) addFlags(cmd *cobra.Command, P *i18n.Printer) {
	o.P = P
	cmd.Flags().StringVar(&o.server, "server", "", P.Sprintf("update server URL, e.g. https://updates.example.com"))
	cmd.Flags().StringVar(&o.trust, "trust", "", P.Sprintf("trust file with the vendor's public keys (default: trust.json in the state folder or beside aktual)"))
}

// stateDir is the folder of the installer's journals, install records and
// locks: --state-dir when given; else the machine's (%ProgramData%\aktual)
// for a program installed for every user (allUsers, a target in the
// machine's programs folder, or one the machine's state folder knows), so
// that every administrator's aktual finds them; else the user's own
// (%LocalAppData%\aktual).
func stateDir(cmd *cobra.Command, target string, allUsers bool) (string, error) {
	if d, _ := cmd.Flags().GetString("state-dir"); d != "" {
		return filepath.Abs(d)
	}
	if allUsers || machineTarget(target) {
		return dirs.MachineState(), nil
	}
	return dirs.State()
}

// machineTarget reports whether target is a program installed for every
// user of the computer.
func machineTarget(target string) bool {
	if target == "" {
		return false
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return false
	}
	return dirs.InMachinePrograms(abs) || updater.KeepsState(dirs.MachineState(), abs)
}

// machineStateToo reports whether recover and status look in the
// machine's state folder besides state: when --state-dir names none, the
// state is the user's, and the machine's exists.
func machineStateToo(cmd *cobra.Command, state string) bool {
	if d, _ := cmd.Flags().GetString("state-dir"); d != "" || state == dirs.MachineState() {
		return false
	}
	_, err := os.Stat(dirs.MachineState())
	return err == nil
}

func checkServerURL(s string) error {
	if s == "" {
		return usageError(i18n.M("--server is required: the update server's URL, e.g. --server https://updates.example.com (or AKTUAL_SERVER)"))
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError(i18n.M("--server %q is not an http(s) URL, e.g. https://updates.example.com", s))
	}
	return nil
}

// newEngine builds an updater for a command, with events going to p.
// target and allUsers choose the state folder (stateDir).
func newEngine(cmd *cobra.Command, o *serverOptions, p printer, needTrust bool, target string, allUsers bool) (*updater.Updater, error) {
	if err := checkServerURL(o.server); err != nil {
		return nil, err
	}
	state, err := stateDir(cmd, target, allUsers)
	if err != nil {
		return nil, &updater.Error{Kind: updater.ErrUsage, Err: err}
	}
	u := &updater.Updater{Server: o.server, StateDir: state, Events: p.event, Version: version(), Lang: o.P.Lang().String()}
	if needTrust {
		var also []string
		if user, err := dirs.State(); err == nil && user != state {
			also = append(also, user) // a trust.json the customer put in their own state folder
		}
		if u.Trust, err = updater.LoadTrust(o.trust, state, RootKeys, also...); err != nil {
			return nil, err
		}
		if o.trust == "" && RootKeys != "" {
			if err := builtinRootVersion(u.Trust); err != nil {
				return nil, err
			}
		}
	}
	return u, nil
}

// builtinRootVersion gives the root keys built into aktual their version
// in the vendor's chain of root keys (RootVersion).
func builtinRootVersion(t *api.Trust) error {
	if RootVersion == "" {
		return nil
	}
	v, err := strconv.ParseInt(RootVersion, 10, 64)
	if err != nil || v < 1 {
		return usageError(i18n.M("the root version built into this aktual (%q) is not a whole number from 1; get a correct build from your vendor", RootVersion))
	}
	*t = *api.NewTrust(v, t.RootKeys)
	return nil
}
