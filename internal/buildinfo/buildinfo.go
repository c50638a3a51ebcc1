// Package buildinfo names the version, commit and build date of the running
// binary.
//
// A release build stamps them with the linker (.goreleaser.yaml does):
//
//	-X github.com/aktual/aktual/cmd/aktual/cli.Version=1.2.3   (aktuald: …/cmd/aktuald/cli.Version)
//	-X github.com/aktual/aktual/internal/buildinfo.Commit=<full git commit>
//	-X github.com/aktual/aktual/internal/buildinfo.Date=<RFC 3339 time>
//
// Without them, each falls back to what the go command recorded in the
// binary (runtime/debug.ReadBuildInfo): the module version, vcs.revision
// (with "-dirty" when vcs.modified) and vcs.time. A plain `go build` in a git
// checkout records those unless -buildvcs=false.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Commit and Date are set at build time with -ldflags -X (see the package
// comment); empty, they come from the go command's VCS stamp.
var (
	Commit = ""
	Date   = ""
)

// Info is what a binary's version command shows. The JSON field names are
// for scripts: keep them stable. Commit and Date are empty when unknown.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// Read returns the running binary's Info; version is the program's own
// -X stamped Version variable (empty when not stamped).
func Read(version string) Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(stamp{version, Commit, Date}, bi)
}

// Version returns set (a version stamped at build time with -ldflags -X),
// else the module version Go recorded, else "dev".
func Version(set string) string {
	bi, _ := debug.ReadBuildInfo()
	return resolve(stamp{version: set}, bi).Version
}

// stamp is what the linker set; its non-empty fields win.
type stamp struct{ version, commit, date string }

// resolve is the pure part of Read: the stamp first, then bi (nil when the
// binary carries no build information).
func resolve(s stamp, bi *debug.BuildInfo) Info {
	info := Info{Version: s.version, Commit: s.commit, Date: s.date, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi == nil {
		if info.Version == "" {
			info.Version = "dev"
		}
		return info
	}
	if bi.GoVersion != "" {
		info.Go = bi.GoVersion
	}
	if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = strings.TrimPrefix(bi.Main.Version, "v")
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	var revision, modified string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			revision = kv.Value
		case "vcs.time":
			if info.Date == "" {
				info.Date = kv.Value
			}
		case "vcs.modified":
			modified = kv.Value
		}
	}
	if info.Commit == "" && revision != "" {
		info.Commit = revision
		if modified == "true" {
			info.Commit += "-dirty"
		}
	}
	return info
}
