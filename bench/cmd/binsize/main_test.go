package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestOwnerTakesTheLongestPackage(t *testing.T) {
	pkgs := []string{"net/http/httputil", "net/http", "net", "github.com/spf13/cobra"}
	for name, want := range map[string]string{
		"net/http.(*Server).Serve":                    "net/http",
		"net/http/httputil.NewSingleHostReverseProxy": "net/http/httputil",
		"type:*net.Dialer":                            "net",
		"go:itab.*github.com/spf13/cobra.x,error":     "github.com/spf13/cobra",
		"vendor/net.init":                             "net",
		"netx.f":                                      "",
		"go:func.*":                                   "",
	} {
		if got := owner(name, pkgs); got != want {
			t.Errorf("owner(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestTableOfARealBinary builds a small program with its symbols and
// checks that the table names its modules and adds up.
func TestTableOfARealBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := filepath.Join(t.TempDir(), "startupref")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, "../startupref").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var out, errs bytes.Buffer
	if code := run([]string{"../startupref", bin, bin}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	table := out.String()
	for _, want := range []string{"| std | ", "(.gopclntab: ", "**what the program loads**", "**the file as released**"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "| github.com/") {
		t.Errorf("a program of the standard library alone lists a module:\n%s", table)
	}
}
