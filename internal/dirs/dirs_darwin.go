//go:build darwin

package dirs

import "os"

func stateBase() (string, error) { return os.UserConfigDir() } // ~/Library/Application Support
func dataBase() (string, error)  { return os.UserConfigDir() }
