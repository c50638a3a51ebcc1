package cli

import (
	"net/url"
	"path/filepath"

	"github.com/spf13/cobra"

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

func stateDir(cmd *cobra.Command) (string, error) {
	if d, _ := cmd.Flags().GetString("state-dir"); d != "" {
		return filepath.Abs(d)
	}
	return dirs.State()
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
func newEngine(cmd *cobra.Command, o *serverOptions, p printer, needTrust bool) (*updater.Updater, error) {
	if err := checkServerURL(o.server); err != nil {
		return nil, err
	}
	state, err := stateDir(cmd)
	if err != nil {
		return nil, &updater.Error{Kind: updater.ErrUsage, Err: err}
	}
	u := &updater.Updater{Server: o.server, StateDir: state, Events: p.event, Version: version(), Lang: o.P.Lang().String()}
	if needTrust {
		if u.Trust, err = updater.LoadTrust(o.trust, state, RootKeys); err != nil {
			return nil, err
		}
	}
	return u, nil
}
