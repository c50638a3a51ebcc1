// Package i18n renders the messages people read — the installer's output,
// its errors, the diagnostics — in Bulgarian or English.
//
// A message is written at its call site in English, as a fmt format with
// its arguments (the gotext convention: the English text is the message's
// key). It travels as a Message, or as an error that can say its format
// and arguments (Localizable), until it is shown: only then is it looked
// up in the catalog of the reader's language (locales/<lang>/*.json) and
// formatted. Arguments that are themselves messages or errors are
// rendered in the same language, so a cause embedded in a message is
// translated too. A test fails when a message lacks a translation.
package i18n

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The languages aktual speaks; English is the default.
var (
	English   = language.English
	Bulgarian = language.Bulgarian
	Supported = []language.Tag{English, Bulgarian}
)

// Localizable is a message, or an error, that can say its English format
// and arguments, so that it is shown in the reader's language. Packages
// that must not import this one (api) implement it on their own types.
type Localizable interface {
	LocalizeArgs() (format string, args []any)
}

// Message is text for a person, kept unformatted until it is shown.
type Message struct {
	Format string
	Args   []any
}

// M makes a message. format is English and is the catalog key: it must be
// a constant string, so the catalog test can find it.
func M(format string, args ...any) Message { return Message{Format: format, Args: args} }

// String is the message in English.
func (m Message) String() string { return english.Sprint(m) }

// IsZero reports whether m is empty.
func (m Message) IsZero() bool { return m.Format == "" }

// LocalizeArgs implements Localizable.
func (m Message) LocalizeArgs() (string, []any) { return m.Format, m.Args }

// Errorf returns an error whose text is a message: Error() is English,
// and a Printer shows it in its language. A %w verb wraps as fmt.Errorf
// does.
func Errorf(format string, args ...any) error {
	return &msgError{msg: M(format, args...), err: fmt.Errorf(format, args...)}
}

type msgError struct {
	msg Message
	err error
}

func (e *msgError) Error() string                 { return e.err.Error() }
func (e *msgError) LocalizeArgs() (string, []any) { return e.msg.LocalizeArgs() }

// Unwrap gives what the %w verbs wrapped, one or several.
func (e *msgError) Unwrap() []error {
	switch u := e.err.(type) {
	case interface{ Unwrap() []error }:
		return u.Unwrap()
	case interface{ Unwrap() error }:
		return []error{u.Unwrap()}
	}
	return nil
}

// Printer formats messages in one language.
type Printer struct {
	tag  language.Tag
	once sync.Once
	p    *message.Printer // built on first use: see built
}

// english renders English; used for Error() and String().
var english = NewPrinter(English)

// NewPrinter returns a printer for tag, matched to a supported language.
func NewPrinter(tag language.Tag) *Printer {
	tag = Match(tag)
	return &Printer{tag: tag}
}

// printer is x/text's printer for p's language, over its catalog.
func (p *Printer) printer() *message.Printer {
	p.once.Do(func() { p.p = message.NewPrinter(p.tag, message.Catalog(built[p.tag]())) })
	return p.p
}

// Lang is the printer's language.
func (p *Printer) Lang() language.Tag {
	if p == nil {
		return English
	}
	return p.tag
}

// Sprintf looks format up in the catalog and formats args, rendering
// messages and errors among them in the printer's language.
func (p *Printer) Sprintf(format string, args ...any) string {
	if p == nil {
		p = english
	}
	if p.tag == English && plainEnglish(format, args) {
		// English text whose only verbs are %s of strings is its own key
		// and formats as fmt does: the help of every command is built this
		// way at start-up, without building the catalog (English's holds
		// only plural forms, which select on a number).
		return fmt.Sprintf(format, args...)
	}
	return p.printer().Sprintf(noWrap(format), p.localArgs(args)...)
}

// Fprintf writes Sprintf's text to w.
func (p *Printer) Fprintf(w io.Writer, format string, args ...any) (int, error) {
	return io.WriteString(w, p.Sprintf(format, args...))
}

// Sprint renders a message, an error, or any other value as text.
func (p *Printer) Sprint(v any) string {
	if p == nil {
		p = english
	}
	switch v := v.(type) {
	case nil:
		return ""
	case Localizable:
		f, args := v.LocalizeArgs()
		if f == "" {
			if e, ok := v.(error); ok {
				return e.Error()
			}
		}
		return p.Sprintf(f, args...)
	case error:
		return p.errorText(v)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

func (p *Printer) localArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch a.(type) {
		case Localizable, error:
			out[i] = p.Sprint(a)
		default:
			out[i] = a
		}
	}
	return out
}

// errorText renders an error that is not a message: known system and
// network causes get a translation, the rest stay as Go wrote them.
func (p *Printer) errorText(err error) string {
	var l Localizable
	if errors.As(err, &l) {
		// A message wrapped in a plain error: keep the wrapper's text
		// when it adds something, else show the message.
		if inner, ok := l.(error); ok && inner.Error() == err.Error() {
			return p.Sprint(l)
		}
	}
	if m, ok := describe(err); ok {
		return p.Sprint(m)
	}
	return err.Error()
}

// plainEnglish says whether format's verbs are all %s, %[n]s or %%, and
// args all strings: what fmt and x/text's printer format alike. Without
// an explicit index the verbs must take exactly the arguments given: fmt
// reports an argument left over (%!(EXTRA …)), where x/text drops it.
func plainEnglish(format string, args []any) bool {
	for _, a := range args {
		if _, ok := a.(string); !ok {
			return false
		}
	}
	verbs, indexed := 0, false
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '[' {
			indexed = true
			for i++; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
			}
			if i >= len(format) || format[i] != ']' {
				return false
			}
			i++
		}
		switch {
		case i >= len(format):
			return false
		case format[i] == 's':
			verbs++
		case format[i] != '%':
			return false
		}
	}
	return indexed || verbs == len(args)
}

// noWrap turns fmt.Errorf's %w into %v: the printer formats like fmt's
// Sprintf, which has no %w, and the arguments are text by then.
func noWrap(format string) string {
	if !strings.Contains(format, "%w") {
		return format
	}
	s := strings.ReplaceAll(format, "%%", "\x00")
	s = strings.ReplaceAll(s, "%w", "%v")
	return strings.ReplaceAll(s, "\x00", "%%")
}

// Size is a byte count as people read it: 1.5 MiB, 36 KiB, 512 bytes.
func Size(n int64) Message {
	switch {
	case n >= 1<<30:
		return M("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return M("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return M("%.0f KiB", float64(n)/(1<<10))
	}
	return M("%d bytes", n)
}
