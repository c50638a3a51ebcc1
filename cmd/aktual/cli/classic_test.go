package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/server"
	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/datadir"
)

// customerBrowser is the stub browser: it records what it was asked to
// open and, like a customer, reads the Internet code off the page and
// types it into the installer.
type customerBrowser struct {
	t      *testing.T
	opened []string
	typeTo io.Writer
}

var pageCodeRE = regexp.MustCompile(`id="internet-code"[^>]*>([0-9-]+)<`)

func (b *customerBrowser) Open(url string) error {
	b.opened = append(b.opened, url)
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	html, _ := io.ReadAll(resp.Body)
	m := pageCodeRE.FindSubmatch(html)
	if m == nil {
		b.t.Errorf("page without a code:\n%s", html)
		return nil
	}
	// The customer types it a moment later, once the installer asks.
	go io.WriteString(b.typeTo, string(m[1])+"\n")
	return nil
}

// classicFixture is a real reference server with a classic product and an
// activated hardware key (HK-9, two updates), and the files a customer
// would have.
type classicFixture struct {
	url, trust, licence, target string
	adm                         *admin.Admin
}

// classicServer is newClassicServer's parts.
func classicServer(t *testing.T) (url, trust, licence, target string) {
	f := newClassicServer(t)
	return f.url, f.trust, f.licence, f.target
}

func newClassicServer(t *testing.T) *classicFixture {
	t.Helper()
	f := &classicFixture{}
	dir := t.TempDir()
	inst, err := datadir.Open(datadir.DataDir(filepath.Join(dir, "srv")), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	f.adm = admin.New(inst)
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if _, err := f.adm.Publish(t.Context(), admin.PublishParams{Product: "abacus", Series: api.SeriesClassic, Version: v,
			OS: runtime.GOOS, Arch: runtime.GOARCH, File: strings.NewReader("abacus " + v)}); err != nil {
			t.Fatal(err)
		}
	}
	lic, err := hwkey.Issue(inst.Keys.Release, "HK-9", "Acme", nil, time.Now(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	f.licence = filepath.Join(dir, "acme.aktual-licence")
	os.WriteFile(f.licence, lic, 0o600)
	if _, err := f.adm.ActivateClassic(t.Context(), "Acme", "HK-9", 2); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(inst, "test", nil).Handler())
	t.Cleanup(ts.Close)
	f.target = filepath.Join(dir, "app", "abacus")
	os.MkdirAll(filepath.Dir(f.target), 0o755)
	os.WriteFile(f.target, []byte("abacus 1.0.0"), 0o755)
	f.url, f.trust = ts.URL, inst.Dir.Path(datadir.TrustFile)
	return f
}

func TestClassicUpdateOpensBrowserAndTakesTypedCode(t *testing.T) {
	t.Parallel()
	url, trust, licence, target := classicServer(t)
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	b := &customerBrowser{t: t, typeTo: stdinW}
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: stdinR, Out: &out, ErrOut: &errOut, Browser: b}
	code := run(t.Context(), ios, []string{"update", "--server", url, "--trust", trust, "--product", "abacus",
		"--target", target, "--hwkey", licence, "--yes", "--json", "--state-dir", t.TempDir()})
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	if len(b.opened) != 1 || !strings.HasPrefix(b.opened[0], url+"/classic/s_") {
		t.Fatalf("browser opened %v", b.opened)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var sawURL bool
	for _, l := range lines {
		var ev map[string]any
		json.Unmarshal([]byte(l), &ev)
		if ev["event"] == "url" && ev["url"] == b.opened[0] {
			sawURL = true
		}
	}
	var res outcome
	json.Unmarshal([]byte(lines[len(lines)-1]), &res)
	if !sawURL || res.Status != "updated" || res.Remaining == nil || *res.Remaining != 1 {
		t.Fatalf("url event %v, result %+v", sawURL, res)
	}
	if got, _ := os.ReadFile(target); string(got) != "abacus 2.0.0" {
		t.Fatalf("target = %q", got)
	}
}

// --no-browser: nothing is opened; the address is printed for the person.
func TestClassicNoBrowserPrintsURL(t *testing.T) {
	t.Parallel()
	url, trust, licence, target := classicServer(t)
	b := &customerBrowser{t: t, typeTo: io.Discard}
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Browser: b}
	code := run(t.Context(), ios, []string{"update", "--server", url, "--trust", trust, "--product", "abacus",
		"--target", target, "--hwkey", licence, "--yes", "--no-browser", "--state-dir", t.TempDir()})
	if code != ExitUsage || len(b.opened) != 0 {
		t.Fatalf("exit %d, opened %v", code, b.opened)
	}
	if !regexp.MustCompile(`Open this page to see your Internet code:\n  http://127\.0\.0\.1:\d+/classic/s_`).MatchString(errOut.String()) {
		t.Fatalf("stderr:\n%s", &errOut)
	}
}
