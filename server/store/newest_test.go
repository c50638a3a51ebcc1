package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
)

var activated = time.Date(2031, 3, 4, 12, 0, 0, 0, time.UTC)

// rel is a release of version published hours after the activation
// (negative: before), withdrawing the versions in downgradeFrom.
func rel(version string, hours int, st api.ReleaseStatement) Release {
	st.Version = version
	payload, _ := json.Marshal(st)
	env, _ := json.Marshal(api.Envelope{Payload: payload})
	return Release{Version: version, PublishedAt: activated.Add(time.Duration(hours) * time.Hour), Envelope: env}
}

func plain(version string, hours int) Release { return rel(version, hours, api.ReleaseStatement{}) }

func TestInstallableRelease(t *testing.T) {
	withdraws := func(version string, hours int, gone ...string) Release {
		return rel(version, hours, api.ReleaseStatement{DowngradeFrom: gone})
	}
	tests := []struct {
		name     string
		rs       []Release
		consumed []string
		want     string // "" for nil
	}{
		{"the newest before activation", []Release{plain("1.0.0", -3), plain("2.0.0", -1), plain("3.0.0", 1)}, nil, "2.0.0"},
		{"published at the activation instant counts", []Release{plain("1.0.0", -3), plain("2.0.0", 0)}, nil, "2.0.0"},
		{"a consumed update raises it", []Release{plain("1.0.0", -3), plain("2.0.0", 1), plain("3.0.0", 2)}, []string{"2.0.0"}, "2.0.0"},
		{"the newest consumed wins", []Release{plain("1.0.0", -3), plain("2.0.0", 1), plain("3.0.0", 2)}, []string{"3.0.0", "2.0.0"}, "3.0.0"},
		{"a consumed version never published: the newest below it", []Release{plain("1.0.0", -3), plain("2.0.0", 1), plain("3.0.0", 2)}, []string{"2.5.0"}, "2.0.0"},
		{"consumed below A: A", []Release{plain("1.0.0", -3), plain("2.0.0", -1)}, []string{"1.0.0"}, "2.0.0"},
		{"first release after activation, nothing consumed: the oldest", []Release{plain("3.0.0", 2), plain("2.0.0", 1)}, nil, "2.0.0"},
		{"a pre-release is never A", []Release{plain("1.0.0", -3), plain("2.0.0-rc.1", -1)}, nil, "1.0.0"},
		{"a pre-release is never given", []Release{plain("1.0.0-rc.1", -3), plain("1.0.0", 1)}, nil, "1.0.0"},
		// A is the newest release before activation, withdrawn or not: a
		// withdrawn A gives what replaces it, as every installation of it
		// gets, even when the replacement was published later.
		{"a withdrawn A: its replacement", []Release{plain("1.0.0", -3), plain("2.0.0", -1), withdraws("1.5.0", 1, "2.0.0")}, nil, "1.5.0"},
		{"a withdrawn A replaced before activation", []Release{plain("1.0.0", -3), plain("2.0.0", -2), withdraws("1.5.0", -1, "2.0.0")}, nil, "1.5.0"},
		{"a withdrawn consumed version: the one below", []Release{plain("1.0.0", -3), plain("2.0.0", 1), plain("3.0.0", 2), withdraws("2.1.0", 3, "3.0.0")}, []string{"3.0.0"}, "2.1.0"},
		{"nothing offered", []Release{plain("1.0.0-beta", -3)}, nil, ""},
		{"no releases", nil, []string{"1.0.0"}, ""},
		{"a malformed consumed version is ignored", []Release{plain("1.0.0", -3), plain("2.0.0", 1)}, []string{"x"}, "1.0.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := InstallableRelease(tc.rs, tc.consumed, activated)
			switch {
			case tc.want == "" && got != nil:
				t.Errorf("got %s, want none", got.Version)
			case tc.want != "" && (got == nil || got.Version != tc.want):
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
}

func TestIsFolder(t *testing.T) {
	if IsFolder(plain("1.0.0", 0)) {
		t.Error("a file release is a folder")
	}
	if !IsFolder(rel("1.0.0", 0, api.ReleaseStatement{Kind: api.KindFolder})) {
		t.Error("a folder release is not")
	}
	if IsFolder(Release{Envelope: []byte("not json")}) {
		t.Error("a damaged envelope is a folder")
	}
}
