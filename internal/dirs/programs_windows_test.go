//go:build windows

package dirs

import "testing"

func TestProgramsWindows(t *testing.T) {
	for _, tc := range []struct {
		name, local, pf string
		allUsers        bool
		want            string
	}{
		{"per user", `C:\Users\ana\AppData\Local`, `D:\Programs`, false, `C:\Users\ana\AppData\Local\Programs`},
		{"all users", `C:\Users\ana\AppData\Local`, `D:\Programs`, true, `D:\Programs`},
		{"all users, no ProgramFiles", `C:\Users\ana\AppData\Local`, "", true, `C:\Program Files`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LocalAppData", tc.local)
			t.Setenv("ProgramFiles", tc.pf)
			got, err := Programs(tc.allUsers)
			if err != nil || got != tc.want {
				t.Errorf("Programs(%v) = %q, %v; want %q", tc.allUsers, got, err, tc.want)
			}
		})
	}
}
