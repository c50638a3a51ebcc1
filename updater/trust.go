package updater

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater/internal/durable"
)

// TrustFileName is the trust file's name in the state directory and
// beside the aktual executable.
const TrustFileName = "trust.json"

// maxTrustFile bounds the trust file read.
const maxTrustFile = 64 << 10

// LoadTrust reads the trust file: the named one, else the root keys built
// into aktual (builtin: base64 Ed25519 public keys, comma-separated), else
// trust.json in the state directory, else beside the running executable.
//
// alsoIn are more folders to look for trust.json in, after stateDir (the
// user's state folder, when stateDir is the machine's).
func LoadTrust(named, stateDir, builtin string, alsoIn ...string) (*api.Trust, error) {
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
		for _, d := range alsoIn {
			candidates = append(candidates, filepath.Join(d, TrustFileName))
		}
		if exe, err := os.Executable(); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), TrustFileName))
		}
	}
	for _, path := range candidates {
		data, err := durable.ReadFile(path, maxTrustFile)
		if errors.Is(err, fs.ErrNotExist) && named == "" {
			continue
		}
		if err != nil {
			return nil, fail(ErrUsage, err, "cannot read the trust file %s: %v", path, err)
		}
		if err := checkTrustPerms(path); err != nil {
			return nil, err
		}
		t, err := api.ParseTrust(data)
		if damaged(err) {
			// Said as what it is: a JSON decoder's "unexpected EOF" would
			// otherwise read as a connection that closed early.
			return nil, fail(ErrUsage, err, "the trust file %s is damaged (it is cut short, or is not JSON); get a fresh copy of trust.json from your vendor", path)
		}
		if err != nil {
			return nil, fail(ErrUsage, err, "%s: %v; get a fresh trust.json from your vendor", path, err)
		}
		return t, nil
	}
	return nil, fail(ErrUsage, nil, "no trust file: pass --trust FILE (the trust.json your vendor gives you), or put it in %s", stateDir)
}

// damaged reports whether a trust file's JSON is broken: cut short, or
// not JSON at all (as opposed to JSON aktual refuses).
func damaged(err error) bool {
	var syntax *json.SyntaxError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &syntax)
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
