package cli

import (
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

// The state folder follows the program: the machine's (%ProgramData%)
// for a program installed for every user, the user's (%LocalAppData%)
// otherwise, --state-dir above both. (A program elsewhere that the
// machine's state records: updater's TestKeepsState.)
func TestStateDirFollowsTheProgram(t *testing.T) {
	root := t.TempDir()
	programData, programFiles, local := filepath.Join(root, "ProgramData"), filepath.Join(root, "Program Files"), filepath.Join(root, "Local")
	t.Setenv("ProgramData", programData)
	t.Setenv("ProgramFiles", programFiles)
	t.Setenv("LocalAppData", local)
	machine, user := filepath.Join(programData, "aktual"), filepath.Join(local, "aktual")
	for _, tc := range []struct {
		name, stateFlag, target string
		allUsers                bool
		want                    string
	}{
		{"per user", "", filepath.Join(local, "Programs", "sklad"), false, user},
		{"no target", "", "", false, user},
		{"all users", "", filepath.Join(root, "D", "sklad"), true, machine},
		{"in Program Files", "", filepath.Join(programFiles, "Vendor", "sklad"), false, machine},
		{"a file in Program Files", "", filepath.Join(programFiles, "sklad", "sklad.exe"), false, machine},
		{"--state-dir wins", filepath.Join(root, "mine"), filepath.Join(programFiles, "sklad"), true, filepath.Join(root, "mine")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := &cobra.Command{}
			cmd.Flags().String("state-dir", tc.stateFlag, "")
			got, err := stateDir(cmd, tc.target, tc.allUsers)
			if err != nil || got != tc.want {
				t.Errorf("stateDir(%q, allUsers %v) = %q, %v; want %q", tc.target, tc.allUsers, got, err, tc.want)
			}
		})
	}
}
