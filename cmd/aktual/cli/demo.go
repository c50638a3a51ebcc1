package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

const (
	demoProduct  = "demo-app"
	demoCustomer = "Demo Customer"
	demoUpdates  = 3
	// demoSize and demoRate make the download last about two seconds on a
	// terminal, so the progress bar can be seen.
	demoSize = 3 << 20
	demoRate = 1536 << 10 // bytes per second
)

func newDemoCmd(ios *IOStreams) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: ios.P.Sprintf("Try the whole update flow against the reference server"),
		Long: ios.P.Sprintf(`demo starts the reference server, aktuald, in a temporary folder, publishes
two versions of a small demo program, activates a Pro-series update code,
installs the old version and runs the real update flow against it:
download with a progress bar, verification, the code checked online, the
update applied and reported, and the remaining updates counted down.

aktuald is looked for beside aktual, then on PATH (--aktuald names it). Run
from the aktual source tree (go run ./cmd/aktual demo), the demo builds it
there once.`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), ios, o)
		},
	}
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, ios.P.Sprintf("do not ask for confirmation (runs without a terminal)"))
	cmd.Flags().BoolVar(&o.keep, "keep", false, ios.P.Sprintf("keep the demo's temporary folder and print its path"))
	cmd.Flags().StringVar(&o.aktuald, "aktuald", "", ios.P.Sprintf("the reference server's program (default: beside aktual, on PATH, or built from the source here)"))
	return cmd
}

type demoOptions struct {
	yes, keep bool
	aktuald   string
}

func runDemo(ctx context.Context, ios *IOStreams, o *demoOptions) error {
	P := ios.P
	say := func(format string, args ...any) { fmt.Fprintln(ios.ErrOut, P.Sprintf(format, args...)) }
	tmp, err := os.MkdirTemp("", "aktual-demo-")
	if err != nil {
		return err
	}
	if o.keep {
		defer say("The demo's files are kept in %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	say("== aktual demo: a Pro-series update, end to end ==")
	bin, err := findAktuald(ctx, ios, o.aktuald, tmp)
	if err != nil {
		return err
	}
	srv := &demoServer{bin: bin, data: filepath.Join(tmp, "server")}
	goos, arch := runtime.GOOS, runtime.GOARCH
	code, err := srv.setUp(ctx, tmp, goos, arch)
	if err != nil {
		return err
	}
	url, stop, err := srv.start(ctx, filepath.Join(tmp, "ready"), ios.ErrTTY)
	if err != nil {
		return err
	}
	defer stop()
	trust, err := srv.trust()
	if err != nil {
		return err
	}

	say("1. Reference server running at %s.", url)
	say("2. Published %s 1.0.0 and 2.0.0 for %s/%s, signed with the vendor's release key.", demoProduct, goos, arch)
	say("3. Staff activated %d Pro-series updates for %q. Update code: %s", demoUpdates, demoCustomer, code)

	target := filepath.Join(tmp, "installed", demoProgramName)
	if err := writeDemoProgram(target, "1.0.0"); err != nil {
		return err
	}
	say("4. The customer has %s 1.0.0 at %s. Running it prints: %s", demoProduct, target, runDemoProgram(ctx, P, target))
	say("5. The customer runs: aktual update --server %s --product %s --target %s", url, demoProduct, target)
	say("   and gives the update code when asked (here: %s).", code)
	fmt.Fprintln(ios.ErrOut)

	p := newPrinter(ios, false)
	u := &updater.Updater{Server: url, Trust: trust, StateDir: filepath.Join(tmp, "state"), Events: p.event, Version: version(), Lang: P.Lang().String()}
	parsed, err := api.ParseCode(code)
	if err != nil {
		return fmt.Errorf("the reference server made an update code the installer cannot read (%q): %w", code, err)
	}
	res, err := doUpdate(ctx, ios, u, &updateOptions{product: demoProduct, target: target, yes: o.yes}, parsed)
	if err := report(ios, p, resultOutcome(P, res, demoProduct), err); err != nil {
		return err
	}
	fmt.Fprintln(ios.ErrOut)
	say("6. Running it now prints: %s", runDemoProgram(ctx, P, target))
	st, err := srv.show(ctx, code)
	if err != nil {
		return err
	}
	say("7. The server's count for the code: purchased %d, remaining %d, consumed %d.", st.Purchased, st.Remaining, st.Consumed)
	res, err = doUpdate(ctx, ios, u, &updateOptions{product: demoProduct, target: target, yes: true}, parsed)
	if err != nil {
		return report(ios, p, resultOutcome(P, res, demoProduct), err)
	}
	say("8. Updating again finds nothing to do: %s", resultOutcome(P, res, demoProduct).Message)
	say("== Done. In real use: aktuald serve, aktuald release publish, aktuald admin activate, aktual update (see README.md). ==")
	return nil
}

// writeDemoProgram writes the demo program of version at path.
func writeDemoProgram(path, version string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, demoProgram(version, demoSize), 0o755)
}

// runDemoProgram runs the installed demo program and returns what it prints.
func runDemoProgram(ctx context.Context, P *i18n.Printer, path string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path).Output()
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			return P.Sprintf("(cannot run it here: %v)", ee.Err)
		}
		return P.Sprintf("(it failed: %v)", err)
	}
	return strings.TrimSpace(string(out))
}

// throttleArtifacts slows artifact downloads to rate bytes per second, so
// the demo's progress bar is visible on a fast loopback.
func throttleArtifacts(next http.Handler, rate int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/artifacts/") {
			w = &slowWriter{ResponseWriter: w, rate: rate}
		}
		next.ServeHTTP(w, r)
	})
}

type slowWriter struct {
	http.ResponseWriter
	rate int
}

func (s *slowWriter) Write(b []byte) (int, error) {
	const chunk = 16 << 10
	written := 0
	for len(b) > 0 {
		n := min(chunk, len(b))
		m, err := s.ResponseWriter.Write(b[:n])
		written += m
		if err != nil {
			return written, err
		}
		if f, ok := s.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		time.Sleep(time.Duration(n) * time.Second / time.Duration(s.rate))
		b = b[n:]
	}
	return written, nil
}
