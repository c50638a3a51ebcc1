// Command kasa stands for a customer's Windows program in the end-to-end
// run under Wine (.ci/wine/e2e-windows): it runs from its .exe while that
// .exe is updated, and answers on standard input to show it still runs.
package main

import (
	"bufio"
	"fmt"
	"os"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("kasa", version)
		return
	}
	fmt.Println("kasa", version, "running")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "quit" {
			return
		}
		fmt.Println("kasa", version, "alive")
	}
}
