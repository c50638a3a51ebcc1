package aktual_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	aktual "github.com/aktual/aktual/cmd/aktual/cli"
	aktuald "github.com/aktual/aktual/cmd/aktuald/cli"
	"github.com/aktual/aktual/internal/pgtest"
)

// TestMain lets the test binary be `aktual` and `aktuald` for the scripts:
// each `exec aktual …` runs the real Main in its own process.
// The PostgreSQL server the replica tests use, if pgtest started one, is
// stopped when the tests end.
func TestMain(m *testing.M) {
	testscript.Main(pgtestMain{m}, map[string]func(){
		"aktual":  func() { os.Exit(aktual.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		"aktuald": func() { os.Exit(aktuald.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar end to end.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup:               scriptSetup(nil),
		Cmds:                scriptCmds,
	})
}

// TestScriptsReplicas runs the scripts that start their server with
// startserver again, on PostgreSQL with two aktuald replicas behind a load
// balancer: a fresh database for each script, named by AKTUALD_DB to every
// aktuald the script runs.
func TestScriptsReplicas(t *testing.T) {
	postgresDB(t) // skips (or fails, where PostgreSQL is required) without one
	all, err := filepath.Glob(filepath.Join("testdata", "script", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range all {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "\nstartserver ") {
			files = append(files, f)
		}
	}
	if len(files) < 4 {
		t.Fatalf("only %d scripts use startserver: %v", len(files), files)
	}
	testscript.Run(t, testscript.Params{
		Files:               files,
		RequireExplicitExec: true,
		Setup: scriptSetup(func(env *testscript.Env) {
			env.Setenv("AKTUALD_DB", postgresDB(t))
			env.Setenv("AKTUAL_E2E_REPLICAS", "2")
		}),
		Cmds: scriptCmds,
	})
}

// scriptSetup gives each script its own per-user folders, then more.
func scriptSetup(more func(env *testscript.Env)) func(env *testscript.Env) error {
	return func(env *testscript.Env) error {
		env.Setenv("XDG_STATE_HOME", filepath.Join(env.WorkDir, ".state-home"))
		env.Setenv("XDG_DATA_HOME", filepath.Join(env.WorkDir, ".data-home"))
		if more != nil {
			more(env)
		}
		return nil
	}
}

// scriptCmds are the scripts' own commands.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"waitfile":    cmdWaitFile,
	"getjson":     cmdGetJSON,
	"putlines":    cmdPutLines,
	"corrupt":     cmdCorrupt,
	"gencert":     cmdGenCert,
	"startserver": cmdStartServer,
	"stopserver":  cmdStopServer,
}

type pgtestMain struct{ m *testing.M }

func (p pgtestMain) Run() int { return pgtest.Main(p.m) }

// waitfile FILE VAR: wait until FILE has content (a server's --ready-file),
// then set VAR to it.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfile FILE VAR")
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(ts.MkAbs(args[0])); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			ts.Setenv(args[1], strings.TrimSpace(string(b)))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("%s did not appear within 30s", args[0])
}

// getjson FIELD VAR: set VAR to FIELD of the last JSON line of stdout.
func cmdGetJSON(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: getjson FIELD VAR")
	}
	lines := strings.Split(strings.TrimSpace(ts.ReadFile("stdout")), "\n")
	var obj map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &obj); err != nil {
		ts.Fatalf("last stdout line is not JSON: %v", err)
	}
	// A dotted path reaches into objects and arrays: keys.2.id.
	var v any = obj
	for _, part := range strings.Split(args[0], ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				ts.Fatalf("no element %q in %s", part, lines[len(lines)-1])
			}
			v = c[i]
		default:
			v = nil
		}
		if v == nil {
			ts.Fatalf("no field %q in %s", args[0], lines[len(lines)-1])
		}
	}
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	ts.Setenv(args[1], s)
}

// putlines FILE LINES...: write each argument as a line of FILE (to pipe
// answers made of variables into a command's stdin).
func cmdPutLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: putlines FILE [LINES...]")
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Join(args[1:], "\n")+"\n"), 0o644))
}

// corrupt DATADIR SHA256: flip a byte of a published artifact on the
// server's disk.
func cmdCorrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: corrupt DATADIR SHA256")
	}
	path := filepath.Join(ts.MkAbs(args[0]), "blobs", args[1][:2], args[1])
	b, err := os.ReadFile(path)
	ts.Check(err)
	b[len(b)/2] ^= 0xff
	ts.Check(os.WriteFile(path, b, 0o644))
}

// gencert CERT KEY: write a self-signed certificate for 127.0.0.1, valid
// for an hour, and its private key, both PEM (for `aktuald serve --tls-cert`;
// a client trusts it through SSL_CERT_FILE=CERT).
func cmdGenCert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gencert CERT KEY")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "aktuald test"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ts.Check(err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
}
