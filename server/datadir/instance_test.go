package datadir

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenDatabaseURL(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dbURL func(dir string) string
		ok    bool
	}{
		{"default", func(string) string { return "" }, true},
		{"sqlite with a path", func(dir string) string { return "sqlite:" + filepath.Join(dir, "other.db") }, true},
		{"sqlite without a path", func(string) string { return "sqlite:" }, true},
		{"an unknown kind of database", func(string) string { return "mysql://user:secret@localhost/aktual" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			inst, err := Open(DataDir(dir), tc.dbURL(dir))
			if tc.ok != (err == nil) {
				t.Fatalf("Open: error %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "SQLite") || !strings.Contains(err.Error(), "postgres://") {
					t.Errorf("error %q does not say what is supported", err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			defer inst.Close()
			if err := inst.Store.Ping(t.Context()); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	}
}
