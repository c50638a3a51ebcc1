package admin

import (
	"archive/tar"
	"testing"

	"github.com/aktual/aktual/api"
)

// FuzzReadArchive feeds arbitrary bytes to the zip and tar.gz readers of
// publish --dir: they never panic, and whatever they accept is a list of
// files whose every path passes api.CheckPath (so no name can lead out of
// the folder or be one Windows refuses).
func FuzzReadArchive(f *testing.F) {
	good := []entry{{name: "app/", typ: tar.TypeDir}, file("app/a.txt", "a"), file("app/bin/run", "#!/bin/sh\n")}
	f.Add(makeZip(f, good...), true)
	f.Add(makeTarGz(f, good...), false)
	f.Add(makeZip(f, file("../evil", "x"), file("C:x", "y")), true)
	f.Add(makeTarGz(f, file("./a", "x"), entry{name: "l", typ: tar.TypeSymlink}), false)
	f.Add(makeTarGz(f, file("a", "1"), file("A", "2")), false)
	f.Fuzz(func(t *testing.T, data []byte, isZip bool) {
		kind := "tar.gz"
		if isZip {
			kind = "zip"
		}
		files, err := readArchive(t, kind, data)
		if err != nil {
			return
		}
		if len(files) == 0 || len(files) > api.MaxManifestFiles {
			t.Fatalf("accepted %d files", len(files))
		}
		for _, f := range files {
			if err := api.CheckPath(f.Path); err != nil {
				t.Fatalf("accepted a path CheckPath refuses: %v", err)
			}
		}
	})
}
