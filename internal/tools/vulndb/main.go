// Command vulndb builds an offline Go vulnerability database for govulncheck's
// -db file:///DIR flag from a pinned snapshot of golang.org/x/vulndb, fetched
// through the Go module proxy: CI reaches the proxy but not https://vuln.go.dev.
//
//	go run ./internal/tools/vulndb -version v0.0.0-20261105234957-e22db6528018 -out DIR
//
// The module holds the OSV entries (data/osv/GO-*.json) but not the indexes,
// which its deploy step builds. This writes the v1 layout
// (https://go.dev/security/vuln/database#api) the way x/vulndb's own cmd/indexdb
// does, without that command's dependencies (about 900 MB of cloud libraries):
//
//	index/db.json       {"modified": …}
//	index/modules.json  [{"path": …, "vulns": [{"id", "modified", "fixed"}]}]
//	index/vulns.json    [{"id", "modified", "aliases"}]
//	ID/GO-YYYY-NNNN.json
//
// Only the .json files: govulncheck reads a file:// database uncompressed; the
// .json.gz twins exist for serving over HTTP.
//
// It is a development tool, in no shipped binary.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

const vulndbModule = "golang.org/x/vulndb"

func main() {
	version := flag.String("version", "", "version of "+vulndbModule+" to build from (a pseudo-version; the module has no tags)")
	out := flag.String("out", "", "directory to write the database to (created if missing)")
	goCmd := flag.String("go", "go", "go command that downloads the module")
	flag.Parse()
	if *version == "" || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: vulndb -version PSEUDO-VERSION -out DIR")
		os.Exit(2)
	}
	if err := run(*goCmd, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func run(goCmd, version, out string) error {
	dir, snapshot, err := download(goCmd, version)
	if err != nil {
		return err
	}
	entries, err := readEntries(filepath.Join(dir, "data", "osv"))
	if err != nil {
		return err
	}
	db, err := build(entries, snapshot)
	if err != nil {
		return err
	}
	if err := db.write(out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "vulndb: %d entries from %s@%s (%s) in %s\n",
		len(entries), vulndbModule, version, snapshot.Format(time.DateOnly), out)
	return nil
}

// download fetches the module through GOPROXY (checked against go.sum's
// checksum database like any module) and returns its directory in the module
// cache and its commit time.
func download(goCmd, version string) (dir string, snapshot time.Time, err error) {
	cmd := exec.Command(goCmd, "mod", "download", "-json", vulndbModule+"@"+version)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	// go mod download -json reports a failure in the JSON as well as the exit status.
	var m struct{ Dir, Info, Error string }
	if jerr := json.Unmarshal(b, &m); jerr == nil && m.Error != "" {
		return "", time.Time{}, fmt.Errorf("go mod download %s@%s: %s", vulndbModule, version, m.Error)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("go mod download %s@%s: %w", vulndbModule, version, err)
	}
	info, err := os.ReadFile(m.Info)
	if err != nil {
		return "", time.Time{}, err
	}
	var i struct{ Time time.Time }
	if err := json.Unmarshal(info, &i); err != nil {
		return "", time.Time{}, fmt.Errorf("%s: %w", m.Info, err)
	}
	return m.Dir, i.Time, nil
}

// entry is an OSV file read for the fields the indexes need; raw, all of
// it, is what ID/ serves.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges,omitempty"`
	} `json:"affected"`
	raw []byte
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	} `json:"events"`
}

func readEntries(dir string) ([]entry, error) {
	files, err := os.ReadDir(dir) // sorted by name, so the output is reproducible
	if err != nil {
		return nil, err
	}
	var entries []entry
	for _, f := range files {
		if f.IsDir() || filepath.Ext(f.Name()) != ".json" {
			continue
		}
		path := filepath.Join(dir, f.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// govulncheck fetches an entry by ID, so the name must be the ID.
		if f.Name() != e.ID+".json" {
			return nil, fmt.Errorf("%s: holds entry %q; want the file named after its ID", path, e.ID)
		}
		e.raw = b
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s: no OSV entries", dir)
	}
	return entries, nil
}

type dbMeta struct {
	Modified time.Time `json:"modified"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type vulnMeta struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

type database struct {
	meta    dbMeta
	modules []*moduleMeta // by path; each one's vulns by ID
	vulns   []vulnMeta    // by ID
	entries []entry
}

// build makes the indexes. The entries in x/vulndb carry a zero "modified"
// (its deploy step stamps them from git history), so the database's own
// time is the snapshot's commit time unless an entry is newer: that is what
// govulncheck shows as "DB updated".
func build(entries []entry, snapshot time.Time) (*database, error) {
	db := &database{meta: dbMeta{Modified: snapshot.UTC()}, entries: entries}
	byPath := map[string]*moduleMeta{}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.ID] {
			return nil, fmt.Errorf("entry %s appears twice", e.ID)
		}
		seen[e.ID] = true
		if e.Modified.After(db.meta.Modified) {
			db.meta.Modified = e.Modified
		}
		db.vulns = append(db.vulns, vulnMeta{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		// One line per affected block, as x/vulndb writes it: a module
		// listed twice in an entry (e.g. two version series) appears twice.
		for _, a := range e.Affected {
			m := byPath[a.Package.Name]
			if m == nil {
				m = &moduleMeta{Path: a.Package.Name, Vulns: []moduleVuln{}}
				byPath[a.Package.Name] = m
				db.modules = append(db.modules, m)
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFixed(a.Ranges)})
		}
	}
	slices.SortStableFunc(db.modules, func(a, b *moduleMeta) int { return strings.Compare(a.Path, b.Path) })
	for _, m := range db.modules {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
	}
	slices.SortStableFunc(db.vulns, func(a, b vulnMeta) int { return strings.Compare(a.ID, b.ID) })
	return db, nil
}

// latestFixed is the version from which no version is affected, or "" if
// the vulnerability is not fixed (or was re-introduced after its last fix).
// govulncheck skips an entry for a module at or above this version without
// reading it, so too low a value would hide a vulnerability: this follows
// x/vulndb's osvutils.LatestFixed exactly. OSV versions have no "v".
func latestFixed(ranges []osvRange) string {
	before := func(a, b string) bool { return semver.Compare("v"+a, "v"+b) < 0 }
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, ev := range r.Events {
			if ev.Fixed != "" && before(latest, ev.Fixed) {
				latest = ev.Fixed
			}
		}
		for _, ev := range r.Events {
			if ev.Introduced != "" && ev.Introduced != "0" && before(latest, ev.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

func (db *database) write(out string) error {
	for _, d := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	for name, v := range map[string]any{"db": db.meta, "modules": db.modules, "vulns": db.vulns} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, "index", name+".json"), b, 0o644); err != nil {
			return err
		}
	}
	for _, e := range db.entries {
		var b bytes.Buffer
		if err := json.Compact(&b, e.raw); err != nil {
			return fmt.Errorf("%s: %w", e.ID, err)
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
