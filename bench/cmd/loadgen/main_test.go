package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, []byte("\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no server":     {"--codes", empty, "--product", "p"},
		"no codes file": {"--server", "http://127.0.0.1:1", "--codes", filepath.Join(dir, "none"), "--product", "p"},
		"empty codes":   {"--server", "http://127.0.0.1:1", "--codes", empty, "--product", "p"},
		"unknown flag":  {"--clients-per-code", "3"},
		"bad duration":  {"--duration", "ten"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut strings.Builder
			if code := run(args, &out, &errOut); code != 2 || out.Len() != 0 {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out.String())
			}
		})
	}
}

func TestReadCodes(t *testing.T) {
	f := filepath.Join(t.TempDir(), "codes.txt")
	if err := os.WriteFile(f, []byte(" 11111-22222\n\n33333-44444 \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	codes, err := readCodes(f)
	if err != nil || strings.Join(codes, ",") != "11111-22222,33333-44444" {
		t.Errorf("readCodes = %q, %v", codes, err)
	}
}
