// Command benchtable reads the raw figures bench/run collects (a file of
// "key value…" lines, see package report) and prints the results table in
// Markdown on stdout.
//
//	benchtable [--only folder|pg|bigdb] RAWFILE
//
// --only folder prints figure 6's rows alone (bench/run --only folder),
// --only pg rows 3a–3c (bench/run --only pg), --only bigdb figures 7 and
// 8 (bench/run --only bigdb).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/aktual/aktual/bench/report"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	rows := report.Rows
	if len(args) == 3 && args[0] == "--only" {
		switch args[1] {
		case "folder":
			rows, args = report.FolderRows, args[2:]
		case "pg":
			rows, args = report.ReserveRows, args[2:]
		case "bigdb":
			rows, args = report.BigDBRows, args[2:]
		}
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: benchtable [--only folder|pg|bigdb] RAWFILE")
		return 2
	}
	f, err := os.Open(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "benchtable:", err)
		return 1
	}
	defer f.Close()
	res, err := report.Parse(f)
	if err != nil {
		fmt.Fprintf(stderr, "benchtable: %s: %v\n", args[0], err)
		return 1
	}
	if err := report.Markdown(stdout, rows(res)); err != nil {
		fmt.Fprintln(stderr, "benchtable:", err)
		return 1
	}
	return 0
}
