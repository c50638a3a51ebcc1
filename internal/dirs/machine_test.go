package dirs

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestInMachinePrograms(t *testing.T) {
	base := machinePrograms()
	for _, tc := range []struct {
		path string
		want bool
	}{
		{filepath.Join(base, "sklad"), true},
		{filepath.Join(base, "vendor", "sklad", "sklad.exe"), true},
		{base, false}, // the programs folder itself is no program
		{filepath.Join(base+"-other", "sklad"), false},
		{filepath.Join(filepath.Dir(base), "sklad"), false},
		{filepath.Join(base, "..", "sklad"), false},
		{strings.ToUpper(filepath.Join(base, "sklad")), caseless},
	} {
		if got := InMachinePrograms(tc.path); got != tc.want {
			t.Errorf("InMachinePrograms(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestMachineState(t *testing.T) {
	d := MachineState()
	if !filepath.IsAbs(d) || filepath.Base(d) != "aktual" {
		t.Errorf("MachineState() = %q, want an absolute folder named aktual", d)
	}
}
