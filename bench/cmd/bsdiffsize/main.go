//go:build bench_bsdiff

// Command bsdiffsize prints the size in bytes of the bsdiff patch (the
// format minio/selfupdate's patcher applies) from OLD to NEW: bench/run's
// fallback for figure 5 when aktuald does not report the patches it makes.
// It needs github.com/kr/binarydist in go.mod, which the module has only
// with delta updates, hence the build tag: bench/run runs it with
// "go run -tags bench_bsdiff" after checking go.mod, and without the tag
// "go vet ./..." and "go build ./..." leave it out.
//
//	bsdiffsize OLD NEW
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/kr/binarydist"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bsdiffsize OLD NEW")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bsdiffsize:", err)
		os.Exit(1)
	}
}

func run(oldPath, newPath string, stdout io.Writer) error {
	oldF, err := os.Open(oldPath)
	if err != nil {
		return err
	}
	defer oldF.Close()
	newF, err := os.Open(newPath)
	if err != nil {
		return err
	}
	defer newF.Close()
	var n countWriter
	if err := binarydist.Diff(oldF, newF, &n); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, int64(n))
	return err
}

// countWriter counts the bytes written to it.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
