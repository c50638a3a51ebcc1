package cli

import (
	"errors"
	"testing"

	"github.com/aktual/aktual/api"
)

// A vendor build made after a root rotation carries the root's version
// with its keys, so that it follows the next rotation from there; a
// malformed one is a usage problem (exit 2), like malformed built-in keys.
// Not parallel: RootVersion is the build's variable.
func TestBuiltinRootVersion(t *testing.T) {
	saved := RootVersion
	t.Cleanup(func() { RootVersion = saved })
	keys := []api.PublicKey{{ID: "k"}}
	for _, tc := range []struct {
		set  string
		want int64
		bad  bool
	}{{"", 1, false}, {"1", 1, false}, {"3", 3, false}, {"0", 0, true}, {"x", 0, true}, {"-2", 0, true}} {
		RootVersion = tc.set
		tr := api.NewTrust(1, keys)
		err := builtinRootVersion(tr)
		var fe *flagError
		switch {
		case tc.bad && !errors.As(err, &fe):
			t.Errorf("RootVersion %q: %v; want a usage error", tc.set, err)
		case !tc.bad && (err != nil || tr.Root() != tc.want || tr.RootKeys[0].ID != "k"):
			t.Errorf("RootVersion %q: root %d, %v; want %d", tc.set, tr.Root(), err, tc.want)
		}
	}
}
