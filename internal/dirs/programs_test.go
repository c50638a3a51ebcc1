package dirs

import (
	"path/filepath"
	"testing"

	"github.com/aktual/aktual/internal/i18n"
)

// With no home, the per-user programs folder cannot be found and the
// error says to name one with --dir; the machine's folder needs no home.
func TestProgramsWithoutHomeNamesDir(t *testing.T) {
	for _, v := range []string{"HOME", "XDG_DATA_HOME", "LocalAppData", "home"} {
		t.Setenv(v, "")
	}
	d, err := Programs(false)
	if err == nil {
		t.Skipf("found %s without a home", d)
	}
	engl := "cannot find a per-user folder (is " + homeVar + " set?); name one with --dir"
	bul := "папката на потребителя не може да бъде намерена (зададена ли е променливата " + homeVar + "?); посочете папка с --dir"
	if got := err.Error(); got != engl {
		t.Errorf("English: %q, want %q", got, engl)
	}
	if got := i18n.NewPrinter(i18n.Bulgarian).Sprint(err); got != bul {
		t.Errorf("Bulgarian: %q, want %q", got, bul)
	}
	m, err := Programs(true)
	if err != nil || !filepath.IsAbs(m) {
		t.Errorf("Programs(true) = %q, %v; want an absolute folder", m, err)
	}
}
