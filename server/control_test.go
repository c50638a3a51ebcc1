package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/store"
)

var staffCaller = admin.Local("ana")

// A reserve for a release halted (or withdrawn) after it was offered is
// refused at once, whatever the latest cache still says, and nothing is
// held; resumed, it is reserved again.
func TestReserveHaltedRelease(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 3)
	if st, _ := f.latest(t, "app", "os=linux&arch=amd64&proto=2"); st.Latest.Signatures == nil {
		t.Fatal("no latest answer")
	}
	before := f.standing(t, code)
	if _, err := f.admin.Halt(t.Context(), staffCaller, "app", "2.0.0", "crash reports"); err != nil {
		t.Fatal(err)
	}
	e := wantError(t, f.reserve(t, reserveRequest(code, "app", "key-1")), http.StatusConflict, api.CodeHalted)
	if !strings.Contains(e.Message, "halted app 2.0.0") {
		t.Errorf("message %q", e.Message)
	}
	f.wantUnchanged(t, code, before)
	if _, rel := f.latest(t, "app", "os=linux&arch=amd64&proto=2&force=1"); rel.Version != "1.0.0" {
		t.Errorf("a halted release offered (forced): %s", rel.Version)
	}
	if _, err := f.admin.Resume(t.Context(), staffCaller, "app", "2.0.0", "fixed"); err != nil {
		t.Fatal(err)
	}
	f.mustReserve(t, code, "app", "key-1")

	if _, err := f.admin.Yank(t.Context(), staffCaller, "app", "2.0.0", "corrupts data"); err != nil {
		t.Fatal(err)
	}
	after := f.standing(t, code)
	wantError(t, f.reserve(t, reserveRequest(code, "app", "key-2")), http.StatusConflict, api.CodeHalted)
	f.wantUnchanged(t, code, after)
	// The older release now replaces the withdrawn one, signed.
	st, rel := f.latest(t, "app", "os=linux&arch=amd64&proto=2")
	if rel.Version != "1.0.0" || !rel.Replaces("2.0.0") || len(st.Withheld) != 1 || st.Withheld[0] != "2.0.0" {
		t.Errorf("after the yank: offered %s (replaces 2.0.0: %v), withheld %v", rel.Version, rel.Replaces("2.0.0"), st.Withheld)
	}
}

// The release control fields go only to an installer that asks
// (proto=2): an older one decodes strictly and would refuse them.
func TestLatestControlFieldsOnlyWhenAsked(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	pct := 0
	_, err := f.admin.Publish(t.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: "2.0.0", OS: "linux", Arch: "amd64",
		File:    bytes.NewReader(artifactBytes("app", "2.0.0", "linux", "amd64")),
		Control: admin.ControlParams{Percent: &pct, Notes: map[string]string{"en": "# New\n- faster"}}})
	if err != nil {
		t.Fatal(err)
	}
	resp := decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/app/latest?os=linux&arch=amd64&nonce=0123456789abcdef"))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(resp.Answer.Payload, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"channel", "machine", "rollout", "critical", "notes", "withheld", "path"} {
		if _, ok := raw[k]; ok {
			t.Errorf("an answer to an older installer carries %q", k)
		}
	}
	st, rel := f.latest(t, "app", "os=linux&arch=amd64&proto=2&machine=m-1&force=1&channel=beta")
	if rel.Version != "2.0.0" || st.Machine != "m-1" || st.Channel != "beta" || st.Rollout == nil || !st.Rollout.Forced ||
		st.Rollout.Bucket != api.RolloutBucket("app", "m-1") || st.Notes == nil {
		t.Fatalf("forced answer: %s %+v", rel.Version, st)
	}
	var n api.NotesStatement
	if err := st.Notes.VerifyInto(api.PayloadNotes, f.trust.ReleaseKeys, &n); err != nil || n.Notes["en"] != "# New\n- faster" || n.Version != "2.0.0" {
		t.Errorf("notes %+v: %v", n, err)
	}
	if _, rel := f.latest(t, "app", "os=linux&arch=amd64&proto=2&machine=m-1"); rel.Version != "1.0.0" {
		t.Errorf("a 0%% rollout offered %s", rel.Version)
	}
	for _, q := range []string{"channel=be%20ta", "machine=a/b", "from=latest", "force=yes"} {
		wantError(t, f.get(t, "/v1/products/app/latest?os=linux&arch=amd64&proto=2&"+q), http.StatusBadRequest, api.CodeBadRequest)
	}
}

// A first install is never given a halted or withdrawn release.
func TestInstallSkipsHaltedRelease(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	code := f.activate(t, "alice", 1)
	install := func() (string, string) {
		t.Helper()
		body := mustJSON(t, api.InstallRequest{Credential: api.Credential{Code: code}, Product: "app", OS: "linux", Arch: "amd64"})
		resp := decodeOK[api.InstallResponse](t, f.post(t, "/v1/install", body))
		var rel api.ReleaseStatement
		if err := resp.Release.VerifyInto(api.PayloadRelease, f.trust.ReleaseKeys, &rel); err != nil {
			t.Fatal(err)
		}
		return rel.Version, resp.Newest
	}
	if v, newest := install(); v != "2.0.0" || newest != "2.0.0" {
		t.Fatalf("before the halt: %s (newest %s)", v, newest)
	}
	if _, err := f.admin.Halt(t.Context(), staffCaller, "app", "2.0.0", "crash reports"); err != nil {
		t.Fatal(err)
	}
	if v, newest := install(); v != "1.0.0" || newest != "1.0.0" {
		t.Errorf("halted: installs %s (newest %s), want 1.0.0", v, newest)
	}
}

// A reserve that names a required path is checked: only a release that
// requires a version newer than the installed one ends a path. A repeat
// of a reserve made before a halt is answered with its reservation, so
// the installer can finish or give it back.
func TestReservePathAndHaltedRepeat(t *testing.T) {
	f := newFixture(t)
	for _, v := range []string{"1.0.0", "2.0.0", "3.0.0"} {
		f.publish(t, "app", api.SeriesPro, v, "linux", "amd64")
	}
	code := f.activate(t, "alice", 3)
	req := reserveRequest(code, "app", "key-1")
	req.PathTo = "3.0.0" // 3.0.0 requires nothing: no path
	wantError(t, f.reserve(t, req), http.StatusBadRequest, api.CodeBadRequest)
	if _, err := f.inst.Store.ChangeReleaseControl(t.Context(), "app", "3.0.0", "release.publish", store.Actor{Name: "local:ana"},
		func(c *store.ReleaseControl) error { c.Requires = "2.0.0"; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []func(r *api.ReserveRequest){
		func(r *api.ReserveRequest) { r.PathTo = "2.0.0" },                         // not beyond the update
		func(r *api.ReserveRequest) { r.FromVersion, r.PathTo = "2.0.0", "3.0.0" }, // already past the requirement
		func(r *api.ReserveRequest) { r.PathTo = "latest" },
	} {
		r := reserveRequest(code, "app", "key-1")
		bad(&r)
		wantError(t, f.reserve(t, r), http.StatusBadRequest, api.CodeBadRequest)
	}
	first := decodeOK[api.ReservationResponse](t, f.reserve(t, req))
	paths, err := f.inst.Store.PaidPaths(t.Context(), "app", req.MachineID)
	if err != nil || len(paths) != 0 {
		t.Fatalf("paths of a held step: %v %v", paths, err)
	}
	if _, err := f.admin.Halt(t.Context(), staffCaller, "app", "2.0.0", "crash reports"); err != nil {
		t.Fatal(err)
	}
	again := decodeOK[api.ReservationResponse](t, f.reserve(t, req))
	if again.Reservation.ID != first.Reservation.ID {
		t.Errorf("the repeat after the halt made %s, want %s", again.Reservation.ID, first.Reservation.ID)
	}
	wantError(t, f.reserve(t, reserveRequest(code, "app", "key-2")), http.StatusConflict, api.CodeHalted)
	f.complete(t, first.Reservation.ID)
	if paths, err := f.inst.Store.PaidPaths(t.Context(), "app", req.MachineID); err != nil || len(paths) != 1 || paths[0] != "3.0.0" {
		t.Errorf("paid paths %v %v, want [3.0.0]", paths, err)
	}
}

// A first install, and the release that replaces a withdrawn one, are what
// every stable installation is offered: never a staged or beta-only one.
func TestEveryoneReleasesOnly(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	zero := 0
	for v, ctl := range map[string]admin.ControlParams{
		"2.0.0": {Channels: []string{"beta"}},
		"2.5.0": {Percent: &zero},
	} {
		if _, err := f.admin.Publish(t.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: v, OS: "linux", Arch: "amd64",
			File: bytes.NewReader(artifactBytes("app", v, "linux", "amd64")), Control: ctl}); err != nil {
			t.Fatal(err)
		}
	}
	f.publish(t, "app", api.SeriesPro, "3.0.0", "linux", "amd64")
	if _, err := f.admin.Halt(t.Context(), staffCaller, "app", "3.0.0", "checking"); err != nil {
		t.Fatal(err)
	}
	code := f.activate(t, "alice", 1)
	body := mustJSON(t, api.InstallRequest{Credential: api.Credential{Code: code}, Product: "app", OS: "linux", Arch: "amd64"})
	resp := decodeOK[api.InstallResponse](t, f.post(t, "/v1/install", body))
	var rel api.ReleaseStatement
	if err := resp.Release.VerifyInto(api.PayloadRelease, f.trust.ReleaseKeys, &rel); err != nil || rel.Version != "1.0.0" || resp.Newest != "1.0.0" {
		t.Errorf("first install %s (newest %s) %v, want 1.0.0", rel.Version, resp.Newest, err)
	}
	if _, err := f.admin.Resume(t.Context(), staffCaller, "app", "3.0.0", "fine"); err != nil {
		t.Fatal(err)
	}
	y, err := f.admin.Yank(t.Context(), staffCaller, "app", "3.0.0", "corrupts data")
	if err != nil || len(y.Downgrades) != 1 || y.Downgrades[0].Version != "1.0.0" {
		t.Fatalf("yank: %+v %v, want the downgrade to 1.0.0", y, err)
	}
	_, latest := f.latest(t, "app", "os=linux&arch=amd64&proto=2")
	if latest.Version != "1.0.0" || !latest.Replaces("3.0.0") {
		t.Errorf("after the yank: %s replaces 3.0.0: %v", latest.Version, latest.Replaces("3.0.0"))
	}
}

// A platform whose only release is staged, or only on a channel, answers
// the installers it is offered to, and 404 to the others.
func TestLatestOnlyStagedOrChannelRelease(t *testing.T) {
	for _, off := range []bool{false, true} {
		f := newFixtureWith(t, func(s *server.Server) { server.SetLatestCacheOff(s, off) })
		zero := 0
		for v, ctl := range map[string]admin.ControlParams{
			"1.0.0":        {Percent: &zero},
			"1.1.0-beta.1": {Channels: []string{"beta"}},
		} {
			if _, err := f.admin.Publish(t.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: v, OS: "linux", Arch: "amd64",
				File: bytes.NewReader(artifactBytes("app", v, "linux", "amd64")), Control: ctl}); err != nil {
				t.Fatal(err)
			}
		}
		wantError(t, f.get(t, "/v1/products/app/latest?os=linux&arch=amd64"), http.StatusNotFound, api.CodeNotFound)
		wantError(t, f.get(t, "/v1/products/app/latest?os=linux&arch=amd64&proto=2&machine=m-1"), http.StatusNotFound, api.CodeNotFound)
		if _, rel := f.latest(t, "app", "os=linux&arch=amd64&proto=2&machine=m-1&force=1"); rel.Version != "1.0.0" {
			t.Errorf("cache off %v: forced %s", off, rel.Version)
		}
		if _, rel := f.latest(t, "app", "os=linux&arch=amd64&proto=2&channel=beta"); rel.Version != "1.1.0-beta.1" {
			t.Errorf("cache off %v: beta %s", off, rel.Version)
		}
	}
}

// A publish that is refused changes nothing of how the release is
// offered; a withdrawn version cannot be published again.
func TestRefusedPublishKeepsControl(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "app", api.SeriesPro, "1.0.0", "linux", "amd64")
	f.publish(t, "app", api.SeriesPro, "2.0.0", "linux", "amd64")
	zero := 0
	_, err := f.admin.Publish(t.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: "2.0.0", OS: "linux", Arch: "amd64",
		File: strings.NewReader("other contents"), Control: admin.ControlParams{Percent: &zero}})
	if err == nil || !strings.Contains(err.Error(), "already published with other contents") {
		t.Fatalf("publish: %v", err)
	}
	if _, rel := f.latest(t, "app", "os=linux&arch=amd64&proto=2&machine=m-1"); rel.Version != "2.0.0" {
		t.Errorf("after a refused publish: offered %s", rel.Version)
	}
	long := strings.Repeat("<&>", api.MaxNotesSize/3)
	_, err = f.admin.Publish(t.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: "2.1.0", OS: "linux", Arch: "amd64",
		File: strings.NewReader("2.1"), Control: admin.ControlParams{Notes: map[string]string{"bg": long, "en": long}}})
	if err == nil || !strings.Contains(err.Error(), "once signed and encoded") {
		t.Errorf("notes that encode too long: %v", err)
	}
	if _, err := f.admin.Yank(t.Context(), staffCaller, "app", "2.0.0", "bad"); err != nil {
		t.Fatal(err)
	}
	_, err = f.admin.Publish(t.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: "2.0.0", OS: "windows", Arch: "amd64",
		File: strings.NewReader("2.0 for windows")})
	if err == nil || !strings.Contains(err.Error(), "withdrawn for good") {
		t.Errorf("publishing a withdrawn version: %v", err)
	}
}

// A published requirement is part of the promise to installations on
// the way through it: publishing the version again (for another
// platform) may repeat it, never change or drop it.
func TestPublishedRequirementDoesNotChange(t *testing.T) {
	f := newFixture(t)
	for _, v := range []string{"1.0.0", "2.0.0"} {
		for _, goos := range []string{"linux", "windows"} {
			f.publish(t, "app", api.SeriesPro, v, goos, "amd64")
		}
	}
	publish := func(goos, requires string) error {
		_, err := f.admin.Publish(t.Context(), admin.PublishParams{Product: "app", Series: api.SeriesPro, Version: "3.0.0", OS: goos, Arch: "amd64",
			File: strings.NewReader("3.0 for " + goos), Control: admin.ControlParams{Requires: &requires}})
		return err
	}
	if err := publish("linux", "2.0.0"); err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"1.0.0", ""} {
		if err := publish("windows", other); err == nil || !strings.Contains(err.Error(), "cannot change") {
			t.Errorf("requires %q after 2.0.0: %v", other, err)
		}
	}
	if err := publish("windows", "2.0.0"); err != nil {
		t.Errorf("the same requirement again: %v", err)
	}
}
