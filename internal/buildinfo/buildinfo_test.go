package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := func(settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "github.com/aktual/aktual", Version: "(devel)"}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	const rev, when = "0123456789abcdef0123456789abcdef01234567", "2026-03-04T05:06:07Z"
	module := vcs("vcs.revision", rev, "vcs.time", when, "vcs.modified", "false")
	module.Main.Version = "v1.4.0"
	tests := []struct {
		name  string
		stamp stamp
		bi    *debug.BuildInfo
		want  Info
	}{
		{"ldflags win over the VCS stamp", stamp{"2.0.0", "feedface", "2026-01-01T00:00:00Z"}, module,
			Info{Version: "2.0.0", Commit: "feedface", Date: "2026-01-01T00:00:00Z", Go: "go1.99.1"}},
		{"module version and VCS stamp", stamp{}, module,
			Info{Version: "1.4.0", Commit: rev, Date: when, Go: "go1.99.1"}},
		{"modified tree is dirty", stamp{}, vcs("vcs.revision", rev, "vcs.time", when, "vcs.modified", "true"),
			Info{Version: "dev", Commit: rev + "-dirty", Date: when, Go: "go1.99.1"}},
		{"a stamped commit is not marked dirty", stamp{commit: "feedface"}, vcs("vcs.revision", rev, "vcs.modified", "true"),
			Info{Version: "dev", Commit: "feedface", Go: "go1.99.1"}},
		{"only the version stamped", stamp{version: "2.0.0"}, module,
			Info{Version: "2.0.0", Commit: rev, Date: when, Go: "go1.99.1"}},
		{"no VCS information (-buildvcs=false)", stamp{}, vcs(),
			Info{Version: "dev", Go: "go1.99.1"}},
		{"no build information", stamp{}, nil,
			Info{Version: "dev", Go: runtime.Version()}},
		{"no build information, stamped", stamp{"2.0.0", "feedface", "2026-01-01T00:00:00Z"}, nil,
			Info{Version: "2.0.0", Commit: "feedface", Date: "2026-01-01T00:00:00Z", Go: runtime.Version()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.OS, tt.want.Arch = runtime.GOOS, runtime.GOARCH
			if got := resolve(tt.stamp, tt.bi); got != tt.want {
				t.Errorf("resolve(%+v) =\n %+v, want\n %+v", tt.stamp, got, tt.want)
			}
		})
	}
}

func TestReadUsesTheLinkerVariables(t *testing.T) {
	oldCommit, oldDate := Commit, Date
	t.Cleanup(func() { Commit, Date = oldCommit, oldDate })
	Commit, Date = "feedface", "2026-01-01T00:00:00Z"
	got := Read("2.0.0")
	if got.Version != "2.0.0" || got.Commit != "feedface" || got.Date != "2026-01-01T00:00:00Z" {
		t.Errorf("Read = %+v, want the set version, commit and date", got)
	}
	if v := Version("2.0.0"); v != "2.0.0" {
		t.Errorf("Version(2.0.0) = %q", v)
	}
}
