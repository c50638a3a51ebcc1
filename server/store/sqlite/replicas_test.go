package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/aktual/aktual/server/store"
	"github.com/aktual/aktual/server/store/storetest"
)

// TestReplicas is two processes on one file (aktuald serve and an admin
// command, or two servers on a shared disk): two Opens, so the in-process
// writer queue does not span them and only BEGIN IMMEDIATE and busy_timeout
// keep the promise.
func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "aktual.db")
		var two [2]store.Store
		for i := range two {
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			two[i] = s
		}
		return two[0], two[1]
	})
}
