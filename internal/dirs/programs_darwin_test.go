//go:build darwin

package dirs

import "testing"

func TestProgramsDarwin(t *testing.T) {
	t.Setenv("HOME", "/Users/ana")
	for allUsers, want := range map[bool]string{false: "/Users/ana/Applications", true: "/Applications"} {
		got, err := Programs(allUsers)
		if err != nil || got != want {
			t.Errorf("Programs(%v) = %q, %v; want %q", allUsers, got, err, want)
		}
	}
}
