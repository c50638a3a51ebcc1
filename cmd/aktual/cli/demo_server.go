package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
)

// The demo runs the reference server as a program of its own, through the
// same commands staff type: aktual carries no server code (its customers'
// copy links neither database nor metrics), and the demo shows the real
// aktuald commands at work.

// demoServerStart bounds how long the demo waits for aktuald to listen.
const demoServerStart = 30 * time.Second

// exeExt is ".exe" on Windows.
func exeExt() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// findAktuald returns the aktuald program the demo runs: the one given,
// else the one beside aktual, else one on PATH, else one built from the
// aktual source tree the demo is run in (go run ./cmd/aktual demo).
func findAktuald(ctx context.Context, ios *IOStreams, given, tmp string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", usageError(i18n.M("--aktuald %s: %v; give the path of the aktuald program", given, err))
		}
		return given, nil
	}
	name := "aktuald" + exeExt()
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), name); isFile(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("aktuald"); err == nil {
		return p, nil
	}
	if root := aktualSource(ctx); root != "" {
		fmt.Fprintln(ios.ErrOut, ios.P.Sprintf("Building the reference server (aktuald) from the source in %s; the first build takes a minute or two.", root))
		out := filepath.Join(tmp, "bin", name)
		build := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/aktuald")
		build.Dir = root
		build.Stderr = ios.ErrOut
		if err := build.Run(); err != nil {
			return "", i18n.Errorf("building aktuald: %w", err)
		}
		return out, nil
	}
	return "", usageError(i18n.M("the demo runs the reference server, aktuald, and found none beside aktual or on PATH; install it there, pass --aktuald PATH, or run the demo from the aktual source tree (go run ./cmd/aktual demo)"))
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// aktualSource is the root of the aktual module the working folder is in,
// when there is a go command to build it with; "" otherwise.
func aktualSource(ctx context.Context) string {
	if _, err := exec.LookPath("go"); err != nil {
		return ""
	}
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Path}} {{.Dir}}").Output()
	if err != nil {
		return ""
	}
	path, dir, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	if !ok || path != "github.com/aktual/aktual" || !isFile(filepath.Join(dir, "cmd", "aktuald", "main.go")) {
		return ""
	}
	return dir
}

// demoServer is an aktuald data folder the demo drives by its commands.
type demoServer struct {
	bin, data string
}

// run runs one aktuald command with --json on the demo's data folder and
// decodes what it prints into v (nil: ignored).
func (s *demoServer) run(ctx context.Context, v any, args ...string) error {
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"--data", s.data, "--json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return i18n.Errorf("aktuald %s: %w: %s", strings.Join(args[:min(2, len(args))], " "), err, strings.TrimSpace(stderr.String()))
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		return i18n.Errorf("aktuald %s printed what the demo cannot read (%w): %s", strings.Join(args[:min(2, len(args))], " "), err, stdout.String())
	}
	return nil
}

// setUp publishes versions 1.0.0 and 2.0.0 of the demo program for
// goos/arch and activates the update code, returning it.
func (s *demoServer) setUp(ctx context.Context, tmp, goos, arch string) (string, error) {
	for _, v := range []string{"1.0.0", "2.0.0"} {
		file := filepath.Join(tmp, "release", v, demoProgramName)
		if err := writeDemoProgram(file, v); err != nil {
			return "", err
		}
		args := []string{"release", "publish", "--product", demoProduct, "--series", api.SeriesPro, "--version", v,
			"--os", goos, "--arch", arch, "--file", file, "--health-check", "auto"}
		if v == "2.0.0" {
			notes := filepath.Join(tmp, "release", v, "notes")
			if err := writeDemoNotes(notes); err != nil {
				return "", err
			}
			args = append(args, "--notes", notes)
		}
		if err := s.run(ctx, nil, args...); err != nil {
			return "", err
		}
	}
	var act struct {
		Code string `json:"code"`
	}
	if err := s.run(ctx, &act, "admin", "activate", "--customer", demoCustomer, "--series", api.SeriesPro,
		"--updates", strconv.Itoa(demoUpdates)); err != nil {
		return "", err
	}
	return act.Code, nil
}

// writeDemoNotes writes the demo release's notes, as a vendor does: a
// folder with one Markdown file per language.
func writeDemoNotes(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	notes := map[string]string{
		"bg.md": "# Какво ново\n\n- Отчетите се отварят по-бързо\n- Поправен е печатът на фактури\n",
		"en.md": "# What is new\n\n- Reports open faster\n- Invoice printing is fixed\n",
	}
	for name, text := range notes {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// demoCounts is what aktuald admin show --json says of a code.
type demoCounts struct {
	Purchased int64 `json:"purchased"`
	Remaining int64 `json:"remaining"`
	Consumed  int64 `json:"consumed"`
}

func (s *demoServer) show(ctx context.Context, code string) (demoCounts, error) {
	var c demoCounts
	err := s.run(ctx, &c, "admin", "show", "--code", code)
	return c, err
}

// trust reads the trust.json the server made: what a customer is given.
func (s *demoServer) trust() (*api.Trust, error) {
	data, err := os.ReadFile(filepath.Join(s.data, "trust.json"))
	if err != nil {
		return nil, err
	}
	return api.ParseTrust(data)
}

// start runs aktuald serve on a free loopback port and returns the URL the
// customer's installer uses. slow puts a proxy in front that slows
// downloads, so a terminal shows the progress bar on a fast loopback.
// stop ends the server and waits for it.
func (s *demoServer) start(ctx context.Context, readyFile string, slow bool) (string, func(), error) {
	cmd := exec.Command(s.bin, "--data", s.data, "serve", "--addr", "127.0.0.1:0", "--ready-file", readyFile, "--log-level", "warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, i18n.Errorf("starting aktuald serve: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		// The server holds nothing the demo needs: end it outright
		// (Windows has no SIGTERM to send).
		_ = cmd.Process.Kill() // it may have ended already
		<-exited
	}
	deadline := time.NewTimer(demoServerStart)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(readyFile); err == nil && strings.HasSuffix(string(data), "\n") {
			u := strings.TrimSpace(string(data))
			if !slow {
				return u, stop, nil
			}
			proxied, stopProxy, err := slowProxy(u)
			if err != nil {
				stop()
				return "", nil, err
			}
			return proxied, func() { stopProxy(); stop() }, nil
		}
		select {
		case err := <-exited:
			exited <- err
			return "", nil, i18n.Errorf("aktuald serve ended before it listened (%v): %s", err, strings.TrimSpace(stderr.String()))
		case <-deadline.C:
			stop()
			return "", nil, i18n.Errorf("aktuald serve did not listen within %v", demoServerStart)
		case <-ctx.Done():
			stop()
			return "", nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// slowProxy serves target's API on another loopback port, with artifact
// downloads slowed to demoRate.
func slowProxy(target string) (string, func(), error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: throttleArtifacts(httputil.NewSingleHostReverseProxy(u), demoRate), ReadHeaderTimeout: 10 * time.Second}
	// Serve ends with ErrServerClosed when the demo is over; a proxy that
	// fails before shows as the update's own network error.
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() /* the demo is over: nothing to report */ }, nil
}
