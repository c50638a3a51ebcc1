// Command aktuald is the reference update server: it keeps customers' paid
// updates, publishes signed releases and serves the update API.
package main

import (
	"os"

	"github.com/aktual/aktual/cmd/aktuald/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
