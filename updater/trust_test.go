package updater

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aktual/aktual/api"
)

func TestLoadTrust(t *testing.T) {
	root := pub(newKey(t))
	builtin := base64.StdEncoding.EncodeToString(root.Ed25519)
	state := t.TempDir()
	fileRoot := pub(newKey(t))
	data, _ := (&api.Trust{Version: api.TrustVersion, RootKeys: []api.PublicKey{fileRoot}}).Marshal()
	os.WriteFile(filepath.Join(state, TrustFileName), data, 0o644)
	named := filepath.Join(t.TempDir(), "named.json")
	os.WriteFile(named, data, 0o644)

	for _, tc := range []struct {
		name, named, builtin string
		want                 string // root key ID; "" for an error
	}{
		{"state directory", "", "", fileRoot.ID},
		{"built in wins over files found", "", builtin, root.ID},
		{"named wins over built in", named, builtin, fileRoot.ID},
		{"malformed built in", "", "not base64!", ""},
		{"built-in key too short", "", base64.StdEncoding.EncodeToString([]byte("short")), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadTrust(tc.named, state, tc.builtin)
			if tc.want == "" {
				if !errors.Is(err, ErrUsage) {
					t.Fatalf("error %v, want a usage error", err)
				}
				return
			}
			if err != nil || tr.RootKeys[0].ID != tc.want {
				t.Fatalf("LoadTrust = %+v, %v; want root %s", tr, err, tc.want)
			}
		})
	}
}
