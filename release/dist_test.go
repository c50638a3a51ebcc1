package release_test

import (
	"archive/zip"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aktual/aktual/internal/testenv"
)

// maxBinarySize bounds what the check reads from an archive entry; the
// Windows binaries are about 13 MB.
const maxBinarySize = 256 << 20

// windowsPlatform finds the platform in a goreleaser dist name:
// aktual_windows_amd64_v1 (a build folder), aktual_1.2.3_windows_arm64.zip.
var windowsPlatform = regexp.MustCompile(`_windows_(amd64|arm64)(_|\.zip$)`)

// TestReleaseDistIsSigned checks a snapshot release that make release-check
// made with a throwaway certificate (AKTUAL_RELEASE_DIST is its dist folder,
// AKTUAL_AUTHENTICODE_CAFILE the throwaway CA): every Windows binary
// verifies with osslsigncode, and the zip archives hold those signed bytes,
// not the binaries as built. Elsewhere it skips.
func TestReleaseDistIsSigned(t *testing.T) {
	dist, ca := os.Getenv("AKTUAL_RELEASE_DIST"), os.Getenv("AKTUAL_AUTHENTICODE_CAFILE")
	if dist == "" || ca == "" {
		t.Skip("make release-check runs this on its snapshot release (AKTUAL_RELEASE_DIST, AKTUAL_AUTHENTICODE_CAFILE)")
	}
	testenv.LookPath(t, "osslsigncode", "checking Authenticode signatures needs osslsigncode (apt-get install osslsigncode)")

	// platform/name → sha256 of the signed binary goreleaser archived.
	signed := map[string][sha256.Size]byte{}
	exes, err := filepath.Glob(filepath.Join(dist, "*", "*.exe"))
	if err != nil {
		t.Fatal(err)
	}
	for _, exe := range exes {
		m := windowsPlatform.FindStringSubmatch(filepath.Base(filepath.Dir(exe)) + "_")
		if m == nil {
			t.Fatalf("%s: a Windows binary in a folder without a Windows platform in its name", exe)
		}
		if err := verify(t, exe, ca); err != nil {
			t.Error(err)
			continue
		}
		checkSignedPE(t, exe)
		b, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		signed[m[1]+"/"+filepath.Base(exe)] = sha256.Sum256(b)
		t.Logf("%s: signed, and osslsigncode verify accepts it", exe)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		for _, name := range []string{"aktual.exe", "aktuald.exe"} {
			if _, ok := signed[arch+"/"+name]; !ok {
				t.Errorf("%s: no signed %s for windows/%s", dist, name, arch)
			}
		}
	}

	zips, err := filepath.Glob(filepath.Join(dist, "*.zip"))
	if err != nil {
		t.Fatal(err)
	}
	archived := 0
	for _, z := range zips {
		m := windowsPlatform.FindStringSubmatch(filepath.Base(z))
		if m == nil {
			t.Fatalf("%s: a zip archive without a Windows platform in its name", z)
		}
		for name, sum := range exesIn(t, z) {
			want, ok := signed[m[1]+"/"+name]
			if !ok || sum != want {
				t.Errorf("%s: its %s is not the signed windows/%s binary", z, name, m[1])
				continue
			}
			archived++
		}
	}
	if archived != len(signed) || archived != 4 {
		t.Errorf("%d signed binaries found in the zip archives, %d in the build folders; want 4 each", archived, len(signed))
	}
}

// exesIn returns the sha256 of each .exe in the zip archive at path.
func exesIn(t *testing.T, path string) map[string][sha256.Size]byte {
	t.Helper()
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sums := map[string][sha256.Size]byte{}
	for _, f := range r.File {
		if filepath.Ext(f.Name) != ".exe" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(rc, maxBinarySize+1))
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %s: %v", path, f.Name, err)
		}
		if n > maxBinarySize {
			t.Fatalf("%s: %s is over %d bytes", path, f.Name, maxBinarySize)
		}
		sums[filepath.Base(f.Name)] = [sha256.Size]byte(h.Sum(nil))
	}
	return sums
}
