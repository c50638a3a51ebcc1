package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// messageFuncs are the calls whose argument at the index is a message
// format, i.e. a catalog key. A call named like fmt's Sprintf or Fprintf
// on anything but fmt is an i18n Printer's.
var messageFuncs = map[string]int{
	"fail":            2, // updater.fail(kind, cause, format, args…)
	"M":               0, // i18n.M
	"Errorf":          0, // i18n.Errorf (not fmt.Errorf)
	"problem":         0, // api and hwkey errors that name a customer's mistake
	"refuse":          0, // api: why a trust file or a key set is refused
	"refuseSignature": 0, // api: why a signature check fails
	"Sprintf":         0, // (*i18n.Printer).Sprintf
	"Fprintf":         1, // (*i18n.Printer).Fprintf
	"phase":           1, // updater: u.phase(phase, format, args…)
	"notice":          0, // updater: u.notice(format, args…)
	"say":             0, // the demo's narration
	"note":            0, // cli printers' notes
	"invalid":         0, // server/admin: a staff request refused for its content
}

type use struct {
	key   string
	pos   string
	nargs int // arguments after the format; -1 when spread (args...)
}

// messages finds every message format in the module's non-test Go files.
func messages(t *testing.T) []use {
	t.Helper()
	root := filepath.Join("..", "..")
	var uses []use
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "tools", ".git", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			name, qual := callName(call)
			idx, ok := messageFuncs[name]
			if !ok || qual == "fmt" || qual == "errors" || qual == "slog" || qual == "log" || qual == "t" || qual == "ts" {
				return true
			}
			if name == "Errorf" && qual != "i18n" && f.Name.Name != "i18n" {
				return true
			}
			if name == "M" && qual != "i18n" && f.Name.Name != "i18n" {
				return true
			}
			if (name == "phase" || name == "notice") && qual != "u" {
				return true
			}
			if len(call.Args) <= idx {
				return true
			}
			pos := fset.Position(call.Pos()).String()
			if id, ok := call.Args[idx].(*ast.Ident); ok && id.Name == "format" {
				return true // a wrapper passing its caller's format on: the callers are checked
			}
			lit, ok := call.Args[idx].(*ast.BasicLit)
			if !ok && f.Name.Name == "i18n" {
				return true // the printer's own plumbing
			}
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: the message format of %s(…) is not a string literal, so it cannot be translated", pos, name)
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			nargs := len(call.Args) - idx - 1
			if call.Ellipsis.IsValid() {
				nargs = -1
			}
			uses = append(uses, use{s, pos, nargs})
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return uses
}

func callName(call *ast.CallExpr) (name, qual string) {
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		return fn.Name, ""
	case *ast.SelectorExpr:
		if id, ok := fn.X.(*ast.Ident); ok {
			return fn.Sel.Name, id.Name
		}
		return fn.Sel.Name, "?"
	}
	return "", ""
}

// needsTranslation: a format of verbs and punctuation only ("%s: %v") is
// the same in every language.
func needsTranslation(s string) bool {
	return strings.IndexFunc(verbRE.ReplaceAllString(s, ""), unicode.IsLetter) >= 0
}

var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// verbs lists a format's verbs, with explicit indexes resolved, sorted.
func verbs(s string) []string {
	var out []string
	next := 1
	for _, v := range verbRE.FindAllString(s, -1) {
		if v == "%%" {
			continue
		}
		n := next
		if m := regexp.MustCompile(`\[(\d+)\]`).FindStringSubmatch(v); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		next = n + 1
		out = append(out, strconv.Itoa(n)+v[len(v)-1:])
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func TestEveryMessageIsTranslated(t *testing.T) {
	uses := messages(t)
	catalogs, err := readCatalogs(locales)
	if err != nil {
		t.Fatal(err)
	}
	if len(uses) < 50 {
		t.Fatalf("found only %d messages; is the scan broken?", len(uses))
	}
	keys := map[string]int{} // key → arguments given
	for _, u := range uses {
		if !needsTranslation(u.key) {
			continue
		}
		if prev, seen := keys[u.key]; !seen || u.nargs < 0 || (prev >= 0 && u.nargs > prev) {
			keys[u.key] = u.nargs
		}
		for _, tag := range Supported[1:] {
			if _, ok := catalogs[tag][u.key]; !ok {
				t.Errorf("%s: no %s translation of %q", u.pos, tag, u.key)
				continue
			}
		}
	}
	for tag, entries := range catalogs {
		for k, e := range entries {
			nargs, used := keys[k]
			if !used {
				t.Errorf("%s catalog: %q is not used by any message (stale: remove it or fix the key)", tag, k)
			}
			checkVerbs(t, tag.String(), k, e, nargs)
		}
	}
	t.Logf("%d messages, %d distinct, translated into %d languages", len(uses), len(keys), len(Supported)-1)
}

// checkVerbs: a translation formats the same arguments with the same
// verbs. One that names its arguments (%[3]d) may use others of the
// call's nargs arguments, and leave some out (a language may need the
// number where English says "second").
func checkVerbs(t *testing.T, lang, key string, e Entry, nargs int) {
	t.Helper()
	want := verbs(key)
	texts := []string{e.Text}
	if e.Plural {
		texts = texts[:0]
		for _, f := range e.Forms {
			texts = append(texts, f)
		}
	}
	for _, s := range texts {
		got := verbs(s)
		if e.Plural && !strings.Contains(s, "%[") {
			// A form may leave out the counted number ("one update").
			if !subset(got, want) {
				t.Errorf("%s %q: form %q has verbs %v, the key %v", lang, key, s, got, want)
			}
			continue
		}
		if strings.Contains(s, "%[") {
			for _, v := range got {
				n, _ := strconv.Atoi(v[:len(v)-1])
				if nargs >= 0 && n > nargs {
					t.Errorf("%s %q: translation %q uses argument %d of %d", lang, key, s, n, nargs)
				}
			}
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s %q: translation %q has verbs %v, the key has %v", lang, key, s, got, want)
		}
	}
}

func subset(a, b []string) bool {
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	return true
}

// TestCatalogFilesAreValid reads the catalog files strictly: a malformed
// file or a duplicate key fails here rather than at start-up.
func TestCatalogFilesAreValid(t *testing.T) {
	cats, err := readCatalogs(os.DirFS("."))
	if err != nil {
		t.Fatal(err)
	}
	// Every language with a folder is spoken, and every spoken language
	// has a catalog that builds (they are built lazily, on first use).
	for tag := range cats {
		if !slices.Contains(Supported, tag) {
			t.Errorf("locales/%s: %s is not in Supported", tag, tag)
		}
	}
	for _, tag := range Supported {
		if built[tag] == nil {
			t.Errorf("%s is in Supported but has no catalog in built", tag)
			continue
		}
		if got := NewPrinter(tag).Lang(); got != tag {
			t.Errorf("NewPrinter(%s) speaks %s", tag, got)
		}
		built[tag]() // panics on an entry x/text refuses
	}
}
