package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/aktual/aktual/internal/testenv"
	"github.com/aktual/aktual/server/admin"
)

// The tests here run aktual in a real Windows console (a pseudo console)
// and read its screen as the person at it would: Bulgarian readable
// whatever the console's code page, and Ctrl-C stopping it cleanly.

// consoleChildEnv carries, to the test binary started in the console,
// the code page to set and aktual's arguments (separated by "\x1f").
const (
	consoleChildEnv = "AKTUAL_TEST_CONSOLE_ARGS"
	consoleCPEnv    = "AKTUAL_TEST_CONSOLE_CP"
	consoleRawEnv   = "AKTUAL_TEST_CONSOLE_RAW"
)

// TestHelperConsole is not a test: it is aktual in the console that the
// tests below start (this test binary again, with consoleChildEnv set).
// It sets the console's code page, as chcp does, writes consoleRawEnv's
// text as raw UTF-8 bytes when set (what a program that ignores the
// console's encoding shows), then runs aktual with the console as its
// standard input, output and error, as cmd.exe gives them.
func TestHelperConsole(t *testing.T) {
	args, ok := os.LookupEnv(consoleChildEnv)
	if !ok {
		return
	}
	in, out, err := testenv.ConsoleStdio()
	if err != nil {
		fmt.Fprintln(os.Stderr, "console:", err)
		os.Exit(99)
	}
	if cp, err := strconv.Atoi(os.Getenv(consoleCPEnv)); err == nil {
		windows.SetConsoleOutputCP(uint32(cp))
		windows.SetConsoleCP(uint32(cp))
	}
	if raw := os.Getenv(consoleRawEnv); raw != "" {
		var n uint32
		windows.WriteFile(windows.Handle(out.Fd()), []byte(raw+"\r\n"), &n, nil)
	}
	os.Exit(Main(strings.Split(args, "\x1f"), in, out, out))
}

// startInConsole starts aktual with args in a new console of code page cp.
func startInConsole(t *testing.T, cp int, raw string, args ...string) *testenv.Console {
	t.Setenv(consoleChildEnv, strings.Join(args, "\x1f"))
	t.Setenv(consoleCPEnv, strconv.Itoa(cp))
	t.Setenv(consoleRawEnv, raw)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return testenv.StartConsole(t, syscall.EscapeArg(exe)+" -test.run=^TestHelperConsole$", 200)
}

// Bulgarian is readable in a console of any code page: the OEM code
// pages of a Bulgarian Windows (866) and of an English one (437, 850),
// the ANSI one (1251) and UTF-8 (65001). Go writes to a console with
// WriteConsoleW (UTF-16), so nothing depends on the code page; a program
// writing UTF-8 bytes shows garbage in all but 65001, which the test
// checks too, so that it would see such a regression.
func TestConsoleShowsBulgarianInAnyCodePage(t *testing.T) {
	const (
		help  = "aktual обновява софтуера на вашия доставчик през интернет"
		usage = "aktual: --target изисква стойност: --target СТОЙНОСТ"
		raw   = "Обновяване на програмата"
	)
	for _, cp := range []int{866, 1251, 437, 850, 65001} {
		t.Run(strconv.Itoa(cp), func(t *testing.T) {
			c := startInConsole(t, cp, raw, "--lang", "bg", "--help")
			if code := c.Wait(t, time.Minute); code != ExitOK {
				t.Fatalf("aktual --help: exit %d; the console shows:\n%s", code, c.Text())
			}
			screen := c.Text()
			if !strings.Contains(screen, help) {
				t.Errorf("code page %d: the help is not readable; the console shows:\n%s", cp, screen)
			}
			if rawShown := strings.Contains(screen, raw); rawShown != (cp == 65001) {
				t.Errorf("code page %d: raw UTF-8 bytes shown as written: %v; the check cannot tell a program that ignores the code page", cp, rawShown)
			}
			c = startInConsole(t, cp, "", "--lang", "bg", "update", "--target")
			if code := c.Wait(t, time.Minute); code != ExitUsage {
				t.Fatalf("aktual update --target: exit %d; the console shows:\n%s", code, c.Text())
			}
			if screen := c.Text(); !strings.Contains(screen, usage) {
				t.Errorf("code page %d: the error is not readable; the console shows:\n%s", cp, screen)
			}
		})
	}
}

// Ctrl-C in the console stops aktual as SIGINT does on Linux: while it
// waits for the Internet code it stops at once (exit 130), says so in
// Bulgarian, leaves the program as it was and uses no update.
func TestConsoleCtrlCStopsCleanly(t *testing.T) {
	srv := newClassicServer(t)
	state := t.TempDir()
	c := startInConsole(t, 866, "", "--lang", "bg", "update", "--server", srv.url, "--trust", srv.trust,
		"--product", "abacus", "--target", srv.target, "--hwkey", srv.licence, "--yes", "--no-browser",
		"--state-dir", state)
	c.WaitFor(t, "Въведете Интернет кода", time.Minute)
	c.CtrlC(t)
	if code := c.Wait(t, 30*time.Second); code != ExitInterrupted {
		t.Fatalf("exit %d after Ctrl-C, want %d; the console shows:\n%s", code, ExitInterrupted, c.Text())
	}
	if screen := c.Text(); !strings.Contains(screen, "aktual: прекъснато") || !strings.Contains(screen, "не е променен и не е използвано обновяване") {
		t.Errorf("the console does not say, in Bulgarian, that it stopped and used nothing:\n%s", screen)
	}
	if got, _ := os.ReadFile(srv.target); string(got) != "abacus 1.0.0" {
		t.Errorf("the program is %q after Ctrl-C, want it as it was", got)
	}
	st := srv.standing(t)
	if st.Remaining != 2 || st.Held != 0 || st.Consumed != 0 {
		t.Errorf("after Ctrl-C: %d remaining, %d held, %d used; want 2, 0, 0", st.Remaining, st.Held, st.Consumed)
	}
}

// standing is the hardware key's counts on the server.
func (f *classicFixture) standing(t *testing.T) admin.Standing {
	t.Helper()
	st, err := f.adm.ShowHWKey(context.Background(), "HK-9")
	if err != nil {
		t.Fatal(err)
	}
	return st
}
