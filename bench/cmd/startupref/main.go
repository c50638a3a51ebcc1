// Command startupref prints one line and exits: the floor under
// "aktual version"'s start-up time in bench/run (figure 4), what the Go
// runtime and the machine cost a program that does nothing.
package main

import "os"

func main() { os.Stdout.WriteString("startupref\n") }
