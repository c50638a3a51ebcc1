package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/dirs"
	"github.com/aktual/aktual/updater"
)

// serverOptions are the flags every command that talks to a server has.
type serverOptions struct {
	server string
	trust  string
}

func (o *serverOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.server, "server", "", "update server URL, e.g. https://updates.example.com")
	cmd.Flags().StringVar(&o.trust, "trust", "", "trust file with the vendor's public keys (default: trust.json in the state folder or beside aktual)")
}

func stateDir(cmd *cobra.Command) (string, error) {
	if d, _ := cmd.Flags().GetString("state-dir"); d != "" {
		return filepath.Abs(d)
	}
	return dirs.State()
}

// maxTrustFile bounds the trust file read.
const maxTrustFile = 64 << 10

// loadTrust reads the trust file: the named one, else trust.json in the
// state folder, else beside the aktual executable.
func loadTrust(named, state string) (*api.Trust, error) {
	candidates := []string{named}
	if named == "" {
		candidates = []string{filepath.Join(state, "trust.json")}
		if exe, err := os.Executable(); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), "trust.json"))
		}
	}
	for _, path := range candidates {
		data, err := readLimited(path, maxTrustFile)
		if errors.Is(err, fs.ErrNotExist) && named == "" {
			continue
		}
		if err != nil {
			return nil, &updater.Error{Kind: updater.ErrUsage, Err: err, Msg: fmt.Sprintf("cannot read the trust file %s: %v", path, err)}
		}
		t, err := api.ParseTrust(data)
		if err != nil {
			return nil, &updater.Error{Kind: updater.ErrUsage, Err: err, Msg: fmt.Sprintf("%s: %v; get a fresh trust.json from your vendor", path, err)}
		}
		return t, nil
	}
	return nil, &updater.Error{Kind: updater.ErrUsage, Msg: fmt.Sprintf(
		"no trust file: pass --trust FILE (the trust.json your vendor gives you), or put it in %s", state)}
}

func readLimited(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return os.ReadFile(path)
}

func checkServerURL(s string) error {
	if s == "" {
		return usageError("--server is required: the update server's URL, e.g. --server https://updates.example.com (or AKTUAL_SERVER)")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError(fmt.Sprintf("--server %q is not an http(s) URL, e.g. https://updates.example.com", s))
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
		return nil, usageError(err.Error())
	}
	u := &updater.Updater{Server: o.server, StateDir: state, Events: p.event, Version: version()}
	if needTrust {
		if u.Trust, err = loadTrust(o.trust, state); err != nil {
			return nil, err
		}
	}
	return u, nil
}
