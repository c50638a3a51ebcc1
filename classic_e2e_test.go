package aktual_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// classicWorld is a reference server (the real aktuald binary) with two
// classic-series releases and a hardware key with site access.
type classicWorld struct {
	t       *testing.T
	dir     string
	data    string
	url     string
	key     string
	trust   string
	v1, v2  []byte
	db      string // "" for the data folder's SQLite; or postgres://…
	cluster *cluster
}

// run runs one of the binaries testscript put on PATH and returns stdout.
func (w *classicWorld) run(name string, args ...string) string {
	w.t.Helper()
	var out, errOut bytes.Buffer
	if name == "aktuald" && w.db != "" {
		args = append([]string{"--db", w.db}, args...)
	}
	cmd := exec.CommandContext(w.t.Context(), name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		w.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

func newClassicWorld(t *testing.T, updates string) *classicWorld {
	return newClassicWorldOn(t, updates, "", 1)
}

// newClassicWorldOn is newClassicWorld on the database db ("" for the
// embedded SQLite) with the given number of aktuald replicas behind a
// load balancer.
func newClassicWorldOn(t *testing.T, updates, db string, replicas int) *classicWorld {
	w := &classicWorld{t: t, dir: t.TempDir(), db: db, v1: []byte("abacus 1.0.0\n"), v2: []byte("abacus 2.0.0, better\n")}
	w.data = filepath.Join(w.dir, "srv")
	w.key = filepath.Join(w.dir, "acme.aktual-licence")
	w.trust = filepath.Join(w.data, "trust.json")
	for v, data := range map[string][]byte{"1.0.0": w.v1, "2.0.0": w.v2} {
		f := filepath.Join(w.dir, v+".bin")
		os.WriteFile(f, data, 0o644)
		w.run("aktuald", "--data", w.data, "release", "publish", "--product", "abacus", "--series", "classic", "--version", v, "--file", f)
	}
	w.run("aktuald", "--data", w.data, "admin", "hwkey", "issue", "--serial", "HK-7", "--customer", "Acme", "--out", w.key)
	if updates != "" {
		w.run("aktuald", "--data", w.data, "admin", "activate", "--customer", "Acme", "--series", "classic", "--hwkey", "HK-7", "--updates", updates)
	}
	var global []string
	if db != "" {
		global = []string{"--db", db}
	}
	logs := &syncBuffer{}
	c, err := startClusterArgs(w.dir, w.data, replicas, nil, global, logs)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	t.Cleanup(c.Stop)
	w.cluster, w.url = c, c.URL
	return w
}

func (w *classicWorld) target(name string) string {
	p := filepath.Join(w.dir, name, "abacus")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, w.v1, 0o755); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// updating is a running `aktual update --hwkey … --no-browser --json`.
type updating struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr bytes.Buffer
}

func (w *classicWorld) startUpdate(target string, extra ...string) *updating {
	w.t.Helper()
	args := append([]string{"update", "--server", w.url, "--trust", w.trust, "--product", "abacus", "--target", target,
		"--hwkey", w.key, "--no-browser", "--json", "--yes", "--state-dir", filepath.Join(w.dir, "state")}, extra...)
	u := &updating{cmd: exec.CommandContext(w.t.Context(), "aktual", args...)}
	u.cmd.Stderr = &u.stderr
	var err error
	if u.stdin, err = u.cmd.StdinPipe(); err != nil {
		w.t.Fatal(err)
	}
	stdout, err := u.cmd.StdoutPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	if err := u.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	u.lines = bufio.NewScanner(stdout)
	return u
}

// next returns the next JSON line of stdout with the given event.
func (u *updating) next(t *testing.T, event string) map[string]any {
	t.Helper()
	for u.lines.Scan() {
		var m map[string]any
		if err := json.Unmarshal(u.lines.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %q", u.lines.Text())
		}
		if m["event"] == event {
			return m
		}
	}
	t.Fatalf("no %q event on stdout; stderr:\n%s", event, u.stderr.String())
	return nil
}

func (u *updating) exit(t *testing.T) int {
	t.Helper()
	err := u.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errorsAs(err, &ee) {
		t.Fatal(err)
	}
	return u.cmd.ProcessState.ExitCode()
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*target = e
	return ok
}

var internetCodeRE = regexp.MustCompile(`id="internet-code"[^>]*>([0-9-]+)<`)

// page fetches the Internet-code page as a browser in lang would.
func page(t *testing.T, url, lang string) (status int, html string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", url, nil)
	req.Header.Set("Accept-Language", lang)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The classic flow through the real binaries: the installer prints the
// page's URL, the page shows the Internet code, the code typed back
// reserves, the update is applied and reported.
func TestClassicEndToEnd(t *testing.T) {
	classicEndToEnd(t, newClassicWorld(t, "2"))
}

// The same on PostgreSQL with two replicas: the page, the session and the
// reservation may each be served by another replica.
func TestClassicEndToEndReplicas(t *testing.T) {
	classicEndToEnd(t, newClassicWorldOn(t, "2", postgresDB(t), 2))
}

func classicEndToEnd(t *testing.T, w *classicWorld) {
	target := w.target("app")
	u := w.startUpdate(target)

	ev := u.next(t, "url")
	url, _ := ev["url"].(string)
	if !strings.HasPrefix(url, w.url+"/classic/s_") {
		t.Fatalf("url event %v", ev)
	}
	// The installer speaks English here, so the page it points to does
	// too; without ?lang= the page follows the browser's languages.
	base, query, _ := strings.Cut(url, "?")
	if query != "lang=en" {
		t.Errorf("url %q: want the installer's language as ?lang=en", url)
	}
	if _, html := page(t, url, "bg-BG,bg;q=0.9"); !strings.Contains(html, `lang="en"`) {
		t.Errorf("?lang=en page is not in English:\n%s", html)
	}
	status, html := page(t, base, "bg-BG,bg;q=0.9,en;q=0.5")
	m := internetCodeRE.FindStringSubmatch(html)
	if status != 200 || m == nil {
		t.Fatalf("page %d without #internet-code:\n%s", status, html)
	}
	for _, want := range []string{`lang="bg"`, "Интернет код", "abacus", "1.0.0", "2.0.0", `id="remaining">2<`} {
		if !strings.Contains(html, want) {
			t.Errorf("page does not show %q", want)
		}
	}
	io.WriteString(u.stdin, m[1]+"\n")

	res := u.next(t, "result")
	if code := u.exit(t); code != 0 || res["status"] != "updated" || res["remaining"] != float64(1) {
		t.Fatalf("exit %d, result %v; stderr:\n%s", code, res, u.stderr.String())
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, w.v2) {
		t.Fatalf("target holds %q", got)
	}
	show := w.run("aktuald", "--data", w.data, "admin", "show", "--hwkey", "HK-7", "--json")
	if !strings.Contains(show, `"purchased":2,"remaining":1,"held":0,"consumed":1`) {
		t.Fatalf("counts: %s", show)
	}
	// The page now says the code was used, in English by default.
	if _, html := page(t, url, ""); !strings.Contains(html, "This Internet code has already been used.") ||
		internetCodeRE.MatchString(html) {
		t.Fatalf("used page:\n%s", html)
	}
	if out := w.run("aktuald", "--data", w.data, "admin", "audit"); !strings.Contains(out, "Audit passed") {
		t.Fatal(out)
	}
}

// A wrong Internet code is refused by the server and nothing is used; a
// mistyped one (check digit) is refused before any request.
func TestClassicWrongCode(t *testing.T) {
	w := newClassicWorld(t, "1")
	for name, typed := range map[string]string{
		"mistyped": "123-456-780", // check digit wrong for 12345678
		"wrong":    "000-000-000", // well-formed, not this session's
	} {
		t.Run(name, func(t *testing.T) {
			target := w.target(name)
			u := w.startUpdate(target)
			u.next(t, "url")
			io.WriteString(u.stdin, typed+"\n")
			res := u.next(t, "result")
			if code := u.exit(t); code != 4 || res["exit_code"] != float64(4) {
				t.Fatalf("exit %d, result %v; stderr:\n%s", code, res, u.stderr.String())
			}
			if got, _ := os.ReadFile(target); !bytes.Equal(got, w.v1) {
				t.Fatal("target changed")
			}
		})
	}
	show := w.run("aktuald", "--data", w.data, "admin", "show", "--hwkey", "HK-7", "--json")
	if !strings.Contains(show, `"purchased":1,"remaining":1,"held":0,"consumed":0`) {
		t.Fatalf("counts: %s", show)
	}
}
