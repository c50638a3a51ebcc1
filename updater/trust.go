package updater

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aktual/aktual/api"
)

// TrustFileName is the trust file's name in the state directory and
// beside the aktual executable.
const TrustFileName = "trust.json"

// maxTrustFile bounds the trust file read.
const maxTrustFile = 64 << 10

// LoadTrust reads the trust file: the named one, else the root keys built
// into aktual (builtin: base64 Ed25519 public keys, comma-separated), else
// trust.json in the state directory, else beside the running executable.
func LoadTrust(named, stateDir, builtin string) (*api.Trust, error) {
	if named == "" && builtin != "" {
		t, err := builtinTrust(builtin)
		if err != nil {
			return nil, fail(ErrUsage, err, "the root keys built into this aktual are malformed (%v); get a correct build from your vendor", err)
		}
		return t, nil
	}
	candidates := []string{named}
	if named == "" {
		candidates = []string{filepath.Join(stateDir, TrustFileName)}
		if exe, err := os.Executable(); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), TrustFileName))
		}
	}
	for _, path := range candidates {
		data, err := readBounded(path, maxTrustFile)
		if errors.Is(err, fs.ErrNotExist) && named == "" {
			continue
		}
		if err != nil {
			return nil, fail(ErrUsage, err, "cannot read the trust file %s: %v", path, err)
		}
		t, err := api.ParseTrust(data)
		if err != nil {
			return nil, fail(ErrUsage, err, "%s: %v; get a fresh trust.json from your vendor", path, err)
		}
		return t, nil
	}
	return nil, fail(ErrUsage, nil, "no trust file: pass --trust FILE (the trust.json your vendor gives you), or put it in %s", stateDir)
}

func builtinTrust(builtin string) (*api.Trust, error) {
	t := &api.Trust{Version: api.TrustVersion}
	for _, b := range strings.Split(builtin, ",") {
		pub, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b))
		if err != nil {
			return nil, err
		}
		t.RootKeys = append(t.RootKeys, api.NewPublicKey(pub))
	}
	data, err := t.Marshal()
	if err != nil {
		return nil, err
	}
	return api.ParseTrust(data) // the same checks as a trust file
}
