//go:build !windows && !darwin

package dirs

// homeVar is the environment variable the folders are found from (when
// XDG_STATE_HOME or XDG_DATA_HOME does not name them).
const homeVar = "HOME"

func stateBase() (string, error) { return xdg("XDG_STATE_HOME", ".local/state") }
func dataBase() (string, error)  { return xdg("XDG_DATA_HOME", ".local/share") }
