package crashtest

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFolderCheckSeesDamage proves the folder soak's check is not
// vacuous: it names the version of a whole folder, and it reports a
// preserved file overwritten, a customer's file lost, a file of the other
// version mixed in, a stray work file and an empty folder left behind.
func TestFolderCheckSeesDamage(t *testing.T) {
	ff := &folderFixture{v1: folderRelease("1.0.0"), v2: folderRelease("2.0.0"), custom: map[string]map[string][]byte{}}
	// A folder as an install of 1.0.0 (and, for 2.0.0, an update) leaves
	// it: 2.0.0's program files, the preserved files as installed, a
	// preserved file new in 2.0.0 as shipped; then the customer's changes.
	layout := func(version string) string {
		dir := filepath.Join(t.TempDir(), "Счетоводство")
		files := ff.v1
		if version == "2.0.0" {
			files = pick(ff.v2, func(p string) bool { _, old := ff.v1[p]; return !preserved(p) || !old })
			maps.Copy(files, pick(ff.v1, preserved))
		}
		writeFiles(t, dir, files)
		if err := os.Chmod(filepath.Join(dir, "buh.exe"), 0o755); err != nil {
			t.Fatal(err)
		}
		ff.customise(t, dir)
		return dir
	}
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if got, bad := ff.folderVersion(layout(v)); got != v || len(bad) > 0 {
			t.Errorf("a whole %s folder: got %q, %v", v, got, messages(bad))
		}
	}

	for _, c := range []struct {
		name, key string
		damage    func(dir string)
	}{
		{"preserved file overwritten", "torn:", func(dir string) {
			writeFiles(t, dir, pick(ff.v2, func(p string) bool { return p == "settings.ini" }))
		}},
		{"customer's file lost", "torn:", func(dir string) {
			os.Remove(filepath.Join(dir, "стари", "моя справка.txt"))
		}},
		{"a file of 2.0.0 in 1.0.0", "torn:", func(dir string) {
			writeFiles(t, dir, pick(ff.v2, func(p string) bool { return p == "lib/core.dll" }))
		}},
		{"a stray work file", "torn:", func(dir string) {
			writeFiles(t, dir, map[string][]byte{"lib/.tmp-123": []byte("x")})
		}},
		{"an empty folder", "emptydir:", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "lib", "нов"), 0o755)
		}},
	} {
		dir := layout("1.0.0")
		c.damage(dir)
		_, bad := ff.folderVersion(dir)
		found := false
		for _, b := range bad {
			found = found || strings.HasPrefix(b.key, c.key)
		}
		if !found {
			t.Errorf("%s: the check reports %v; want a %s problem", c.name, messages(bad), c.key)
		}
	}
}

// pick is the files of m whose path keep accepts.
func pick(m map[string][]byte, keep func(string) bool) map[string][]byte {
	out := maps.Clone(m)
	maps.DeleteFunc(out, func(p string, _ []byte) bool { return !keep(p) })
	return out
}
