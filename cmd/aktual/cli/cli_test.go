package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aktual/aktual/internal/i18n"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/updater"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitUnexpected},
		{usageError(i18n.M("bad flag")), ExitUsage},
		{&updater.Error{Kind: updater.ErrUsage}, ExitUsage},
		{&updater.Error{Kind: updater.ErrInputNeeded}, ExitUsage},
		{&updater.Error{Kind: updater.ErrDeclined}, ExitUsage},
		{&updater.Error{Kind: updater.ErrNoConnection}, ExitNoConnection},
		{&updater.Error{Kind: updater.ErrCredentialRejected}, ExitCredential},
		{&updater.Error{Kind: updater.ErrExhausted}, ExitExhausted},
		{&updater.Error{Kind: updater.ErrVerification}, ExitVerification},
		{&updater.Error{Kind: updater.ErrApply}, ExitApply},
		{&updater.Error{Kind: updater.ErrNotReported}, ExitNotReported},
		{fmt.Errorf("wrapped: %w", &updater.Error{Kind: updater.ErrExhausted}), ExitExhausted},
		// The outer kind decides: applied-but-unreported caused by a cut line.
		{&updater.Error{Kind: updater.ErrNotReported, Err: &updater.Error{Kind: updater.ErrNoConnection}}, ExitNotReported},
		{&updater.Error{Kind: updater.ErrApply, Err: &updater.Error{Kind: updater.ErrNoConnection}}, ExitApply},
		{&updater.Error{Err: &updater.Error{Kind: updater.ErrVerification}}, ExitVerification},
		{context.Canceled, ExitInterrupted},
		// A download stopped by Ctrl-C says what it kept: still 130.
		{&updater.Error{Err: context.Canceled}, ExitInterrupted},
		{fmt.Errorf("wrapped: %w", &updater.Error{Err: context.Canceled}), ExitInterrupted},
		// A kind decides even over a cancellation inside it.
		{&updater.Error{Kind: updater.ErrNotReported, Err: context.Canceled}, ExitNotReported},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func streams(in string, tty bool) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	s := &IOStreams{In: strings.NewReader(in), Out: &out, ErrOut: &errOut, InTTY: tty}
	return s, &out, &errOut
}

func TestReadLine(t *testing.T) {
	s, _, _ := streams("first\r\n  second  \nlast-without-newline", false)
	for _, want := range []string{"first", "second", "last-without-newline"} {
		if got, err := s.ReadLine(); err != nil || got != want {
			t.Fatalf("ReadLine = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := s.ReadLine(); !errors.Is(err, errEndOfInput) {
		t.Fatalf("at end: %v", err)
	}
	long, _, _ := streams(strings.Repeat("9", maxInputLine+1)+"\n", false)
	if _, err := long.ReadLine(); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("long line: %v", err)
	}
}

func goodCode(t *testing.T) api.UpdateCode {
	c, err := api.NewCode()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAskCode(t *testing.T) {
	code := goodCode(t)
	typo := "1" + string(code)[1:]
	if typo == string(code) {
		typo = "2" + string(code)[1:]
	}

	t.Run("terminal re-asks after a typo", func(t *testing.T) {
		s, _, errOut := streams(typo+"\n"+code.String()+"\n", true)
		got, err := askCode(t.Context(), s)
		if err != nil || got != code {
			t.Fatalf("askCode = %q, %v", got, err)
		}
		if !strings.Contains(errOut.String(), "The first group of digits") {
			t.Fatalf("no typo message: %q", errOut)
		}
	})
	t.Run("terminal gives up after three tries", func(t *testing.T) {
		s, _, _ := streams(strings.Repeat(typo+"\n", 5), true)
		_, err := askCode(t.Context(), s)
		if exitCode(err) != ExitCredential {
			t.Fatalf("err = %v (exit %d)", err, exitCode(err))
		}
	})
	t.Run("pipe fails at once on a typo", func(t *testing.T) {
		s, _, _ := streams(typo+"\n"+code.String()+"\n", false)
		if _, err := askCode(t.Context(), s); exitCode(err) != ExitCredential {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("end of input", func(t *testing.T) {
		s, _, _ := streams("", false)
		_, err := askCode(t.Context(), s)
		if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "pass --code") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestConfirm(t *testing.T) {
	plan := &updater.Plan{Product: "ledger", From: "1.0.0", Latest: api.ReleaseStatement{Version: "2.0.0"}, Target: "/x"}
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, "да\n": true, "n\n": false, "\n": false, "maybe\n": false} {
		s, _, _ := streams(in, false)
		if got, err := confirm(t.Context(), s, plan); err != nil || got != want {
			t.Errorf("confirm(%q) = %v, %v", in, got, err)
		}
	}
	s, _, _ := streams("", false)
	if _, err := confirm(t.Context(), s, plan); exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("confirm at end of input: %v", err)
	}
}

// Run in-process: usage errors exit 2 and say what to do; env fills flags.
func TestRunUsage(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		code int
		msg  string
	}{
		{[]string{"update", "--nope"}, nil, ExitUsage, "aktual: unknown flag --nope\nRun 'aktual --help' for usage."},
		{[]string{"update", "-z"}, nil, ExitUsage, "unknown flag -z\n"},
		{[]string{"update", "-zy"}, nil, ExitUsage, "unknown flag -z (in -zy)"},
		{[]string{"update", "--code"}, nil, ExitUsage, "--code needs a value: --code VALUE"},
		{[]string{"update", "--quiet=maybe"}, nil, ExitUsage, `--quiet takes true or false, not "maybe"`},
		{[]string{"update", "ledger"}, nil, ExitUsage, `aktual update takes no arguments, but "ledger" was given; options are given as --flag VALUE`},
		{[]string{"nosuch"}, nil, ExitUsage, `unknown command "nosuch" for aktual`},
		{[]string{"updat"}, nil, ExitUsage, `unknown command "updat" for aktual; did you mean update?`},
		{[]string{"--lang", "bg", "update", "--nope"}, nil, ExitUsage, "непозната опция --nope"},
		{[]string{"update", "--product", "p", "--target", "t", "--yes"}, nil, ExitUsage, "--server is required"},
		{[]string{"update", "--target", "t", "--yes"}, map[string]string{"AKTUAL_SERVER": "gopher://x"}, ExitUsage, "not an http(s) URL"},
		{[]string{"update", "--server", "http://127.0.0.1:9", "--code", "11111"}, nil, ExitCredential, "has 5 digits"},
		{[]string{"check", "--server", "http://127.0.0.1:9", "--product", "p", "--target", "t"}, map[string]string{"AKTUAL_TRUST": "/nonexistent/trust.json"}, ExitUsage, "cannot read the trust file"},
		{[]string{"netcheck"}, nil, ExitUsage, "--server is required"},
		{[]string{"version"}, nil, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("AKTUAL_STATE_DIR", t.TempDir())
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			s, _, errOut := streams("", false)
			if got := run(t.Context(), s, tt.args); got != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", got, tt.code, errOut)
			}
			if !strings.Contains(errOut.String(), tt.msg) {
				t.Fatalf("stderr %q does not say %q", errOut, tt.msg)
			}
		})
	}
}
