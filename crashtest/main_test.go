// Package crashtest proves the one promise that matters most: a paid update
// is consumed if and only if it was really applied, whatever process dies at
// whatever instant. It drives the real aktual and aktuald binaries, built
// once with the aktualfault tag so that either can be told (AKTUAL_FAULT) to
// die by SIGKILL at a named step, and checks the server's counts, its ledger
// audit and every target's bytes after each scenario.
package crashtest

import (
	// The binaries are built in a subprocess the test cache cannot see:
	// importing their sources makes a change to them re-run these tests.
	_ "github.com/aktual/aktual/cmd/aktual/cli"
	_ "github.com/aktual/aktual/cmd/aktuald/cli"

	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Paths of the binaries under test, set by TestMain.
var aktualBin, aktualdBin string

// buildTimeout bounds the one build of both binaries (a cold cache builds
// the pure-Go SQLite, which takes a while on a small machine).
const buildTimeout = 10 * time.Minute

func TestMain(m *testing.M) {
	os.Exit(mainWithBinaries(m))
}

func mainWithBinaries(m *testing.M) int {
	dir, err := os.MkdirTemp("", "aktual-crashtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, "crashtest: building the fault-injecting binaries failed:", err)
		return 1
	}
	aktualBin = filepath.Join(dir, "aktual"+exeSuffix)
	aktualdBin = filepath.Join(dir, "aktuald"+exeSuffix)
	return m.Run()
}

// buildBinaries builds aktual and aktuald with the aktualfault tag into dir,
// with the go on PATH, from the module root (this package's parent).
func buildBinaries(dir string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root := filepath.Dir(wd)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("no go.mod in %s (the tests must run from %s): %w", root, filepath.Join(root, "crashtest"), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	for _, name := range []string{"aktual", "aktuald"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "aktualfault",
			"-o", filepath.Join(dir, name+exeSuffix), "./cmd/"+name)
		cmd.Dir = root
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build -tags aktualfault ./cmd/%s in %s: %v\n%s", name, root, err, out.String())
		}
	}
	return nil
}
