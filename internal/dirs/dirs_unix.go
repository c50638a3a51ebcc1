//go:build !windows && !darwin

package dirs

func stateBase() (string, error) { return xdg("XDG_STATE_HOME", ".local/state") }
func dataBase() (string, error)  { return xdg("XDG_DATA_HOME", ".local/share") }
