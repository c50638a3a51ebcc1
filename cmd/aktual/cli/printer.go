package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/aktual/aktual/updater"
)

// outcome is the final object of a command: what happened, for a person
// (text) or a script (one JSON line).
type outcome struct {
	Event       string `json:"event"` // always "result"
	Status      string `json:"status"`
	Product     string `json:"product"`
	From        string `json:"from"`
	To          string `json:"to"`
	Remaining   *int64 `json:"remaining"`
	ExitCode    int    `json:"exit_code"`
	Target      string `json:"target,omitempty"`
	Reservation string `json:"reservation,omitempty"`
	Message     string `json:"message,omitempty"`
	Error       string `json:"error,omitempty"`
}

// Statuses beyond the updater's.
const (
	statusFailed          = "failed"
	statusUpdateAvailable = "update_available"
)

// printer is how a command reports: text for people, JSON for scripts.
// Both implement the same calls, so commands never ask which one it is.
type printer interface {
	event(updater.Event)
	result(outcome)
	// note is a line for people; JSON printers keep stdout for data.
	note(format string, args ...any)
}

func newPrinter(io *IOStreams, asJSON bool) printer {
	if asJSON {
		return &jsonPrinter{io: io}
	}
	return &textPrinter{io: io}
}

type jsonPrinter struct{ io *IOStreams }

func (p *jsonPrinter) event(e updater.Event) { p.line(e) }
func (p *jsonPrinter) result(o outcome) {
	o.Event = "result"
	p.line(o)
	if o.Error != "" {
		fmt.Fprintln(p.io.ErrOut, "aktual:", o.Error)
	}
}
func (p *jsonPrinter) note(format string, args ...any) {
	fmt.Fprintf(p.io.ErrOut, format+"\n", args...)
}

func (p *jsonPrinter) line(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintln(p.io.ErrOut, "aktual: encoding output:", err)
		return
	}
	fmt.Fprintln(p.io.Out, string(b))
}

type textPrinter struct {
	io  *IOStreams
	bar *progressbar.ProgressBar
}

func (p *textPrinter) event(e updater.Event) {
	switch e.Event {
	case updater.EventPhase:
		p.endBar()
		fmt.Fprintf(p.io.ErrOut, "%s…\n", capitalize(e.Message))
	case updater.EventNotice:
		p.endBar()
		fmt.Fprintf(p.io.ErrOut, "%s.\n", capitalize(e.Message))
	case updater.EventURL:
		p.endBar()
		fmt.Fprintf(p.io.ErrOut, "%s:\n  %s\n", capitalize(e.Message), e.URL)
	case updater.EventProgress:
		if !p.io.ErrTTY || e.Total <= 0 {
			return // a bar on a log file is noise; the phase line said it
		}
		if p.bar == nil {
			p.bar = progressbar.NewOptions64(e.Total,
				progressbar.OptionSetWriter(p.io.ErrOut),
				progressbar.OptionSetDescription("  downloading"),
				progressbar.OptionShowBytes(true),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(65*time.Millisecond),
				progressbar.OptionSetWidth(30),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.io.ErrOut) }),
			)
		}
		_ = p.bar.Set64(e.Done)
		if e.Done >= e.Total {
			p.endBar()
		}
	}
}

func (p *textPrinter) endBar() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

func (p *textPrinter) result(o outcome) {
	p.endBar()
	if o.Error != "" {
		fmt.Fprintln(p.io.ErrOut, "aktual:", o.Error)
	}
	if o.Message != "" {
		fmt.Fprintln(p.io.Out, o.Message)
	}
}

func (p *textPrinter) note(format string, args ...any) {
	p.endBar()
	fmt.Fprintf(p.io.ErrOut, format+"\n", args...)
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
