package updater

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktual/aktual/internal/i18n"
)

// A damaged journal or install record is a problem that names the file,
// says what to do, and reads in the reader's language.
func TestStatusProblemsAreLocalized(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"journal/0123456789abcdef0123.json": "{bad",
		"journal/fedcba9876543210fedc.json": `{"version":9}`,
		"installs/bad.json":                 "xx",
		"installs/ignored.txt":              "not a record",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, err := (&Updater{StateDir: dir}).ReadStatus()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Pending) != 0 || len(st.Installs) != 0 {
		t.Errorf("read %d journals and %d records from damaged files", len(st.Pending), len(st.Installs))
	}
	bg, en := i18n.NewPrinter(i18n.Bulgarian), i18n.NewPrinter(i18n.English)
	var bgText, enText []string
	for _, p := range st.Problems {
		bgText = append(bgText, bg.Sprint(p))
		enText = append(enText, en.Sprint(p))
	}
	all := func(texts []string) string { return strings.Join(texts, "\n") }
	for _, want := range []string{
		"дневникът на обновяването " + filepath.Join(dir, "journal", "0123456789abcdef0123.json") + " е повреден",
		"дневникът fedcba9876543210fedc.json е версия 9",
		"записът за инсталация " + filepath.Join(dir, "installs", "bad.json") + " е повреден",
		"изтрийте го",
	} {
		if !strings.Contains(all(bgText), want) {
			t.Errorf("the problems in Bulgarian do not say %q:\n%s", want, all(bgText))
		}
	}
	for _, english := range []string{"is damaged", "the update journal", "the install record", "delete it", "has version"} {
		if strings.Contains(all(bgText), english) {
			t.Errorf("the problems in Bulgarian say %q:\n%s", english, all(bgText))
		}
	}
	if len(st.Problems) != 3 || !strings.Contains(all(enText), "the install record "+filepath.Join(dir, "installs", "bad.json")+" is damaged") {
		t.Errorf("want 3 problems, the record's among them:\n%s", all(enText))
	}
}

// A file that cannot be read at all is named in its problem; a bare
// system error ("permission denied") would not name it.
func TestStatusUnreadableFileIsNamed(t *testing.T) {
	dir := t.TempDir()
	// A folder where a record should be: reading it fails.
	if err := os.MkdirAll(filepath.Join(dir, "installs", "odd.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := (&Updater{StateDir: dir}).ReadStatus()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Problems) != 1 {
		t.Fatalf("problems: %v", st.Problems)
	}
	got := i18n.NewPrinter(i18n.Bulgarian).Sprint(st.Problems[0])
	if want := filepath.Join(dir, "installs", "odd.json") + " не може да бъде прочетен"; !strings.HasPrefix(got, want) {
		t.Errorf("problem %q, want it to begin %q", got, want)
	}
}
