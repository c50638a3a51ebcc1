package server_test

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/selfupdate"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/testenv"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/patches"
)

// needBzip2 skips a test that computes patches where bsdiff cannot: it
// compresses with the bzip2 program.
func needBzip2(t testing.TB) {
	t.Helper()
	testenv.LookPath(t, "bzip2", "computing bsdiff patches needs it (apt-get install bzip2)")
}

// program is a pseudo-random file standing in for a program: a new
// version changes a few bytes here and there, as a rebuild does.
func program(size int, seed uint64) []byte {
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func edited(b []byte, version string) []byte {
	out := bytes.Clone(b)
	for i := 0; i < len(out); i += len(out) / 7 {
		copy(out[i:], "version "+version)
	}
	return out
}

// patchFixture is a fixture whose admin makes patches of small files.
func patchFixture(t *testing.T) *fixture {
	t.Helper()
	needBzip2(t)
	f := newFixture(t)
	f.admin.Patches = patches.Policy{MinSize: 1 << 10}
	return f
}

func (f *fixture) publishPatched(t *testing.T, version string, data []byte) []patches.Result {
	t.Helper()
	var got []patches.Result
	_, err := f.admin.Publish(t.Context(), admin.PublishParams{
		Product: "app", Series: api.SeriesPro, Version: version, OS: "linux", Arch: "amd64",
		File: bytes.NewReader(data), OnPatch: func(r patches.Result) { got = append(got, r) },
	})
	if err != nil {
		t.Fatalf("publishing %s: %v", version, err)
	}
	return got
}

// applyPatch applies a stored patch with minio/selfupdate's patcher, the
// one the format is chosen for.
func (f *fixture) applyPatch(t *testing.T, old []byte, patchSHA256 string) []byte {
	t.Helper()
	blob, err := f.inst.Blobs.Open(patchSHA256)
	if err != nil {
		t.Fatalf("patch blob: %v", err)
	}
	defer blob.Close()
	var out bytes.Buffer
	if err := selfupdate.NewBSDiffPatcher().Patch(bytes.NewReader(old), &out, blob); err != nil {
		t.Fatalf("selfupdate's patcher: %v", err)
	}
	return out.Bytes()
}

func TestPublishMakesPatches(t *testing.T) {
	f := patchFixture(t)
	v1 := program(256<<10, 1)
	v2 := edited(v1, "2.0.0")
	v3 := edited(v2, "3.0.0")
	if got := f.publishPatched(t, "1.0.0", v1); len(got) != 0 {
		t.Errorf("the first release made patches: %+v", got)
	}
	got := f.publishPatched(t, "2.0.0", v2)
	if len(got) != 1 || got[0].FromVersion != "1.0.0" || got[0].ToVersion != "2.0.0" || got[0].SHA256 == "" || got[0].Error != "" {
		t.Fatalf("publishing 2.0.0 made %+v, want one patch from 1.0.0", got)
	}
	if got[0].Size*100 > int64(len(v2))*5 {
		t.Errorf("patch of a few changed bytes is %d bytes for %d", got[0].Size, len(v2))
	}
	if out := f.applyPatch(t, v1, got[0].SHA256); !bytes.Equal(out, v2) {
		t.Errorf("the patch 1.0.0 → 2.0.0 does not make 2.0.0")
	}

	got = f.publishPatched(t, "3.0.0", v3)
	if len(got) != 2 || got[0].FromVersion != "2.0.0" || got[1].FromVersion != "1.0.0" {
		t.Fatalf("publishing 3.0.0 made %+v, want patches from 2.0.0 and 1.0.0", got)
	}
	for i, old := range [][]byte{v2, v1} {
		if out := f.applyPatch(t, old, got[i].SHA256); !bytes.Equal(out, v3) {
			t.Errorf("the patch %s → 3.0.0 does not make 3.0.0", got[i].FromVersion)
		}
	}
	ps, err := f.inst.Store.Patches(t.Context(), "app", "linux", "amd64")
	if err != nil || len(ps) != 3 {
		t.Errorf("store holds %d patches (%v), want 3", len(ps), err)
	}

	// Republishing the same release makes nothing again.
	if again := f.publishPatched(t, "3.0.0", v3); len(again) != 2 || !again[0].Existing || !again[1].Existing {
		t.Errorf("republishing 3.0.0: %+v, want both patches existing", again)
	}
	// A pre-release is never offered as the latest: no patches to it.
	if pre := f.publishPatched(t, "4.0.0-rc.1", edited(v3, "4.0.0-rc.1")); len(pre) != 0 {
		t.Errorf("a pre-release got patches: %+v", pre)
	}
}

func TestPublishSkipsUselessPatches(t *testing.T) {
	f := patchFixture(t)
	v1 := program(64<<10, 1)
	f.publishPatched(t, "1.0.0", v1)

	// Other bytes altogether: the patch would be as large as the file.
	got := f.publishPatched(t, "2.0.0", program(64<<10, 2))
	if len(got) != 1 || got[0].SHA256 != "" || !strings.Contains(got[0].Skipped, "smaller") {
		t.Errorf("unrelated bytes: %+v, want skipped as not smaller", got)
	}
	// Below the minimum size.
	f.admin.Patches.MinSize = 0 // the default, 1 MiB
	got = f.publishPatched(t, "3.0.0", edited(v1, "3.0.0"))
	if len(got) != 2 || got[0].SHA256 != "" || !strings.Contains(got[0].Skipped, "smaller than") {
		t.Errorf("a small release: %+v, want skipped for its size", got)
	}
	// Above the maximum size.
	f.admin.Patches = patches.Policy{MinSize: 1 << 10, MaxSize: 32 << 10}
	got = f.publishPatched(t, "4.0.0", edited(v1, "4.0.0"))
	if len(got) != 3 || got[0].SHA256 != "" || !strings.Contains(got[0].Skipped, "larger than") {
		t.Errorf("a large release: %+v, want skipped for its size", got)
	}
	// Patches off.
	f.admin.Patches = patches.Policy{From: -1, MinSize: 1 << 10}
	if got = f.publishPatched(t, "5.0.0", edited(v1, "5.0.0")); len(got) != 0 {
		t.Errorf("with patches off: %+v", got)
	}
	if ps, _ := f.inst.Store.Patches(t.Context(), "app", "linux", "amd64"); len(ps) != 0 {
		t.Errorf("stored %+v, want no patch", ps)
	}
}

// A damaged blob of an old release is noticed: no patch is made from it.
func TestPatchFromDamagedBlobRefused(t *testing.T) {
	f := patchFixture(t)
	f.admin.Patches.From = -1
	v1 := program(64<<10, 1)
	f.publishPatched(t, "1.0.0", v1)
	f.publishPatched(t, "2.0.0", edited(v1, "2.0.0"))
	damaged := bytes.Clone(v1)
	damaged[100] ^= 1
	writeBlob(t, f, sha256Hex(v1), damaged)

	f.admin.Patches.From = 0
	got, err := f.admin.MakePatches(t.Context(), "app", nil)
	if err != nil || len(got) != 1 || got[0].Error == "" || got[0].SHA256 != "" {
		t.Fatalf("MakePatches over a damaged blob = %+v, %v; want an error for the patch", got, err)
	}
	if !strings.Contains(got[0].Error, "not its release's bytes") {
		t.Errorf("error %q does not say the stored file is damaged", got[0].Error)
	}
}

func writeBlob(t *testing.T, f *fixture, sum string, data []byte) {
	t.Helper()
	path := filepath.Join(f.inst.Blobs.Dir, sum[:2], sum)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMakePatchesForExistingReleases(t *testing.T) {
	f := patchFixture(t)
	f.admin.Patches.From = -1
	v1 := program(64<<10, 1)
	v2 := edited(v1, "2.0.0")
	v3 := edited(v2, "3.0.0")
	for i, v := range [][]byte{v1, v2, v3} {
		f.publishPatched(t, []string{"1.0.0", "2.0.0", "3.0.0"}[i], v)
	}
	f.publishBytes(t, "app", api.SeriesPro, "3.0.0", "linux", "arm64", edited(v3, "arm"))

	f.admin.Patches.From = 1
	got, err := f.admin.MakePatches(t.Context(), "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].FromVersion != "2.0.0" || got[0].ToVersion != "3.0.0" || got[0].Arch != "amd64" || got[0].SHA256 == "" {
		t.Fatalf("MakePatches(keep 1) = %+v, want 2.0.0 → 3.0.0 on linux/amd64", got)
	}
	f.admin.Patches.From = 3
	got, err = f.admin.MakePatches(t.Context(), "app", nil)
	if err != nil || len(got) != 2 || !got[0].Existing || got[1].FromVersion != "1.0.0" || got[1].SHA256 == "" {
		t.Fatalf("MakePatches(keep 3) = %+v, %v; want 2.0.0's kept and 1.0.0's made", got, err)
	}
	if _, err := f.admin.MakePatches(t.Context(), "nothing", nil); err == nil {
		t.Error("MakePatches of an unknown product succeeded")
	}
}

// The latest answer carries a patch only to a client that asked for one,
// only from the hash it has, and signed with the rest.
func TestLatestOffersPatch(t *testing.T) {
	f := patchFixture(t)
	v1 := program(64<<10, 1)
	v2 := edited(v1, "2.0.0")
	f.publishPatched(t, "1.0.0", v1)
	made := f.publishPatched(t, "2.0.0", v2)
	if len(made) != 1 || made[0].SHA256 == "" {
		t.Fatalf("no patch made: %+v", made)
	}
	base := "os=linux&arch=amd64&current_sha256="
	tests := []struct {
		name, query string
		patch       bool
	}{
		{"asked, installed 1.0.0", base + sha256Hex(v1) + "&patch=bsdiff", true},
		{"asked among formats", base + sha256Hex(v1) + "&patch=zstd,bsdiff", true},
		{"not asked", base + sha256Hex(v1), false},
		{"other format", base + sha256Hex(v1) + "&patch=zstd", false},
		{"installed is the latest", base + sha256Hex(v2) + "&patch=bsdiff", false},
		{"installed unknown", base + sha256Hex([]byte("other")) + "&patch=bsdiff", false},
		{"no current hash", "os=linux&arch=amd64&patch=bsdiff", false},
		{"other platform", "os=linux&arch=arm64&current_sha256=" + sha256Hex(v1) + "&patch=bsdiff", false},
	}
	f.publishBytes(t, "app", api.SeriesPro, "1.0.0", "linux", "arm64", v1)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/app/latest?"+tc.query))
			if has := bytes.Contains(resp.Answer.Payload, []byte(`"patch"`)); has != tc.patch {
				t.Fatalf("payload mentions a patch: %v, want %v: %s", has, tc.patch, resp.Answer.Payload)
			}
			st, _ := f.latest(t, "app", tc.query)
			if !tc.patch {
				if st.Patch != nil {
					t.Errorf("offered %+v", st.Patch)
				}
				return
			}
			want := api.PatchOffer{FromSHA256: sha256Hex(v1), SHA256: made[0].SHA256, Size: made[0].Size, Format: api.PatchBSDiff}
			if st.Patch == nil || *st.Patch != want {
				t.Errorf("offered %+v, want %+v", st.Patch, want)
			}
		})
	}

	// The signature covers the offer: another patch hash breaks it.
	resp := decodeOK[api.LatestResponse](t, f.get(t, "/v1/products/app/latest?"+tests[0].query))
	forged := resp.Answer
	forged.Payload = bytes.Replace(forged.Payload, []byte(made[0].SHA256), []byte(sha256Hex([]byte("evil"))), 1)
	if bytes.Equal(forged.Payload, resp.Answer.Payload) {
		t.Fatal("the patch hash is not in the payload")
	}
	if _, err := forged.Verify(api.PayloadLatest, f.trust.OnlineKeys); err == nil {
		t.Error("an answer with another patch hash verified")
	}

	// A recorded patch whose blob went missing is not offered.
	if err := os.Remove(filepath.Join(f.inst.Blobs.Dir, made[0].SHA256[:2], made[0].SHA256)); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.latest(t, "app", tests[0].query); st.Patch != nil {
		t.Errorf("offered a patch whose blob is gone: %+v", st.Patch)
	}
}

// A patch's bytes are served like an artifact, ranges included.
func TestArtifactServesPatch(t *testing.T) {
	f := patchFixture(t)
	v1 := program(64<<10, 1)
	f.publishPatched(t, "1.0.0", v1)
	made := f.publishPatched(t, "2.0.0", edited(v1, "2.0.0"))
	if len(made) != 1 || made[0].SHA256 == "" {
		t.Fatalf("no patch made: %+v", made)
	}
	r := f.get(t, "/v1/artifacts/"+made[0].SHA256)
	if r.status != http.StatusOK || sha256Hex(r.body) != made[0].SHA256 || int64(len(r.body)) != made[0].Size {
		t.Fatalf("GET patch: %d, %d bytes", r.status, len(r.body))
	}
	part := f.get(t, "/v1/artifacts/"+made[0].SHA256, "Range", "bytes=10-")
	if part.status != http.StatusPartialContent || !bytes.Equal(part.body, r.body[10:]) {
		t.Errorf("GET patch from byte 10: %d, %d bytes", part.status, len(part.body))
	}
	// Blobs nothing names stay private, as before.
	orphan, _, err := f.inst.Blobs.Put(bytes.NewReader([]byte("never published")))
	if err != nil {
		t.Fatal(err)
	}
	if r := f.get(t, "/v1/artifacts/"+orphan); r.status != http.StatusNotFound {
		t.Errorf("an unpublished blob: %d, want 404", r.status)
	}
}

// TestPatchesForReleasesAtAnOrigin: releases published with --url get
// patches like any other, computed from the origin's files and kept here;
// an origin whose file changed since its publish makes no patch, and the
// publish still succeeds.
func TestPatchesForReleasesAtAnOrigin(t *testing.T) {
	f := patchFixture(t)
	v1 := program(256<<10, 7)
	v2 := edited(v1, "2.0.0")
	v3 := edited(v2, "3.0.0")
	o := newOrigin(t, map[string][]byte{"/app/1.0.0": v1, "/app/2.0.0": v2, "/app/3.0.0": v3})
	publish := func(version string) []patches.Result {
		t.Helper()
		var got []patches.Result
		_, err := f.admin.Publish(t.Context(), admin.PublishParams{
			Product: "app", Series: api.SeriesPro, Version: version, OS: "linux", Arch: "amd64",
			URL: o.URL + "/app/" + version, OnPatch: func(r patches.Result) { got = append(got, r) },
		})
		if err != nil {
			t.Fatalf("publishing %s --url: %v", version, err)
		}
		return got
	}
	publish("1.0.0")
	got := publish("2.0.0")
	if len(got) != 1 || got[0].FromVersion != "1.0.0" || got[0].SHA256 == "" || got[0].Error != "" || got[0].Skipped != "" {
		t.Fatalf("publishing 2.0.0 at an origin made %+v, want one patch from 1.0.0", got)
	}
	if out := f.applyPatch(t, v1, got[0].SHA256); !bytes.Equal(out, v2) {
		t.Error("the patch 1.0.0 → 2.0.0 made from the origin's files does not make 2.0.0")
	}
	// The patch is served from here, the release from its origin.
	if r := f.get(t, "/v1/artifacts/"+got[0].SHA256); r.status != http.StatusOK || sha256Hex(r.body) != got[0].SHA256 {
		t.Errorf("GET the patch: %s", r)
	}

	// The origin's 1.0.0 is replaced after its publish: no patch from
	// it, the one from 2.0.0 is made, and 3.0.0 is published all the same.
	o.files["/app/1.0.0"] = edited(v1, "tampered")
	got = publish("3.0.0")
	if len(got) != 2 {
		t.Fatalf("publishing 3.0.0 made %+v, want two results", got)
	}
	for _, r := range got {
		switch r.FromVersion {
		case "2.0.0":
			if r.SHA256 == "" || r.Error != "" {
				t.Errorf("the patch from 2.0.0: %+v", r)
			}
		case "1.0.0":
			if r.SHA256 != "" || !strings.Contains(r.Error, "no longer the bytes published") {
				t.Errorf("the patch from 1.0.0, whose origin file changed: %+v, want an error saying so", r)
			}
		}
	}
	ps, err := f.inst.Store.Patches(t.Context(), "app", "linux", "amd64")
	if err != nil || len(ps) != 2 {
		t.Errorf("store holds %d patches (%v), want 2 (1→2, 2→3)", len(ps), err)
	}
}
