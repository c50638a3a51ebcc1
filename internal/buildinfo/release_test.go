package buildinfo_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aktual/aktual/internal/buildinfo"
	"github.com/aktual/aktual/internal/testenv"
)

const module = "github.com/aktual/aktual/"

// xFlag matches one "-X path.Name=value" of .goreleaser.yaml's ldflags.
var xFlag = regexp.MustCompile(`-X (` + regexp.QuoteMeta(module) + `[^\s=]+)\.(\w+)=`)

// releaseStamps reads .goreleaser.yaml's -X flags, by build id: the
// package path and variable name of each (the value is a template).
func releaseStamps(t *testing.T) map[string][][2]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	builds := map[string][][2]string{}
	id := ""
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "-" && f[1] == "id:" {
			id = f[2]
		}
		for _, m := range xFlag.FindAllStringSubmatch(line, -1) {
			builds[id] = append(builds[id], [2]string{m[1], m[2]})
		}
	}
	return builds
}

// TestReleaseStampsExist: the linker silently ignores -X for a variable
// that does not exist, so a renamed variable would leave every release
// unstamped. Each -X of .goreleaser.yaml must name a package-level string
// variable.
func TestReleaseStampsExist(t *testing.T) {
	builds := releaseStamps(t)
	for _, id := range []string{"aktual", "aktuald"} {
		names := map[string]bool{}
		for _, s := range builds[id] {
			names[s[1]] = true
		}
		for _, want := range []string{"Version", "Commit", "Date"} {
			if !names[want] {
				t.Errorf(".goreleaser.yaml: build %q does not stamp %s with -X", id, want)
			}
		}
	}
	for id, stamps := range builds {
		for _, s := range stamps {
			if !hasStringVar(t, filepath.Join("..", "..", strings.TrimPrefix(s[0], module)), s[1]) {
				t.Errorf(".goreleaser.yaml: build %q: -X %s.%s names no string variable", id, s[0], s[1])
			}
		}
	}
}

func hasStringVar(t *testing.T, dir, name string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no Go files (%v)", dir, err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != name {
						continue
					}
					if id, ok := vs.Type.(*ast.Ident); ok {
						return id.Name == "string"
					}
					if i < len(vs.Values) {
						lit, ok := vs.Values[i].(*ast.BasicLit)
						return ok && lit.Kind == token.STRING
					}
				}
			}
		}
	}
	return false
}

// TestStampedBinaries builds aktual and aktuald with the -X flags of
// .goreleaser.yaml, given test values, and checks that `version` reports
// them.
func TestStampedBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both programs")
	}
	testenv.SkipUnderWine(t, "it builds both programs with the go command, which the Wine test run does not carry (the Linux run builds and checks them)")
	goTool := testenv.LookPath(t, "go", "install Go (go.dev/doc/install)")
	want := buildinfo.Info{Version: "9.8.7-test", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-01-02T03:04:05Z"}
	values := map[string]string{"Version": want.Version, "Commit": want.Commit, "Date": want.Date}
	builds := releaseStamps(t)
	for _, id := range []string{"aktual", "aktuald"} {
		t.Run(id, func(t *testing.T) {
			var ldflags []string
			for _, s := range builds[id] {
				if v, ok := values[s[1]]; ok {
					ldflags = append(ldflags, "-X", s[0]+"."+s[1]+"="+v)
				}
			}
			bin := filepath.Join(t.TempDir(), id)
			build := exec.CommandContext(t.Context(), goTool, "build", "-ldflags", strings.Join(ldflags, " "), "-o", bin, "./cmd/"+id)
			build.Dir = filepath.Join("..", "..")
			build.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}

			args := []string{"version", "--json"}
			if id == "aktuald" {
				args = []string{"--json", "version"}
			}
			out := run(t, bin, args...)
			var got buildinfo.Info
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s %s: %v\n%s", id, strings.Join(args, " "), err, out)
			}
			if got.Version != want.Version || got.Commit != want.Commit || got.Date != want.Date || got.Go == "" || got.OS == "" || got.Arch == "" {
				t.Errorf("%s version --json = %+v, want the stamped %+v", id, got, want)
			}

			text := string(run(t, bin, "version"))
			first, rest, _ := strings.Cut(text, "\n")
			if first != id+" "+want.Version {
				t.Errorf("first line of %s version = %q, want %q", id, first, id+" "+want.Version)
			}
			for _, s := range []string{want.Commit, want.Date} {
				if !strings.Contains(rest, s) {
					t.Errorf("%s version does not show %s:\n%s", id, s, text)
				}
			}
		})
	}
}

func run(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=", "LC_MESSAGES=", "AKTUAL_LANG=", "HOME="+home,
		"XDG_STATE_HOME="+filepath.Join(home, "state"), "XDG_DATA_HOME="+filepath.Join(home, "data"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	return out
}
