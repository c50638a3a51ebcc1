package api

import "testing"

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0.0", "1.0.0", 0},
		{"1.0.0", "2.0.0", -1},
		{"2.0.0", "1.9.9", 1},
		{"1.10.0", "1.9.0", 1}, // numeric, not lexical
		{"2.0.0-rc.1", "2.0.0", -1},
		{"2.0.0-rc.2", "2.0.0-rc.10", -1},
		{"1.0.0", "1.0.1", -1},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestValidVersion(t *testing.T) {
	for _, v := range []string{"1.0.0", "0.0.1", "10.20.30", "2.0.0-rc.1"} {
		if !ValidVersion(v) {
			t.Errorf("ValidVersion(%q) = false", v)
		}
	}
	for _, v := range []string{"", "1", "1.0", "v1.0.0", "01.0.0", "1.0.0+build", "1.0.0 ", "latest", "1.0.0/../x"} {
		if ValidVersion(v) {
			t.Errorf("ValidVersion(%q) = true", v)
		}
	}
}
