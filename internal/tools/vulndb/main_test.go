package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLatestFixed(t *testing.T) {
	for _, tt := range []struct {
		name, ranges, want string
	}{
		{"no ranges", `[]`, ""},
		{"fixed", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]`, "1.2.3"},
		{"never fixed", `[{"type":"SEMVER","events":[{"introduced":"1.0.0"}]}]`, ""},
		{"latest of several", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.5.0"},{"introduced":"2.0.0"},{"fixed":"2.4.0"}]}]`, "2.4.0"},
		{"re-introduced after the fix", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.5.0"},{"introduced":"2.0.0"}]}]`, ""},
		{"semver order, not string order", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.10.0"},{"fixed":"1.9.0"}]}]`, "1.10.0"},
		{"prerelease before release", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"},{"fixed":"1.0.0-rc.1"}]}]`, "1.0.0"},
		{"other range types ignored", `[{"type":"GIT","events":[{"introduced":"0"},{"fixed":"abc"}]}]`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rs []osvRange
			if err := json.Unmarshal([]byte(tt.ranges), &rs); err != nil {
				t.Fatal(err)
			}
			if got := latestFixed(rs); got != tt.want {
				t.Errorf("latestFixed = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBuildWritesV1Layout(t *testing.T) {
	osv := t.TempDir()
	files := map[string]string{
		"GO-2024-0002.json": `{"id":"GO-2024-0002","modified":"0001-01-01T00:00:00Z","aliases":["CVE-2"],
			"affected":[{"package":{"name":"example.com/b"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.1.0"}]}]},
			            {"package":{"name":"example.com/a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`,
		"GO-2024-0001.json": `{"id":"GO-2024-0001","modified":"0001-01-01T00:00:00Z",
			"affected":[{"package":{"name":"example.com/b"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}`,
		"README.md": "not an entry",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(osv, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := readEntries(osv)
	if err != nil {
		t.Fatal(err)
	}
	db, err := build(entries, time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := db.write(out); err != nil {
		t.Fatal(err)
	}

	for file, want := range map[string]string{
		"index/db.json":      `{"modified":"2026-11-05T23:49:57Z"}`,
		"index/modules.json": `[{"path":"example.com/a","vulns":[{"id":"GO-2024-0002","modified":"0001-01-01T00:00:00Z"}]},{"path":"example.com/b","vulns":[{"id":"GO-2024-0001","modified":"0001-01-01T00:00:00Z","fixed":"1.0.1"},{"id":"GO-2024-0002","modified":"0001-01-01T00:00:00Z","fixed":"1.1.0"}]}]`,
		"index/vulns.json":   `[{"id":"GO-2024-0001","modified":"0001-01-01T00:00:00Z"},{"id":"GO-2024-0002","modified":"0001-01-01T00:00:00Z","aliases":["CVE-2"]}]`,
	} {
		b, err := os.ReadFile(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s:\n got %s\nwant %s", file, b, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "ID", "GO-2024-0002.json")); err != nil {
		t.Error(err)
	}
}

func TestReadEntriesRefusesMisnamedEntry(t *testing.T) {
	osv := t.TempDir()
	if err := os.WriteFile(filepath.Join(osv, "GO-2024-0001.json"), []byte(`{"id":"GO-2024-0009"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readEntries(osv); err == nil {
		t.Fatal("readEntries accepted an entry not named after its ID")
	}
}
