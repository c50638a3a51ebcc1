// Command aktual installs paid updates of a vendor's software.
package main

import (
	"os"

	"github.com/aktual/aktual/cmd/aktual/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
