//go:build linux

package updater

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/fileutil"
	"github.com/aktual/aktual/updater/internal/fetch"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
	"github.com/aktual/aktual/updater/internal/swap"
)

// rssArtifactSize is the size of the release the peak-RSS test installs:
// large enough that any copy of it in memory shows, far beyond the
// runtime's own few MiB. AKTUAL_RSS_ARTIFACT_MIB sets another (e.g. 1024,
// for the benchmark of a 1 GiB update); AKTUAL_RSS_AKTUAL names an aktual
// binary to measure instead of this tree's.
const rssArtifactSize = 256 << 20

// maxUpdateRSS is the most memory aktual update may use for it: a quarter
// of the artifact. The streaming apply needs a few MiB whatever the size;
// reading the release into memory (selfupdate's PrepareAndCheckBinary)
// needs more than the artifact itself.
const maxUpdateRSS = 64 << 20

// TestUpdatePeakRSS runs the real aktual binary against a real server on
// loopback and installs a 256 MiB release: the child's peak resident set
// (its rusage) must stay well under the artifact's size, so memory does
// not grow with the product being updated.
func TestUpdatePeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds aktual and installs a 256 MiB release")
	}
	ctx := t.Context()
	size := int64(rssArtifactSize)
	if mib := os.Getenv("AKTUAL_RSS_ARTIFACT_MIB"); mib != "" {
		n, err := strconv.ParseInt(mib, 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("AKTUAL_RSS_ARTIFACT_MIB=%q: want a positive number of MiB", mib)
		}
		size = n << 20
	}
	bin := os.Getenv("AKTUAL_RSS_AKTUAL") // another build to measure, e.g. an older one
	if bin == "" {
		bin = buildAktual(t)
	}

	data := datadir.DataDir(t.TempDir())
	inst, err := datadir.Open(data, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	adm := admin.New(inst)
	v1 := []byte("ledger 1.0.0, small\n")
	publishReader(t, adm, "1.0.0", bytes.NewReader(v1))
	rel := publishReader(t, adm, "2.0.0", io.LimitReader(newPseudoRandom(1), size))
	act, err := adm.ActivatePro(ctx, "Acme", 1)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(inst, "test", nil).Handler())
	t.Cleanup(ts.Close)

	target := filepath.Join(t.TempDir(), "ledger")
	if err := os.WriteFile(target, v1, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "update", "--server", ts.URL, "--product", product,
		"--target", target, "--code", act.Code, "--trust", data.Path(datadir.TrustFile),
		"--state-dir", t.TempDir(), "--yes", "--json")
	cmd.Env = withoutAktualEnv(os.Environ()) // never hand it a code from the developer's shell
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("aktual update: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	peak := peakRSS(t, cmd.ProcessState)
	t.Logf("aktual update of a %d MiB release: peak RSS %.1f MiB, %v (%.0f MB/s)",
		size>>20, float64(peak)/(1<<20), elapsed.Round(time.Millisecond), float64(size)/1e6/elapsed.Seconds())

	if got, err := fileutil.SHA256(target); err != nil || got != rel.SHA256 {
		t.Fatalf("target sha256 = %s, %v; want the release's %s", got, err, rel.SHA256)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("target mode = %v, %v; want 0755", fi.Mode(), err)
	}
	for _, debris := range []string{swap.StagedPath(target), swap.OldPath(target), fetch.DownloadPath(target), fetch.SidecarPath(target)} {
		if fileExists(debris) {
			t.Errorf("left behind %s", filepath.Base(debris))
		}
	}
	if peak >= maxUpdateRSS {
		t.Errorf("peak RSS %.1f MiB for a %d MiB release; want under %d MiB: the update must stream, not hold the release in memory",
			float64(peak)/(1<<20), size>>20, maxUpdateRSS>>20)
	}
}

// buildAktual builds the aktual CLI from this module with the go on PATH.
func buildAktual(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "aktual")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/aktual")
	cmd.Dir = filepath.Dir(wd) // the module root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/aktual: %v\n%s", err, out)
	}
	return bin
}

// publishReader publishes r as a pro release of product for linux/amd64,
// streamed into the blob store: the test never holds it in memory either.
func publishReader(t *testing.T, adm *admin.Admin, version string, r io.Reader) api.ReleaseStatement {
	t.Helper()
	rel, err := adm.Publish(t.Context(), admin.PublishParams{Product: product, Series: api.SeriesPro, Version: version,
		OS: "linux", Arch: "amd64", File: r})
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// peakRSS is a finished child's peak resident set in bytes (Linux reports
// ru_maxrss in KiB).
func peakRSS(t *testing.T, ps *os.ProcessState) int64 {
	t.Helper()
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatalf("no rusage for the child: %T", ps.SysUsage())
	}
	return ru.Maxrss << 10
}

// withoutAktualEnv drops aktual's own settings (AKTUAL_CODE among them)
// from the environment, as the health check does for the program it runs.
func withoutAktualEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(strings.ToUpper(kv), "AKTUAL_") {
			out = append(out, kv)
		}
	}
	return out
}
