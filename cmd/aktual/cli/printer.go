package cli

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"

	"github.com/aktual/aktual/internal/clock"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

// outcome is the final object of a command: what happened, for a person
// (text) or a script (one JSON line). The field names are the stable
// schema of docs/scripting.md; message and error are in the reader's
// language.
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
	// WillUse: check with a credential; this update would use one of the
	// remaining paid updates (false: it is free, or none is available).
	WillUse *bool  `json:"will_use_update,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
	// ErrorCode is the error's kind for scripts (e.g. no_connection).
	ErrorCode string `json:"error_code,omitempty"`
	// State says, after an interruption or failure, what was left: what a
	// person or a script needs to know to go on.
	State string `json:"state,omitempty"`
	// Release control (notes.go): the channel followed ("" stable), the
	// release notes by language (Markdown, as the vendor wrote them), a
	// critical release, the percent of a staged rollout this installation
	// is in, and the release a required path ends at.
	Channel  string            `json:"channel,omitempty"`
	Notes    map[string]string `json:"notes,omitempty"`
	Critical bool              `json:"critical,omitempty"`
	Rollout  *int              `json:"rollout_percent,omitempty"`
	PathTo   string            `json:"path_to,omitempty"`
}

// Statuses beyond the updater's.
const (
	statusFailed          = "failed"
	statusUpdateAvailable = "update_available"
	statusInterrupted     = "interrupted"
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

type jsonPrinter struct {
	io *IOStreams
}

// jsonEvent is an event as scripts read it: the updater's fields, with
// the message rendered in the reader's language.
type jsonEvent struct {
	updater.Event
	Message string `json:"message,omitempty"`
}

func (p *jsonPrinter) event(e updater.Event) {
	if e.URL != "" {
		e.URL = pageURL(e.URL, p.io.P)
	}
	p.line(jsonEvent{Event: e, Message: p.io.P.Sprint(e.Message)})
}

func (p *jsonPrinter) result(o outcome) {
	o.Event = "result"
	p.line(o)
	if o.Error != "" {
		fmt.Fprintln(p.io.ErrOut, "aktual:", o.Error)
	}
}

func (p *jsonPrinter) note(format string, args ...any) {
	if p.io.Quiet {
		return
	}
	fmt.Fprintln(p.io.ErrOut, p.io.P.Sprintf(format, args...))
}

func (p *jsonPrinter) line(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintln(p.io.ErrOut, "aktual:", err)
		return
	}
	fmt.Fprintln(p.io.Out, string(b))
}

type textPrinter struct {
	io  *IOStreams
	bar *progressbar.ProgressBar
	// shownComplete: the last bar ended at 100%. The updater reports the
	// end of a download twice (the last bytes, then its final flush); the
	// second would draw a new bar, and the 100% line again.
	shownComplete bool
	// lastLine: on a log file, a progress line at most every
	// progressLogInterval, by now (nil: the wall clock).
	lastLine time.Time
	now      clock.Func
}

// progressLogInterval: how often a download's progress is written as a
// line when stderr is not a terminal (a log file, support staff's script).
const progressLogInterval = 10 * time.Second

func (p *textPrinter) event(e updater.Event) {
	if p.io.Quiet {
		return
	}
	P := p.io.P
	if e.Event != updater.EventProgress {
		p.shownComplete = false
	}
	switch e.Event {
	case updater.EventPhase:
		p.endBar()
		fmt.Fprintf(p.io.ErrOut, "%s…\n", capitalize(P.Sprint(e.Message)))
	case updater.EventNotice:
		p.endBar()
		fmt.Fprintf(p.io.ErrOut, "%s.\n", capitalize(P.Sprint(e.Message)))
	case updater.EventURL:
		p.endBar()
		fmt.Fprintf(p.io.ErrOut, "%s:\n  %s\n", capitalize(P.Sprint(e.Message)), pageURL(e.URL, P))
	case updater.EventProgress:
		if e.Total <= 0 {
			return
		}
		if !p.io.ErrTTY {
			p.logProgress(e)
			return
		}
		if p.bar == nil && p.shownComplete && e.Done >= e.Total {
			return
		}
		created := p.bar == nil
		if created {
			// The bar draws the bar; the sizes, rate and time left are
			// ours, so they read in the reader's language and units. No
			// throttle of its own: the updater sends at most five events
			// a second, and each must show, the last one above all.
			p.bar = progressbar.NewOptions64(e.Total,
				progressbar.OptionSetWriter(p.io.ErrOut),
				progressbar.OptionSetDescription(p.progressText(e)),
				progressbar.OptionSetPredictTime(false),
				progressbar.OptionSetWidth(30),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.io.ErrOut) }),
			)
		}
		if !created {
			p.bar.Describe(p.progressText(e))
		}
		// The bar's errors are about its own drawing (a zero maximum, a
		// number past it): a bar that cannot draw must not fail an update.
		_ = p.bar.Set64(e.Done)
		if e.Done >= e.Total {
			p.endBar()
		}
	}
}

// logProgress writes the download's progress as a line now and then: a bar
// on a log file is noise, but a slow line's rate and time left are not.
func (p *textPrinter) logProgress(e updater.Event) {
	now := p.now.Now()
	if e.Done < e.Total && now.Sub(p.lastLine) < progressLogInterval {
		return
	}
	if p.lastLine.IsZero() && e.Done >= e.Total {
		return // a fast download: the phase lines said it
	}
	if p.shownComplete && e.Done >= e.Total {
		return // the end, reported again
	}
	p.lastLine = now
	p.shownComplete = e.Done >= e.Total
	fmt.Fprintln(p.io.ErrOut, p.progressText(e))
}

// progressText is how far a download is: "  downloaded 1.4 MiB of 1.9 MiB,
// 52 KiB/s, about 10 s left".
func (p *textPrinter) progressText(e updater.Event) string {
	P := p.io.P
	line := P.Sprintf("  downloaded %s of %s", sizeText(P, e.Done), sizeText(P, e.Total))
	if e.Rate > 0 && e.Done < e.Total {
		line += P.Sprintf(", %s/s, about %s left", sizeText(P, e.Rate), durationText(P, time.Duration(e.ETA)*time.Second))
	}
	return line
}

// endBar ends the bar where it stands: a download cut short must not be
// drawn as complete.
func (p *textPrinter) endBar() {
	if p.bar != nil {
		if st := p.bar.State(); st.CurrentNum >= p.bar.GetMax64() {
			_ = p.bar.Finish() // as Set64's above
			p.shownComplete = true
		} else {
			_ = p.bar.Exit() // its completion hook ends the line; it never fails
		}
		p.bar = nil
	}
}

func (p *textPrinter) result(o outcome) {
	p.endBar()
	if o.Error != "" {
		fmt.Fprintln(p.io.ErrOut, "aktual:", o.Error)
	}
	if o.State != "" && !p.io.Quiet {
		fmt.Fprintln(p.io.ErrOut, o.State)
	}
	if o.Message != "" {
		fmt.Fprintln(p.io.Out, o.Message)
	}
}

func (p *textPrinter) note(format string, args ...any) {
	if p.io.Quiet {
		return
	}
	p.endBar()
	fmt.Fprintln(p.io.ErrOut, p.io.P.Sprintf(format, args...))
}

// capitalize upper-cases the first letter, in any script.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// sizeText is a byte count for people: 1.5 MiB.
func sizeText(P *i18n.Printer, n int64) string { return P.Sprint(i18n.Size(n)) }

// durationText is a time left for people: 3 min, 45 s, 2 h 5 min.
func durationText(P *i18n.Printer, d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= time.Hour:
		return P.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return P.Sprintf("%d min", int(d.Minutes()+0.5))
	}
	return P.Sprintf("%d s", int(d.Seconds()))
}
