package api

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeManifest: a client decodes a manifest whose sha256 the release
// signs, but still never trusts it: DecodeManifest never panics, and what
// it accepts obeys every rule (each path by CheckPath, sorted, no two the
// same under FoldPath), so installing it cannot write outside the folder.
func FuzzDecodeManifest(f *testing.F) {
	m := manifest("a.ini", "bin/ledger.exe", "Справка/й.txt")
	m.Main, m.Preserve = "bin/ledger.exe", []string{"*.ini", "data/**"}
	good, _ := json.Marshal(m)
	f.Add(good)
	f.Add([]byte(`{"product":"p","version":"1.0.0","os":"linux","arch":"amd64","files":[{"path":"../x","size":1,"sha256":"` + string(make([]byte, 0)) + `","mode":420}]}`))
	f.Add([]byte(`{"files":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeManifest(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for i, file := range m.Files {
			if err := CheckPath(file.Path); err != nil {
				t.Fatalf("accepted path: %v", err)
			}
			if i > 0 && m.Files[i-1].Path >= file.Path {
				t.Fatalf("accepted unsorted files at %q", file.Path)
			}
			if seen[FoldPath(file.Path)] {
				t.Fatalf("accepted two files the same under FoldPath: %q", file.Path)
			}
			seen[FoldPath(file.Path)] = true
			if file.Mode != ModeFile && file.Mode != ModeExecutable {
				t.Fatalf("accepted mode %o", file.Mode)
			}
		}
		if m.Main != "" {
			if _, ok := m.Lookup(m.Main); !ok {
				t.Fatalf("accepted main %q that is not a file", m.Main)
			}
		}
	})
}
