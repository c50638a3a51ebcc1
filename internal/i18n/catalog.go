package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

//go:embed locales
var locales embed.FS

// Entry is one translation in a catalog file: a string, or plural forms
// chosen by the argument numbered Arg (1-based, as in fmt's %[1]d).
type Entry struct {
	Text   string
	Arg    int
	Forms  map[string]string // "one", "other", or "=N"
	Plural bool
}

// UnmarshalJSON reads "text" or {"arg": 1, "one": "…", "other": "…"}.
func (e *Entry) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &e.Text)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	e.Plural, e.Forms = true, map[string]string{}
	for k, v := range raw {
		if k == "arg" {
			if err := json.Unmarshal(v, &e.Arg); err != nil {
				return fmt.Errorf("arg: %w", err)
			}
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		e.Forms[k] = s
	}
	if e.Arg < 1 || e.Forms["other"] == "" {
		return fmt.Errorf("a plural entry needs \"arg\" (1-based) and an \"other\" form")
	}
	return nil
}

// Catalogs are read and built on first use, one language at a time, so
// a command that prints nothing translated (aktual version) does not pay
// for parsing them at start-up. A broken catalog panics then; the catalog
// tests read every file, so it cannot ship.
var built = map[language.Tag]func() catalog.Catalog{
	English:   sync.OnceValue(func() catalog.Catalog { return mustBuild(English) }),
	Bulgarian: sync.OnceValue(func() catalog.Catalog { return mustBuild(English, Bulgarian) }),
}

// mustBuild builds a catalog of the given languages' translations,
// falling back to English (the keys) for what a language lacks.
func mustBuild(tags ...language.Tag) catalog.Catalog {
	b := catalog.NewBuilder(catalog.Fallback(English))
	for _, tag := range tags {
		entries, err := readCatalog(locales, tag)
		if err != nil {
			panic(err)
		}
		for key, e := range entries {
			if err := b.Set(tag, noWrap(key), e.message()); err != nil {
				panic(fmt.Sprintf("i18n: %s %q: %v", tag, key, err))
			}
		}
	}
	return b
}

func (e Entry) message() catalog.Message {
	if !e.Plural {
		return catalog.String(noWrap(e.Text))
	}
	var cases []any
	keys := make([]string, 0, len(e.Forms))
	for k := range e.Forms {
		keys = append(keys, k)
	}
	// Exact matches first, "other" last, as plural.Selectf wants.
	sort.Slice(keys, func(a, b int) bool { return formRank(keys[a]) < formRank(keys[b]) })
	for _, k := range keys {
		cases = append(cases, k, noWrap(e.Forms[k]))
	}
	return plural.Selectf(e.Arg, "%d", cases...)
}

func formRank(k string) string {
	switch {
	case k == "other":
		return "z"
	case len(k) > 0 && k[0] == '=':
		return "a" + k
	}
	return "m" + k
}

// readCatalogs reads every language folder under locales: the
// translations by language and English key.
func readCatalogs(fsys fs.FS) (map[language.Tag]map[string]Entry, error) {
	cats := map[language.Tag]map[string]Entry{}
	dirs, err := fs.ReadDir(fsys, "locales")
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		tag, err := language.Parse(d.Name())
		if err != nil || !d.IsDir() {
			return nil, fmt.Errorf("i18n: locales/%s is not a language folder", d.Name())
		}
		if cats[tag], err = readCatalog(fsys, tag); err != nil {
			return nil, err
		}
	}
	return cats, nil
}

// readCatalog reads locales/<tag>/*.json; a language with no folder has
// no entries.
func readCatalog(fsys fs.FS, tag language.Tag) (map[string]Entry, error) {
	cat := map[string]Entry{}
	files, err := fs.Glob(fsys, path.Join("locales", tag.String(), "*.json"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var entries map[string]Entry
		if err := json.Unmarshal(b, &entries); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
		for k, e := range entries {
			if _, dup := cat[k]; dup {
				return nil, fmt.Errorf("i18n: %s: %q is translated in another file too", f, k)
			}
			cat[k] = e
		}
	}
	return cat, nil
}
