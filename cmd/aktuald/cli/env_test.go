package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// run runs aktuald in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// clearEnv unsets every AKTUALD_ variable the test's caller may have set.
func clearEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, envPrefix) {
			t.Setenv(name, "") // restored after the test; empty is unset for aktuald
		}
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	fromEnv, fromFlag := filepath.Join(dir, "env"), filepath.Join(dir, "flag")

	t.Run("persistent flags", func(t *testing.T) {
		t.Setenv("AKTUALD_DATA", fromEnv)
		t.Setenv("AKTUALD_JSON", "true")
		code, out, errOut := run(t, "init")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("AKTUALD_JSON=true: output %q is not JSON: %v", out, err)
		}
		if got["data"] != fromEnv {
			t.Errorf("data folder %q, want AKTUALD_DATA's %q", got["data"], fromEnv)
		}
	})

	t.Run("the flag wins", func(t *testing.T) {
		t.Setenv("AKTUALD_DATA", filepath.Join(dir, "not-this-one"))
		code, out, errOut := run(t, "--data", fromFlag, "--json", "init")
		if code != exitOK || !strings.Contains(out, `"data":"`+fromFlag+`"`) {
			t.Fatalf("exit %d, output %q %s; want the data folder of --data", code, out, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "not-this-one")); err == nil {
			t.Error("AKTUALD_DATA's folder was created though --data was given")
		}
	})

	t.Run("a subcommand's flags", func(t *testing.T) {
		t.Setenv("AKTUALD_DATA", fromEnv)
		t.Setenv("AKTUALD_CUSTOMER", "Acme Ltd")
		t.Setenv("AKTUALD_SERIES", "pro")
		t.Setenv("AKTUALD_UPDATES", "2")
		code, out, errOut := run(t, "admin", "activate", "--updates", "3")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, "Update code for Acme Ltd") || !strings.Contains(out, "Remaining updates: 3") {
			t.Errorf("output %q: want a code for AKTUALD_CUSTOMER with the 3 updates of --updates", out)
		}
	})

	t.Run("empty is unset", func(t *testing.T) {
		t.Setenv("AKTUALD_DATA", fromEnv)
		t.Setenv("AKTUALD_JSON", "")
		if code, out, errOut := run(t, "init"); code != exitOK || strings.HasPrefix(out, "{") {
			t.Errorf("exit %d, output %q %s; want text", code, out, errOut)
		}
	})
}

func TestBadEnvironmentValue(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, value string
		args        []string
		want        string
	}{
		{"AKTUALD_JSON", "maybe", []string{"init"}, `AKTUALD_JSON="maybe": --json takes true or false`},
		{"AKTUALD_UPDATES", "many", []string{"admin", "activate", "--customer", "A", "--series", "pro"}, `AKTUALD_UPDATES="many": invalid argument "many" for "--updates" flag`},
		{"AKTUALD_SHUTDOWN_TIMEOUT", "soon", []string{"serve", "--addr", "127.0.0.1:0"}, `AKTUALD_SHUTDOWN_TIMEOUT="soon": invalid argument "soon" for "--shutdown-timeout" flag: time: invalid duration "soon"`},
		{"AKTUALD_LOG_FORMAT", "xml", []string{"serve", "--addr", "127.0.0.1:0"}, `AKTUALD_LOG_FORMAT="xml": invalid argument "xml" for "--log-format" flag: the log format is text or json`},
		{"AKTUALD_LOG_LEVEL", "loud", []string{"serve", "--addr", "127.0.0.1:0"}, `AKTUALD_LOG_LEVEL="loud": invalid argument "loud" for "--log-level" flag: the log level is debug, info, warn or error`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(dir, tc.name)
			t.Setenv(tc.name, tc.value)
			code, _, errOut := run(t, append([]string{"--data", data}, tc.args...)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, errOut, exitUsage, tc.want)
			}
			if _, err := os.Stat(data); err == nil {
				t.Error("the data folder was created: the value was checked too late")
			}
		})
	}
	t.Run("a bad flag still names the flag", func(t *testing.T) {
		code, _, errOut := run(t, "--data", filepath.Join(dir, "flag"), "serve", "--log-format", "xml")
		if code != exitUsage || !strings.Contains(errOut, `invalid argument "xml" for "--log-format" flag: the log format is text or json`) {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

// walk calls fn for every command of the tree under c.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// TestEveryFlagFromEnvironment: every flag of every command, its own and
// those it inherits, is reached by its AKTUALD_ variable.
func TestEveryFlagFromEnvironment(t *testing.T) {
	root := newRootCmd(&env{})
	walk(root, func(c *cobra.Command) {
		if err := c.ParseFlags(nil); err != nil { // merges the inherited flags
			t.Fatal(err)
		}
		env := map[string]string{}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			v := f.DefValue
			if v == "" {
				v = "x"
			}
			env[envName(f.Name)] = v
		})
		lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
		if err := flagsFromEnv(c.Flags(), lookup); err != nil {
			t.Errorf("%s: %v", c.CommandPath(), err)
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Changed && f.Name != "help" {
				t.Errorf("%s --%s: not set from %s", c.CommandPath(), f.Name, envName(f.Name))
			}
		})
	})
}

// TestNoCommandHidesTheEnvironment: cobra runs only the nearest
// PersistentPreRun, so a subcommand with its own would skip the root's,
// which reads the environment.
func TestNoCommandHidesTheEnvironment(t *testing.T) {
	root := newRootCmd(&env{})
	walk(root, func(c *cobra.Command) {
		if c != root && (c.PersistentPreRun != nil || c.PersistentPreRunE != nil) {
			t.Errorf("%s has its own PersistentPreRun: AKTUALD_ variables would not reach it", c.CommandPath())
		}
	})
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{
		"addr": "AKTUALD_ADDR", "db": "AKTUALD_DB", "data": "AKTUALD_DATA", "tls-cert": "AKTUALD_TLS_CERT",
		"metrics-addr": "AKTUALD_METRICS_ADDR", "shutdown-timeout": "AKTUALD_SHUTDOWN_TIMEOUT",
	} {
		if got := envName(flag); got != want {
			t.Errorf("envName(%q) = %q, want %q", flag, got, want)
		}
	}
}
