package dirs

import (
	"testing"

	"github.com/aktual/aktual/internal/i18n"
)

// With no home, each program's error names its own option, in the
// reader's language.
func TestNoHomeNamesTheProgramsFlag(t *testing.T) {
	for _, v := range []string{"HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "LocalAppData", "home"} {
		t.Setenv(v, "")
	}
	bg := i18n.NewPrinter(i18n.Bulgarian)
	for _, tc := range []struct {
		name      string
		find      func() (string, error)
		bul, engl string
	}{
		{"aktual", State,
			"папката на потребителя не може да бъде намерена (зададена ли е променливата " + homeVar + "?); посочете папка с --state-dir",
			"cannot find a per-user folder (is " + homeVar + " set?); name one with --state-dir"},
		{"aktuald", Data,
			"папката на потребителя не може да бъде намерена (зададена ли е променливата " + homeVar + "?); посочете папка с --data",
			"cannot find a per-user folder (is " + homeVar + " set?); name one with --data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.find()
			if err == nil {
				t.Skipf("found %s without a home", d)
			}
			if got := err.Error(); got != tc.engl {
				t.Errorf("English: %q, want %q", got, tc.engl)
			}
			if got := bg.Sprint(err); got != tc.bul {
				t.Errorf("Bulgarian: %q, want %q", got, tc.bul)
			}
		})
	}
}
