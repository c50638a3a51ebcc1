package cli

import (
	"errors"
	"testing"

	"github.com/aktual/aktual/internal/i18n"
)

// Whatever cobra or pflag says, the person gets a message in either
// language, never an empty one.
func FuzzUsageProblem(f *testing.F) {
	for _, s := range []string{"unknown flag: --x", "unknown shorthand flag: 'z' in -zy", "flag needs an argument: --code",
		"flag needs an argument: 'c' in -c", `invalid argument "maybe" for "-q, --quiet" flag: strconv.ParseBool: parsing "maybe": invalid syntax`,
		"unknown command \"updat\" for \"aktual\"\n\nDid you mean this?\n\tupdate\n", "accepts 1 arg(s), received 2", "bad flag syntax: ---x", "x"} {
		f.Add(s)
	}
	bg := i18n.NewPrinter(i18n.Bulgarian)
	en := i18n.NewPrinter(i18n.English)
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		m := usageProblem(errors.New(s))
		if en.Sprint(m) == "" || bg.Sprint(m) == "" {
			t.Fatalf("usageProblem(%q) says nothing", s)
		}
	})
}
