//go:build !windows && !darwin

package dirs

// caseless: file names here match exactly.
const caseless = false

// machineStateBase is /var/lib, the FHS place for a program's state.
func machineStateBase() string { return "/var/lib" }
