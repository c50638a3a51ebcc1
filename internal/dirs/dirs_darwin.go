//go:build darwin

package dirs

import "os"

// homeVar is the environment variable the folders are found from.
const homeVar = "HOME"

func stateBase() (string, error) { return os.UserConfigDir() } // ~/Library/Application Support
func dataBase() (string, error)  { return os.UserConfigDir() }
