//go:build !windows && !darwin

package dirs

// userPrograms is $XDG_DATA_HOME, or ~/.local/share: the XDG base
// directories name no folder for programs, and data is what a user's
// program folder holds besides its executables.
func userPrograms() (string, error) { return xdg("XDG_DATA_HOME", ".local/share") }

// machinePrograms is /opt, the FHS place for add-on application packages.
func machinePrograms() string { return "/opt" }
