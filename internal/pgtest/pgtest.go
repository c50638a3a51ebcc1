// Package pgtest gives each test a fresh, empty PostgreSQL database, so
// the PostgreSQL store is tested against a real server (STYLE.md: no mock
// of something we can run).
//
// Where the server comes from, in order:
//
//   - AKTUAL_TEST_POSTGRES, a postgres:// URL of a server where the tests
//     may CREATE DATABASE (CI sets it, see .ci/postgres.sh);
//   - otherwise PostgreSQL's server binaries (initdb on PATH or under
//     /usr/lib/postgresql/*/bin): a throwaway cluster, started once per test
//     binary in a temporary directory on a free loopback port and stopped
//     by Main. initdb refuses to run as root, so as root the cluster runs as
//     the postgres system user;
//   - otherwise the test is skipped with a message saying how to get
//     PostgreSQL, or fails when AKTUAL_REQUIRE_POSTGRES=1 (CI sets it, so
//     a missing server cannot pass for a green run).
//
// A test binary that uses URL must run its tests through Main:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aktual/aktual/internal/testenv"
)

// Environment variables read by this package.
const (
	// EnvURL names a server to create test databases on.
	EnvURL = "AKTUAL_TEST_POSTGRES"
	// EnvRequire set to 1 turns "no PostgreSQL here" from a skip into a
	// failure.
	EnvRequire = "AKTUAL_REQUIRE_POSTGRES"
)

// howToGet is what a skipped test says.
const howToGet = `no PostgreSQL for this test: set ` + EnvURL + `=postgres://USER:PASSWORD@HOST:PORT/postgres ` +
	`(a role that may CREATE DATABASE), or install PostgreSQL's server binaries ` +
	`(Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) so that initdb is on PATH ` +
	`or under /usr/lib/postgresql/*/bin, and the tests start a throwaway server of their own`

var (
	mainRunning bool

	clusterOnce sync.Once
	local       *cluster // started by this binary, nil when none
	localErr    error
)

// Main runs the tests and then stops the cluster URL started, if any.
// Use it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	mainRunning = true
	code := m.Run()
	if local != nil {
		if err := local.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	return code
}

// URL returns the URL of a new, empty database, dropped when t ends (close
// what uses it with t.Cleanup registered after URL, so it closes first).
// Without a server, t is skipped (or fails, see EnvRequire).
func URL(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	var b [8]byte
	rand.Read(b[:])
	name := "aktual_test_" + hex.EncodeToString(b[:])
	if err := adminExec(admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: creating a database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE (PostgreSQL 13+) ends connections a test left open.
		if err := adminExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			if err := adminExec(admin, "DROP DATABASE IF EXISTS "+name); err != nil {
				t.Errorf("pgtest: dropping database %s: %v", name, err)
			}
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL", EnvURL)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("dbname")
	u.RawQuery = q.Encode()
	return u.String()
}

// AdminURL returns the URL of the server's maintenance database, for tests
// that need the server rather than a database of their own. It skips or
// fails t as URL does.
func AdminURL(t testing.TB) string {
	t.Helper()
	// Checked even when no server is started, so that a package missing
	// it fails in CI too, not only on machines without EnvURL.
	if !mainRunning {
		t.Fatal("pgtest: the test binary must run its tests through pgtest.Main (func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }) so that a server it starts is stopped")
	}
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	clusterOnce.Do(func() { local, localErr = startCluster() })
	switch {
	case errors.Is(localErr, errNoBinaries):
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=1 and %s", EnvRequire, howToGet)
		}
		testenv.Missing(t, howToGet)
	case localErr != nil:
		t.Fatalf("pgtest: starting a throwaway PostgreSQL: %v\n(or set %s to a server of yours)", localErr, EnvURL)
	}
	return local.url
}

// adminExec runs one statement (CREATE or DROP DATABASE cannot run in a
// transaction) on a connection of its own.
func adminExec(admin, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

var errNoBinaries = errors.New("no PostgreSQL server binaries found")

// findBinaries returns the directory with initdb and pg_ctl: PATH first,
// then the newest of Debian's /usr/lib/postgresql/VERSION/bin.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// Resolved: a symlink on PATH may stand alone, away from pg_ctl.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	version := func(p string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return n
	}
	slices.SortFunc(found, func(a, b string) int { return version(b) - version(a) })
	for _, p := range found {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "pg_ctl")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	return "", errNoBinaries
}

// cluster is a throwaway PostgreSQL server in dir.
type cluster struct {
	bin  string // directory of initdb, pg_ctl
	dir  string // everything: data, socket, log
	as   string // system user the server runs as, "" for ourselves
	url  string
	port int
}

// tempPrefix names the clusters' directories, so that those of test
// binaries that died before Main stopped them can be found (see reap).
const tempPrefix = "aktual-pgtest-"

func startCluster() (*cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	reap()
	c := &cluster{bin: bin}
	var owner *user.User
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		if owner, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("running as root, the server must run as an unprivileged user, and there is no \"postgres\" user: %w", err)
		}
		c.as = owner.Username
	}
	if c.dir, err = os.MkdirTemp("", tempPrefix); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(c.dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(c.dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	password := randomHex(16)
	pwfile := filepath.Join(c.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if owner != nil {
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		for _, p := range []string{c.dir, pwfile} {
			if err := os.Chown(p, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	if out, err := c.command("initdb", "-D", c.data(), "-U", "aktual", "--pwfile", pwfile,
		"--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	os.Remove(pwfile)
	// A free port can be taken between our look and the server's bind:
	// try a few.
	for try := 0; ; try++ {
		if c.port, err = freePort(); err != nil {
			return nil, err
		}
		err = c.start()
		if err == nil || try == 2 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	c.url = fmt.Sprintf("postgres://aktual:%s@127.0.0.1:%d/postgres?sslmode=disable", password, c.port)
	ok = true
	return c, nil
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

// start runs the server on loopback only, its socket in c.dir, tuned for
// tests: durability off (a crash loses a throwaway cluster anyway).
func (c *cluster) start() error {
	opts := strings.Join([]string{
		"-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1",
		"-k", shellQuote(c.dir),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300",
	}, " ")
	// pg_ctl's output goes to a file, not a pipe: the server it leaves
	// running would otherwise hold the pipe open.
	out, err := os.CreateTemp("", tempPrefix+"pg_ctl-")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := c.command("pg_ctl", "start", "-D", c.data(), "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "-o", opts)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		msg, _ := os.ReadFile(out.Name())
		logTail, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\nserver log:\n%s", err, msg, logTail)
	}
	return nil
}

// stop stops the server at once and removes its directory.
func (c *cluster) stop() error {
	out, err := c.command("pg_ctl", "stop", "-D", c.data(), "-m", "immediate", "-w").CombinedOutput()
	os.RemoveAll(c.dir)
	if err != nil {
		return fmt.Errorf("stopping the throwaway PostgreSQL in %s: %v\n%s", c.dir, err, out)
	}
	return nil
}

// command runs one of the server's programs as c.as.
func (c *cluster) command(program string, args ...string) *exec.Cmd {
	return asUser(c.as, filepath.Join(c.bin, program), args...)
}

// asUser runs name as the system user as ("" for ourselves): with runuser
// where there is one (util-linux), else with su.
func asUser(as, name string, args ...string) *exec.Cmd {
	if as == "" {
		return exec.Command(name, args...)
	}
	if p, err := exec.LookPath("runuser"); err == nil {
		return exec.Command(p, append([]string{"-u", as, "--", name}, args...)...)
	}
	quoted := []string{shellQuote(name)}
	for _, a := range args {
		quoted = append(quoted, shellQuote(a))
	}
	return exec.Command("su", as, "-s", "/bin/sh", "-c", strings.Join(quoted, " "))
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// reap stops the clusters of test binaries that died before Main could
// (a test timeout panics past it), found by the owner pid in their
// directory, so killed runs do not leave servers behind.
func reap() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || alive(pid) {
			continue
		}
		c := &cluster{dir: dir}
		if bin, err := findBinaries(); err == nil {
			c.bin = bin
		}
		if fi, err := os.Stat(dir); err == nil {
			c.as = ownerName(fi)
		}
		if _, err := os.Stat(filepath.Join(c.data(), "postmaster.pid")); err == nil {
			_ = c.command("pg_ctl", "stop", "-D", c.data(), "-m", "immediate", "-w").Run()
		}
		os.RemoveAll(dir)
	}
}
