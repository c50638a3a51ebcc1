package release_test

import (
	"bytes"
	"debug/pe"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aktual/aktual/internal/testenv"
)

// testCert is what authenticode-test-cert writes: a throwaway CA and a
// code-signing certificate it issued.
type testCert struct {
	ca, p12, password, pem, key string
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "bash", "authenticode-test-cert", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("authenticode-test-cert: %v\n%s", err, out)
	}
	in := func(name string) string { return filepath.Join(dir, name) }
	return testCert{ca: in("ca.pem"), p12: in("signer.p12"), password: in("password"), pem: in("signer.pem"), key: in("signer.key")}
}

// needSigningTools stops the test without osslsigncode or openssl: it
// fails in CI, skips elsewhere, naming the package to install.
func needSigningTools(t *testing.T) {
	t.Helper()
	testenv.LookPath(t, "bash", "the release scripts are bash scripts (apt-get install bash)")
	testenv.LookPath(t, "osslsigncode", "Authenticode signing needs osslsigncode (apt-get install osslsigncode)")
	testenv.LookPath(t, "openssl", "the throwaway certificate is made with openssl (apt-get install openssl)")
}

// buildWindowsAktual builds a small aktual.exe, the file the release signs.
func buildWindowsAktual(t *testing.T) string {
	t.Helper()
	goTool := testenv.LookPath(t, "go", "install Go (go.dev/doc/install)")
	exe := filepath.Join(t.TempDir(), "aktual.exe")
	cmd := exec.CommandContext(t.Context(), goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", exe, "./cmd/aktual")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// signCopy copies exe into a folder of its own, dated like a goreleaser
// build (an old mtime the script must keep), and runs authenticode-sign on
// the copy with env on top of an environment stripped of the vendor's
// signing settings.
func signCopy(t *testing.T, exe string, env ...string) (file, out string, err error) {
	t.Helper()
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), filepath.Base(exe))
	if err := os.WriteFile(file, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(file, buildTime, buildTime); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "bash", "authenticode-sign", file, "windows/amd64")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AKTUAL_AUTHENTICODE_") && !strings.HasPrefix(kv, "AKTUAL_OSSLSIGNCODE=") && !strings.HasPrefix(kv, "SOURCE_DATE_EPOCH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	o, err := cmd.CombinedOutput()
	return file, string(o), err
}

// buildTime stands for goreleaser's mod_timestamp (the commit's time).
var buildTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// verify runs osslsigncode verify with ca as the only trusted root.
func verify(t *testing.T, file, ca string) error {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "osslsigncode", "verify", "-CAfile", ca, "-in", file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("osslsigncode verify %s: %w\n%s", file, err, out)
	}
	return nil
}

// checkSignedPE checks that file is still a PE that Windows can load and
// carries a signature: its certificate table (the security data directory,
// a file offset) is not empty and ends within the file.
func checkSignedPE(t *testing.T, file string) {
	t.Helper()
	f, err := pe.Open(file)
	if err != nil {
		t.Fatalf("the signed file is no PE any more: %v", err)
	}
	defer f.Close()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []pe.DataDirectory
	switch h := f.OptionalHeader.(type) {
	case *pe.OptionalHeader64:
		dirs = h.DataDirectory[:h.NumberOfRvaAndSizes]
	case *pe.OptionalHeader32:
		dirs = h.DataDirectory[:h.NumberOfRvaAndSizes]
	}
	if len(dirs) <= pe.IMAGE_DIRECTORY_ENTRY_SECURITY {
		t.Fatalf("%s: no security data directory", file)
	}
	sec := dirs[pe.IMAGE_DIRECTORY_ENTRY_SECURITY]
	if sec.Size == 0 || int64(sec.VirtualAddress)+int64(sec.Size) > fi.Size() {
		t.Fatalf("%s: certificate table at %d, %d bytes, in a file of %d: no signature", file, sec.VirtualAddress, sec.Size, fi.Size())
	}
}

// tamper changes one byte in the middle of the code of a copy of file.
func tamper(t *testing.T, file string) string {
	t.Helper()
	f, err := pe.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	f.Close()
	if text == nil {
		t.Fatalf("%s: no .text section", file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[text.Offset+text.Size/2] ^= 0x01
	bad := filepath.Join(t.TempDir(), "tampered.exe")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return bad
}

// checkAlone fails when the script left anything beside file (its work
// folder, a half-signed copy).
func checkAlone(t *testing.T, file string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(file) {
			t.Errorf("left beside the binary: %s", e.Name())
		}
	}
}

// TestAuthenticodeSign runs authenticode-sign as goreleaser's hook does,
// on a real aktual.exe with a throwaway certificate, and checks the result
// with osslsigncode verify.
func TestAuthenticodeSign(t *testing.T) {
	needSigningTools(t)
	exe := buildWindowsAktual(t)
	cert, other := newTestCert(t), newTestCert(t)
	t.Run("signs", func(t *testing.T) { testSigns(t, exe, cert) })
	t.Run("refuses", func(t *testing.T) { testRefuses(t, exe, cert, other) })
}

func testSigns(t *testing.T, exe string, cert testCert) {
	password, err := os.ReadFile(cert.password)
	if err != nil {
		t.Fatal(err)
	}
	trust := "AKTUAL_AUTHENTICODE_CAFILE=" + cert.ca

	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"PKCS#12 and a password file", []string{"AKTUAL_AUTHENTICODE_CERT=" + cert.p12, "AKTUAL_AUTHENTICODE_PASSWORD_FILE=" + cert.password, trust}},
		{"PKCS#12 and the password in the environment", []string{"AKTUAL_AUTHENTICODE_CERT=" + cert.p12, "AKTUAL_AUTHENTICODE_PASSWORD=" + strings.TrimSpace(string(password)), trust}},
		{"PEM certificate and key", []string{"AKTUAL_AUTHENTICODE_CERT=" + cert.pem, "AKTUAL_AUTHENTICODE_KEY=" + cert.key, trust}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file, out, err := signCopy(t, exe, tc.env...)
			if err != nil {
				t.Fatalf("authenticode-sign: %v\n%s", err, out)
			}
			if !strings.Contains(out, "aktual.exe (windows/amd64): Authenticode-signed (SHA-256) and verified") {
				t.Errorf("authenticode-sign does not say it signed:\n%s", out)
			}
			if err := verify(t, file, cert.ca); err != nil {
				t.Fatal(err)
			}
			checkSignedPE(t, file)
			checkAlone(t, file)
			fi, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o755 || !fi.ModTime().Equal(buildTime) {
				t.Errorf("signed file: mode %v, time %v; want the binary's 0755 and %v", fi.Mode().Perm(), fi.ModTime(), buildTime)
			}
			if err := verify(t, tamper(t, file), cert.ca); err == nil {
				t.Error("osslsigncode verify accepts the signed file with a byte of its code changed")
			}
		})
	}

	t.Run("no certificate: unsigned, and it says so", func(t *testing.T) {
		file, out, err := signCopy(t, exe)
		if err != nil {
			t.Fatalf("authenticode-sign without a certificate failed: %v\n%s", err, out)
		}
		if !strings.Contains(out, "aktual.exe (windows/amd64) is NOT Authenticode-signed: set AKTUAL_AUTHENTICODE_CERT") {
			t.Errorf("authenticode-sign does not say the binary is unsigned:\n%s", out)
		}
		checkUnchanged(t, exe, file)
	})

	t.Run("the commit's time makes the same signature", func(t *testing.T) {
		env := []string{"AKTUAL_AUTHENTICODE_CERT=" + cert.p12, "AKTUAL_AUTHENTICODE_PASSWORD_FILE=" + cert.password, trust, "SOURCE_DATE_EPOCH=1767323045"}
		var signed [2][]byte
		for i := range signed {
			file, out, err := signCopy(t, exe, env...)
			if err != nil {
				t.Fatalf("authenticode-sign: %v\n%s", err, out)
			}
			if signed[i], err = os.ReadFile(file); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(signed[0], signed[1]) {
			t.Error("two signatures of the same binary with the same SOURCE_DATE_EPOCH differ")
		}
	})
}

// testRefuses: a vendor who asked for signing gets a failed release and a
// remedy, never an unsigned or half-signed binary. other is a second
// throwaway CA and certificate.
func testRefuses(t *testing.T, exe string, cert, other testCert) {
	p12 := "AKTUAL_AUTHENTICODE_CERT=" + cert.p12
	passFile := "AKTUAL_AUTHENTICODE_PASSWORD_FILE=" + cert.password
	trust := "AKTUAL_AUTHENTICODE_CAFILE=" + cert.ca
	missing := filepath.Join(t.TempDir(), "missing")

	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"wrong password", []string{p12, "AKTUAL_AUTHENTICODE_PASSWORD=not-the-password", trust}, "Check the password"},
		{"no password", []string{p12, trust}, "Check the password"},
		{"password file missing", []string{p12, "AKTUAL_AUTHENTICODE_PASSWORD_FILE=" + missing, trust}, "AKTUAL_AUTHENTICODE_PASSWORD_FILE=" + missing + ": no such file"},
		{"two passwords", []string{p12, passFile, "AKTUAL_AUTHENTICODE_PASSWORD=x", trust}, "keep one"},
		{"certificate missing", []string{"AKTUAL_AUTHENTICODE_CERT=" + missing, passFile}, "AKTUAL_AUTHENTICODE_CERT=" + missing + ": no such file"},
		{"PEM certificate without its key", []string{"AKTUAL_AUTHENTICODE_CERT=" + cert.pem, trust}, "set AKTUAL_AUTHENTICODE_KEY"},
		{"key of another certificate", []string{"AKTUAL_AUTHENTICODE_CERT=" + cert.pem, "AKTUAL_AUTHENTICODE_KEY=" + other.key, trust}, "hold a code-signing certificate and its key"},
		{"a key but no certificate", []string{"AKTUAL_AUTHENTICODE_KEY=" + cert.key}, "AKTUAL_AUTHENTICODE_KEY is set but AKTUAL_AUTHENTICODE_CERT is empty"},
		// Nothing listens on port 1 of the loopback: the server does not answer.
		{"timestamp server down", []string{p12, passFile, trust, "AKTUAL_AUTHENTICODE_TIMESTAMP=http://127.0.0.1:1/"}, "the timestamp server answers"},
		{"signed by a CA the release does not trust", []string{p12, passFile, "AKTUAL_AUTHENTICODE_CAFILE=" + other.ca}, "does not verify"},
		{"osslsigncode missing", []string{p12, passFile, trust, "AKTUAL_OSSLSIGNCODE=" + missing}, "apt-get install osslsigncode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file, out, err := signCopy(t, exe, tc.env...)
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("authenticode-sign did not fail (%v):\n%s", err, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("authenticode-sign failed without saying %q:\n%s", tc.want, out)
			}
			checkUnchanged(t, exe, file)
		})
	}
}

// checkUnchanged fails unless file has exe's bytes, its mode and time, and
// nothing beside it.
func checkUnchanged(t *testing.T, exe, file string) {
	t.Helper()
	want, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the binary changed (%d bytes, was %d)", len(got), len(want))
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(buildTime) {
		t.Errorf("the binary's time changed to %v", fi.ModTime())
	}
	checkAlone(t, file)
}
