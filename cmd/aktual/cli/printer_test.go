package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

// On a terminal a finished download shows its 100% line once. The updater
// reports the last bytes as they arrive and once more when the download
// ends (its flush), so the printer sees "complete" twice in a row.
func TestProgressBarDrawsTheFinalLineOnce(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut, ErrTTY: true, P: i18n.NewPrinter(i18n.English)}
	p := newPrinter(ios, false)
	const total = 1 << 20
	p.event(updater.Event{Event: updater.EventPhase, Phase: updater.PhaseDownload, Message: i18n.M("downloading %s %s (%d bytes)", "app", "2.0.0", total)})
	for _, done := range []int64{total / 4, total / 2, total, total} {
		p.event(updater.Event{Event: updater.EventProgress, Phase: updater.PhaseDownload, Done: done, Total: total})
	}
	p.event(updater.Event{Event: updater.EventPhase, Phase: updater.PhaseVerify, Message: i18n.M("verifying the download")})

	// What a terminal shows: each line as the last carriage return left it.
	var full int
	for _, line := range strings.Split(errOut.String(), "\n") {
		shown := line[strings.LastIndex(line, "\r")+1:]
		if strings.Contains(shown, "100%") {
			full++
		}
	}
	if full != 1 {
		t.Fatalf("the 100%% line is shown %d times, want once:\n%q", full, errOut.String())
	}
	if !strings.Contains(errOut.String(), "Verifying the download") {
		t.Fatalf("the next phase is missing:\n%q", errOut.String())
	}
}

// In a log file (no terminal) the end of a slow download is one line too.
func TestProgressLogWritesTheFinalLineOnce(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut, P: i18n.NewPrinter(i18n.English)}
	p := newPrinter(ios, false)
	const total = 1 << 20
	for _, done := range []int64{total / 4, total, total} {
		p.event(updater.Event{Event: updater.EventProgress, Phase: updater.PhaseDownload, Done: done, Total: total})
	}
	if n := strings.Count(errOut.String(), "downloaded 1.0 MiB of 1.0 MiB"); n != 1 {
		t.Fatalf("the final line is written %d times, want once:\n%s", n, errOut.String())
	}
}
