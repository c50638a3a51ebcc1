//go:build !windows && !darwin

package dirs

import "testing"

func TestProgramsUnix(t *testing.T) {
	for _, tc := range []struct {
		name, home, xdg string
		allUsers        bool
		want            string
	}{
		{"xdg", "/home/ana", "/data/ana", false, "/data/ana"},
		{"home", "/home/ana", "", false, "/home/ana/.local/share"},
		{"relative xdg is ignored", "/home/ana", "rel", false, "/home/ana/.local/share"},
		{"all users", "/home/ana", "/data/ana", true, "/opt"},
		{"all users without home", "", "", true, "/opt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", tc.home)
			t.Setenv("XDG_DATA_HOME", tc.xdg)
			got, err := Programs(tc.allUsers)
			if err != nil || got != tc.want {
				t.Errorf("Programs(%v) = %q, %v; want %q", tc.allUsers, got, err, tc.want)
			}
		})
	}
}
